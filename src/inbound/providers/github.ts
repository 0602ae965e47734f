import { type HmacScheme, utf8, verifyHmac } from '../hmac-scheme.ts';
import { type Provider, stringAt } from '../request.ts';

/** `X-Hub-Signature-256: sha256=<hex>` of the body. GitHub signs no timestamp. */
const scheme: HmacScheme = {
  provider: 'GitHub',
  header: 'X-Hub-Signature-256',
  algorithm: 'sha256',
  encoding: 'hex',
  signatures: (r) => {
    const header = r.headers['x-hub-signature-256'];
    return header?.startsWith('sha256=') ? [header.slice(7)] : null;
  },
  content: (_r, body) => body,
  key: utf8,
};

export const github: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config.secret),
  eventId: (r) => r.headers['x-github-delivery'],
  eventType: (r) => [r.headers['x-github-event'], stringAt(r.json, 'action')].filter(Boolean).join('.'),
};
