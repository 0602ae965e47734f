/**
 * Group commit for a database reached over the network: calls that arrive while earlier batches
 * are being written are gathered into the next batch, so under load one round trip and one
 * commit serve many callers. A batch is started once the event loop has read all the I/O that
 * was ready with its first call (on `setImmediate`), so the requests that arrived together share
 * a round trip even while a write slot is free; a lone call still goes out in the same turn. Each
 * caller gets its own outcome: `write` returns one result (or Error) per item, in order.
 */
export class Batcher<Item, Result> {
  readonly #write: (items: Item[]) => Promise<Array<Result | Error>>;
  readonly #maxBatch: number;
  readonly #maxConcurrent: number;
  #queue: Array<{ item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }> = [];
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
      this.#write(batch.map((entry) => entry.item)).then(
        (results) => batch.forEach((entry, i) => (results[i] instanceof Error ? entry.reject(results[i]) : entry.resolve(results[i] as Result))),
        (error) => batch.forEach((entry) => entry.reject(error)),
      ).finally(() => {
        this.#writing--;
        this.#flush();
      });
    }
  }
}
