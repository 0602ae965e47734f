import { secretKey, sign } from '../core/signing.ts';
import type { ClaimedDelivery } from '../store/store.ts';
import { VERSION } from '../version.ts';

export const USER_AGENT = `Herald/${VERSION}`;

/**
 * The headers Herald sets on every delivery. An endpoint's custom headers may not use these
 * names (the API refuses them), and they are applied last so nothing can override them.
 */
export const RESERVED_HEADERS = new Set([
  'webhook-id', 'webhook-timestamp', 'webhook-signature',
  'svix-id', 'svix-timestamp', 'svix-signature',
  'content-type', 'content-length', 'host', 'user-agent', 'connection', 'transfer-encoding',
]);

/**
 * Signs at send time (design invariant 4): the timestamp is this attempt's, so a retry or a
 * replay days later still verifies within the receiver's tolerance.
 */
export function deliveryHeaders(delivery: ClaimedDelivery, nowMs: number): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  const keys = delivery.endpoint.secrets
    .filter((secret) => secret.expiresAt === null || secret.expiresAt > nowMs)
    .map((secret) => secretKey(secret.key));
  const signature = sign(keys, delivery.message.id, timestamp, delivery.message.payload);
  return {
    ...delivery.endpoint.headers,
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'webhook-id': delivery.message.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature,
    'svix-id': delivery.message.id,
    'svix-timestamp': String(timestamp),
    'svix-signature': signature,
  };
}
