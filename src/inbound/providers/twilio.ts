import { createHash } from 'node:crypto';
import { type HmacScheme, utf8, verifyHmac } from '../hmac-scheme.ts';
import { fail, type InboundRequest, type Provider } from '../request.ts';

/**
 * `X-Twilio-Signature`: base64 HMAC-SHA1 of the URL Twilio called followed, for a form post, by
 * every parameter's name and value in name order. A JSON body is covered instead by a
 * `bodySHA256` query parameter, which must match the body.
 */
function signedContent(request: InboundRequest, body: Buffer): Buffer | null {
  if (isForm(request)) {
    const params = [...new URLSearchParams(body.toString('utf8'))];
    params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Buffer.from(request.url + params.map(([name, value]) => name + value).join(''));
  }
  return Buffer.from(request.url);
}

const isForm = (request: InboundRequest) => (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');

const scheme: HmacScheme = {
  provider: 'Twilio',
  header: 'X-Twilio-Signature',
  algorithm: 'sha1',
  encoding: 'base64',
  signatures: (r) => (r.headers['x-twilio-signature'] ? [r.headers['x-twilio-signature']] : null),
  content: signedContent,
  key: utf8,
};

export const twilio: Provider = {
  verify(request, config) {
    const verified = verifyHmac(scheme, request, config.secret);
    if (!verified.ok || isForm(request)) return verified;
    const declared = new URL(request.url).searchParams.get('bodySHA256');
    if (declared && declared === createHash('sha256').update(request.body).digest('hex')) return verified;
    return fail('The bodySHA256 query parameter does not match the body: the body was changed after Twilio signed it.');
  },
  eventId: (r) => r.headers['i-twilio-idempotency-token'],
  eventType: () => 'twilio.webhook',
};
