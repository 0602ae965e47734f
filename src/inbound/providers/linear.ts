import { type HmacScheme, utf8, verifyHmac } from '../hmac-scheme.ts';
import { type InboundRequest, type Provider, stringAt } from '../request.ts';

/** `Linear-Signature: <hex>` of the body; the signed `webhookTimestamp` (ms) in the body must be within a minute. */
function bodyTimestamp(request: InboundRequest): number | null {
  const ms = (request.json as { webhookTimestamp?: unknown } | null)?.webhookTimestamp;
  return typeof ms === 'number' ? Math.floor(ms / 1000) : null;
}

const scheme: HmacScheme = {
  provider: 'Linear',
  header: 'Linear-Signature',
  algorithm: 'sha256',
  encoding: 'hex',
  signatures: (r) => (r.headers['linear-signature'] ? [r.headers['linear-signature']] : null),
  content: (_r, body) => body,
  key: utf8,
  timestamp: bodyTimestamp,
  tolerance: { past: 60, future: 60 },
};

export const linear: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config.secret),
  eventId: (r) => r.headers['linear-delivery'],
  eventType: (r) => [stringAt(r.json, 'type'), stringAt(r.json, 'action')].filter(Boolean).join('.'),
};
