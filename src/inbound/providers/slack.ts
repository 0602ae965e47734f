import { v0Scheme, verifyHmac } from '../hmac-scheme.ts';
import type { Provider } from '../request.ts';

const scheme = v0Scheme('Slack', 'X-Slack-Signature', 'X-Slack-Request-Timestamp');

type SlackBody = { type?: string; challenge?: string; event_id?: string; event?: { type?: string } } | null;

export const slack: Provider = {
  verify: (request, config) => verifyHmac(scheme, request, config.secret),
  eventId: (r) => (r.json as SlackBody)?.event_id,
  eventType: (r) => (r.json as SlackBody)?.event?.type ?? (r.json as SlackBody)?.type,
  // Slack checks a new events URL by sending a challenge it expects back.
  handshake: (r) => ((r.json as SlackBody)?.type === 'url_verification' ? { status: 200, body: { challenge: (r.json as SlackBody)!.challenge } } : null),
};
