import { hmacOf, utf8, v0Scheme, verifyHmac } from '../hmac-scheme.ts';
import { type Provider, stringAt } from '../request.ts';

/** Slack's `v0` scheme under Zoom's header names, keyed by the app's secret token. */
const scheme = v0Scheme('Zoom', 'x-zm-signature', 'x-zm-request-timestamp');

export const zoom: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config.secret),
  eventType: (r) => stringAt(r.json, 'event'),
  // Zoom checks an endpoint by asking for its plain token HMAC-ed with the secret token.
  handshake: (r, config) => {
    const plainToken = stringAt(r.json, 'payload', 'plainToken');
    if (stringAt(r.json, 'event') !== 'endpoint.url_validation' || plainToken === null) return null;
    return { status: 200, body: { plainToken, encryptedToken: hmacOf('sha256', utf8(String(config.secret)), Buffer.from(plainToken), 'hex') } };
  },
};
