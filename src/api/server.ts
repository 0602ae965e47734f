import { statsRoutes } from './routes/stats.ts';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import { MAX_JSON_DEPTH } from '../core/json-depth.ts';
import { bearerAuth } from './auth.ts';
import { emptyBodyAsObject, registerBodyParsers } from './body.ts';
import { binCaptureRoutes, routeBinByToken } from '../bins/capture-route.ts';
import { receiveRoutes } from '../inbound/receive-route.ts';
import { type ApiContext, SOURCE_SCOPE } from './context.ts';
import { errorHandler, HttpError, invalid, sendError } from './errors.ts';
import { registerIdempotency } from './idempotency.ts';
import { rateLimiter } from './rate-limit.ts';
import { applicationRoutes } from './routes/applications.ts';
import { attemptRoutes } from './routes/attempts.ts';
import { authRoutes } from './routes/auth.ts';
import { backgroundTaskRoutes } from './routes/background-tasks.ts';
import { operationalWebhookRoutes } from './routes/operational-webhooks.ts';
import { binRoutes } from './routes/bins.ts';
import { contentRoutes } from './routes/content.ts';
import { endpointRoutes } from './routes/endpoints.ts';
import { transformationRoutes } from './routes/transformations.ts';
import { eventTypeRoutes } from './routes/event-types.ts';
import { healthRoutes } from './routes/health.ts';
import { requestId } from './request-id.ts';
import { docsRoutes } from './docs-page.ts';
import { openApiRoutes, registerOpenApi } from './openapi.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { messageRoutes } from './routes/messages.ts';
import { listenRoutes, type ListenOptions } from './routes/listen.ts';
import { pollingRoutes } from './routes/polling.ts';
import { sourceRoutes } from './routes/sources.ts';
import { sourceRequestRoutes } from './routes/source-requests.ts';
import { serializeAnswer } from './raw-json.ts';
import { type UiFiles, uiRoutes } from './ui-files.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface ApiOptions {
  context: ApiContext;
  /** HERALD_ADMIN_TOKEN, when the operator set one; other tokens live (as digests) in the store. */
  adminToken: string | null;
  /** HERALD_METRICS_TOKEN: reads /metrics, nothing else. */
  metricsToken?: string | null;
  maxPayloadBytes: number;
  /** Requests a second per token; 0 for no limit. */
  rateLimit: number;
  /** The address providers reach Herald at, for ingest URLs and signed URLs; null to take it from each request. */
  publicUrl: string | null;
  logger: FastifyBaseLogger;
  /** Requests each bin keeps, and the longest a bin holds a request open. */
  bins: { maxRequests: number; maxHoldMs: number };
  /** Listen sessions' bounds and the retry schedule their consumers' answers follow. */
  listen: ListenOptions;
  /** The built dashboard and portal (null: not built, answered with a page saying so). */
  ui?: { files: UiFiles | null; portalFrameAncestors: string };
}

/**
 * Bodies are validated without type coercion (a number is not a URL), while query and path
 * parameters, which arrive as text, are coerced to the types their schemas name. A body's fields
 * the route does not declare are dropped, as Svix's server ignores them: a handler that copies
 * its body onto a stored object can then never store a field nobody checked (a PATCH carrying
 * `secrets`, `headers` or `createdAt`).
 */
function validators() {
  const options = { allErrors: true, useDefaults: true, strict: false } as const;
  const body = addFormats(new Ajv({ ...options, coerceTypes: false, removeAdditional: true }));
  const text = addFormats(new Ajv({ ...options, coerceTypes: 'array' }));
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => (httpPart === 'body' ? body.compile(closed(schema)) : text.compile(schema));
}

/**
 * The schema with `additionalProperties: false` on each object that lists some `properties` and
 * says nothing about others, down through `properties` only (with `removeAdditional: true`, Ajv
 * then drops undeclared fields there). Never inside `anyOf`/`oneOf`/`allOf`: Ajv would drop a
 * field while trying a branch that does not declare it, even when another branch would.
 */
