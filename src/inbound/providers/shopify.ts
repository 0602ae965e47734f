import { type HmacScheme, hmacOf, utf8, verifyHmac } from '../hmac-scheme.ts';
import type { Provider } from '../request.ts';
import { contentTypeOf, secretOf } from '../sign.ts';

/** The Admin API version a signed test request names, as Shopify's own library expects one. */
export const SHOPIFY_API_VERSION = '2026-01';

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
  verify: (request, config) => verifyHmac(scheme, request, config),
  eventId: (r) => r.headers['x-shopify-webhook-id'] ?? r.headers['x-shopify-event-id'],
  eventType: (r) => r.headers['x-shopify-topic']?.replace('/', '.'),
  sign({ body, timestamp, id, event }, config) {
    return {
      headers: {
        'Content-Type': contentTypeOf(body),
        'X-Shopify-Topic': event ?? 'orders/create',
        'X-Shopify-Hmac-Sha256': hmacOf(scheme.algorithm, scheme.key(secretOf(config, 'Shopify')), body, scheme.encoding),
        'X-Shopify-Shop-Domain': 'herald-test.myshopify.com',
        'X-Shopify-API-Version': SHOPIFY_API_VERSION,
        'X-Shopify-Webhook-Id': id,
        'X-Shopify-Event-Id': id,
        'X-Shopify-Triggered-At': new Date(timestamp * 1000).toISOString(),
      },
    };
  },
};
