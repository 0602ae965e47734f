import { type HmacScheme, hmacOf, utf8, verifyHmac } from '../hmac-scheme.ts';
import { type Provider, stringAt } from '../request.ts';
import { contentTypeOf, secretOf } from '../sign.ts';

/** `X-Hub-Signature-256: sha256=<hex>` of the body. GitHub signs no timestamp. */
const scheme: HmacScheme = {
  provider: 'GitHub',
  header: 'X-Hub-Signature-256',
  algorithm: 'sha256',
  encoding: 'hex',
  signatures: (r) => {
    const header = r.headers['x-hub-signature-256'];
    return header === undefined ? null : header.startsWith('sha256=') ? [header.slice(7)] : [];
  },
  content: (_r, body) => body,
  key: utf8,
};

export const github: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config),
  eventId: (r) => r.headers['x-github-delivery'],
  eventType: (r) => [r.headers['x-github-event'], stringAt(r.json, 'action')].filter(Boolean).join('.'),
  // GitHub still sends the SHA-1 signature beside the SHA-256 one, for receivers that never moved on.
  sign({ body, id, event }, config) {
    const key = utf8(secretOf(config, 'GitHub'));
    return {
      headers: {
        'Content-Type': contentTypeOf(body),
        'X-GitHub-Event': event ?? 'push',
        'X-GitHub-Delivery': id,
        'X-Hub-Signature': `sha1=${hmacOf('sha1', key, body, 'hex')}`,
        'X-Hub-Signature-256': `sha256=${hmacOf('sha256', key, body, 'hex')}`,
      },
    };
  },
};
