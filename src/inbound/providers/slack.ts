import { type HmacScheme, seconds, utf8, verifyHmac } from '../hmac-scheme.ts';
import type { Provider } from '../request.ts';

/** `X-Slack-Signature: v0=<hex>` of `v0:${X-Slack-Request-Timestamp}:${body}`. */
const scheme: HmacScheme = {
  provider: 'Slack',
  header: 'X-Slack-Signature',
  algorithm: 'sha256',
  encoding: 'hex',
  signatures: (r) => (r.headers['x-slack-signature']?.startsWith('v0=') ? [r.headers['x-slack-signature'].slice(3)] : null),
  content: (r, body) => Buffer.concat([Buffer.from(`v0:${r.headers['x-slack-request-timestamp'] ?? ''}:`), body]),
  key: utf8,
  timestamp: (r) => seconds(r.headers['x-slack-request-timestamp']),
  tolerance: { past: 300, future: 300 },
};

type SlackBody = { type?: string; challenge?: string; event_id?: string; event?: { type?: string } } | null;

export const slack: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config.secret),
  eventId: (_r, json) => (json as SlackBody)?.event_id,
  eventType: (_r, json) => (json as SlackBody)?.event?.type ?? (json as SlackBody)?.type,
  // Slack checks a new events URL by sending a challenge it expects back.
  handshake: (_r, json) => ((json as SlackBody)?.type === 'url_verification' ? { status: 200, body: { challenge: (json as SlackBody)!.challenge } } : null),
};
