import { type HmacScheme, pairs, seconds, utf8, verifyHmac } from '../hmac-scheme.ts';
import type { Provider } from '../request.ts';

/** `Paddle-Signature: ts=…;h1=…`: HMAC-SHA256 of `${ts}:${body}`, within five seconds. */
const scheme: HmacScheme = {
  provider: 'Paddle',
  header: 'Paddle-Signature',
  algorithm: 'sha256',
  encoding: 'hex',
  signatures: (r) => (r.headers['paddle-signature'] ? pairs(r.headers['paddle-signature'], ';').filter(([k]) => k === 'h1').map(([, v]) => v) : null),
  content: (r, body) => Buffer.concat([Buffer.from(`${pairs(r.headers['paddle-signature'], ';').find(([k]) => k === 'ts')?.[1] ?? ''}:`), body]),
  key: utf8,
  timestamp: (r) => seconds(pairs(r.headers['paddle-signature'], ';').find(([k]) => k === 'ts')?.[1]),
  tolerance: { past: 5, future: 5 },
};

export const paddle: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config.secret),
  eventId: (r) => (r.json as { event_id?: string } | null)?.event_id,
  eventType: (r) => (r.json as { event_type?: string } | null)?.event_type,
};
