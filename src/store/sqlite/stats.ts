import { type AttemptStatsRow, histogramBytes, histogramFromBytes, LATENCY_BINS } from '../../core/attempt-stats.ts';
import { smallestIdAt } from '../../core/ids.ts';
import type { StatsStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';

const ADD_HISTOGRAMS = 'herald_add_histograms';

/** Registers the SQL function the rollup's upsert merges histograms with (two blobs of uint32 counts). */
export function defineStatsFunctions(db: SqliteDatabase): void {
  db.defineFunction(ADD_HISTOGRAMS, (a: Uint8Array | null, b: Uint8Array | null) => {
    const sum = histogramFromBytes(a);
    const more = histogramFromBytes(b);
    for (let i = 0; i < LATENCY_BINS; i++) sum[i]! += more[i]!;
    return histogramBytes(sum);
  });
}

/**
 * Adds a batch's rollup rows, one upsert each. Run inside the write that records the attempts; a
 * row of an application deleted meanwhile is dropped, as its attempts are.
 */
export function upsertAttemptStats(db: SqliteDatabase, rows: readonly AttemptStatsRow[]): void {
  for (const row of rows) {
    db.run(
      `INSERT INTO attempt_stats (app_id, bucket_start, endpoint_id, success, failure, canceled, latency)
       SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM applications WHERE id = ?)
       ON CONFLICT (app_id, bucket_start, endpoint_id) DO UPDATE SET
         success = success + excluded.success, failure = failure + excluded.failure, canceled = canceled + excluded.canceled,
         latency = ${ADD_HISTOGRAMS}(latency, excluded.latency)`,
      row.appId, row.bucketStart, row.endpointId, row.success, row.failure, row.canceled, histogramBytes(row.latency), row.appId,
    );
  }
}

interface StatsRow {
  endpoint_id: string;
  bucket_start: number;
  success: number;
  failure: number;
  canceled: number;
  latency: Uint8Array;
}

export function sqliteStats(db: SqliteDatabase): StatsStore {
  return {
    async attempts(appId, endpointId, from, to) {
      const rows = db.all<StatsRow>(
        `SELECT endpoint_id, bucket_start, success, failure, canceled, latency FROM attempt_stats
         WHERE app_id = ? AND bucket_start >= ? AND bucket_start < ? ${endpointId === null ? '' : 'AND endpoint_id = ?'}
         ORDER BY bucket_start`,
        ...[appId, from, to, ...(endpointId === null ? [] : [endpointId])],
      );
      return rows.map((row) => ({
        endpointId: row.endpoint_id, bucketStart: row.bucket_start, success: row.success, failure: row.failure, canceled: row.canceled,
        latency: histogramFromBytes(row.latency),
      }));
    },

    // One count per range, each on the index that leads with the application (or endpoint) and
    // goes on with the message id, whose leading bits are its time: no message row is read.
    async messageCounts(appId, endpointId, bounds) {
      const ranges = bounds.slice(1).map((end, i) => [smallestIdAt('message', bounds[i]!), smallestIdAt('message', end)]);
      const counted = endpointId === null
        ? 'SELECT count(*) FROM messages m WHERE m.app_id = ? AND m.id >= r.value ->> 0 AND m.id < r.value ->> 1'
        : 'SELECT count(*) FROM deliveries d WHERE d.endpoint_id = ? AND d.message_id >= r.value ->> 0 AND d.message_id < r.value ->> 1';
      return db.tuples<[number]>(`SELECT (${counted}) FROM json_each(?) r ORDER BY r.key`, endpointId ?? appId, JSON.stringify(ranges)).map(([n]) => n);
    },

    async endpointTotals(appId, endpointIds, since) {
      const rows = db.tuples<[string, number, number, number]>(
        `SELECT endpoint_id, sum(success), sum(failure), sum(canceled) FROM attempt_stats
         WHERE app_id = ? AND bucket_start >= ? AND endpoint_id IN (SELECT value FROM json_each(?))
         GROUP BY endpoint_id`,
        appId, since, JSON.stringify(endpointIds),
      );
      return new Map(rows.map(([id, success, failure, canceled]) => [id, { success, failure, canceled }]));
    },

    purge(olderThan, limit) {
      return db.write(() =>
        db.run('DELETE FROM attempt_stats WHERE rowid IN (SELECT rowid FROM attempt_stats WHERE bucket_start < ? LIMIT ?)', olderThan, limit),
      );
    },
  };
}
