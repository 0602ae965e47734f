import type { FlowPolicy, FlowSignal } from '../core/flow-control.ts';
import type { DeliveryResult, FlowOutcome, FlowStore } from '../store/store.ts';

/** How long signals gather before they are recorded together. */
const RECORD_WINDOW_MS = 50;

export interface FlowWatchOptions {
  flow: FlowStore;
  policy: FlowPolicy;
  /** How often the watch list is read again, to learn what other workers' results changed. */
  refreshMs: number;
  onOutcome: (outcome: FlowOutcome, signals: readonly FlowSignal[]) => void;
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
        this.#options.onOutcome(outcome, signals);
      } catch (error) {
        // Flow control is advice: losing one batch's lesson costs precision, never a delivery.
        this.#options.onError(error, 'recording flow control signals');
      }
    }
    this.#recording = null;
  }
}
