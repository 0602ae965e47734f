import { StoreError } from '../store/errors.ts';
import type { DeliveryResult, DeliveryQueue } from '../store/store.ts';

/**
 * Writes delivery results in batches: whatever finished while the previous write was under way
 * goes in the next one, so a busy dispatcher makes one database round trip for many results.
 * While the database is unavailable the batch is kept and retried with backoff; results are only
 * lost if the process dies, and then the expired leases make the deliveries due again.
 */
export class ResultWriter {
  readonly #queue: DeliveryQueue;
  readonly #onError: (error: unknown) => void;
  #pending: Array<{ result: DeliveryResult; done: () => void }> = [];
  #writing: Promise<void> | null = null;

  constructor(queue: DeliveryQueue, onError: (error: unknown) => void) {
    this.#queue = queue;
    this.#onError = onError;
  }

  /** Resolves once the result is committed (or given up on after a non-recoverable error). */
  write(result: DeliveryResult): Promise<void> {
    return new Promise((done) => {
      this.#pending.push({ result, done });
      this.#writing ??= this.#drain();
    });
  }

  async #drain(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    let backoffMs = 100;
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        await this.#queue.complete(batch.map((entry) => entry.result));
        batch.forEach((entry) => entry.done());
        backoffMs = 100;
      } catch (error) {
        if (error instanceof StoreError && error.code === 'unavailable') {
          this.#pending = [...batch, ...this.#pending];
          this.#onError(error);
          await new Promise((resolve) => setTimeout(resolve, backoffMs));
          backoffMs = Math.min(backoffMs * 2, 5_000);
        } else {
          this.#onError(error);
          batch.forEach((entry) => entry.done());
        }
      }
    }
    this.#writing = null;
  }
}
