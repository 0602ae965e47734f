import { createHmac, createPrivateKey, createPublicKey, createSecretKey, type KeyObject, sign as edSign, timingSafeEqual, verify as edVerify } from 'node:crypto';
import type { Random } from './clock.ts';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com), byte for byte: the signed content
 * is `${id}.${timestamp}.${body}`, signed either
 * - with HMAC-SHA256 keyed by the base64-decoded part of a `whsec_` secret, sent as `v1,<base64>`, or
 * - with ed25519 by a `whsk_` secret key (base64 of the 32-byte seed then the 32-byte public key),
 *   sent as `v1a,<base64>`, which receivers check with the `whpk_` public key alone.
 * Several signatures are space-separated. The receiver library (`src/receiver/`) verifies on its
 * own, since it may import nothing of the server; its tests verify what this module signs, so the
 * two cannot drift.
 */

export const SECRET_PREFIX = 'whsec_';
export const SIGNING_KEY_PREFIX = 'whsk_';
export const PUBLIC_KEY_PREFIX = 'whpk_';
const GENERATED_SECRET_BYTES = 24;
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
/** The tolerance the reference libraries use for `webhook-timestamp`. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;
// PKCS#8 wrapping of a raw 32-byte ed25519 seed, so node:crypto can import a seed we generated.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export type SecretKind = 'hmac' | 'ed25519';

export function generateSecret(random: Random, kind: SecretKind = 'hmac'): string {
  if (kind === 'hmac') return SECRET_PREFIX + Buffer.from(random.bytes(GENERATED_SECRET_BYTES)).toString('base64');
  const seed = Buffer.from(random.bytes(32));
  return SIGNING_KEY_PREFIX + Buffer.concat([seed, rawPublicKey(seedToPrivateKey(seed))]).toString('base64');
}

/**
 * Normalises a user-supplied secret: a `whsec_` secret (the prefix is optional, as in Svix) of
 * 24–64 bytes, or a `whsk_` ed25519 key whose public half matches its seed. Null when it is neither.
 */
export function normaliseSecret(secret: string): string | null {
  if (secret.startsWith(SIGNING_KEY_PREFIX)) {
    const bytes = decode(secret.slice(SIGNING_KEY_PREFIX.length));
    if (bytes?.length !== 64) return null;
    return rawPublicKey(seedToPrivateKey(bytes.subarray(0, 32))).equals(bytes.subarray(32)) ? secret : null;
  }
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const bytes = decode(encoded);
  if (!bytes || bytes.length < MIN_SECRET_BYTES || bytes.length > MAX_SECRET_BYTES) return null;
  return SECRET_PREFIX + encoded;
}

/** The `whpk_` public key of a `whsk_` secret, which can be handed out; null for an HMAC secret. */
export function publicKeyOf(secret: string): string | null {
  if (!secret.startsWith(SIGNING_KEY_PREFIX)) return null;
  return PUBLIC_KEY_PREFIX + Buffer.from(secret.slice(SIGNING_KEY_PREFIX.length), 'base64').subarray(32).toString('base64');
}

export interface SigningKey {
  kind: SecretKind;
  key: KeyObject;
}

const keys = new Map<string, SigningKey>();
const KEY_CACHE_LIMIT = 10_000;

/**
 * The key a secret signs with, made once per secret and kept: HMAC with a KeyObject costs a fifth
 * of HMAC with raw bytes, which node:crypto would import afresh on every call.
 */
export function secretKey(secret: string): SigningKey {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= KEY_CACHE_LIMIT) keys.clear();
    key = secret.startsWith(SIGNING_KEY_PREFIX)
      ? { kind: 'ed25519', key: seedToPrivateKey(Buffer.from(secret.slice(SIGNING_KEY_PREFIX.length), 'base64').subarray(0, 32)) }
      : { kind: 'hmac', key: createSecretKey(hmacSecretBytes(secret)) };
    keys.set(secret, key);
  }
  return key;
}

/** The HMAC key a `whsec_` secret stands for: its base64 part, decoded (the prefix is optional). */
export function hmacSecretBytes(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}

/** One signature per key, space-separated, as `webhook-signature` carries them. */
export function sign(
  keys: readonly SigningKey[],
  msgId: string,
  timestampSeconds: number,
  body: Uint8Array | string,
): string {
  const prefix = `${msgId}.${timestampSeconds}.`;
  let content: Buffer | null = null;
  return keys
    .map(({ kind, key }) => {
      if (kind === 'hmac') return `v1,${createHmac('sha256', key).update(prefix).update(body).digest('base64')}`;
      content ??= Buffer.concat([Buffer.from(prefix), Buffer.from(body)]);
      return `v1a,${edSign(null, content, key).toString('base64')}`;
    })
    .join(' ');
}

function seedToPrivateKey(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function rawPublicKey(privateKey: KeyObject): Buffer {
  return Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url');
}

function decode(encoded: string): Buffer | null {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64') : null;
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

/**
 * Checks a Standard Webhooks request against a `whsec_` secret (v1 signatures) or a `whpk_`
 * public key (v1a); returns null when it is authentic, or why it is not.
 */
export function verify(input: VerifyInput): VerifyFailure | null {
  const { id, timestamp, signature } = input;
  if (!id || !timestamp || !signature) return 'missing_headers';
  if (!/^\d+$/.test(timestamp)) return 'invalid_timestamp';
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const skew = input.nowSeconds - Number(timestamp);
  if (skew > tolerance) return 'timestamp_too_old';
  if (skew < -tolerance) return 'timestamp_too_new';
  const candidates = signature.split(' ').map((candidate) => candidate.split(',', 2));
  if (input.secret.startsWith(PUBLIC_KEY_PREFIX)) {
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(input.secret.slice(PUBLIC_KEY_PREFIX.length), 'base64').toString('base64url') },
      format: 'jwk',
    });
    const content = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), Buffer.from(input.body)]);
    const ok = candidates.some(([version, value]) => version === 'v1a' && value !== undefined && edVerify(null, content, publicKey, Buffer.from(value, 'base64')));
    return ok ? null : 'no_matching_signature';
  }
  const expected = Buffer.from(sign([secretKey(input.secret)], id, Number(timestamp), input.body).slice(3));
  for (const [version, value] of candidates) {
    if (version !== 'v1' || value === undefined) continue;
    const actual = Buffer.from(value);
    if (actual.length === expected.length && timingSafeEqual(actual, expected)) return null;
  }
  return 'no_matching_signature';
}
