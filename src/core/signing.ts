import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import type { Random } from './clock.ts';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com), byte for byte:
 * the signed content is `${id}.${timestamp}.${body}`, HMAC-SHA256 keyed with the base64-decoded
 * part of a `whsec_` secret, sent as `v1,<base64>`; several signatures are space-separated.
 * The server signs with it and the receiver library verifies with it, so the two cannot drift.
 */

export const SECRET_PREFIX = 'whsec_';
const GENERATED_SECRET_BYTES = 24;
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
/** The tolerance the reference libraries use for `webhook-timestamp`. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export function generateSecret(random: Random): string {
  return SECRET_PREFIX + Buffer.from(random.bytes(GENERATED_SECRET_BYTES)).toString('base64');
}

/**
 * Normalises a user-supplied secret to its `whsec_` form, or returns null when it is not
 * base64 of 24–64 bytes (Svix accepts the prefix as optional).
 */
export function normaliseSecret(secret: string): string | null {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
  const length = Buffer.from(encoded, 'base64').length;
  if (length < MIN_SECRET_BYTES || length > MAX_SECRET_BYTES) return null;
  return SECRET_PREFIX + encoded;
}

const keys = new Map<string, KeyObject>();
const KEY_CACHE_LIMIT = 10_000;

/**
 * The HMAC key of a `whsec_` secret. Keys are kept as KeyObjects, made once per secret: HMAC with
 * a KeyObject costs a fifth of HMAC with raw bytes, which node:crypto imports afresh every time.
 */
export function secretKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= KEY_CACHE_LIMIT) keys.clear();
    const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
    key = createSecretKey(Buffer.from(encoded, 'base64'));
    keys.set(secret, key);
  }
  return key;
}

/** One `v1,<base64>` signature per key, space-separated, as `webhook-signature` carries them. */
export function sign(
  keys: readonly KeyObject[],
  msgId: string,
  timestampSeconds: number,
  body: Uint8Array | string,
): string {
  const prefix = `${msgId}.${timestampSeconds}.`;
  return keys
    .map((key) => `v1,${createHmac('sha256', key).update(prefix).update(body).digest('base64')}`)
    .join(' ');
}

export type VerifyFailure =
  | 'missing_headers'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature';

export interface VerifyInput {
  secret: string;
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  body: Uint8Array | string;
  nowSeconds: number;
  toleranceSeconds?: number;
}

/** Checks a Standard Webhooks request; returns null when it is authentic, or why it is not. */
export function verify(input: VerifyInput): VerifyFailure | null {
  const { id, timestamp, signature } = input;
  if (!id || !timestamp || !signature) return 'missing_headers';
  if (!/^\d+$/.test(timestamp)) return 'invalid_timestamp';
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const skew = input.nowSeconds - Number(timestamp);
  if (skew > tolerance) return 'timestamp_too_old';
  if (skew < -tolerance) return 'timestamp_too_new';
  const expected = Buffer.from(sign([secretKey(input.secret)], id, Number(timestamp), input.body).slice(3));
  for (const candidate of signature.split(' ')) {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || value === undefined) continue;
    const actual = Buffer.from(value);
    if (actual.length === expected.length && timingSafeEqual(actual, expected)) return null;
  }
  return 'no_matching_signature';
}
