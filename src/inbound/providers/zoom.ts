import { createHmac } from 'node:crypto';
import { type HmacScheme, seconds, utf8, verifyHmac } from '../hmac-scheme.ts';
import type { Provider } from '../request.ts';

/** `x-zm-signature: v0=<hex>` of `v0:${x-zm-request-timestamp}:${body}`, keyed by the app's secret token. */
const scheme: HmacScheme = {
  provider: 'Zoom',
  header: 'x-zm-signature',
  algorithm: 'sha256',
  encoding: 'hex',
  signatures: (r) => (r.headers['x-zm-signature']?.startsWith('v0=') ? [r.headers['x-zm-signature'].slice(3)] : null),
  content: (r, body) => Buffer.concat([Buffer.from(`v0:${r.headers['x-zm-request-timestamp'] ?? ''}:`), body]),
  key: utf8,
  timestamp: (r) => seconds(r.headers['x-zm-request-timestamp']),
  tolerance: { past: 300, future: 300 },
};

type ZoomBody = { event?: string; event_ts?: number; payload?: { plainToken?: string } } | null;

export const zoom: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config.secret),
  eventType: (_r, json) => (json as ZoomBody)?.event,
  // Zoom checks an endpoint by asking for its plain token HMAC-ed with the secret token.
  handshake: (_r, json, config) => {
    const body = json as ZoomBody;
    if (body?.event !== 'endpoint.url_validation' || typeof body.payload?.plainToken !== 'string') return null;
    const plainToken = body.payload.plainToken;
    return { status: 200, body: { plainToken, encryptedToken: createHmac('sha256', String(config.secret)).update(plainToken).digest('hex') } };
  },
};
