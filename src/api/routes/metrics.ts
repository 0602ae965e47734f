import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';

/**
 * Prometheus' scrape target (a Herald extension). Outside /api/v1, where Prometheus looks by
 * default; admin tokens may read it, and so may HERALD_METRICS_TOKEN, which can do nothing else.
 */
export function metricsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const metrics = ctx.metrics;
  if (!metrics) return;
  // Server-Timing says what the scrape cost in this process, apart from the network and the queue
  // of requests before it (the benchmark reads it).
  app.get('/metrics', { config: { access: 'metrics' } }, async (_request, reply) => {
    const started = performance.now();
    const text = await metrics.render();
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store')
      .header('server-timing', `render;dur=${(performance.now() - started).toFixed(2)}`).send(text);
  });
}