function closed(schema: object): object {
  const { properties, additionalProperties, patternProperties } = schema as { properties?: Record<string, object>; additionalProperties?: unknown; patternProperties?: unknown };
  // An object declaring no properties (a message's payload) takes any.
  if (properties === undefined || typeof properties !== 'object' || Object.keys(properties).length === 0) return schema;
  return {
    ...schema,
    properties: Object.fromEntries(Object.entries(properties).map(([name, child]) => [name, closed(child)])),
    ...(additionalProperties === undefined && patternProperties === undefined ? { additionalProperties: false } : {}),
  };
}

/** Requests with more headers than this are refused with 431. */
export const MAX_HEADERS = 100;

/**
 * Walks a JSON body once: too deep a nesting is refused, and so are a NUL character and a lone
 * surrogate (`\ud800` with no partner) in any string or key but a message's payload (which is kept
 * as the bytes that came). PostgreSQL's text and jsonb cannot hold a NUL, and both stores keep text
 * as UTF-8, which has no encoding for a lone surrogate (PostgreSQL's jsonb refuses the escape,
 * text columns would get U+FFFD instead); SQLite is held to the same rule so both stores accept
 * the same input. So are the keys of prototype poisoning anywhere in it, which Fastify's parser
 * would otherwise look for with two more scans of the text.
 */
