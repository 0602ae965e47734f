import { type HmacScheme, hmacOf, seconds, utf8, valuesOf, verifyHmac } from '../hmac-scheme.ts';
import { type Provider, stringAt } from '../request.ts';
import { contentTypeOf, secretOf } from '../sign.ts';

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
  verify: (request, config) => verifyHmac(scheme, request, config),
  eventId: (r) => stringAt(r.json, 'event_id'),
  eventType: (r) => stringAt(r.json, 'event_type'),
  sign({ body, timestamp }, config) {
    const h1 = hmacOf(scheme.algorithm, scheme.key(secretOf(config, 'Paddle')), Buffer.concat([Buffer.from(`${timestamp}:`), body]), scheme.encoding);
    return { headers: { 'Content-Type': contentTypeOf(body), 'Paddle-Signature': `ts=${timestamp};h1=${h1}` } };
  },
};
