import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign as edSign } from 'node:crypto';
import { describe, it } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { generateSecret, publicKeyOf, secretKey, sign as heraldSign } from '../core/signing.ts';
import { type VerificationFailure, WebhookVerificationError } from './errors.ts';
import { verify, verifyWebhook } from './verify.ts';

const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
const rotated = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;
const stranger = `whsec_${Buffer.alloc(24, 1).toString('base64')}`;
const body = '{"type":"invoice.paid","amount":4200,"note":"h\u00e9llo"}';
const nowSeconds = 1_750_000_000;
const now = nowSeconds * 1000;

/** Headers as Herald and the Standard Webhooks spec send them, signed with `signWith` (HMAC). */
function signed(signWith: string, id = 'msg_1', timestamp = nowSeconds, content: string | Buffer = body): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': new StandardWebhook(signWith).sign(id, new Date(timestamp * 1000), content),
  };
}

function refusal(run: () => unknown): { reason: VerificationFailure; message: string; status: number } {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof WebhookVerificationError, `expected a WebhookVerificationError, got ${error}`);
    return { reason: error.reason, message: error.message, status: error.status };
  }
  assert.fail('the request was accepted');
}

function ed25519Pair(): { publicKey: string; sign(id: string, timestamp: number, content: string): string } {
  const pair = generateKeyPairSync('ed25519');
  const raw = Buffer.from(pair.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return {
    publicKey: `whpk_${raw.toString('base64')}`,
    sign: (id, timestamp, content) => `v1a,${edSign(null, Buffer.from(`${id}.${timestamp}.${content}`), pair.privateKey).toString('base64')}`,
  };
}

describe('verify: what it accepts', () => {
  it('returns the parsed payload of a request signed by the standardwebhooks library', () => {
    assert.deepEqual(verify(body, signed(secret), secret, { now }), JSON.parse(body));
  });

  it('accepts a request signed by the svix library, with svix-* headers', () => {
    const signature = new SvixWebhook(secret).sign('msg_svix', new Date(now), body);
    const headers = { 'svix-id': 'msg_svix', 'svix-timestamp': String(nowSeconds), 'svix-signature': signature };
    assert.deepEqual(verify(body, headers, secret, { now }), JSON.parse(body));
  });

  it("accepts what Herald's own signing code signs, HMAC and ed25519, so the two cannot drift", () => {
    const random = { bytes: (n: number) => new Uint8Array(n).fill(3) } as Parameters<typeof generateSecret>[0];
    const edSecret = generateSecret(random, 'ed25519');
    const signature = heraldSign([secretKey(secret), secretKey(edSecret)], 'msg_h', nowSeconds, body);
    const headers = { 'webhook-id': 'msg_h', 'webhook-timestamp': String(nowSeconds), 'webhook-signature': signature };
    assert.deepEqual(verify(body, headers, secret, { now }), JSON.parse(body));
    assert.deepEqual(verify(body, headers, publicKeyOf(edSecret)!, { now }), JSON.parse(body));
  });

  it('returns the id and timestamp beside the payload, and the bytes that were signed', () => {
    const event = verifyWebhook(Buffer.from(body), signed(secret, 'msg_7'), secret, { now: new Date(now) });
    assert.equal(event.id, 'msg_7');
    assert.equal(event.timestamp.getTime(), now);
    assert.deepEqual(event.payload, JSON.parse(body));
    assert.equal(Buffer.from(event.rawBody).toString(), body);
  });

  it('takes the body as a string, a Buffer, a Uint8Array or an ArrayBuffer', () => {
    const bytes = Buffer.from(body);
    const forms = [body, bytes, new Uint8Array(bytes), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)];
    for (const form of forms) assert.deepEqual(verify(form, signed(secret), secret, { now }), JSON.parse(body));
  });

  it('reads headers from a plain object in any case, a Fetch Headers, or Node headers with repeated values', () => {
    const headers = signed(secret);
    const mixedCase = { 'Webhook-Id': headers['webhook-id'], 'WEBHOOK-TIMESTAMP': headers['webhook-timestamp'], 'webhook-Signature': headers['webhook-signature'] };
    assert.deepEqual(verify(body, mixedCase, secret, { now }), JSON.parse(body));
    assert.deepEqual(verify(body, new Headers(headers), secret, { now }), JSON.parse(body));
    const wrong = signed(stranger)['webhook-signature']!;
    const repeated = { ...headers, 'webhook-signature': [wrong, headers['webhook-signature']!] };
    assert.deepEqual(verify(body, repeated, secret, { now }), JSON.parse(body));
  });

  it('reads a signature header that arrived twice and was joined with ", " (as Node and Fetch join them)', () => {
    const headers = new Headers(signed(secret));
    headers.append('webhook-signature', signed(stranger)['webhook-signature']!);
    assert.match(headers.get('webhook-signature')!, /, v1,/);
    assert.deepEqual(verify(body, headers, secret, { now }), JSON.parse(body));
  });

  it('accepts any one valid signature among several, whatever their order and versions', () => {
    const good = signed(secret)['webhook-signature']!;
    const bad = signed(stranger)['webhook-signature']!;
    const headers = { ...signed(secret), 'webhook-signature': `v1a,${Buffer.alloc(64).toString('base64')} ${bad} v2,whatever ${good}` };
    assert.deepEqual(verify(body, headers, secret, { now }), JSON.parse(body));
  });

  it('accepts, during a rotation, a request signed with either secret, and refuses one signed by neither', () => {
    for (const signer of [secret, rotated]) assert.deepEqual(verify(body, signed(signer), [secret, rotated], { now }), JSON.parse(body));
    assert.equal(refusal(() => verify(body, signed(stranger), [secret, rotated], { now })).reason, 'no_matching_signature');
  });

  it('accepts a whsec_ secret without its prefix, as the Svix and Standard Webhooks libraries do', () => {
    assert.deepEqual(verify(body, signed(secret), secret.slice('whsec_'.length), { now }), JSON.parse(body));
  });

  it('verifies v1a ed25519 signatures with a whpk_ public key, and with a whsk_ signing key for its public half', () => {
    const pair = ed25519Pair();
    const headers = { 'webhook-id': 'msg_ed', 'webhook-timestamp': String(nowSeconds), 'webhook-signature': pair.sign('msg_ed', nowSeconds, body) };
    assert.deepEqual(verify(body, headers, pair.publicKey, { now }), JSON.parse(body));
    const random = { bytes: (n: number) => new Uint8Array(n).fill(9) } as Parameters<typeof generateSecret>[0];
    const signingKey = generateSecret(random, 'ed25519');
    const heraldHeaders = { ...headers, 'webhook-signature': heraldSign([secretKey(signingKey)], 'msg_ed', nowSeconds, body) };
    assert.deepEqual(verify(body, heraldHeaders, signingKey, { now }), JSON.parse(body));
    assert.deepEqual(verify(body, heraldHeaders, [pair.publicKey, publicKeyOf(signingKey)!], { now }), JSON.parse(body));
  });

  it('accepts timestamps just inside the tolerance, in the past and in the future', () => {
    for (const skew of [-300, 300]) assert.deepEqual(verify(body, signed(secret, 'msg_t', nowSeconds + skew), secret, { now }), JSON.parse(body));
    assert.deepEqual(verify(body, signed(secret, 'msg_t', nowSeconds - 3600), secret, { now, toleranceSeconds: 3600 }), JSON.parse(body));
  });
});

