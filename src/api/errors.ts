import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '../store/errors.ts';

/** One item of a 422 answer, in Svix's `ValidationError` shape: where, what, which kind. */
export interface ValidationItem {
  loc: string[];
  msg: string;
  type: string;
}

/**
 * The API's one error type. Its body is Svix's `{code, detail}`; for 422 `detail` lists every
 * invalid field, which is also what the SDKs' `HTTPValidationError` expects.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly code: string;
  readonly detail: string | ValidationItem[];
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, detail: string | ValidationItem[], headers: Record<string, string> = {}) {
    super(typeof detail === 'string' ? detail : detail.map((item) => `${item.loc.join('.')}: ${item.msg}`).join('; '));
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.headers = headers;
  }
}

export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found.`);

export const invalid = (loc: string[], msg: string, type = 'value_error') => new HttpError(422, 'validation', [{ loc, msg, type }]);

/** Fastify's own errors, by code, as the HttpError the client sees. */
const FRAMEWORK_ERRORS: Record<string, (error: FastifyError) => HttpError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new HttpError(413, 'payload_too_large', 'The request body is larger than this server accepts.'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (error) => new HttpError(415, 'unsupported_media_type', `${error.message}. Send JSON with content-type: application/json.`),
  FST_ERR_CTP_INVALID_JSON_BODY: (error) => new HttpError(400, 'invalid_json', `The body is not valid JSON: ${error.message}`),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new HttpError(400, 'bad_request', 'The content-length header does not match the body.'),
};

/** Turns a store conflict from `work` into a 409 that says what collided. */
export async function orConflict<T>(work: Promise<T>, detail: string): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof StoreError && error.code === 'conflict') throw new HttpError(409, 'conflict', detail);
    throw error;
  }
}

export function toHttpError(error: FastifyError): HttpError | null {
  if (error instanceof HttpError) return error;
  if (error.validation) return new HttpError(422, 'validation', validationItems(error));
  if (error instanceof StoreError) {
    switch (error.code) {
      case 'conflict':
        return new HttpError(409, 'conflict', 'The item already exists.');
      case 'limit':
        return new HttpError(422, 'validation', [{ loc: ['body'], msg: error.message, type: 'value_error' }]);
      case 'missing':
        return new HttpError(404, 'not_found', 'What this request refers to was deleted while it ran.');
      case 'invalid':
        return new HttpError(400, 'invalid_value', 'The request holds a value the database cannot store or look up.');
      case 'unavailable':
        return new HttpError(503, 'unavailable', 'The database is unavailable; try again shortly.', { 'retry-after': '5' });
    }
    // The server's own fault (a secret it cannot open): a 500, saying what to look at.
    return new HttpError(500, 'secret_unavailable', 'A secret this needs was sealed under another encryption key than this process\'s HERALD_ENCRYPTION_KEY (every process must have the same one), or is damaged.');
  }
  const framework = error.code ? FRAMEWORK_ERRORS[error.code] : undefined;
  if (framework) return framework(error);
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return new HttpError(400, 'invalid_json', `The body is not valid JSON: ${error.message}`);
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new HttpError(error.statusCode, 'bad_request', error.message);
  }
  return null;
}

export function sendError(reply: FastifyReply, error: HttpError): FastifyReply {
  return reply.code(error.status).headers(error.headers).send({ code: error.code, detail: error.detail });
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const httpError = toHttpError(error);
  // A value the API let through and the database refused: the client's fault, but a check the
  // API lacks. Said without the value, which could be anything the client sent.
  if (error instanceof StoreError && error.code === 'invalid') {
    request.log.warn(`the database refused a value in ${request.method} ${request.routeOptions.url ?? ''} (SQLSTATE ${(error.cause as { code?: string } | undefined)?.code ?? 'unknown'}); answered 400`);
  }
  if (error instanceof StoreError && error.code === 'secret_unavailable') {
    request.log.error(`${request.method} ${request.routeOptions.url ?? ''} needs a secret this process cannot open (${error.message}); answered 500`);
  }
  if (httpError) return sendError(reply, httpError);
  request.log.error({ err: error }, 'unhandled error');
  return sendError(reply, new HttpError(500, 'internal', 'Internal server error.'));
}

const PARTS: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

function validationItems(error: FastifyError): ValidationItem[] {
  const part = PARTS[error.validationContext ?? 'body'] ?? 'body';
  const items = new Map<string, ValidationItem>();
  for (const issue of error.validation ?? []) {
    const path = issue.instancePath.split('/').filter(Boolean).map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
    const missing = (issue.params as { missingProperty?: string }).missingProperty;
    const loc = [part, ...path, ...(missing ? [missing] : [])];
    const key = loc.join('\u0000');
    // A nullable field that fails reports once per branch of its anyOf; the first branch says most.
    if (items.has(key) || issue.keyword === 'anyOf') continue;
    items.set(key, { loc, msg: missing ? 'field required' : (issue.message ?? 'invalid value'), type: issue.keyword === 'type' ? 'type_error' : 'value_error' });
  }
  // A nullable field with a bad element also fails the "or null" branch at the field itself; the
  // deeper item says what is wrong, so an item whose loc leads to another one is dropped.
  const all = [...items.values()];
  const specific = all.filter((item) => !all.some((other) => other.loc.length > item.loc.length && item.loc.every((p, i) => other.loc[i] === p)));
  return specific.length > 0 ? specific : [{ loc: [part], msg: error.message, type: 'value_error' }];
}
