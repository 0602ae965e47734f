import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Clock, Random } from './clock.ts';
import { createIdGenerator, isId, looksLikeId, smallestIdAt, timestampOfId } from './ids.ts';

const counting = (): Random => {
  let n = 0;
  return { bytes: (length) => new Uint8Array(length).fill(++n % 256), fraction: () => 0 };
};

describe('ids', () => {
  it('carry their kind as a prefix and a fixed-width body', () => {
    const ids = createIdGenerator({ now: () => 1_700_000_000_000 }, counting());
    for (const [kind, prefix] of [['application', 'app_'], ['endpoint', 'ep_'], ['message', 'msg_'], ['attempt', 'atmpt_']] as const) {
      const id = ids(kind);
      assert.ok(id.startsWith(prefix));
      assert.equal(id.length, prefix.length + 22);
      assert.ok(looksLikeId(kind, id));
    }
    assert.equal(looksLikeId('application', 'acme'), false);
  });

  it('are told exactly from anything else of the same length and prefix', () => {
    const ids = createIdGenerator({ now: () => 1_700_000_000_000 }, counting());
    const id = ids('endpoint');
    assert.ok(isId('endpoint', id));
    assert.equal(isId('message', id), false, 'another kind');
    assert.equal(isId('endpoint', `${id.slice(0, -1)}-`), false, 'a character outside base62');
    assert.equal(isId('endpoint', `${id}A`), false, 'one character too many');
    assert.equal(isId('endpoint', id.slice(0, -1)), false, 'one too few');
    assert.equal(isId('endpoint', `x${id.slice(1)}`), false, 'another prefix');
  });

  it('increase strictly within one millisecond, across milliseconds, and when the clock steps back', () => {
    let now = 1_700_000_000_000;
    const clock: Clock = { now: () => now };
    const ids = createIdGenerator(clock, counting());
    const made: string[] = [];
    for (let i = 0; i < 50; i++) made.push(ids('message'));
    now += 1;
    made.push(ids('message'));
    now -= 10;
    made.push(ids('message'));
    assert.deepEqual([...made].sort(), made);
    assert.equal(new Set(made).size, made.length);
  });

  it('encode their creation time', () => {
    const ids = createIdGenerator({ now: () => 1_700_000_123_456 }, counting());
    assert.equal(timestampOfId(ids('message')), 1_700_000_123_456);
  });

  it('sort below the smallest id of any later time', () => {
    const at = 1_700_000_000_000;
    const before = createIdGenerator({ now: () => at - 1 }, counting())('attempt');
    const same = createIdGenerator({ now: () => at }, counting())('attempt');
    assert.ok(before < smallestIdAt('attempt', at));
    assert.ok(smallestIdAt('attempt', at) <= same);
  });

  it('encode the 128-bit number of their time and random bits, as a BigInt would', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.uint8Array({ minLength: 10, maxLength: 10 }), fc.nat(3), (ms, bytes, extra) => {
      const ids = createIdGenerator({ now: () => ms }, { bytes: () => bytes, fraction: () => 0 });
      let random = bytes.reduce((value, byte) => (value << 8n) | BigInt(byte), 0n) >> 1n;
      let id = ids('message');
      for (let i = 0; i < extra; i++) {
        id = ids('message');
        random = (random + 1n) & ((1n << 80n) - 1n);
      }
      assert.equal(id, `msg_${referenceBase62((BigInt(ms) << 80n) | random)}`);
      assert.equal(timestampOfId(id), ms);
    }));
  });

  it('count up across the random part\'s limbs within one millisecond', () => {
    const ids = createIdGenerator({ now: () => 1_700_000_000_000 }, { bytes: (n) => new Uint8Array(n).fill(0xff), fraction: () => 0 });
    const [first, second] = [ids('message'), ids('message')];
    const random = (1n << 79n) - 1n; // ten 0xff bytes shifted right by one
    assert.equal(first, `msg_${referenceBase62((1_700_000_000_000n << 80n) | random)}`);
    assert.equal(second, `msg_${referenceBase62((1_700_000_000_000n << 80n) | (random + 1n))}`);
  });
});

function referenceBase62(value: bigint): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let out = '';
  for (let i = 0; i < 22; i++, value /= 62n) out = alphabet[Number(value % 62n)] + out;
  return out;
}
