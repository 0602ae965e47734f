import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { bearerAuth } from './auth.ts';
import type { ApiContext } from './context.ts';
import { errorHandler, HttpError, sendError } from './errors.ts';
import { registerIdempotency } from './idempotency.ts';
import { applicationRoutes } from './routes/applications.ts';
import { attemptRoutes } from './routes/attempts.ts';
import { endpointRoutes } from './routes/endpoints.ts';
import { eventTypeRoutes } from './routes/event-types.ts';
import { healthRoutes } from './routes/health.ts';
import { messageRoutes } from './routes/messages.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface ApiOptions {
  context: ApiContext;
  adminToken: string;
  maxPayloadBytes: number;
  logger: FastifyBaseLogger;
}

/**
 * Bodies are validated without type coercion (a number is not a URL), while query and path
 * parameters, which arrive as text, are coerced to the types their schemas name.
 */
function validators() {
  const options = { allErrors: true, useDefaults: true, strict: false } as const;
  const body = addFormats(new Ajv({ ...options, coerceTypes: false }));
  const text = addFormats(new Ajv({ ...options, coerceTypes: 'array' }));
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => (httpPart === 'body' ? body : text).compile(schema);
}

export function buildApi(options: ApiOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.maxPayloadBytes,
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validators());
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new HttpError(404, 'not_found', `No route for ${request.method} ${request.url.split('?')[0]}.`)),
  );
  app.addHook('onRequest', bearerAuth(options.adminToken));
  registerIdempotency(app, options.context.store.idempotency, options.context.clock);

  const ctx = options.context;
  for (const routes of [healthRoutes, applicationRoutes, eventTypeRoutes, endpointRoutes, messageRoutes, attemptRoutes]) {
    routes(app, ctx);
  }
  return app;
}
