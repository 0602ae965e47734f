import { type HmacScheme, seconds, utf8, verifyHmac, whsecDecoded } from '../hmac-scheme.ts';
import { type InboundRequest, type Provider, stringAt } from '../request.ts';

/** Standard Webhooks (Svix, Clerk, …): `webhook-*` or `svix-*` headers, HMAC-SHA256 keyed by the decoded `whsec_` secret. */
const header = (r: InboundRequest, name: string) => r.headers[`webhook-${name}`] ?? r.headers[`svix-${name}`];

const scheme: HmacScheme = {
  provider: 'Standard Webhooks',
  header: 'webhook-signature',
  algorithm: 'sha256',
  encoding: 'base64',
  signatures: (r) => header(r, 'signature')?.split(' ').filter((s) => s.startsWith('v1,')).map((s) => s.slice(3)) ?? null,
  content: (r, body) => Buffer.concat([Buffer.from(`${header(r, 'id') ?? ''}.${header(r, 'timestamp') ?? ''}.`), body]),
  key: whsecDecoded,
  otherKey: (secret) => ({ key: utf8(secret), how: 'used as it is' }),
  timestamp: (r) => seconds(header(r, 'timestamp')),
  tolerance: { past: 300, future: 300 },
};

export const standardWebhooks: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config.secret),
  eventId: (r) => header(r, 'id'),
  eventType: (r) => stringAt(r.json, 'type') ?? stringAt(r.json, 'eventType'),
};