describe('verify: what it refuses, and why', () => {
  it('refuses a tampered body, and a body re-serialised after signing, as no_matching_signature (401)', () => {
    const tampered = refusal(() => verify(body.replace('4200', '4201'), signed(secret), secret, { now }));
    assert.deepEqual([tampered.reason, tampered.status], ['no_matching_signature', 401]);
    assert.match(tampered.message, /body was changed/);
    const reserialised = JSON.stringify(JSON.parse(body), null, 2);
    assert.equal(refusal(() => verify(reserialised, signed(secret), secret, { now })).reason, 'no_matching_signature');
  });

  it('refuses a signature made with another secret, or over another id or timestamp', () => {
    assert.equal(refusal(() => verify(body, signed(stranger), secret, { now })).reason, 'no_matching_signature');
    const otherId = { ...signed(secret, 'msg_a'), 'webhook-id': 'msg_b' };
    assert.equal(refusal(() => verify(body, otherId, secret, { now })).reason, 'no_matching_signature');
    const otherTime = { ...signed(secret), 'webhook-timestamp': String(nowSeconds + 1) };
    assert.equal(refusal(() => verify(body, otherTime, secret, { now })).reason, 'no_matching_signature');
  });

  it('refuses a timestamp older than the tolerance as timestamp_too_old, even with a valid signature', () => {
    const stale = refusal(() => verify(body, signed(secret, 'msg_s', nowSeconds - 301), secret, { now }));
    assert.deepEqual([stale.reason, stale.status], ['timestamp_too_old', 401]);
    assert.match(stale.message, /301 s in the past/);
    assert.equal(refusal(() => verify(body, signed(secret, 'msg_s', nowSeconds - 11), secret, { now, toleranceSeconds: 10 })).reason, 'timestamp_too_old');
  });

  it('refuses a timestamp further in the future than the tolerance as timestamp_too_new', () => {
    const future = refusal(() => verify(body, signed(secret, 'msg_f', nowSeconds + 301), secret, { now }));
    assert.deepEqual([future.reason, future.status], ['timestamp_too_new', 401]);
    assert.match(future.message, /301 s in the future/);
  });

  it('refuses a timestamp that is not whole seconds as invalid_timestamp (400)', () => {
    for (const timestamp of ['17e8', '-5', '1750000000.5', 'yesterday']) {
      const outcome = refusal(() => verify(body, { ...signed(secret), 'webhook-timestamp': timestamp }, secret, { now }));
      assert.deepEqual([outcome.reason, outcome.status], ['invalid_timestamp', 400], timestamp);
    }
  });

  it('refuses a request missing any of the three headers as missing_header, naming it', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const headers: Record<string, string> = { ...signed(secret) };
      delete headers[name];
      const outcome = refusal(() => verify(body, headers, secret, { now }));
      assert.deepEqual([outcome.reason, outcome.status], ['missing_header', 400]);
      assert.match(outcome.message, new RegExp(`no ${name} header`));
    }
    assert.match(refusal(() => verify(body, {}, secret, { now })).message, /webhook-id, webhook-timestamp, webhook-signature/);
    const svixWithoutSignature = { 'svix-id': 'msg_1', 'svix-timestamp': String(nowSeconds) };
    assert.match(refusal(() => verify(body, svixWithoutSignature, secret, { now })).message, /no svix-signature header/);
    assert.equal(refusal(() => verify(body, { ...signed(secret), 'webhook-signature': '  ' }, secret, { now })).reason, 'missing_header');
  });

  it('refuses a signature header with no v1 or v1a signature in it', () => {
    for (const value of ['garbage', 'v2,abc', 'v1a,tooshort']) {
      const outcome = refusal(() => verify(body, { ...signed(secret), 'webhook-signature': value }, secret, { now }));
      assert.equal(outcome.reason, 'no_matching_signature', value);
      assert.match(outcome.message, /no (v1 or v1a )?signature/);
    }
  });

  it('says when the signature and the key are of different kinds (ed25519 against a whsec_, HMAC against a whpk_)', () => {
    const pair = ed25519Pair();
    const edHeaders = { 'webhook-id': 'msg_k', 'webhook-timestamp': String(nowSeconds), 'webhook-signature': pair.sign('msg_k', nowSeconds, body) };
    const againstHmac = refusal(() => verify(body, edHeaders, secret, { now }));
    assert.equal(againstHmac.reason, 'no_matching_signature');
    assert.match(againstHmac.message, /ed25519 \(v1a\) only, and no whpk_ public key/);
    const againstPublicKey = refusal(() => verify(body, signed(secret), pair.publicKey, { now }));
    assert.match(againstPublicKey.message, /HMAC \(v1\) only/);
    const otherPair = ed25519Pair();
    assert.equal(refusal(() => verify(body, edHeaders, otherPair.publicKey, { now })).reason, 'no_matching_signature');
    const tampered = refusal(() => verify(body.replace('4200', '1'), edHeaders, pair.publicKey, { now }));
    assert.equal(tampered.reason, 'no_matching_signature');
  });

  it('refuses an authentic body that is not JSON, or not UTF-8, as invalid_json (400)', () => {
    const text = 'not json';
    const outcome = refusal(() => verify(text, signed(secret, 'msg_j', nowSeconds, text), secret, { now }));
    assert.deepEqual([outcome.reason, outcome.status], ['invalid_json', 400]);
    // Signed here: the standardwebhooks library decodes a Buffer as UTF-8 before signing it.
    const latin1 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]);
    const signature = createHmac('sha256', Buffer.alloc(24, 7)).update(`msg_l.${nowSeconds}.`).update(latin1).digest('base64');
    const latin1Headers = { 'webhook-id': 'msg_l', 'webhook-timestamp': String(nowSeconds), 'webhook-signature': `v1,${signature}` };
    assert.equal(refusal(() => verify(latin1, latin1Headers, secret, { now })).reason, 'invalid_json');
    assert.equal(refusal(() => verify('', signed(secret, 'msg_j', nowSeconds, ''), secret, { now })).reason, 'invalid_json');
  });

  it('refuses to run with a secret that cannot be a key, as invalid_secret (500), without printing it', () => {
    const bad = ['', 'whsec_', 'whsec_not*base64', 'whpk_' + Buffer.alloc(31).toString('base64'), 'whsk_' + Buffer.alloc(64, 1).toString('base64')];
    for (const candidate of bad) {
      const outcome = refusal(() => verify(body, signed(secret), candidate, { now }));
      assert.deepEqual([outcome.reason, outcome.status], ['invalid_secret', 500], candidate);
      if (candidate.length > 6) assert.ok(!outcome.message.includes(candidate.slice(6)), outcome.message);
    }
    assert.equal(refusal(() => verify(body, signed(secret), [], { now })).reason, 'invalid_secret');
    assert.match(refusal(() => verify(body, signed(secret), [secret, 'whsec_!'], { now })).message, /Secret 2 of 2/);
  });

  it('checks the timestamp before the signature, as the reference libraries do', () => {
    assert.equal(refusal(() => verify(body, signed(stranger, 'msg_o', nowSeconds - 1000), secret, { now })).reason, 'timestamp_too_old');
  });

  it('compares HMAC signatures as text, so a differently padded or shortened one does not match', () => {
    const expected = createHmac('sha256', Buffer.alloc(24, 7)).update(`msg_p.${nowSeconds}.${body}`).digest('base64');
    const headers = (value: string) => ({ 'webhook-id': 'msg_p', 'webhook-timestamp': String(nowSeconds), 'webhook-signature': `v1,${value}` });
    assert.deepEqual(verify(body, headers(expected), secret, { now }), JSON.parse(body));
    for (const variant of [expected.replace(/=$/, ''), expected.slice(0, 20), `${expected}AA`]) {
      assert.equal(refusal(() => verify(body, headers(variant), secret, { now })).reason, 'no_matching_signature');
    }
  });
});
