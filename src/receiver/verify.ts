import { createHmac, timingSafeEqual, verify as ed25519Verify } from 'node:crypto';
import { WebhookVerificationError } from './errors.ts';
import { headerValue, type HeadersInput } from './headers.ts';
import { verificationKeys, type VerificationKey } from './secrets.ts';

/** The spec's tolerance for `webhook-timestamp`, both ways: five minutes. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/** The body exactly as it arrived. A string is taken as the UTF-8 text of those bytes. */
export type RawBody = string | Uint8Array | ArrayBuffer;

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from now, into the past or the future. Default 300. */
  toleranceSeconds?: number;
  /** The current time (a Date or milliseconds), for tests; default the system clock. */
  now?: Date | number;
}

/** A verified delivery. */
export interface VerifiedWebhook<T = unknown> {
  /** `webhook-id`: the message's id, the same on every retry; deduplicate on it. */
  id: string;
  /** `webhook-timestamp`: when this attempt was signed. */
  timestamp: Date;
  /** The body, parsed as JSON. */
  payload: T;
  /** The body's bytes, as they were signed. */
  rawBody: Uint8Array;
}

/**
 * Checks a Standard Webhooks request (as Herald and Svix send) and returns its parsed JSON body,
 * or throws `WebhookVerificationError` with the reason. `secretOrSecrets` is a `whsec_` secret
 * (checks `v1` HMAC-SHA256 signatures), a `whpk_` ed25519 public key (checks `v1a`), or several
 * of them during a rotation: any one valid signature by any one of them is enough.
 */
export function verify<T = unknown>(rawBody: RawBody, headers: HeadersInput, secretOrSecrets: string | readonly string[], options: VerifyOptions = {}): T {
  return verifyWebhook<T>(rawBody, headers, secretOrSecrets, options).payload;
}

/** As `verify`, but returns the delivery's id and timestamp beside the payload. */
export function verifyWebhook<T = unknown>(
  rawBody: RawBody,
  headers: HeadersInput,
  secretOrSecrets: string | readonly string[],
  options: VerifyOptions = {},
): VerifiedWebhook<T> {
  const keys = verificationKeys(secretOrSecrets);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (typeof tolerance !== 'number' || !(tolerance >= 0)) throw new TypeError('toleranceSeconds must be a number of seconds, 0 or more.');
  const nowMs = options.now === undefined ? Date.now() : typeof options.now === 'number' ? options.now : options.now.getTime();

  const { id, timestamp, signature, family } = standardHeaders(headers);
  if (!/^\d+$/.test(timestamp)) {
    throw new WebhookVerificationError('invalid_timestamp', `${family}-timestamp must be whole seconds since 1970, not ${JSON.stringify(timestamp.slice(0, 40))}.`);
  }
  const signedAt = Number(timestamp);
  const skew = Math.floor(nowMs / 1000) - signedAt;
  if (skew > tolerance) {
    throw new WebhookVerificationError('timestamp_too_old', `${family}-timestamp is ${skew} s in the past, beyond the ${tolerance} s tolerance: a replay, or a clock that is behind.`);
  }
  if (-skew > tolerance) {
    throw new WebhookVerificationError('timestamp_too_new', `${family}-timestamp is ${-skew} s in the future, beyond the ${tolerance} s tolerance: a clock that is ahead.`);
  }

  const body = bytesOf(rawBody);
  checkSignature(keys, parseSignatures(signature), `${id}.${timestamp}.`, body, family);
  return { id, timestamp: new Date(signedAt * 1000), payload: parseJson<T>(body), rawBody: body };
}

interface StandardHeaders {
  id: string;
  timestamp: string;
  signature: string;
  family: 'webhook' | 'svix';
}

/**
 * The three headers, all from one family: `webhook-*` (Standard Webhooks) or, when `webhook-id`
 * is absent, the `svix-*` names older Svix senders use. Herald sends both.
 */
