import { asksForLess, type FlowPolicy, type FlowSignal } from '../core/flow-control.ts';
import type { DeliveryResult, FlowOutcome, FlowStore } from '../store/store.ts';

/** How long signals gather before they are recorded together. */
const RECORD_WINDOW_MS = 50;

export interface FlowWatchOptions {
  flow: FlowStore;
  policy: FlowPolicy;
  /** How often the watch list is read again, to learn what other workers' results changed. */
  refreshMs: number;
  onOutcome: (outcome: FlowOutcome, signals: readonly FlowSignal[]) => void;
  /** An endpoint is no longer `tripped` (its lane may send again, if the outcome let it keep any). */
  onUntrip?: (endpointId: string) => void;
  onError: (error: unknown, context: string) => void;
}

/**
 * Feeds results to flow control and remembers which endpoints it watches (not neutral). A batch
 * of successes to endpoints nobody watches changes nothing and is not recorded, so a healthy
 * endpoint's results cost flow control no write; the list is read again every `refreshMs`, so
 * what another worker learned reaches this one that soon. Records run one after another, each
 * taking every signal that arrived meanwhile and within RECORD_WINDOW_MS.
 */
export class FlowWatch {
  readonly #options: FlowWatchOptions;
  #watched = new Set<string>();
  /** Failures in a row seen here per endpoint, ahead of the record that counts them. */
  readonly #streaks = new Map<string, number>();
  /**
   * Endpoints whose streak here reached the circuit's threshold, or that asked to be sent less
   * (429, 503, a timeout), until a record has counted it.
   */
  readonly #tripped = new Set<string>();
  /**
   * Failures seen here per endpoint that no record has counted yet. A result is observed before
   * it is written and learned only once committed, so a record can count the first failures of a
   * streak while the one that tripped it is still being written: the trip holds until this is 0.
   */
  readonly #uncounted = new Map<string, number>();
  #pending: FlowSignal[] = [];
  #recording: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: FlowWatchOptions) {
    this.#options = options;
  }

  start(): void {
    const refresh = () => this.#options.flow.watched()
      .then((ids) => (this.#watched = new Set(ids)))
      .catch((error) => this.#options.onError(error, 'reading flow control state'));
    void refresh();
    this.#timer = setInterval(refresh, this.#options.refreshMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    while (this.#recording) await this.#recording;
  }

  /** Whether flow control has a say on this endpoint now (its deliveries then go through the claim). */
  watches(endpointId: string): boolean {
    return this.#watched.has(endpointId);
  }

  /**
   * Whether this worker saw enough failures in a row to open the endpoint's circuit, or an answer
   * that slows the endpoint down (a 429's `Retry-After` pauses it), and the record that does so is
   * still on its way: sending what waits in the endpoint's lane meanwhile would spend attempts on a
   * burst the circuit or the pause exists to stop. Once recorded, what waits goes back to the
   * queue, whose claim paces it.
   */
  tripped(endpointId: string): boolean {
    return this.#tripped.has(endpointId);
  }

  /**
   * Takes a result as soon as its answer came, before it is written: the lane it came from sends
   * its next delivery at once, so waiting for the commit to count a failure would let more go.
   */
  observe(result: DeliveryResult): void {
    const signal = result.signal;
    if (!signal) return;
    if (signal.kind === 'success') {
      this.#streaks.delete(signal.endpointId);
      return;
    }
    // From its first failure on, an endpoint's deliveries go through the claim, which gates them
    // on the state the record is about to write, rather than straight from the publisher.
    this.#watched.add(signal.endpointId);
    this.#uncounted.set(signal.endpointId, (this.#uncounted.get(signal.endpointId) ?? 0) + 1);
    if (asksForLess(signal.kind)) this.#tripped.add(signal.endpointId);
    if (signal.kind === 'throttled') return;
    const streak = (this.#streaks.get(signal.endpointId) ?? 0) + 1;
    this.#streaks.set(signal.endpointId, streak);
    if (streak >= this.#options.policy.circuitFailures) this.#tripped.add(signal.endpointId);
  }

  /**
   * Takes results that were observed but will never be committed (their write failed for good):
   * no record will count them, so they no longer hold a trip.
   */
  dropped(results: readonly DeliveryResult[]): void {
    const signals = results.flatMap((result) => (result.signal ? [result.signal] : []));
    this.#untrip(signals);
  }

  /** Takes a committed batch of results. */
  learn(results: readonly DeliveryResult[]): void {
    const signals = results.flatMap((result) => (result.signal ? [result.signal] : []));
    if (!signals.some((signal) => signal.kind !== 'success' || this.#watched.has(signal.endpointId))) return;
    this.#pending.push(...signals.filter((signal) => signal.kind !== 'success' || this.#watched.has(signal.endpointId)
      || signals.some((other) => other.endpointId === signal.endpointId && other.kind !== 'success')));
    this.#recording ??= this.#drain();
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      // Gathers what arrives within a short window, so a flaky endpoint's steady trickle of
      // failures costs a record (a transaction on PostgreSQL) every RECORD_WINDOW_MS, not one per
      // result batch.
      await new Promise((resolve) => setTimeout(resolve, RECORD_WINDOW_MS));
      const signals = this.#pending.splice(0);
      try {
        const outcome = await this.#options.flow.record(signals, this.#options.policy);
        for (const signal of signals) {
          if (signal.kind !== 'success') this.#watched.add(signal.endpointId);
        }
        for (const id of outcome.closed) this.#watched.delete(id);
        for (const id of outcome.holding) this.#watched.add(id);
        // The outcome first: a circuit it opened takes the lane's waiting deliveries back before
        // the lane may send again.
        this.#options.onOutcome(outcome, signals);
        this.#untrip(signals);
      } catch (error) {
        // Flow control is advice: losing one batch's lesson costs precision, never a delivery.
        this.#untrip(signals);
        this.#options.onError(error, 'recording flow control signals');
      }
    }
    this.#recording = null;
  }

  /** The record has counted these signals: the store's state, which claims follow, now says it. */
  #untrip(signals: readonly FlowSignal[]): void {
    for (const signal of signals) {
      if (signal.kind === 'success') continue;
      const uncounted = (this.#uncounted.get(signal.endpointId) ?? 1) - 1;
      if (uncounted > 0) this.#uncounted.set(signal.endpointId, uncounted);
      else this.#uncounted.delete(signal.endpointId);
    }
    for (const signal of signals) {
      // Failures seen since are still to be counted, and may be the ones that tripped it.
      if (!this.#tripped.has(signal.endpointId) || this.#uncounted.has(signal.endpointId)) continue;
      this.#tripped.delete(signal.endpointId);
      this.#streaks.delete(signal.endpointId);
      this.#options.onUntrip?.(signal.endpointId);
    }
  }
}
