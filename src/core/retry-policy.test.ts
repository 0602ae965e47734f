import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Random } from './clock.ts';
import { nextStep, parseRetryAfter, type RetryPolicy } from './retry-policy.ts';

const policy: RetryPolicy = { delaysMs: [5_000, 300_000, 1_800_000], jitter: 0.2 };
const fixed = (fraction: number): Random => ({ bytes: (n) => new Uint8Array(n), fraction: () => fraction });
const response = (statusCode: number, retryAfter: string | null = null) => ({ kind: 'response' as const, statusCode, retryAfter });
const now = Date.parse('2026-01-01T00:00:00Z');

describe('the retry policy', () => {
  it('is done on any 2xx', () => {
    for (const code of [200, 201, 204, 299]) assert.deepEqual(nextStep(policy, 1, response(code), now, fixed(0.5)), { kind: 'delivered' });
  });

  it('stops at 410 Gone whatever attempt it is', () => {
    assert.deepEqual(nextStep(policy, 1, response(410), now, fixed(0.5)), { kind: 'gone' });
  });

  it('retries anything else on the schedule, redirects and lost connections included', () => {
    for (const outcome of [response(500), response(302), response(404), { kind: 'no-response' as const }]) {
      assert.deepEqual(nextStep(policy, 2, outcome, now, fixed(0.5)), { kind: 'retry', delayMs: 300_000 });
    }
  });

  it('is exhausted after the last scheduled delay', () => {
    assert.deepEqual(nextStep(policy, 4, response(500), now, fixed(0.5)), { kind: 'exhausted' });
  });

  it('moves each delay by at most a fifth either way', () => {
    assert.deepEqual(nextStep(policy, 1, response(500), now, fixed(0)), { kind: 'retry', delayMs: 4_000 });
    const late = nextStep(policy, 1, response(500), now, fixed(0.999999));
    assert.ok(late.kind === 'retry' && late.delayMs <= 6_000 && late.delayMs > 5_999);
  });

  it('honours Retry-After on 429 and 503, within the shortest and longest delay of the schedule', () => {
    assert.deepEqual(nextStep(policy, 1, response(429, '60'), now, fixed(0.5)), { kind: 'retry', delayMs: 60_000 });
    assert.deepEqual(nextStep(policy, 1, response(503, '1'), now, fixed(0.5)), { kind: 'retry', delayMs: 5_000 });
    assert.deepEqual(nextStep(policy, 1, response(429, '999999'), now, fixed(0.5)), { kind: 'retry', delayMs: 1_800_000 });
    const date = new Date(now + 120_000).toUTCString();
    assert.deepEqual(nextStep(policy, 1, response(503, date), now, fixed(0.5)), { kind: 'retry', delayMs: 120_000 });
  });

  it('ignores Retry-After on other statuses, and when it cannot be read', () => {
    assert.deepEqual(nextStep(policy, 1, response(500, '60'), now, fixed(0.5)), { kind: 'retry', delayMs: 5_000 });
    assert.deepEqual(nextStep(policy, 1, response(429, 'soon'), now, fixed(0.5)), { kind: 'retry', delayMs: 5_000 });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter(' 30 ', now), 30_000);
    assert.equal(parseRetryAfter(new Date(now - 5_000).toUTCString(), now), 0);
    assert.equal(parseRetryAfter('later', now), null);
  });
});
