import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Status, Trigger } from '../core/model.ts';
import type { DeliveryResult } from '../store/store.ts';
import { ResultWriter, type ResultWriterLimits } from './result-writer.ts';
import { ids, storeWithEndpoint } from './test-store.ts';

/**
 * A SQLite store holding `count` deliveries leased to us, the successful results of sending them,
 * and a writer over the store's queue that counts its writes.
 */
async function fixture(count: number, limits: Partial<ResultWriterLimits>) {
  const { store, app, endpoint, close } = await storeWithEndpoint();
  const now = Date.now();
  const results: DeliveryResult[] = [];
  for (let i = 0; i < count; i++) {
    const message = { id: ids('message'), appId: app.id, eventType: 'a.b', eventId: null, channels: null, payload: Buffer.from('{}'), createdAt: now };
    const [id] = await store.messages.enqueue(message, [endpoint.id], { until: now + 60_000, endpointIds: new Set([endpoint.id]) });
    results.push({
      id: id!, lease: 1, disableEndpoint: false, next: { status: Status.success }, attemptCount: 1,
      attempt: {
        id: ids('attempt'), messageId: message.id, endpointId: endpoint.id, appId: app.id, url: endpoint.url, status: Status.success,
        responseStatusCode: 200, response: 'ok', responseDurationMs: 1, trigger: Trigger.scheduled, failureReason: null, attemptNumber: 1, createdAt: now,
      },
    });
  }
  const writes: number[] = [];
  const queue = { ...store.queue, complete: (batch: DeliveryResult[]) => (writes.push(batch.length), store.queue.complete(batch)) };
  const writer = new ResultWriter(queue, (error) => assert.fail(error as Error), limits);
  const stored = async (result: DeliveryResult) => (await store.attempts.get(result.attempt.messageId, result.attempt.id)) !== null;
  return { writer, results, writes, stored, queue: store.queue, close };
}

it('writes the results that finish within its window in one transaction', async () => {
  const f = await fixture(10, { windowMs: 20 });
  try {
    await Promise.all(f.results.map((result) => f.writer.write(result)));
    await f.writer.flush();
    assert.deepEqual(f.writes, [10]);
    for (const result of f.results) assert.equal(await f.stored(result), true);
  } finally {
    await f.close();
  }
});

it('writes a full batch without waiting out the window, and the rest in the next', async () => {
  const f = await fixture(5, { windowMs: 60_000, maxBatch: 3 });
  try {
    await Promise.all(f.results.map((result) => f.writer.write(result)));
    await f.writer.flush();
    assert.deepEqual(f.writes, [3, 2]);
  } finally {
    await f.close();
  }
});

it('lets a send go on before its result is written, until too many results wait', async () => {
  const f = await fixture(3, { windowMs: 60_000, maxUnwritten: 2 });
  try {
    // The same 50 ms that a write that need not wait resolves within is what the third waits past.
    const within50ms = (write: Promise<void>) => Promise.race([write.then(() => 'resolved'), new Promise((resolve) => setTimeout(resolve, 50, 'waiting'))]);
    await f.writer.write(f.results[0]!);
    assert.equal(await within50ms(f.writer.write(f.results[1]!)), 'resolved');
    assert.equal(await f.stored(f.results[1]!), false, 'the first two go on at once, unwritten');
    const third = f.writer.write(f.results[2]!);
    assert.equal(await within50ms(third), 'waiting', 'the third waits for its commit');
    await f.writer.flush();
    await third;
    for (const result of f.results) assert.equal(await f.stored(result), true);
  } finally {
    await f.close();
  }
});

it('gives up on a batch the store refuses for good, settling its writes and telling its owner which results were dropped', async () => {
  const f = await fixture(2, { windowMs: 1 });
  try {
    const errors: unknown[] = [];
    const dropped: DeliveryResult[][] = [];
    const writer = new ResultWriter(f.queue, (error) => errors.push(error), {}, { dropped: (results) => dropped.push([...results]) });
    await writer.write(f.results[0]!);
    await writer.flush();
    // The same attempt again: its id is taken, which no retry mends.
    const again = { ...f.results[1]!, attempt: f.results[0]!.attempt };
    await writer.write(again);
    await writer.flush();
    assert.equal(errors.length, 1, String(errors[0]));
    assert.deepEqual(dropped, [[again]]);
  } finally {
    await f.close();
  }
});
