import type { Clock } from '../core/clock.ts';
import { Status } from '../core/model.ts';
import { asksForLess, DEFAULT_FLOW_POLICY, type FlowPolicy } from '../core/flow-control.ts';
import { FlowWatch } from './flow-watch.ts';
import type { CompleteOutcome, DeliveryResult, Store } from '../store/store.ts';
import { type AttemptDependencies, attemptDelivery } from './attempt.ts';
import { Lanes } from './lanes.ts';
import type { Handoff } from './publish.ts';
import { ResultWriter } from './result-writer.ts';

export interface DispatcherOptions extends AttemptDependencies {
  store: Store;
  clock: Clock;
  /** Requests in flight at once, over all endpoints. */
  maxInFlight: number;
  /** Requests in flight at once to one endpoint: a slow endpoint can hold no more than this. */
  maxInFlightPerEndpoint: number;
  /** Requests in flight at once to the endpoints of one application, so one tenant cannot take every slot. */
  maxInFlightPerApp: number;
  /** How long a claim holds a delivery; must exceed the request timeout. */
  leaseMs: number;
  /** How often an idle dispatcher looks for work it was not told about. */
  pollIntervalMs: number;
  onError: (error: unknown, context: string) => void;
  /** The circuit breaker's and auto-disable's settings. */
  flowPolicy?: FlowPolicy;
  /** Told when flow control opened or closed a circuit, or disabled an endpoint. */
  onFlowChange?: (event: 'circuit_opened' | 'circuit_closed' | 'endpoint_disabled', endpointId: string, appId: string | null) => void;
  /** Sees each batch of results once committed, without blocking the writer (operational events). */
  onRecorded?: (results: readonly DeliveryResult[], outcome: CompleteOutcome) => void;
}

/** The largest batch one claim takes, so a big backlog does not delay the first sends. */
const CLAIM_BATCH = 100;
/**
 * While some endpoint has a backlog, claims are spaced at least this far apart: each one scans
 * past that backlog, and new messages arriving by the thousand should not each cost a scan.
 */
const BUSY_CLAIM_SPACING_MS = 10;
/** How soon due work that a claim found locked by another transaction is tried again. */
const LOCKED_RETRY_MS = 10;

/**
 * The one dispatcher every delivery goes through (design invariant 5): it claims due deliveries
 * under a lease into per-endpoint lanes, which send them with bounded concurrency overall, per
 * application and per endpoint; each attempt's result goes to the store in batches, and the retry policy decides what
 * comes next.
 */