function checkBody(body: object): void {
  const stack: Array<{ value: unknown; depth: number; path: string[]; payload: boolean }> = [{ value: body, depth: 1, path: [], payload: false }];
  while (stack.length > 0) {
    const { value, depth, path, payload } = stack.pop()!;
    if (depth > MAX_JSON_DEPTH) throw invalid(['body'], `is nested more than ${MAX_JSON_DEPTH} levels deep`);
    if (!payload && typeof value === 'string') checkText(value, ['body', ...path], '');
    if (value === null || typeof value !== 'object') continue;
    for (const [key, child] of Object.entries(value)) {
      if (!payload) checkText(key, ['body', ...path], ' in its keys');
      if (key === '__proto__' || (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype'))) {
        throw new HttpError(400, 'invalid_json', `The body has a "${key}" key that could poison prototypes; Herald refuses it.`);
      }
      stack.push({ value: child, depth: depth + 1, path: [...path, key], payload: payload || (depth === 1 && key === 'payload') });
    }
  }
}

function checkText(text: string, loc: string[], where: string): void {
  if (text.includes('\u0000')) throw invalid(loc, `must not contain NUL (\\u0000) characters${where}`);
  if (!text.isWellFormed()) throw invalid(loc, `must not contain lone surrogates (such as \\ud800 without its pair)${where}`);
}

/**
 * A path segment or query parameter may not hold a NUL either: PostgreSQL could not even look it
 * up. Only `%00` decodes to one (node:http refuses a raw NUL), so a URL without it costs one search.
 */
function checkUrl(request: FastifyRequest): void {
  if (!request.url.includes('%00')) return;
  for (const [part, values] of [['path', request.params], ['query', request.query]] as const) {
    for (const [name, value] of Object.entries((values ?? {}) as Record<string, unknown>)) {
      const texts = [name, ...(Array.isArray(value) ? value : [value])];
      if (texts.some((text) => typeof text === 'string' && text.includes('\u0000'))) throw invalid([part, name], 'must not contain NUL (%00) characters');
    }
  }
}

export function buildApi(options: ApiOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: requestId,
    // Long enough for a 256-character uid in a path; find-my-way's default is 100.
    routerOptions: { maxParamLength: 512 },
    rewriteUrl: (request) => routeBinByToken(request.url ?? '/'),
    frameworkErrors: (error, _request, reply) =>
      sendError(reply, new HttpError(400, 'bad_request', `The request URL is malformed: ${error.message}`)),
    // Errors node:http finds before Fastify sees a request, answered in the same shape as the rest.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      const [status, code, detail] = error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'The request headers are larger than this server accepts (16 KiB).']
        : [400, 'bad_request', 'The request is not valid HTTP.'];
      const body = JSON.stringify({ code, detail });
      if (socket.writable) {
        socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      }
    },
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: options.maxPayloadBytes,
    // checkBody refuses these keys in the walk it makes anyway (and JSON bodies are parsed by
    // registerBodyParsers, which leaves them to it too).
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    return503OnClosing: true,
  });
  registerOpenApi(app);
  registerBodyParsers(app, options.maxPayloadBytes);
  app.setValidatorCompiler(validators());
  // Payloads are written as the bytes published (raw-json.ts).
  app.setReplySerializer(serializeAnswer);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new HttpError(404, 'not_found', `No route for ${request.method} ${request.url.split('?')[0]}.`)),
  );
  const auth = bearerAuth({ store: options.context.store, clock: options.context.clock, adminToken: options.adminToken, metricsToken: options.metricsToken ?? null });
  // Every answer says which request it was (the id on its log lines); at debug level each is logged.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  if (options.logger.level === 'debug' || options.logger.level === 'trace') {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.debug({ method: request.method, route: request.routeOptions.url ?? null, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request completed');
      done();
    });
  }
  const metrics = options.context.metrics;
  if (metrics) {
    // By the route's pattern, never the URL, so ids do not make a series each; 404s share one.
    app.addHook('onResponse', (request, reply, done) => {
      metrics.apiRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode);
      done();
    });
  }
  // Hooks that never wait take Fastify's callback form: an async one costs every request a
  // promise and a turn of the microtask queue. A hook that answers does not call `done`.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.raw.rawHeaders.length / 2 > MAX_HEADERS) {
      sendError(reply, new HttpError(431, 'headers_too_large', `A request may carry at most ${MAX_HEADERS} headers.`));
      return;
    }
    done();
  });
  app.addHook('onRequest', auth.check);
  app.addHook('onClose', auth.close);
  if (options.rateLimit > 0) {
    const limit = rateLimiter(options.rateLimit, options.context.clock);
    app.addHook('onRequest', async (request, reply) => {
      const waitMs = request.principal ? limit(request.principal.key) : 0;
      if (waitMs > 0) {
        return sendError(reply, new HttpError(429, 'rate_limited', `Too many requests for this token; at most ${options.rateLimit} a second.`, {
          'retry-after': String(Math.ceil(waitMs / 1000)),
        }));
      }
    });
  }
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      checkUrl(request);
      emptyBodyAsObject(request);
      if (request.body !== null && typeof request.body === 'object' && !Buffer.isBuffer(request.body)) checkBody(request.body);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });
  registerIdempotency(app, options.context.store.idempotency, options.context.clock);

  const ctx = options.context;
  // In a plugin of its own, so that @fastify/swagger (registered above, which starts when the server
  // boots) sees every route as it is added: routes added here at once would come before it.
  app.register(async (routes) => {
    for (const add of [healthRoutes, metricsRoutes, applicationRoutes, eventTypeRoutes, endpointRoutes, transformationRoutes, messageRoutes, attemptRoutes, contentRoutes, statsRoutes]) {
      add(routes, ctx);
    }
    authRoutes(routes, ctx, options.publicUrl);
    backgroundTaskRoutes(routes, ctx);
    operationalWebhookRoutes(routes, ctx);
    sourceRoutes(routes, ctx, options.publicUrl);
    sourceRequestRoutes(routes, ctx);
    for (const add of [endpointRoutes, transformationRoutes, messageRoutes, attemptRoutes, contentRoutes]) add(routes, ctx, SOURCE_SCOPE);
    receiveRoutes(routes, ctx, { maxPayloadBytes: options.maxPayloadBytes, publicUrl: options.publicUrl });
    binRoutes(routes, ctx, { publicUrl: options.publicUrl, maxHoldMs: options.bins.maxHoldMs });
    listenRoutes(routes, ctx, options.listen);
    pollingRoutes(routes, ctx);
    listenRoutes(routes, ctx, options.listen, SOURCE_SCOPE);
    binCaptureRoutes(routes, ctx, { maxPayloadBytes: options.maxPayloadBytes, ...options.bins });
    openApiRoutes(routes, app);
    docsRoutes(routes);
    uiRoutes(routes, options.ui ?? { files: null, portalFrameAncestors: "'self'" });
  });
  return app;
}
