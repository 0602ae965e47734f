import { hmacOf, utf8, v0Scheme, verifyHmac } from '../hmac-scheme.ts';
import type { Provider } from '../request.ts';

/** Slack's `v0` scheme under Zoom's header names, keyed by the app's secret token. */
const scheme = v0Scheme('Zoom', 'x-zm-signature', 'x-zm-request-timestamp');

type ZoomBody = { event?: string; event_ts?: number; payload?: { plainToken?: string } } | null;

export const zoom: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config.secret),
  eventType: (r) => (r.json as ZoomBody)?.event,
  // Zoom checks an endpoint by asking for its plain token HMAC-ed with the secret token.
  handshake: (r, config) => {
    const body = r.json as ZoomBody;
    if (body?.event !== 'endpoint.url_validation' || typeof body.payload?.plainToken !== 'string') return null;
    const plainToken = body.payload.plainToken;
    return { status: 200, body: { plainToken, encryptedToken: hmacOf('sha256', utf8(String(config.secret)), Buffer.from(plainToken), 'hex') } };
  },
};
