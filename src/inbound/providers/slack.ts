import { signV0, v0Scheme, verifyHmac } from '../hmac-scheme.ts';
import { type Provider, stringAt } from '../request.ts';
import { contentTypeOf, secretOf } from '../sign.ts';

const scheme = v0Scheme('Slack', 'X-Slack-Signature', 'X-Slack-Request-Timestamp');

export const slack: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config),
  eventId: (r) => stringAt(r.json, 'event_id'),
  eventType: (r) => stringAt(r.json, 'event', 'type') ?? stringAt(r.json, 'type'),
  // Slack checks a new events URL by sending a challenge it expects back: always a string.
  handshake: (r) => {
    const challenge = stringAt(r.json, 'challenge');
    return stringAt(r.json, 'type') === 'url_verification' && challenge !== null ? { status: 200, body: { challenge } } : null;
  },
  sign: ({ body, timestamp }, config) => ({
    headers: { 'Content-Type': contentTypeOf(body), ...signV0('X-Slack-Signature', 'X-Slack-Request-Timestamp', secretOf(config, 'Slack'), timestamp, body) },
  }),
};
