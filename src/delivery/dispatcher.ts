import type { Clock, Random } from '../core/clock.ts';
import type { IdGenerator } from '../core/ids.ts';
import { type Attempt, Status } from '../core/model.ts';
import { nextStep, type NextStep, type RetryPolicy } from '../core/retry-policy.ts';
import type { ClaimedDelivery, DeliveryNext, Store } from '../store/store.ts';
import type { HttpSender, SendResult } from './http-sender.ts';
import { deliveryHeaders } from './request-headers.ts';
import { ResultWriter } from './result-writer.ts';

export interface DispatcherOptions {
  store: Store;
  sender: HttpSender;
  clock: Clock;
  random: Random;
  ids: IdGenerator;
  retry: RetryPolicy;
  /** Requests in flight at once, over all endpoints. */
  maxInFlight: number;
  /** Requests in flight at once to one endpoint: a slow endpoint can hold no more than this. */
  maxInFlightPerEndpoint: number;
  /** How long a claim holds a delivery; must exceed the request timeout. */
  leaseMs: number;
  /** How often an idle dispatcher looks for work it was not told about. */
  pollIntervalMs: number;
  onError: (error: unknown, context: string) => void;
}

/** The largest batch one claim takes, so a big backlog does not delay the first sends. */
const CLAIM_BATCH = 100;

/**
 * The one dispatcher every delivery goes through (design invariant 5): it claims due deliveries
 * under a lease, sends them with bounded concurrency overall and per endpoint, records each
 * attempt and lets the retry policy decide what comes next.
 */
export class Dispatcher {
  readonly #options: DispatcherOptions;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #perEndpoint = new Map<string, number>();
  readonly #results: ResultWriter;
  #running: Promise<void> | null = null;
  #stopping = false;
  #wake: (() => void) | null = null;
  #woken = false;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#results = new ResultWriter(options.store.queue, (error) => options.onError(error, 'recording delivery results'));
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Tells an idle dispatcher there may be new due work (a message was accepted, a resend asked). */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Stops claiming, then waits up to `graceMs` for requests in flight to finish and be recorded. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#running;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(this.#inFlight), grace]);
    clearTimeout(timer);
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  async #loop(): Promise<void> {
    let backoffMs = this.#options.pollIntervalMs;
    while (!this.#stopping) {
      this.#woken = false;
      let claimedAll = false;
      try {
        const wanted = Math.min(CLAIM_BATCH, this.#options.maxInFlight - this.#inFlight.size);
        if (wanted > 0) {
          const claimed = await this.#options.store.queue.claim({
            now: this.#options.clock.now(),
            limit: wanted,
            leaseMs: this.#options.leaseMs,
            slots: this.#freeSlots(),
            defaultSlots: this.#options.maxInFlightPerEndpoint,
          });
          for (const delivery of claimed) this.#track(delivery);
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

  /** How long to wait before claiming again, unless woken first. */
  async #idleFor(): Promise<number> {
    if (this.#options.maxInFlight - this.#inFlight.size <= 0) return this.#options.pollIntervalMs;
    const due = await this.#options.store.queue.nextDueAt();
    if (due === null) return this.#options.pollIntervalMs;
    const wait = due - this.#options.clock.now();
    // Work that is due but was not claimed waits for a busy endpoint; a finishing send wakes us.
    return wait <= 0 ? this.#options.pollIntervalMs : Math.min(wait, this.#options.pollIntervalMs);
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

  #freeSlots(): Map<string, number> {
    const slots = new Map<string, number>();
    for (const [endpointId, count] of this.#perEndpoint) slots.set(endpointId, this.#options.maxInFlightPerEndpoint - count);
    return slots;
  }

  #track(delivery: ClaimedDelivery): void {
    const endpointId = delivery.endpoint.id;
    this.#perEndpoint.set(endpointId, (this.#perEndpoint.get(endpointId) ?? 0) + 1);
    const task = this.#deliver(delivery)
      .catch((error) => this.#options.onError(error, `recording delivery of ${delivery.message.id} to ${endpointId}`))
      .finally(() => {
        this.#inFlight.delete(task);
        const left = (this.#perEndpoint.get(endpointId) ?? 1) - 1;
        if (left > 0) this.#perEndpoint.set(endpointId, left);
        else this.#perEndpoint.delete(endpointId);
        this.wake();
      });
    this.#inFlight.add(task);
  }

  async #deliver(delivery: ClaimedDelivery): Promise<void> {
    const { clock, random, retry, sender, ids } = this.#options;
    const startedAt = clock.now();
    const result: SendResult = delivery.endpoint.disabled
      ? { statusCode: 0, body: 'The endpoint is disabled.', retryAfter: null, durationMs: 0, failure: 'endpoint_disabled' }
      : await sender.send({ url: delivery.endpoint.url, headers: deliveryHeaders(delivery, startedAt), body: delivery.message.payload });
    const finishedAt = clock.now();
    const step: NextStep = result.failure === 'endpoint_disabled'
      ? { kind: 'exhausted' }
      : nextStep(
          retry,
          delivery.attemptNumber,
          result.failure ? { kind: 'no-response' } : { kind: 'response', statusCode: result.statusCode, retryAfter: result.retryAfter },
          finishedAt,
          random,
        );
    const attempt: Attempt = {
      id: ids('attempt'),
      messageId: delivery.message.id,
      endpointId: delivery.endpoint.id,
      appId: delivery.message.appId,
      url: delivery.endpoint.url,
      status: step.kind === 'delivered' ? Status.success : Status.fail,
      responseStatusCode: result.statusCode,
      response: result.body,
      responseDurationMs: result.durationMs,
      trigger: delivery.trigger,
      failureReason: result.failure,
      attemptNumber: delivery.attemptNumber,
      createdAt: startedAt,
    };
    await this.#results.write({
      id: delivery.id,
      lease: delivery.lease,
      attempt,
      next: nextState(step, finishedAt),
      disableEndpoint: step.kind === 'gone',
    });
  }
}

function nextState(step: NextStep, now: number): DeliveryNext {
  switch (step.kind) {
    case 'delivered':
      return { status: Status.success };
    case 'retry':
      return { status: Status.pending, runAt: now + step.delayMs };
    case 'exhausted':
    case 'gone':
      return { status: Status.fail };
  }
}
