import { type HmacScheme, hmacOf, seconds, utf8, verifyHmac, whsecDecoded } from '../hmac-scheme.ts';
import { type InboundRequest, type Provider, stringAt } from '../request.ts';
import { contentTypeOf, type SignInput, type Signed, secretOf } from '../sign.ts';

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

const verifier: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config),
  eventId: (r) => header(r, 'id'),
  eventType: (r) => stringAt(r.json, 'type') ?? stringAt(r.json, 'eventType'),
};

/** Signs under the `webhook-` names the specification gives, or the `svix-` names Svix (and Clerk) send. */
function signer(prefix: 'webhook' | 'svix') {
  return ({ body, timestamp, id }: SignInput, config: Record<string, unknown>): Signed => {
    const msgId = `msg_${id.replaceAll('-', '')}`;
    const content = Buffer.concat([Buffer.from(`${msgId}.${timestamp}.`), body]);
    const signature = hmacOf(scheme.algorithm, scheme.key(secretOf(config, 'Standard Webhooks')), content, scheme.encoding);
    return { headers: { 'Content-Type': contentTypeOf(body), [`${prefix}-id`]: msgId, [`${prefix}-timestamp`]: String(timestamp), [`${prefix}-signature`]: `v1,${signature}` } };
  };
}

export const standardWebhooks: Provider = { ...verifier, sign: signer('webhook') };
/** The same scheme; only the names of the headers it signs with differ. */
export const svix: Provider = { ...verifier, sign: signer('svix') };
