import { type HmacScheme, seconds, utf8, valuesOf, verifyHmac } from '../hmac-scheme.ts';
import { type Provider, stringAt } from '../request.ts';

/** `Paddle-Signature: ts=…;h1=…`: HMAC-SHA256 of `${ts}:${body}`, within five seconds. */
const scheme: HmacScheme = {
  provider: 'Paddle',
  header: 'Paddle-Signature',
  algorithm: 'sha256',
  encoding: 'hex',
  signatures: (r) => (r.headers['paddle-signature'] ? valuesOf(r.headers['paddle-signature'], 'h1', ';') : null),
  content: (r, body) => Buffer.concat([Buffer.from(`${valuesOf(r.headers['paddle-signature'], 'ts', ';')[0] ?? ''}:`), body]),
  key: utf8,
  timestamp: (r) => seconds(valuesOf(r.headers['paddle-signature'], 'ts', ';')[0]),
  tolerance: { past: 5, future: 5 },
};

export const paddle: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config.secret),
  eventId: (r) => stringAt(r.json, 'event_id'),
  eventType: (r) => stringAt(r.json, 'event_type'),
};
