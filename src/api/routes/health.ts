import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { HttpError } from '../errors.ts';

/** A database that takes longer than this to answer `SELECT 1` counts as down for readiness. */
const READY_TIMEOUT_MS = 2_000;

/**
 * Two probes, for two questions. `/api/v1/health` (Svix's, and `/health/ping`) is liveness: the
 * process answers HTTP; it touches nothing else, so a database outage does not get every replica
 * restarted, which would not mend the database. `/api/v1/health/ready` (a Herald extension) is
 * readiness: the database answers, and the process is not draining after SIGTERM; a load balancer
 * that polls it stops sending requests here while the API still serves those already on their way.
 */
export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/health', { config: { access: 'public' } }, async (_request, reply) => reply.code(204).send());
  app.get('/api/v1/health/ping', { config: { access: 'public' } }, async (_request, reply) => reply.code(204).send());
  app.get('/api/v1/health/ready', { config: { access: 'public' } }, async (_request, reply) => {
    if (ctx.lifecycle?.draining) throw new HttpError(503, 'draining', 'Herald is shutting down; send requests to another instance.');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ctx.store.ping(),
        new Promise((_resolve, reject) => (timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS))),
      ]);
    } catch {
      throw new HttpError(503, 'unavailable', 'The database does not answer.', { 'retry-after': '5' });
    } finally {
      clearTimeout(timer);
    }
    return reply.code(204).send();
  });
}