function standardHeaders(headers: HeadersInput): StandardHeaders {
  if (headers === null || typeof headers !== 'object') throw new TypeError('headers must be an object or a Headers.');
  const family = headerValue(headers, 'webhook-id') === undefined && headerValue(headers, 'svix-id') !== undefined ? 'svix' : 'webhook';
  const id = headerValue(headers, `${family}-id`);
  const timestamp = headerValue(headers, `${family}-timestamp`);
  const signature = headerValue(headers, `${family}-signature`);
  const missing = [id === undefined && 'id', timestamp === undefined && 'timestamp', signature === undefined && 'signature']
    .filter((name) => name !== false)
    .map((name) => `${family}-${name}`);
  if (missing.length > 0) {
    throw new WebhookVerificationError('missing_header', `The request has no ${missing.join(', ')} header${missing.length > 1 ? 's' : ''}: it is not a Standard Webhooks delivery, or a proxy dropped ${missing.length > 1 ? 'them' : 'it'}.`);
  }
  return { id: id!, timestamp: timestamp!, signature: signature!, family };
}

interface Signature {
  version: string;
  value: string;
}

/**
 * `v1,<base64> v1a,<base64> …`. Entries are space-separated; a trailing comma is dropped, since
 * a header repeated on the wire reaches Node.js and Fetch joined by ", " (base64 has no comma).
 */
function parseSignatures(header: string): Signature[] {
  const signatures: Signature[] = [];
  for (let entry of header.split(/\s+/)) {
    entry = entry.replace(/,+$/, '');
    const comma = entry.indexOf(',');
    if (comma > 0) signatures.push({ version: entry.slice(0, comma), value: entry.slice(comma + 1) });
  }
  return signatures;
}

function checkSignature(keys: VerificationKey[], signatures: Signature[], prefix: string, body: Uint8Array, family: string): void {
  const hmacs = signatures.filter((s) => s.version === 'v1').map((s) => Buffer.from(s.value));
  const ed25519s = signatures.filter((s) => s.version === 'v1a').map((s) => Buffer.from(s.value, 'base64')).filter((s) => s.length === 64);
  let content: Buffer | null = null;
  for (const { kind, key } of keys) {
    if (kind === 'hmac') {
      if (hmacs.length === 0) continue;
      const expected = Buffer.from(createHmac('sha256', key).update(prefix).update(body).digest('base64'));
      // Compared as base64 text, as the reference libraries do, in constant time.
      if (hmacs.some((actual) => actual.length === expected.length && timingSafeEqual(actual, expected))) return;
    } else {
      if (ed25519s.length === 0) continue;
      content ??= Buffer.concat([Buffer.from(prefix), body]);
      if (ed25519s.some((actual) => ed25519Verify(null, content!, key, actual))) return;
    }
  }
  throw new WebhookVerificationError('no_matching_signature', whyNoMatch(keys, hmacs.length, ed25519s.length, signatures.length, family));
}

function whyNoMatch(keys: VerificationKey[], hmacs: number, ed25519s: number, all: number, family: string): string {
  const hasHmacKey = keys.some((k) => k.kind === 'hmac');
  const hasPublicKey = keys.some((k) => k.kind === 'ed25519');
  if (hmacs + ed25519s === 0) {
    return all === 0
      ? `${family}-signature holds no signature (expected "v1,<base64>" or "v1a,<base64>", space-separated).`
      : `${family}-signature holds no v1 or v1a signature that could be read.`;
  }
  if (hmacs === 0 && !hasPublicKey) return 'The request is signed with ed25519 (v1a) only, and no whpk_ public key was given: verify with the endpoint\'s public key.';
  if (ed25519s === 0 && !hasHmacKey) return 'The request is signed with HMAC (v1) only, and only whpk_ public keys were given: verify with the endpoint\'s whsec_ secret.';
  const keyCount = keys.length === 1 ? 'the secret' : `any of the ${keys.length} secrets`;
  return `No signature matches ${keyCount}: the secret is not this endpoint's, or the body was changed (re-serialised JSON, a different encoding) after it was signed.`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson<T>(body: Uint8Array): T {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new WebhookVerificationError('invalid_json', 'The body is authentic but not UTF-8, so not JSON.');
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new WebhookVerificationError('invalid_json', `The body is authentic but not JSON: ${(error as Error).message}`);
  }
}

function bytesOf(rawBody: RawBody): Uint8Array {
  if (typeof rawBody === 'string') return Buffer.from(rawBody, 'utf8');
  if (rawBody instanceof Uint8Array) return rawBody;
  if (rawBody instanceof ArrayBuffer) return new Uint8Array(rawBody);
  throw new TypeError('rawBody must be the raw body as a string, Buffer, Uint8Array or ArrayBuffer; a parsed object cannot be verified.');
}
