import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batcher } from './batcher.ts';
import { StoreError } from './errors.ts';

/** A write that, like one SQL statement, stores all of its items or, when one is refused, none. */
function statement(refuse: (item: string) => Error | null) {
  const calls: string[][] = [];
  const write = async (items: string[]) => {
    calls.push(items);
    const refused = items.map(refuse).find((error) => error !== null);
    if (refused) throw refused;
    return items.map((item) => `stored ${item}`);
  };
  return { calls, write };
}

const settle = <T>(promises: Array<Promise<T>>) => Promise.allSettled(promises);

describe('Batcher', () => {
  it('writes the calls of one turn together, each answered with its own result', async () => {
    const { calls, write } = statement(() => null);
    const batcher = new Batcher(write, { maxBatch: 10, maxConcurrent: 1 });
    assert.deepEqual(await Promise.all(['a', 'b', 'c'].map((item) => batcher.add(item))), ['stored a', 'stored b', 'stored c']);
    assert.deepEqual(calls, [['a', 'b', 'c']]);
  });

  it('splits a batch the database refuses until the item it refuses fails alone, and stores the others', async () => {
    const refusal = new Error('invalid byte sequence');
    const { calls, write } = statement((item) => (item.startsWith('bad') ? refusal : null));
    const batcher = new Batcher(write, { maxBatch: 100, maxConcurrent: 1 });
    const items = Array.from({ length: 16 }, (_, i) => (i === 5 || i === 12 ? `bad${i}` : `good${i}`));
    const outcomes = await settle(items.map((item) => batcher.add(item)));
    outcomes.forEach((outcome, i) => {
      if (items[i]!.startsWith('bad')) assert.deepEqual(outcome, { status: 'rejected', reason: refusal });
      else assert.deepEqual(outcome, { status: 'fulfilled', value: `stored ${items[i]}` });
    });
    // Halving finds each refused item in a few statements, not one per item.
    assert.ok(calls.length <= 1 + 2 * 2 * Math.log2(16), `${calls.length} statements`);
    assert.deepEqual(calls.filter((call) => call.length === 1 && call[0]!.startsWith('bad')).length, 2);
  });

  it('fails the whole batch at once when the database is unavailable, without trying again', async () => {
    const down = new StoreError('unavailable', 'PostgreSQL is unavailable');
    const { calls, write } = statement(() => down);
    const batcher = new Batcher(write, { maxBatch: 100, maxConcurrent: 1 });
    const outcomes = await settle(['a', 'b', 'c', 'd'].map((item) => batcher.add(item)));
    assert.deepEqual(outcomes.map((outcome) => outcome.status === 'rejected' && outcome.reason), [down, down, down, down]);
    assert.equal(calls.length, 1);
  });
});