export class Dispatcher {
  readonly #options: DispatcherOptions;
  readonly #lanes: Lanes;
  readonly #results: ResultWriter;
  readonly #flow: FlowWatch;
  #running: Promise<void> | null = null;
  #stopping = false;
  #wake: (() => void) | null = null;
  #woken = false;
  #lastClaimAt = 0;
  #lastClaimFound = false;
  #wakeTimer: NodeJS.Timeout | undefined;
  #wakeTimerAt = 0;
  /**
   * Deliveries straight from the publisher, stored already leased to this dispatcher: a message
   * accepted while its endpoints' lanes have room costs no claim (a write and a query) at all.
   */
  readonly handoff: Handoff;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#flow = new FlowWatch({
      flow: options.store.flow,
      policy: options.flowPolicy ?? DEFAULT_FLOW_POLICY,
      refreshMs: 1_000,
      onError: options.onError,
      onOutcome: (outcome, signals) => {
        // Deliveries claimed before the endpoint was slowed down or its circuit opened go back to
        // the queue, where the claim makes them wait, rather than out at the old pace.
        const slowed = new Set([...outcome.opened, ...signals.filter((s) => asksForLess(s.kind)).map((s) => s.endpointId)]);
        const waiting = [...slowed].flatMap((endpointId) => this.#lanes.takeWaitingFor(endpointId));
        if (waiting.length > 0) {
          void options.store.queue.release(waiting, options.clock.now()).then(() => this.wake(), (error) => options.onError(error, 'giving back leases'));
        }
        for (const id of outcome.opened) options.onFlowChange?.('circuit_opened', id, null);
        for (const id of outcome.closed) options.onFlowChange?.('circuit_closed', id, null);
        for (const { endpointId, appId } of outcome.disabled) options.onFlowChange?.('endpoint_disabled', endpointId, appId);
        if (outcome.closed.length > 0) this.wake();
      },
      onUntrip: () => this.#lanes.resume(),
    });
    // Once a batch is committed, flow control learns from it and operational events describe it.
    this.#results = new ResultWriter(options.store.queue, (error) => options.onError(error, 'recording delivery results'), {}, {
      written: (results, outcome) => {
        for (const result of results) {
          if (result.next.status === Status.pending) this.#wakeAt(result.next.runAt);
          // This commit made the next delivery of a finished one's ordering key due.
          else if (result.orderingKey) this.wake();
        }
        this.#flow.learn(results);
        options.onRecorded?.(results, outcome);
      },
      dropped: (results) => this.#flow.dropped(results),
    });
    this.#lanes = new Lanes({
      perEndpoint: options.maxInFlightPerEndpoint,
      perApp: options.maxInFlightPerApp,
      total: options.maxInFlight,
      send: (delivery) => attemptDelivery(options, delivery)
        .then(async (result) => {
          this.#flow.observe(result);
          await this.#results.write(result);
          // An answer that asks for less (429, 503) narrows the lane as no answer does.
          return result.attempt.responseStatusCode > 0 && !(result.signal && asksForLess(result.signal.kind));
        })
        .catch((error) => {
          options.onError(error, `delivering ${delivery.message.id} to ${delivery.endpoint.id}`);
          return false;
        }),
      holds: (endpointId) => this.#flow.tripped(endpointId),
      onLow: () => this.wake(),
      // Empty lanes are worth a claim if the last one found work (it may have left some, skipped
      // or locked); after one that found none, new work comes with a wake or falls due on the timer.
      onEmpty: () => this.#lastClaimFound && this.wake(),
    });
    this.handoff = {
      leaseMs: options.leaseMs,
      // An endpoint flow control watches gets its deliveries through the claim, which gates them.
      reserve: (appId, endpointId) => this.#running !== null && !this.#stopping && !this.#flow.watches(endpointId) && this.#lanes.reserve(appId, endpointId),
      fill: (appId, endpointId, delivery) => {
        if (delivery && (this.#stopping || this.#flow.watches(endpointId))) {
          // Stopped meanwhile: the lease goes back rather than waiting out its expiry. Or its
          // endpoint failed meanwhile: it goes through the claim, which flow control gates.
          this.#lanes.fill(appId, endpointId, null);
          void options.store.queue.release([delivery], options.clock.now()).then(() => this.#stopping || this.wake(), (error) => options.onError(error, 'giving back leases'));
          return;
        }
        this.#lanes.fill(appId, endpointId, delivery);
      },
    };
  }

  start(): void {
    if (this.#running) return;
    this.#flow.start();
    this.#running = this.#loop();
  }

  /** Tells the dispatcher there may be new due work (a message was accepted, a resend asked). */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /**
   * Stops claiming, gives back the leases of deliveries not yet started, and waits up to
   * `graceMs` for requests in flight to finish and their results to be written.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#wakeTimer);
    this.wake();
    await this.#running;
    const waiting = this.#lanes.takeWaiting();
    if (waiting.length > 0) {
      await this.#options.store.queue.release(waiting, this.#options.clock.now())
        .catch((error) => this.#options.onError(error, 'giving back leases'));
    }
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([this.#lanes.settled().then(() => this.#results.flush()).then(() => this.#flow.stop()), grace]);
    clearTimeout(timer);
  }

  async #loop(): Promise<void> {
    let backoffMs = this.#options.pollIntervalMs;
    while (!this.#stopping) {
      this.#woken = false;
      try {
        const wanted = Math.min(CLAIM_BATCH, this.#lanes.totalHold - this.#lanes.held);
        let claimedAll = false;
        if (wanted > 0) {
          await this.#spaceClaims();
          const claimed = await this.#options.store.queue.claim({
            now: this.#options.clock.now(),
            limit: wanted,
            leaseMs: this.#options.leaseMs,
            slots: this.#lanes.slots(),
            defaultSlots: this.#lanes.defaultSlots,
            appSlots: this.#lanes.appSlots(),
            defaultAppSlots: this.#lanes.perAppHold,
          });
          this.#lastClaimAt = performance.now();
          this.#lastClaimFound = claimed.length > 0;
          this.#lanes.add(claimed);
          claimedAll = claimed.length === wanted;
        }
        backoffMs = this.#options.pollIntervalMs;
        if (claimedAll || this.#woken) continue;
        await this.#sleep(await this.#idleFor());
      } catch (error) {
        // The database is away: back off, up to 30 s between tries, and start again when it answers.
        this.#options.onError(error, 'claiming deliveries');
        await this.#sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 30_000);
      }
    }
  }

  async #spaceClaims(): Promise<void> {
    if (!this.#lanes.anyFull) return;
    const wait = this.#lastClaimAt + BUSY_CLAIM_SPACING_MS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** How long to wait before claiming again, unless woken first. */
  async #idleFor(): Promise<number> {
    const due = await this.#options.store.queue.nextDueAt();
    if (due === null) return this.#options.pollIntervalMs;
    const wait = due - this.#options.clock.now();
    if (wait > 0) return Math.min(wait, this.#options.pollIntervalMs);
    // Due work that was not claimed waits for a busy endpoint, whose lane wakes us when it runs
    // low; with nothing held, it was only busy for a moment (locked by another transaction).
    return this.#lanes.held === 0 ? LOCKED_RETRY_MS : this.#options.pollIntervalMs;
  }

  /**
   * A retry falls due after the loop went idle, planning its next look by what was due then (the
   * delivery was still in flight, its row leased): once the result that rescheduled it is
   * committed, wake the loop when it is due. Only the earliest such time is kept.
   */
  #wakeAt(runAt: number): void {
    if (this.#wakeTimer && this.#wakeTimerAt <= runAt) return;
    clearTimeout(this.#wakeTimer);
    this.#wakeTimerAt = runAt;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      this.wake();
    }, Math.max(0, runAt - this.#options.clock.now()));
    this.#wakeTimer.unref();
  }

  #sleep(ms: number): Promise<void> {
    if (this.#woken || this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }
}
