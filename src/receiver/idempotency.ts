import { randomUUID } from 'node:crypto';
import { WebhookInProgressError } from './errors.ts';

/** What a claim found: the id is now the caller's, already handled, or held by a live handler. */
export type ClaimOutcome = 'claimed' | 'done' | 'busy';

/**
 * Where handled `webhook-id`s are remembered. Each call is one atomic step, so the promise holds
 * across processes sharing the store (SQLite file, PostgreSQL database). Implement it for any
 * other database: `claim` must be a single atomic write.
 */
export interface IdempotencyStore {
  /**
   * Takes `id` for `holder` until `nowMs + lockMs` when it is unknown, forgotten, or held by a
   * lock that ran out (its holder died): 'claimed'. Otherwise 'done' or 'busy'.
   */
  claim(id: string, holder: string, nowMs: number, lockMs: number): Promise<ClaimOutcome>;
  /** Marks `id` handled, whoever holds it now: the work was done. */
  complete(id: string, nowMs: number): Promise<void>;
  /** Frees `id` if `holder` still holds it and it is not done, so a retry runs the handler. */
  release(id: string, holder: string): Promise<void>;
}

export interface OnceOptions {
  /**
   * How long a claim holds, in ms (default 60 s). A process that dies mid-handler blocks the id
   * this long; a handler that runs longer than this may be run again by a duplicate.
   */
  lockMs?: number;
  /**
   * How long a duplicate waits for a running handler of the same id before giving up with
   * `WebhookInProgressError`, in ms (default 10 s, under the 15 s that Herald and Svix wait).
   */
  waitMs?: number;
  /** The clock, in ms, for tests. */
  now?: () => number;
}

export type OnceResult<T> = { ran: true; result: T } | { ran: false };

const DEFAULT_LOCK_MS = 60_000;
const DEFAULT_WAIT_MS = 10_000;
const FIRST_POLL_MS = 5;
const LONGEST_POLL_MS = 100;

/** Waiters in this process, by store and id, woken as soon as the handler they wait for ends. */
const waiters = new WeakMap<IdempotencyStore, Map<string, Set<() => void>>>();

/**
 * Runs `handler` once per `id` (a delivery's `webhook-id`), however often and however
 * concurrently the id arrives. A duplicate of a completed delivery returns `{ ran: false }` at
 * once. A duplicate that arrives while the first is still running **waits** for it: if the first
 * succeeds it returns `{ ran: false }`; if the first throws, the id is freed and the duplicate
 * runs the handler itself. A duplicate that has waited `waitMs` throws `WebhookInProgressError`.
 * A handler that throws frees the id and its error propagates, so the sender's retry runs it again.
 */
export async function once<T>(store: IdempotencyStore, id: string, handler: () => T | Promise<T>, options: OnceOptions = {}): Promise<OnceResult<T>> {
  if (typeof id !== 'string' || id === '') throw new TypeError('once() needs the delivery id (webhook-id).');
  const now = options.now ?? Date.now;
  const lockMs = options.lockMs ?? DEFAULT_LOCK_MS;
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  const holder = randomUUID();
  const giveUpAt = now() + waitMs;
  let pause = FIRST_POLL_MS;
  for (;;) {
    const outcome = await store.claim(id, holder, now(), lockMs);
    if (outcome === 'done') return { ran: false };
    if (outcome === 'claimed') break;
    const left = giveUpAt - now();
    if (left <= 0) throw new WebhookInProgressError(id);
    await waitForWake(store, id, Math.min(pause, left));
    pause = Math.min(pause * 2, LONGEST_POLL_MS);
  }

  let result: T;
  try {
    result = await handler();
  } catch (error) {
    await store.release(id, holder).catch(() => {
      // The claim then runs out after lockMs, and the retry after that runs the handler.
    });
    wake(store, id);
    throw error;
  }
  await store.complete(id, now());
  wake(store, id);
  return { ran: true, result };
}

function waitForWake(store: IdempotencyStore, id: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let byId = waiters.get(store);
    if (!byId) waiters.set(store, (byId = new Map()));
    let set = byId.get(id);
    if (!set) byId.set(id, (set = new Set()));
    const done = () => {
      clearTimeout(timer);
      set.delete(done);
      if (set.size === 0) byId.delete(id);
      resolve();
    };
    const timer = setTimeout(done, ms);
    set.add(done);
  });
}

function wake(store: IdempotencyStore, id: string): void {
  const set = waiters.get(store)?.get(id);
  if (set) for (const done of [...set]) done();
}

/** How long a handled id is remembered by default: past the longest retry schedules (Svix's and Herald's run ~28 hours, Stripe's 3 days). */
export const DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;

export interface MemoryStoreOptions {
  /** How long a handled id is remembered, in ms (default 7 days). */
  retentionMs?: number;
}

/**
 * Handled ids in this process's memory: for a single process, and lost on restart (a delivery
 * redelivered after a restart runs again). Forgotten ids are swept at most once a minute.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, { state: 'pending' | 'done'; holder: string | null; expiresAt: number }>();
  readonly #retentionMs: number;
  #sweptAt = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.#retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  }

  /** Ids remembered now, handled or in progress. */
  get size(): number {
    return this.#entries.size;
  }

  async claim(id: string, holder: string, nowMs: number, lockMs: number): Promise<ClaimOutcome> {
    this.#sweep(nowMs);
    const entry = this.#entries.get(id);
    if (entry && entry.expiresAt > nowMs) return entry.state === 'done' ? 'done' : 'busy';
    this.#entries.set(id, { state: 'pending', holder, expiresAt: nowMs + lockMs });
    return 'claimed';
  }

  async complete(id: string, nowMs: number): Promise<void> {
    this.#entries.set(id, { state: 'done', holder: null, expiresAt: nowMs + this.#retentionMs });
  }

  async release(id: string, holder: string): Promise<void> {
    const entry = this.#entries.get(id);
    if (entry?.state === 'pending' && entry.holder === holder) this.#entries.delete(id);
  }

  #sweep(nowMs: number): void {
    if (nowMs - this.#sweptAt < 60_000) return;
    this.#sweptAt = nowMs;
    for (const [id, entry] of this.#entries) if (entry.expiresAt <= nowMs) this.#entries.delete(id);
  }
}
