import { missingHeader, sameString } from '../hmac-scheme.ts';
import { fail, pass, type Provider } from '../request.ts';
import { contentTypeOf, secretOf } from '../sign.ts';

/** GitLab sends its secret token as it is in `X-Gitlab-Token`; Herald compares it in constant time. */
export const gitlab: Provider = {
  verify(request, config) {
    if (typeof config.secret !== 'string' || config.secret === '') return fail('The source has no GitLab secret token configured.');
    const token = request.headers['x-gitlab-token'];
    if (token === undefined) return missingHeader(request, 'X-Gitlab-Token', 'GitLab');
    return sameString(token, config.secret) ? pass : fail('The X-Gitlab-Token header does not match the source\'s secret token.');
  },
  eventId: (r) => r.headers['idempotency-key'] ?? r.headers['x-gitlab-event-uuid'],
  eventType: (r) => r.headers['x-gitlab-event']?.toLowerCase().replace(/ hook$/, '').replaceAll(' ', '_'),
  // GitLab names events in its header as `Push Hook`, `Merge Request Hook`: the event, title-cased.
  sign: ({ body, id, event }, config) => ({
    headers: {
      'Content-Type': contentTypeOf(body),
      'X-Gitlab-Event': / Hook$/.test(event ?? '') ? event! : `${(event ?? 'push').split(/[_ ]+/).map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join(' ')} Hook`,
      'X-Gitlab-Token': secretOf(config, 'GitLab'),
      'X-Gitlab-Event-UUID': id,
      'X-Gitlab-Webhook-UUID': id,
      'Idempotency-Key': id,
    },
  }),
};
