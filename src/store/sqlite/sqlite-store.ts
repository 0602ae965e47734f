import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Status } from '../../core/model.ts';
import type { BinChange, Census, Store } from '../store.ts';
import { sqliteApplications } from './applications.ts';
import { sqliteBins } from './bins.ts';
import { sqliteAttempts } from './attempts.ts';
import { defineStatsFunctions, sqliteStats } from './stats.ts';
import { SqliteDatabase } from './database.ts';
import { DeletedEndpoints, sqliteEndpoints } from './endpoints.ts';
import { sqliteEventTypes } from './event-types.ts';
import { sqliteIdempotency } from './idempotency.ts';
import { sqliteMessages } from './messages.ts';
import { sqlitePolling } from './polling.ts';
import { sqliteFlow } from './flow.ts';
import { sqliteQueue } from './queue.ts';
import { sqliteSettings } from './settings.ts';
import { sqliteSources } from './sources.ts';
import { sqliteTasks } from './tasks.ts';
import { sqliteTokens } from './tokens.ts';

/**
 * Opens (creating and migrating as needed) the SQLite store at `path`.
 *
 * Only one process may open it, so every lease in the file belongs to a process that is gone:
 * opening hands all in-flight deliveries back to the queue at once instead of waiting for their
 * leases to expire. That is what makes a restart after `kill -9` resend them promptly. Idempotency
 * keys held by requests of that process are freed the same way, so their retries run at once.
 */
export function openSqliteStore(path: string, now: () => number = Date.now): Store {
  mkdirSync(dirname(path), { recursive: true });
  const db = new SqliteDatabase(path);
  db.migrate(join(import.meta.dirname, 'migrations'));
  db.run(`UPDATE deliveries SET status = ${Status.pending}, run_at = ? WHERE status = ${Status.sending}`, now());
  db.run('DELETE FROM idempotency_keys WHERE status_code IS NULL');
  db.run("UPDATE background_tasks SET lease_until = 0 WHERE status = 'running'");
  db.startCheckpointer();
  defineStatsFunctions(db);
  const deleted = new DeletedEndpoints();
  const binListeners = new Set<(binId: string | null, change: BinChange) => void>();

  return {
    apps: sqliteApplications(db),
    eventTypes: sqliteEventTypes(db),
    endpoints: sqliteEndpoints(db, deleted),
    messages: sqliteMessages(db, deleted),
    queue: sqliteQueue(db),
    polling: sqlitePolling(db),
    flow: sqliteFlow(db),
    attempts: sqliteAttempts(db),
    stats: sqliteStats(db),
    sources: sqliteSources(db),
    tokens: sqliteTokens(db),
    settings: sqliteSettings(db),
    tasks: sqliteTasks(db),
    idempotency: sqliteIdempotency(db),
    bins: sqliteBins(db, (binId, change) => {
      for (const listener of binListeners) listener(binId, change);
    }),
    onBinChange(changed) {
      binListeners.add(changed);
      return async () => void binListeners.delete(changed);
    },
    async ping() {
      db.get('SELECT 1');
    },
    // One pass over the deliveries (about 60 ms for a million on the checkpointer's thread, none
    // of it on the event loop); the two small tables' counts use their own indexes or are short.
    async census(now) {
      const row = await db.readAside<Record<keyof Census, number>>(
        `SELECT
           coalesce(sum(status IN (1, 3) AND pulled = 0 AND run_at <= ?1), 0) AS due,
           coalesce(sum(status = 1 AND pulled = 0 AND run_at > ?1), 0) AS delayed,
           coalesce(sum(status = 3 AND pulled = 0 AND run_at > ?1), 0) AS sending,
           coalesce(sum(status = 2), 0) AS failed,
           (SELECT count(*) FROM endpoint_flow WHERE circuit_opened_at IS NOT NULL) AS circuitsOpen,
           (SELECT count(*) FROM endpoints WHERE disabled = 1 AND deleted_at IS NULL) AS endpointsDisabled
         FROM deliveries`,
        now,
      );
      return row!;
    },
    close: () => db.close(),
  };
}
