import { smallestIdAt } from '../../core/ids.ts';
import type { StatsStore } from '../store.ts';
import type { PostgresDatabase } from './database.ts';

interface StatsRow {
  endpoint_id: string;
  bucket_start: number;
  success: number;
  failure: number;
  canceled: number;
  latency: number[];
}

/** The rollup's reads; its writes are part of the queue's `complete` (see queue.ts). */
export function postgresStats(db: PostgresDatabase): StatsStore {
  return {
    async attempts(appId, endpointId, from, to) {
      const rows = await db.query<StatsRow>(
        `SELECT endpoint_id, bucket_start, success, failure, canceled, latency FROM attempt_stats
         WHERE app_id = ? AND bucket_start >= ? AND bucket_start < ? ${endpointId === null ? '' : 'AND endpoint_id = ?'}
         ORDER BY bucket_start`,
        [appId, from, to, ...(endpointId === null ? [] : [endpointId])],
      );
      return rows.map((row) => ({
        endpointId: row.endpoint_id, bucketStart: Number(row.bucket_start), success: row.success, failure: row.failure, canceled: row.canceled,
        latency: row.latency.map(Number),
      }));
    },

    // One count per range, each on the index that leads with the application (or endpoint) and
    // goes on with the message id, whose leading bits are its time.
    async messageCounts(appId, endpointId, bounds) {
      const starts = bounds.slice(0, -1).map((ms) => smallestIdAt('message', ms));
      const ends = bounds.slice(1).map((ms) => smallestIdAt('message', ms));
      const counted = endpointId === null
        ? 'SELECT count(*)::int FROM messages m WHERE m.app_id = ? AND m.id >= r.lo AND m.id < r.hi'
        : 'SELECT count(*)::int FROM deliveries d WHERE d.endpoint_id = ? AND d.message_id >= r.lo AND d.message_id < r.hi';
      const rows = await db.query<{ n: number }>(
        `SELECT (${counted}) AS n FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS r(lo, hi, i) ORDER BY r.i`,
        [endpointId ?? appId, starts, ends],
      );
      return rows.map((row) => Number(row.n));
    },

    async endpointTotals(appId, endpointIds, since) {
      const rows = await db.query<{ endpoint_id: string; success: number; failure: number; canceled: number }>(
        `SELECT endpoint_id, sum(success)::int AS success, sum(failure)::int AS failure, sum(canceled)::int AS canceled
         FROM attempt_stats WHERE app_id = ? AND bucket_start >= ? AND endpoint_id = ANY(?::text[])
         GROUP BY endpoint_id`,
        [appId, since, endpointIds],
      );
      return new Map(rows.map((row) => [row.endpoint_id, { success: Number(row.success), failure: Number(row.failure), canceled: Number(row.canceled) }]));
    },

    purge: (olderThan, limit) =>
      db.run(
        `DELETE FROM attempt_stats s USING (
           SELECT app_id, bucket_start, endpoint_id FROM attempt_stats WHERE bucket_start < ? LIMIT ? FOR UPDATE SKIP LOCKED
         ) old WHERE s.app_id = old.app_id AND s.bucket_start = old.bucket_start AND s.endpoint_id = old.endpoint_id`,
        [olderThan, limit],
      ),
  };
}
