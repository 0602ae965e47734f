import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { missingHeader } from '../hmac-scheme.ts';
import { fail, pass, type Provider, stringAt } from '../request.ts';

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
};

/** The interaction's type, a small integer in what Discord sends; null for anything else. */
function interactionType(json: unknown): number | null {
  const type = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as { type?: unknown }).type : undefined;
  return Number.isSafeInteger(type) ? (type as number) : null;
}
