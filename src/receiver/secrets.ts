import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { WebhookVerificationError } from './errors.ts';

/**
 * A verification key: the HMAC key of a `whsec_` secret (checks `v1` signatures), or the ed25519
 * public key of a `whpk_` key (checks `v1a`). A `whsk_` signing key is taken for its public half.
 */
export type VerificationKey = { kind: 'hmac'; key: KeyObject } | { kind: 'ed25519'; key: KeyObject };

const HMAC_PREFIX = 'whsec_';
const PUBLIC_KEY_PREFIX = 'whpk_';
const SIGNING_KEY_PREFIX = 'whsk_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// PKCS#8 wrapping of a raw 32-byte ed25519 seed, so node:crypto can import it.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

const cache = new Map<string, VerificationKey>();
const CACHE_LIMIT = 1_000;

/**
 * The keys to try, parsed once per secret and kept: importing a key costs more than an HMAC of a
 * small body. Throws `invalid_secret` naming the faulty one's position, never its value.
 */
export function verificationKeys(secretOrSecrets: string | readonly string[]): VerificationKey[] {
  const secrets = typeof secretOrSecrets === 'string' ? [secretOrSecrets] : secretOrSecrets;
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new WebhookVerificationError('invalid_secret', 'No secret was given to verify with.');
  }
  return secrets.map((secret, index) => {
    const label = secrets.length === 1 ? 'The secret' : `Secret ${index + 1} of ${secrets.length}`;
    if (typeof secret !== 'string') throw new WebhookVerificationError('invalid_secret', `${label} is not a string.`);
    let key = cache.get(secret);
    if (!key) {
      key = parse(secret.trim(), label);
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(secret, key);
    }
    return key;
  });
}

function parse(secret: string, label: string): VerificationKey {
  if (secret.startsWith(PUBLIC_KEY_PREFIX)) {
    const bytes = decode(secret.slice(PUBLIC_KEY_PREFIX.length));
    if (bytes?.length !== 32) throw invalid(label, 'a whpk_ key must be base64 of a 32-byte ed25519 public key');
    return { kind: 'ed25519', key: publicKeyFromRaw(bytes) };
  }
  if (secret.startsWith(SIGNING_KEY_PREFIX)) {
    const bytes = decode(secret.slice(SIGNING_KEY_PREFIX.length));
    if (bytes?.length !== 64) throw invalid(label, 'a whsk_ key must be base64 of a 32-byte ed25519 seed then its public key');
    const derived = createPublicKey(createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, bytes.subarray(0, 32)]), format: 'der', type: 'pkcs8' }));
    const publicKey = publicKeyFromRaw(bytes.subarray(32));
    if (!derived.equals(publicKey)) throw invalid(label, "the whsk_ key's public half does not belong to its seed");
    return { kind: 'ed25519', key: publicKey };
  }
  // As in the Svix and Standard Webhooks libraries, the whsec_ prefix is optional.
  const bytes = decode(secret.startsWith(HMAC_PREFIX) ? secret.slice(HMAC_PREFIX.length) : secret);
  if (!bytes) throw invalid(label, 'expected whsec_ followed by base64, or a whpk_ public key');
  return { kind: 'hmac', key: createSecretKey(bytes) };
}

function publicKeyFromRaw(bytes: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(bytes).toString('base64url') }, format: 'jwk' });
}

function decode(encoded: string): Buffer | null {
  if (!BASE64.test(encoded)) return null;
  const bytes = Buffer.from(encoded, 'base64');
  return bytes.length > 0 ? bytes : null;
}

function invalid(label: string, why: string): WebhookVerificationError {
  return new WebhookVerificationError('invalid_secret', `${label} is not usable: ${why}.`);
}
