import assert from 'node:assert/strict';
import { it } from 'node:test';
import { rateLimiter } from './rate-limit.ts';

it('allows a burst of the rate, then one request per interval, per key', () => {
  let now = 0;
  const limit = rateLimiter(10, { now: () => now });
  for (let i = 0; i < 10; i++) assert.equal(limit('a'), 0);
  assert.equal(limit('a'), 100, 'the eleventh waits a tenth of a second');
  assert.equal(limit('b'), 0, 'another token has its own bucket');
  now += 100;
  assert.equal(limit('a'), 0);
  assert.ok(limit('a') > 0);
});
