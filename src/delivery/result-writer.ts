import { StoreError } from '../store/errors.ts';
import type { CompleteOutcome, DeliveryResult, DeliveryQueue } from '../store/store.ts';

export interface ResultWriterLimits {
  /**
   * How long a result waits for others to share its write. Every write rewrites the pages it
   * touches whole (the attempt, its indexes, the delivery), so at a thousand results a second
   * writing each alone costs SQLite about seven pages a result, and gathering 5 ms' worth under
   * two. A result only shows this much later; its delivery stays leased meanwhile.
   */
  windowMs: number;
  /** Results written in one transaction at most. */
  maxBatch: number;
  /**
   * Beyond this many results not yet committed, a send's slot waits for its result's commit, so a
   * database slower than the endpoints slows the sends down instead of filling memory.
   */
  maxUnwritten: number;
}

/** What the writer tells its owner about each batch once it is settled. */
export interface ResultWriterHooks {
  /**
   * Sees each batch once it is committed (operational events are raised from there, so they only
   * ever describe what was recorded). It must not block: it is called in the drain loop.
   */
  written?: (results: readonly DeliveryResult[], outcome: CompleteOutcome) => void;
  /** Sees a batch given up on after a non-recoverable error: its deliveries come due again when their leases expire. */
  dropped?: (results: readonly DeliveryResult[]) => void;
}

const DEFAULT_LIMITS: ResultWriterLimits = { windowMs: 5, maxBatch: 500, maxUnwritten: 2_000 };

/**
 * Writes delivery results in batches: whatever finished within a short window, or while the
 * previous write was under way, goes in the next one, so a busy dispatcher makes one database
 * round trip and one commit for many results. While the database is unavailable the batch is kept
 * and retried with backoff; results are only lost if the process dies, and then the expired
 * leases make the deliveries due again.
 */
export class ResultWriter {
  readonly #queue: DeliveryQueue;
  readonly #onError: (error: unknown) => void;
  readonly #limits: ResultWriterLimits;
  readonly #hooks: ResultWriterHooks;
  #pending: Array<{ result: DeliveryResult; done: () => void }> = [];
  #unwritten = 0;
  #writing: Promise<void> | null = null;
  #flushing = false;
  #windowEnds: (() => void) | null = null;

  constructor(queue: DeliveryQueue, onError: (error: unknown) => void, limits: Partial<ResultWriterLimits> = {}, hooks: ResultWriterHooks = {}) {
    this.#queue = queue;
    this.#onError = onError;
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
    this.#hooks = hooks;
  }

  /**
   * Queues a result. Resolves at once while few results wait, and otherwise once this one is
   * committed (or given up on after a non-recoverable error).
   */
  write(result: DeliveryResult): Promise<void> {
    const committed = new Promise<void>((done) => this.#pending.push({ result, done }));
    this.#unwritten++;
    this.#writing ??= this.#drain();
    if (this.#pending.length >= this.#limits.maxBatch) this.#windowEnds?.();
    return this.#unwritten > this.#limits.maxUnwritten ? committed : Promise.resolve();
  }

  /** Resolves once every result queued so far is committed, writing them without waiting out the window. */
  async flush(): Promise<void> {
    this.#flushing = true;
    this.#windowEnds?.();
    try {
      while (this.#writing) await this.#writing;
    } finally {
      this.#flushing = false;
    }
  }

  async #drain(): Promise<void> {
    let backoffMs = 100;
    while (this.#pending.length > 0) {
      await this.#window();
      const batch = this.#pending.splice(0, this.#limits.maxBatch);
      const results = batch.map((entry) => entry.result);
      try {
        const outcome = await this.#queue.complete(results);
        this.#settle(batch);
        backoffMs = 100;
        if (this.#hooks.written) {
          try {
            this.#hooks.written(results, outcome);
          } catch (error) {
            this.#onError(error);
          }
        }
      } catch (error) {
        if (error instanceof StoreError && error.code === 'unavailable') {
          this.#pending.unshift(...batch);
          this.#onError(error);
          await new Promise((resolve) => setTimeout(resolve, backoffMs));
          backoffMs = Math.min(backoffMs * 2, 5_000);
        } else {
          this.#onError(error);
          this.#settle(batch);
          this.#hooks.dropped?.(results);
        }
      }
    }
    this.#writing = null;
  }

  #settle(batch: Array<{ done: () => void }>): void {
    this.#unwritten -= batch.length;
    for (const entry of batch) entry.done();
  }

  /** Waits out the window, unless a full batch is waiting or a flush was asked for. */
  #window(): Promise<void> {
    if (this.#flushing || this.#pending.length >= this.#limits.maxBatch) return Promise.resolve();
    return new Promise((resolve) => {
      const ends = () => {
        clearTimeout(timer);
        this.#windowEnds = null;
        resolve();
      };
      const timer = setTimeout(ends, this.#limits.windowMs);
      this.#windowEnds = ends;
    });
  }
}
