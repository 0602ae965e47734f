import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { addHistogram, LATENCY_BINS, percentile } from '../../core/attempt-stats.ts';
import { type ApiContext, findApp, findEndpoint } from '../context.ts';
import { invalid } from '../errors.ts';
import { timeParam } from '../pagination.ts';
import { AppPath, AttemptStatsQuery, type StatisticsPeriod } from '../schemas.ts';
import { iso } from '../views.ts';

const HOUR_MS = 60 * 60_000;
const PERIOD_MS: Record<StatisticsPeriod, number> = { FiveMinutes: 5 * 60_000, OneHour: HOUR_MS, OneDay: 24 * HOUR_MS };
/** A week of five-minute buckets: more points than a chart can show. */
export const MAX_STATS_BUCKETS = 2016;
const DEFAULT_RANGE_MS = 24 * HOUR_MS;

/**
 * Svix's attempt statistics (`GET /api/v1/stats/app/{app_id}/attempt`), read from the attempt
 * rollup (src/core/attempt-stats.ts), with Herald's additions: `endpoint_id`, and per bucket the
 * messages made and the attempts' latency percentiles.
 */
export function statsRoutes(server: FastifyInstance, ctx: ApiContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/api/v1/stats/app/:appId/attempt', { config: { access: 'ViewBase' }, schema: { params: AppPath, querystring: AttemptStatsQuery } }, async (request) => {
    const query = request.query;
    if (query.event_types !== undefined) {
      throw invalid(['query', 'event_types'], 'is not supported: attempt statistics are kept per endpoint, not per event type');
    }
    const application = await findApp(ctx, request.params.appId);
    const endpoint = query.endpoint_id === undefined ? null : await findEndpoint(ctx, application, query.endpoint_id);
    const period = query.period ?? 'OneHour';
    const periodMs = PERIOD_MS[period];
    const end = timeParam(query.endDate, ['query', 'endDate']) ?? ctx.clock.now();
    const start = timeParam(query.startDate, ['query', 'startDate']) ?? end - DEFAULT_RANGE_MS;
    if (end < start) throw invalid(['query', 'endDate'], 'must not be before startDate');
    // Buckets are aligned to the period (UTC), from the one holding startDate to the one holding endDate.
    const first = Math.floor(start / periodMs) * periodMs;
    const count = Math.max(1, Math.ceil((end - first) / periodMs));
    if (count > MAX_STATS_BUCKETS) {
      throw invalid(['query', 'period'], `gives ${count} buckets from startDate to endDate, more than the ${MAX_STATS_BUCKETS} allowed: choose a longer period or a shorter range`);
    }
    const last = first + count * periodMs;
    const bounds = Array.from({ length: count + 1 }, (_, i) => first + i * periodMs);
    const [rows, messageCount] = await Promise.all([
      ctx.store.stats.attempts(application.id, endpoint?.id ?? null, first, last),
      ctx.store.stats.messageCounts(application.id, endpoint?.id ?? null, bounds),
    ]);
    const zeros = () => new Array<number>(count).fill(0);
    const [successCount, failureCount, canceledCount] = [zeros(), zeros(), zeros()];
    const histograms = Array.from({ length: count }, () => new Array<number>(LATENCY_BINS).fill(0));
    for (const row of rows) {
      const i = Math.floor((row.bucketStart - first) / periodMs);
      successCount[i]! += row.success;
      failureCount[i]! += row.failure;
      canceledCount[i]! += row.canceled;
      addHistogram(histograms[i]!, row.latency);
    }
    return {
      startDate: iso(first),
      endDate: iso(last),
      period,
      data: {
        successCount,
        failureCount,
        canceledCount,
        messageCount,
        latencyP50: histograms.map((h) => percentile(h, 0.5)),
        latencyP95: histograms.map((h) => percentile(h, 0.95)),
        latencyP99: histograms.map((h) => percentile(h, 0.99)),
      },
    };
  });
}
