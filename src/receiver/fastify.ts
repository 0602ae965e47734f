import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type WebhookHandlerOptions, webhookProcessor } from './handler.ts';

export type { WebhookHandlerOptions } from './handler.ts';

export interface FastifyWebhookOptions extends WebhookHandlerOptions<{ request: FastifyRequest; reply: FastifyReply }> {
  /** The route's path within the plugin's prefix. Default `/`. */
  path?: string;
}

/**
 * A Fastify plugin with one POST route that verifies Standard Webhooks deliveries:
 *
 *     app.register(fastifyWebhook({ path: '/webhooks', secret, handler: async (event, { request, reply }) => … }));
 *
 * Inside the plugin's own (encapsulated) context Fastify's body parsers are replaced by one that
 * keeps every body as a Buffer, whatever its content-type, so the route sees the bytes that were
 * signed; the rest of the application keeps its parsers. A body over `maxBodyBytes` is Fastify's
 * 413. Handler errors go to Fastify's error handler (500).
 */
export function fastifyWebhook(options: FastifyWebhookOptions): (instance: FastifyInstance) => Promise<void> {
  const processor = webhookProcessor(options);
  const path = options.path ?? '/';
  return async (instance) => {
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: processor.maxBodyBytes }, (_request, body, done) => done(null, body));
    instance.post(path, async (request, reply) => {
      // No body at all (no content-type, no length) leaves request.body undefined.
      const body = request.body instanceof Uint8Array ? request.body : new Uint8Array(0);
      const answer = await processor.process(body, request.headers, { request, reply });
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    });
  };
}
