import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_BIN_RESPONSE, DEFAULT_BIN_RULES, isSecretLookingHeader, pickAnswer, secretHeaderPositions } from './bins.ts';

describe('bin answers', () => {
  const draws = [0, 0.25, 0.5, 0.999999];

  it('give the configured response when no rule has a share', () => {
    for (const draw of draws) assert.deepEqual(pickAnswer(DEFAULT_BIN_RULES, { ...DEFAULT_BIN_RESPONSE, status: 201 }, draw), { rule: 'configured', status: 201 });
  });

  it('fire a rule whose share is 1 on every draw, and one whose share is 0 on none', () => {
    for (const draw of draws) {
      assert.deepEqual(pickAnswer({ ...DEFAULT_BIN_RULES, failRate: 1, failStatus: 503 }, DEFAULT_BIN_RESPONSE, draw), { rule: 'fail', status: 503 });
      assert.deepEqual(pickAnswer({ ...DEFAULT_BIN_RULES, rateLimitRate: 1, retryAfterSeconds: 7 }, DEFAULT_BIN_RESPONSE, draw), { rule: 'rateLimit', status: 429, retryAfterSeconds: 7 });
      assert.deepEqual(pickAnswer({ ...DEFAULT_BIN_RULES, timeoutRate: 1 }, DEFAULT_BIN_RESPONSE, draw), { rule: 'timeout', status: null });
    }
  });

  it('split the draws between rules by their shares', () => {
    const rules = { ...DEFAULT_BIN_RULES, timeoutRate: 0.1, rateLimitRate: 0.2, failRate: 0.3 };
    const counts: Record<string, number> = {};
    for (let i = 0; i < 1000; i++) {
      const rule = pickAnswer(rules, DEFAULT_BIN_RESPONSE, (i + 0.5) / 1000).rule;
      counts[rule] = (counts[rule] ?? 0) + 1;
    }
    assert.deepEqual(counts, { timeout: 100, rateLimit: 200, fail: 300, configured: 400 });
  });
});

describe('secret-looking headers', () => {
  it('are the credentials and signatures providers and clients send', () => {
    for (const name of ['Authorization', 'proxy-authorization', 'Cookie', 'Stripe-Signature', 'X-Hub-Signature-256', 'webhook-signature',
      'X-Gitlab-Token', 'X-Api-Key', 'api_key', 'X-Shopify-Hmac-Sha256', 'X-Signature-Ed25519', 'X-Client-Secret', 'x-csrf-token']) {
      assert.equal(isSecretLookingHeader(name), true, name);
    }
  });

  it('leave the rest alone', () => {
    for (const name of ['Content-Type', 'Host', 'webhook-id', 'webhook-timestamp', 'Idempotency-Key', 'X-Key-Id', 'User-Agent', 'tokens-left']) {
      assert.equal(isSecretLookingHeader(name), false, name);
    }
  });

  it('are found by position, repeated ones included', () => {
    assert.deepEqual(secretHeaderPositions([['Host', 'h'], ['Authorization', 'a'], ['X-A', 'b'], ['authorization', 'c']]), [1, 3]);
  });
});
