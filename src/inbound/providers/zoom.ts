import { hmacOf, signV0, utf8, v0Scheme, verifyHmac } from '../hmac-scheme.ts';
import { type Provider, stringAt } from '../request.ts';
import { contentTypeOf, secretOf } from '../sign.ts';

/** Slack's `v0` scheme under Zoom's header names, keyed by the app's secret token. */
const scheme = v0Scheme('Zoom', 'x-zm-signature', 'x-zm-request-timestamp');

export const zoom: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config),
  eventType: (r) => stringAt(r.json, 'event'),
  // Zoom checks an endpoint by asking for its plain token HMAC-ed with the secret token.
  handshake: (r, config) => {
    const plainToken = stringAt(r.json, 'payload', 'plainToken');
    if (stringAt(r.json, 'event') !== 'endpoint.url_validation' || plainToken === null) return null;
    return { status: 200, body: { plainToken, encryptedToken: hmacOf('sha256', utf8(String(config.secret)), Buffer.from(plainToken), 'hex') } };
  },
  sign: ({ body, timestamp }, config) => ({
    headers: { 'content-type': contentTypeOf(body), ...signV0('x-zm-signature', 'x-zm-request-timestamp', secretOf(config, 'Zoom'), timestamp, body) },
  }),
};
