import { type HmacScheme, hmacOf, seconds, utf8, valuesOf, verifyHmac, whsecDecoded } from '../hmac-scheme.ts';
import { type Provider, stringAt } from '../request.ts';
import { contentTypeOf, secretOf } from '../sign.ts';

/** `Stripe-Signature: t=…,v1=…`: HMAC-SHA256 of `${t}.${body}`, keyed by the whole `whsec_` string. */
const scheme: HmacScheme = {
  provider: 'Stripe',
  header: 'Stripe-Signature',
  algorithm: 'sha256',
  encoding: 'hex',
  signatures: (r) => (r.headers['stripe-signature'] ? valuesOf(r.headers['stripe-signature'], 'v1') : null),
  content: (r, body) => Buffer.concat([Buffer.from(`${valuesOf(r.headers['stripe-signature'], 't')[0] ?? ''}.`), body]),
  key: utf8,
  otherKey: (secret) => ({ key: whsecDecoded(secret), how: 'base64-decoded' }),
  timestamp: (r) => seconds(valuesOf(r.headers['stripe-signature'], 't')[0]),
  // Stripe's own library checks only the age.
  tolerance: { past: 300, future: null },
};

export const stripe: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config),
  eventId: (r) => stringAt(r.json, 'id'),
  eventType: (r) => stringAt(r.json, 'type'),
  sign({ body, timestamp }, config) {
    const v1 = hmacOf(scheme.algorithm, scheme.key(secretOf(config, 'Stripe')), Buffer.concat([Buffer.from(`${timestamp}.`), body]), scheme.encoding);
    return { headers: { 'Content-Type': `${contentTypeOf(body)}; charset=utf-8`, 'Stripe-Signature': `t=${timestamp},v1=${v1}` } };
  },
};
