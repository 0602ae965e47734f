import { createHash } from 'node:crypto';
import { type HmacScheme, hmacOf, utf8, verifyHmac } from '../hmac-scheme.ts';
import { fail, type InboundRequest, type Provider } from '../request.ts';
import { contentTypeOf, secretOf, SigningError } from '../sign.ts';

/**
 * `X-Twilio-Signature`: base64 HMAC-SHA1 of the URL Twilio called followed, for a form post, by
 * every parameter's name and value in name order. A JSON body is covered instead by a
 * `bodySHA256` query parameter, which must match the body.
 */
function signedContent(request: InboundRequest, body: Buffer): Buffer | null {
  return Buffer.from(isForm(request) ? request.url + formParams(body) : request.url);
}

/** A form's parameters as Twilio signs them: each name and value, in name order. */
function formParams(body: Buffer): string {
  const params = [...new URLSearchParams(body.toString('utf8'))];
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return params.map(([name, value]) => name + value).join('');
}

function withQuery(url: string, name: string, value: string): string {
  try {
    const parsed = new URL(url);
    parsed.searchParams.set(name, value);
    return parsed.href;
  } catch {
    throw new SigningError(`Twilio signs the URL it calls, and ${JSON.stringify(url)} is not a URL.`);
  }
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
    const verified = verifyHmac(scheme, request, config);
    if (!verified.ok || isForm(request)) return verified;
    const declared = new URL(request.url).searchParams.get('bodySHA256');
    if (declared && declared === createHash('sha256').update(request.body).digest('hex')) return verified;
    return fail('The bodySHA256 query parameter does not match the body: the body was changed after Twilio signed it.');
  },
  eventId: (r) => r.headers['i-twilio-idempotency-token'],
  eventType: () => 'twilio.webhook',
  sign({ body, url, id }, config) {
    if (url === null) throw new SigningError('Twilio signs the URL it calls: give the URL.');
    const key = utf8(secretOf(config, 'Twilio'));
    const contentType = contentTypeOf(body);
    const form = contentType === 'application/x-www-form-urlencoded';
    // Anything but a form is covered by its hash in the URL, which is signed like any URL.
    const called = form ? url : withQuery(url, 'bodySHA256', createHash('sha256').update(body).digest('hex'));
    const content = Buffer.from(form ? url + formParams(body) : called);
    return {
      headers: { 'Content-Type': contentType, 'I-Twilio-Idempotency-Token': id, 'X-Twilio-Signature': hmacOf(scheme.algorithm, key, content, scheme.encoding) },
      ...(form ? {} : { url: called }),
    };
  },
};
