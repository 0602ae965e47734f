import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { Random } from './clock.ts';
import { createPublicKey, verify as edVerify } from 'node:crypto';
import { generateSecret, normaliseSecret, publicKeyOf, secretKey, sign, verify } from './signing.ts';

const secret = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;
const other = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
const body = '{"invoice":42,"note":"héllo"}';
const now = 1_700_000_000;

describe('Standard Webhooks signing', () => {
  it('signs requests that the standardwebhooks library accepts', () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = sign([secretKey(secret)], 'msg_1', timestamp, body);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
    assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
  });

  it('agrees byte for byte with the standardwebhooks library', () => {
    const theirs = new Webhook(secret).sign('msg_2', new Date(now * 1000), body);
    assert.equal(sign([secretKey(secret)], 'msg_2', now, body), theirs);
  });

  it('verifies a signature the standardwebhooks library made', () => {
    const signature = new Webhook(secret).sign('msg_3', new Date(now * 1000), body);
    assert.equal(verify({ secret, id: 'msg_3', timestamp: String(now), signature, body, nowSeconds: now }), null);
  });

  it('gives one space-separated signature per key, each verifying with its own secret', () => {
    const signature = sign([secretKey(secret), secretKey(other)], 'msg_4', now, body);
    assert.equal(signature.split(' ').length, 2);
    for (const s of [secret, other]) assert.equal(verify({ secret: s, id: 'msg_4', timestamp: String(now), signature, body, nowSeconds: now }), null);
  });

  it('says why a request is not authentic', () => {
    const signature = sign([secretKey(secret)], 'msg_5', now, body);
    const check = (over: Partial<Parameters<typeof verify>[0]>) =>
      verify({ secret, id: 'msg_5', timestamp: String(now), signature, body, nowSeconds: now, ...over });
    assert.equal(check({ signature: undefined }), 'missing_headers');
    assert.equal(check({ timestamp: 'soon' }), 'invalid_timestamp');
    assert.equal(check({ nowSeconds: now + 301 }), 'timestamp_too_old');
    assert.equal(check({ nowSeconds: now - 301 }), 'timestamp_too_new');
    assert.equal(check({ body: body.replace('42', '43') }), 'no_matching_signature');
    assert.equal(check({ secret: other }), 'no_matching_signature');
    assert.equal(check({ nowSeconds: now + 300 }), null);
  });

  it('accepts secrets with or without the whsec_ prefix, of 24 to 64 bytes', () => {
    const raw = Buffer.alloc(24, 1).toString('base64');
    assert.equal(normaliseSecret(raw), `whsec_${raw}`);
    assert.equal(normaliseSecret(`whsec_${raw}`), `whsec_${raw}`);
    assert.equal(normaliseSecret(Buffer.alloc(23, 1).toString('base64')), null);
    assert.equal(normaliseSecret(Buffer.alloc(65, 1).toString('base64')), null);
    assert.equal(normaliseSecret('whsec_not*base64*at*all*!!!!!!!!!!!!!!!!!!'), null);
  });

  it('generates whsec_ secrets of 24 random bytes', () => {
    const random: Random = { bytes: (n) => new Uint8Array(n).fill(5), fraction: () => 0 };
    const generated = generateSecret(random);
    assert.match(generated, /^whsec_/);
    assert.equal(Buffer.from(generated.slice(6), 'base64').length, 24);
  });

  it('signs with an ed25519 key as v1a, which node:crypto verifies with the public key alone', () => {
    const random: Random = { bytes: (n) => new Uint8Array(n).fill(7), fraction: () => 0 };
    const signingKey = generateSecret(random, 'ed25519');
    assert.match(signingKey, /^whsk_/);
    assert.equal(normaliseSecret(signingKey), signingKey);
    const publicKey = publicKeyOf(signingKey)!;
    assert.match(publicKey, /^whpk_/);
    const signature = sign([secretKey(signingKey)], 'msg_6', now, body);
    assert.match(signature, /^v1a,/);
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey.slice(5), 'base64').toString('base64url') }, format: 'jwk' });
    assert.equal(edVerify(null, Buffer.from(`msg_6.${now}.${body}`), key, Buffer.from(signature.slice(4), 'base64')), true);
    assert.equal(verify({ secret: publicKey, id: 'msg_6', timestamp: String(now), signature, body, nowSeconds: now }), null);
    assert.equal(verify({ secret: publicKey, id: 'msg_6', timestamp: String(now), signature, body: `${body} `, nowSeconds: now }), 'no_matching_signature');
  });

  it('mixes v1 and v1a signatures while an endpoint moves from one scheme to the other', () => {
    const random: Random = { bytes: (n) => new Uint8Array(n).fill(8), fraction: () => 0 };
    const signingKey = generateSecret(random, 'ed25519');
    const signature = sign([secretKey(signingKey), secretKey(secret)], 'msg_7', now, body);
    assert.deepEqual(signature.split(' ').map((s) => s.split(',')[0]), ['v1a', 'v1']);
    assert.equal(verify({ secret, id: 'msg_7', timestamp: String(now), signature, body, nowSeconds: now }), null);
    assert.equal(verify({ secret: publicKeyOf(signingKey)!, id: 'msg_7', timestamp: String(now), signature, body, nowSeconds: now }), null);
  });

  it('refuses an ed25519 key whose public half does not match its seed', () => {
    const random: Random = { bytes: (n) => new Uint8Array(n).fill(9), fraction: () => 0 };
    const bytes = Buffer.from(generateSecret(random, 'ed25519').slice(5), 'base64');
    bytes[40]! ^= 1;
    assert.equal(normaliseSecret(`whsk_${bytes.toString('base64')}`), null);
  });
});
