import { StoreError } from './errors.ts';

type Entry<Item, Result> = { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void };

/**
 * Group commit for a database reached over the network: calls that arrive while earlier batches
 * are being written are gathered into the next batch, so under load one round trip and one
 * commit serve many callers. A batch is started once the event loop has read all the I/O that
 * was ready with its first call (on `setImmediate`), so the requests that arrived together share
 * a round trip even while a write slot is free; a lone call still goes out in the same turn. Each
 * caller gets its own outcome: `write` returns one result (or Error) per item, in order.
 *
 * `write` must be all or nothing when it throws (one statement, or one transaction), so that a
 * batch it fails can be written again: see `#settle`.
 */
export class Batcher<Item, Result> {
  readonly #write: (items: Item[]) => Promise<Array<Result | Error>>;
  readonly #maxBatch: number;
  readonly #maxConcurrent: number;
  #queue: Array<Entry<Item, Result>> = [];
  #writing = 0;

  constructor(write: (items: Item[]) => Promise<Array<Result | Error>>, options: { maxBatch: number; maxConcurrent: number }) {
    this.#write = write;
    this.#maxBatch = options.maxBatch;
    this.#maxConcurrent = options.maxConcurrent;
  }

  add(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#queue.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    while (this.#queue.length > 0 && this.#writing < this.#maxConcurrent) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.#writing++;
      this.#settle(batch).finally(() => {
        this.#writing--;
        this.#flush();
      });
    }
  }

  /**
   * Writes a batch and answers its callers. When the database refuses the batch, one item is
   * usually to blame (a value it cannot store, a row that went away), and its neighbours must not
   * fail with it: the batch is written again in halves, down to the item that fails alone, which
   * costs a few statements per bad item and nothing while none fails. An unavailable database
   * fails them all at once: writing again would only knock on the same closed door.
   */
  async #settle(batch: Array<Entry<Item, Result>>): Promise<void> {
    let results: Array<Result | Error>;
    try {
      results = await this.#write(batch.map((entry) => entry.item));
    } catch (error) {
      if (batch.length === 1 || (error instanceof StoreError && error.code === 'unavailable')) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await this.#settle(batch.slice(0, half));
      await this.#settle(batch.slice(half));
      return;
    }
    batch.forEach((entry, i) => (results[i] instanceof Error ? entry.reject(results[i]) : entry.resolve(results[i] as Result)));
  }
}
