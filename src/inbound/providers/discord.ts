import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { missingHeader } from '../hmac-scheme.ts';
import { fail, pass, type Provider, stringAt } from '../request.ts';
import { contentTypeOf, SigningError } from '../sign.ts';

const keys = new Map<string, KeyObject>();

/** The application's public key, imported once rather than on every request. */
function keyOf(publicKey: string): KeyObject {
  let key = keys.get(publicKey);
  if (!key) {
    if (keys.size >= 10_000) keys.clear();
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey, 'hex').toString('base64url') }, format: 'jwk' });
    keys.set(publicKey, key);
  }
  return key;
}

/** Discord signs `${X-Signature-Timestamp}${body}` with ed25519; the source holds the app's public key (hex). */
export const discord: Provider = {
  verify(request, config) {
    const publicKey = config.publicKey;
    if (typeof publicKey !== 'string' || !/^[0-9a-f]{64}$/i.test(publicKey)) return fail('The source has no Discord public key (64 hex characters) configured.');
    const signature = request.headers['x-signature-ed25519'];
    const timestamp = request.headers['x-signature-timestamp'];
    if (!signature || !timestamp) return missingHeader(request, 'X-Signature-Ed25519', 'Discord');
    const ok = /^[0-9a-f]{128}$/i.test(signature) && verify(null, Buffer.concat([Buffer.from(timestamp), request.body]), keyOf(publicKey), Buffer.from(signature, 'hex'));
    return ok ? pass : fail('The X-Signature-Ed25519 signature does not match the public key: the key belongs to another application, or the body was altered.');
  },
  eventId: (r) => stringAt(r.json, 'id'),
  eventType: (r) => {
    const type = interactionType(r.json);
    return type === null ? null : `discord.${type}`;
  },
  // Discord checks an interactions URL with a PING (type 1) and expects a PONG.
  handshake: (r) => (interactionType(r.json) === 1 ? { status: 200, body: { type: 1 } } : null),
  // Only Discord holds its applications' private keys: a test signs with its own pair, and the
  // source under test is configured with that pair's public key.
  sign({ body, timestamp }, config) {
    const signature = sign(null, Buffer.concat([Buffer.from(String(timestamp)), body]), privateKeyOf(config.privateKey));
    return { headers: { 'Content-Type': contentTypeOf(body), 'X-Signature-Ed25519': signature.toString('hex'), 'X-Signature-Timestamp': String(timestamp) } };
  },
};

/** A fresh ed25519 pair, both halves hex: the public key in Discord's form, the private key as its 32-byte seed. */
export function discordKeyPair(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return { publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex'), privateKey: Buffer.from(jwk.d!, 'base64url').toString('hex') };
}

// An ed25519 private key in PKCS #8 is this prefix followed by the 32-byte seed.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The private key from its 64-hex-character seed, or from a PEM. */
function privateKeyOf(given: unknown): KeyObject {
  if (typeof given !== 'string' || given === '') throw new SigningError('Discord signs with an ed25519 private key: none was given.');
  try {
    if (/^[0-9a-f]{64}$/i.test(given.trim())) return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, Buffer.from(given.trim(), 'hex')]), format: 'der', type: 'pkcs8' });
    const key = createPrivateKey(given);
    if (key.asymmetricKeyType === 'ed25519') return key;
  } catch {}
  throw new SigningError('The Discord private key must be an ed25519 key: 64 hex characters (its seed, as `herald sign discord --generate-key` prints it) or a PEM.');
}

/** The interaction's type, a small integer in what Discord sends; null for anything else. */
function interactionType(json: unknown): number | null {
  const type = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as { type?: unknown }).type : undefined;
  return Number.isSafeInteger(type) ? (type as number) : null;
}
