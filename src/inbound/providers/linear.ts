import { type HmacScheme, hmacOf, utf8, verifyHmac } from '../hmac-scheme.ts';
import { type InboundRequest, parseJson, type Provider, stringAt } from '../request.ts';
import { contentTypeOf, secretOf } from '../sign.ts';

/** `Linear-Signature: <hex>` of the body; the signed `webhookTimestamp` (ms) in the body must be within a minute. */
function bodyTimestamp(request: InboundRequest): number | null {
  const ms = (request.json as { webhookTimestamp?: unknown } | null)?.webhookTimestamp;
  return typeof ms === 'number' ? Math.floor(ms / 1000) : null;
}

const scheme: HmacScheme = {
  provider: 'Linear',
  header: 'Linear-Signature',
  algorithm: 'sha256',
  encoding: 'hex',
  signatures: (r) => (r.headers['linear-signature'] ? [r.headers['linear-signature']] : null),
  content: (_r, body) => body,
  key: utf8,
  timestamp: bodyTimestamp,
  tolerance: { past: 60, future: 60 },
};

export const linear: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config),
  eventId: (r) => r.headers['linear-delivery'],
  eventType: (r) => [stringAt(r.json, 'type'), stringAt(r.json, 'action')].filter(Boolean).join('.'),
  sign({ body, timestamp, id, event }, config) {
    const json = parseJson(body);
    const signedAt = bodyTimestamp({ json } as InboundRequest);
    const notes = signedAt === null
      ? ['Linear signs the time in the body\'s webhookTimestamp (milliseconds), which this body lacks: Linear\'s verifiers refuse it.']
      : Math.abs(timestamp - signedAt) > scheme.tolerance!.past
        ? [`The body's webhookTimestamp is ${timestamp - signedAt} seconds from now; Linear allows ${scheme.tolerance!.past}.`]
        : [];
    return {
      headers: {
        'Content-Type': contentTypeOf(body),
        'Linear-Delivery': id,
        'Linear-Event': (event ?? stringAt(json, 'type') ?? 'Issue').split('.')[0]!,
        'Linear-Signature': hmacOf(scheme.algorithm, scheme.key(secretOf(config, 'Linear')), body, scheme.encoding),
      },
      ...(notes.length ? { notes } : {}),
    };
  },
};
