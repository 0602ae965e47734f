import { type HmacScheme, utf8, verifyHmac } from '../hmac-scheme.ts';
import type { Provider } from '../request.ts';

/** `X-Shopify-Hmac-Sha256: <base64>` of the body, keyed by the app's client secret. */
const scheme: HmacScheme = {
  provider: 'Shopify',
  header: 'X-Shopify-Hmac-Sha256',
  algorithm: 'sha256',
  encoding: 'base64',
  signatures: (r) => (r.headers['x-shopify-hmac-sha256'] ? [r.headers['x-shopify-hmac-sha256']] : null),
  content: (_r, body) => body,
  key: utf8,
};

export const shopify: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config.secret),
  eventId: (r) => r.headers['x-shopify-webhook-id'] ?? r.headers['x-shopify-event-id'],
  eventType: (r) => r.headers['x-shopify-topic']?.replace('/', '.'),
};
