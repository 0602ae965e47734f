import { v0Scheme, verifyHmac } from '../hmac-scheme.ts';
import type { Provider } from '../request.ts';

const scheme = v0Scheme('Slack', 'X-Slack-Signature', 'X-Slack-Request-Timestamp');

type SlackBody = { type?: string; challenge?: string; event_id?: string; event?: { type?: string } } | null;

export const slack: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config.secret),
  eventId: (_r, json) => (json as SlackBody)?.event_id,
  eventType: (_r, json) => (json as SlackBody)?.event?.type ?? (json as SlackBody)?.type,
  // Slack checks a new events URL by sending a challenge it expects back.
  handshake: (_r, json) => ((json as SlackBody)?.type === 'url_verification' ? { status: 200, body: { challenge: (json as SlackBody)!.challenge } } : null),
};
