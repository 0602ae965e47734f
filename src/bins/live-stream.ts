import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { BinRequest } from '../core/bins.ts';
import type { BinChange, Store } from '../store/store.ts';

/** Requests read per query while a stream catches up. */
const PAGE = 100;

interface Subscriber {
  binId: string;
  /** The number of the last request sent: the stream's cursor. */
  seq: number;
  pumping: boolean;
  /** A wake-up came while pumping: read once more when done. */
  again: boolean;
  closed: boolean;
  response: ServerResponse;
  show: (request: BinRequest) => unknown;
  log: FastifyBaseLogger;
  /** Ends the subscription: no more writes, no heartbeat. */
  stop: () => void;
}

export interface StreamRequest {
  binId: string;
  /** Send the requests numbered after this one. */
  afterSeq: number;
  response: ServerResponse;
  /** The request as the client may see it (masked unless revealed). */
  show: (request: BinRequest) => unknown;
  log: FastifyBaseLogger;
}

export interface BinStreams {
  /** Answers with a server-sent event per request the bin captures from now on, until either side closes. */
  open(stream: StreamRequest): void;
  /** Ends every stream (the server is closing) and stops listening. */
  close(): Promise<void>;
}

/**
 * Live streams of what bins capture, as server-sent events: one `request` event per capture, in the
 * order the bin numbered them, and a comment every `heartbeatMs` so proxies keep the connection.
 *
 * The store's `onBinChange` only wakes a stream; each stream then reads the requests numbered
 * after the last one it sent. Numbers follow commit order within a bin (on PostgreSQL too, where
 * they are taken under the bin's row lock), so a stream misses nothing that commits after it
 * opened, sends nothing twice, and a wake-up that was lost (a LISTEN connection that dropped wakes
 * every stream when it is back) only delays what the next one finds. A bin's deletion, announced
 * the same way whichever process deleted it, ends its streams with a `deleted` event. The process
 * listens once, from its first stream on.
 */
export function binStreams(store: Store, heartbeatMs = 15_000): BinStreams {
  const subscribers = new Map<string, Set<Subscriber>>();
  let stopListening: (() => Promise<void>) | null = null;

  const changed = (binId: string | null, change: BinChange) => {
    if (change === 'deleted') return end(binId!);
    const woken = binId === null ? [...subscribers.values()].flatMap((set) => [...set]) : [...(subscribers.get(binId) ?? [])];
    for (const subscriber of woken) void pump(subscriber);
  };

  function end(binId: string): void {
    for (const subscriber of [...(subscribers.get(binId) ?? [])]) {
      subscriber.stop();
      subscriber.response.end(`event: deleted\ndata: ${JSON.stringify({ id: binId })}\n\n`);
    }
  }

  async function pump(subscriber: Subscriber): Promise<void> {
    if (subscriber.pumping) {
      subscriber.again = true;
      return;
    }
    subscriber.pumping = true;
    try {
      do {
        subscriber.again = false;
        let batch: BinRequest[];
        do {
          batch = await store.bins.requestsAfter(subscriber.binId, subscriber.seq, PAGE);
          for (const request of batch) {
            if (subscriber.closed) return;
            subscriber.seq = request.seq;
            const written = subscriber.response.write(`id: ${request.id}\nevent: request\ndata: ${JSON.stringify(subscriber.show(request))}\n\n`);
            // A slow reader holds the next reads back rather than Herald's memory.
            if (!written) await Promise.race([once(subscriber.response, 'drain'), once(subscriber.response, 'close')]);
          }
        } while (batch.length === PAGE && !subscriber.closed);
      } while (subscriber.again && !subscriber.closed);
    } catch (error) {
      // The next wake-up reads from the same cursor again.
      subscriber.log.warn({ err: error }, 'bin stream: reading captured requests failed');
    } finally {
      subscriber.pumping = false;
    }
  }

  return {
    open({ binId, afterSeq, response, show, log }) {
      const subscriber: Subscriber = { binId, seq: afterSeq, pumping: false, again: false, closed: false, response, show, log, stop: () => {} };
      let set = subscribers.get(binId);
      if (!set) subscribers.set(binId, (set = new Set()));
      set.add(subscriber);
      stopListening ??= store.onBinChange(changed);
      const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), heartbeatMs);
      // Once stopped nothing more is written: a write after the end would be an error on the response.
      subscriber.stop = () => {
        subscriber.closed = true;
        clearInterval(heartbeat);
        set.delete(subscriber);
        if (set.size === 0 && subscribers.get(binId) === set) subscribers.delete(binId);
      };
      response.once('close', subscriber.stop);
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        // Proxies that buffer (nginx) would hold events back.
        'x-accel-buffering': 'no',
      });
      response.write(': stream of captured requests\n\n');
      // Captures committed between reading the cursor and subscribing, or after a Last-Event-ID.
      void pump(subscriber);
    },
    async close() {
      for (const set of [...subscribers.values()]) {
        for (const subscriber of [...set]) {
          subscriber.stop();
          subscriber.response.end();
        }
      }
      await stopListening?.();
    },
  };
}
