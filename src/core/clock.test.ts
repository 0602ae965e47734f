import assert from 'node:assert/strict';
import { it } from 'node:test';
import { systemRandom } from './clock.ts';

it('draws small random values from a pool that never hands out the same bytes twice, across refills', () => {
  const drawn = Array.from({ length: 2_000 }, () => Buffer.from(systemRandom.bytes(10)).toString('hex'));
  assert.ok(drawn.every((hex) => hex.length === 20));
  assert.equal(new Set(drawn).size, drawn.length);
});

it('draws keys of any length straight from the system', () => {
  const key = systemRandom.bytes(32);
  assert.equal(key.length, 32);
  assert.notDeepEqual(key, systemRandom.bytes(32));
});
