import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { HttpError } from '../errors.ts';

export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/health', { config: { access: 'public' } }, async (_request, reply) => {
    try {
      await ctx.store.ping();
    } catch (error) {
      throw new HttpError(503, 'unavailable', 'The database does not answer.', { 'retry-after': '5' });
    }
    return reply.code(204).send();
  });
  app.get('/api/v1/health/ping', { config: { access: 'public' } }, async (_request, reply) => reply.code(204).send());
}
