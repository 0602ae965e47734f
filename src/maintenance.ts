import type { FastifyBaseLogger } from 'fastify';
import { IDEMPOTENCY_WINDOW_MS } from './api/idempotency.ts';
import type { Clock } from './core/clock.ts';
import type { Store } from './store/store.ts';

export interface MaintenanceOptions {
  store: Store;
  clock: Clock;
  retentionMs: number;
  logger: FastifyBaseLogger;
  /** Listen sessions' bounds, applied here too so a session nobody listens to stays within them. */
  listen?: { maxEvents: number; maxAgeMs: number };
  /** How often a purge round starts. */
  intervalMs?: number;
}

/**
 * Received requests are a source's memory of which events it has seen: providers retry for days,
 * so they are kept at least this long whatever the retention, and a late retry is still a duplicate.
 */
const INBOUND_DEDUPE_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** Rows deleted per statement: small enough that no purge holds locks or the SQLite writer for long. */
const BATCH = 500;

/**
 * Background purges: messages (with their deliveries and attempts) and attempts older than the
 * retention, payloads past their message's `payloadRetentionPeriod` (erased, the message kept),
 * endpoints deleted before the retention that nothing names any more, idempotency keys past
 * their window, and request bins' captures older than the retention, then the bins neither changed
 * nor sent anything within it. Each round works in small batches and yields to the event loop between them, so it
 * never blocks delivery.
 */
export function startMaintenance(options: MaintenanceOptions): () => Promise<void> {
  let stopped = false;
  let round: Promise<void> = Promise.resolve();
  const runRound = () => maintenanceRound(options, () => stopped);
  const timer = setInterval(() => {
    round = round.then(runRound);
  }, options.intervalMs ?? 10 * 60_000).unref();
  round = runRound();

  return async () => {
    stopped = true;
    clearInterval(timer);
    await round;
  };
}

/** One round of the purges, to its end or until `stopped()`; a failure is logged, not thrown. */
export async function maintenanceRound(options: Omit<MaintenanceOptions, 'intervalMs'>, stopped: () => boolean = () => false): Promise<void> {
  const { store, clock, retentionMs, logger } = options;
  const purgeAll = async (what: string, purge: (olderThan: number, limit: number) => Promise<number>, olderThan: number) => {
    let total = 0;
    for (let deleted = BATCH; deleted === BATCH && !stopped(); total += deleted) {
      deleted = await purge(olderThan, BATCH);
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (total > 0) logger.info({ purged: total }, `retention: purged ${what}`);
  };
  try {
    const now = clock.now();
    const inboundOlderThan = now - Math.max(retentionMs, INBOUND_DEDUPE_WINDOW_MS);
    await purgeAll('messages', (olderThan, limit) => store.messages.purge(olderThan, limit, inboundOlderThan), now - retentionMs);
    await purgeAll('attempts', store.attempts.purge, now - retentionMs);
    await purgeAll('attempt statistics', store.stats.purge, now - retentionMs);
    await purgeAll('expired payloads', (expiredBy, limit) => store.messages.erasePayloads({ expiredBy, limit }, now), now);
    // After the messages: a deleted endpoint goes once the last delivery that named it has.
    await purgeAll('deleted endpoints', store.endpoints.purge, now - retentionMs);
    await purgeAll('idempotency keys', store.idempotency.purge, now - IDEMPOTENCY_WINDOW_MS);
    await purgeAll('bin requests', store.bins.purgeRequests, now - retentionMs);
    await purgeAll('idle bins', store.bins.purgeIdle, now - retentionMs);
    if (options.listen && !stopped()) {
      const dropped = await store.queue.trimPulled(options.listen.maxEvents, now - options.listen.maxAgeMs, now);
      if (dropped > 0) logger.info({ dropped }, 'listen sessions: dropped events beyond their bounds');
    }
  } catch (error) {
    logger.warn({ err: error }, 'retention: a purge round failed; the next round tries again');
  }
}
