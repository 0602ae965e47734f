import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** A JSON body's bytes as they arrived, for what is kept byte for byte (a message's payload). */
    rawBody: Buffer | null;
  }
}

/**
 * How the API reads bodies. JSON is parsed from the bytes, which stay on the request, so a
 * message's payload is stored as it was published rather than written again from the parse. An
 * empty body is no body, whatever its content-type says (what curl sends with a shared header
 * list): routes that take none answer it as usual, and `emptyBodyAsObject` makes it `{}` for
 * routes whose body has no required field. Any other content-type is refused with 415 as soon as
 * a byte of it arrives.
 */
export function registerBodyParsers(app: FastifyInstance, bodyLimit: number): void {
  app.decorateRequest('rawBody', null);
  // Fastify refuses a content-type it cannot parse as a media type ('json', 'text', a list) with
  // 415 before any parser runs, even on a request without a body; such a request has nothing to
  // type. API routes only: received requests and bin captures keep their headers as they came.
  app.addHook('onRequest', (request, _reply, done) => {
    const headers = request.headers;
    if (headers['content-type'] !== undefined && headers['transfer-encoding'] === undefined && (headers['content-length'] ?? '0') === '0'
      && /^\/(ingest\/)?api\//.test(request.routeOptions.url ?? '')) {
      delete headers['content-type'];
    }
    done();
  });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) {
      done(null, undefined);
      return;
    }
    // JSON is UTF-8 (RFC 8259); decoding anything else would replace bytes the payload must keep.
    if (!isUtf8(bytes)) {
      done(new HttpError(400, 'invalid_json', 'The body is not valid UTF-8, as JSON must be.'), undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8', hasBom(bytes) ? 3 : 0));
    } catch (error) {
      done(new HttpError(400, 'invalid_json', `The body is not valid JSON: ${(error as Error).message}`), undefined);
      return;
    }
    request.rawBody = bytes;
    done(null, parsed);
  });
  app.addContentTypeParser('*', (request, payload, done) => {
    let settled = false;
    const settle = (error: Error | null) => {
      if (settled) return;
      settled = true;
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', settle);
      done(error, undefined);
    };
    const onData = () => settle(new HttpError(415, 'unsupported_media_type',
      `Herald does not read bodies of content-type ${request.headers['content-type'] ?? '(none)'}. Send JSON with content-type: application/json.`));
    const onEnd = () => settle(null);
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', settle);
  });
}

/**
 * An empty body (none, or empty text) on a route whose body schema requires no field reads as
 * `{}`, as the SDKs send it; on a route that needs a body it stays absent, which validation
 * answers with a 422 at `body`.
 */
export function emptyBodyAsObject(request: FastifyRequest): void {
  if (request.body !== undefined && request.body !== '') return;
  const schema = request.routeOptions.schema?.body as { type?: string; required?: string[] } | undefined;
  request.body = schema?.type === 'object' && !schema.required?.length ? {} : undefined;
}

function hasBom(bytes: Buffer): boolean {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}
