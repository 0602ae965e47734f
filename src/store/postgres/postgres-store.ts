import { postgresStats } from './stats.ts';
import { join } from 'node:path';
import type { Census, Store } from '../store.ts';
import { postgresApplications } from './applications.ts';
import { postgresAttempts } from './attempts.ts';
import { postgresBins } from './bins.ts';
import { BIN_CHANNEL, CONFIG_CHANNEL, DELETED_MARK, DUE_CHANNEL, PostgresDatabase, type PostgresOptions } from './database.ts';
import { postgresEndpoints } from './endpoints.ts';
import { postgresEventTypes } from './event-types.ts';
import { postgresIdempotency } from './idempotency.ts';
import { postgresMessages } from './messages.ts';
import { postgresPolling } from './polling.ts';
import { postgresFlow } from './flow.ts';
import { postgresQueue } from './queue.ts';
import { postgresSettings } from './settings.ts';
import { postgresTasks } from './tasks.ts';
import { postgresSources } from './sources.ts';
import { postgresTokens } from './tokens.ts';

/**
 * Opens the PostgreSQL store, migrating the schema first. Many processes may share it: claims use
 * `FOR UPDATE SKIP LOCKED` with a lease, and committed work is announced with NOTIFY.
 */
export async function openPostgresStore(options: PostgresOptions): Promise<Store> {
  const db = new PostgresDatabase(withSchemaFromUrl(options));
  try {
    await db.migrate(join(import.meta.dirname, 'migrations'));
  } catch (error) {
    await db.close();
    throw error;
  }
  return {
    apps: postgresApplications(db),
    eventTypes: postgresEventTypes(db),
    endpoints: postgresEndpoints(db),
    messages: postgresMessages(db),
    queue: postgresQueue(db),
    polling: postgresPolling(db),
    flow: postgresFlow(db),
    attempts: postgresAttempts(db),
    stats: postgresStats(db),
    sources: postgresSources(db),
    tokens: postgresTokens(db),
    settings: postgresSettings(db),
    tasks: postgresTasks(db),
    idempotency: postgresIdempotency(db),
    bins: postgresBins(db),
    onDue: (wake) => db.listen(DUE_CHANNEL, () => wake()),
    onConfigChange: (changed) => db.listen(CONFIG_CHANNEL, (appId) => changed(appId || null)),
    onBinChange: (changed) => db.listen(BIN_CHANNEL, (payload) => {
      if (payload?.startsWith(DELETED_MARK)) changed(payload.slice(DELETED_MARK.length), 'deleted');
      else changed(payload || null, 'captured');
    }),
    async ping() {
      await db.query('SELECT 1');
    },
    // One pass over the deliveries, in PostgreSQL: metrics call it seldom and cache it.
    async census(now) {
      const row = await db.one<Record<keyof Census, number>>(
        `SELECT
           count(*) FILTER (WHERE status IN (1, 3) AND NOT pulled AND run_at <= ?) AS "due",
           count(*) FILTER (WHERE status = 1 AND NOT pulled AND run_at > ?) AS "delayed",
           count(*) FILTER (WHERE status = 3 AND NOT pulled AND run_at > ?) AS "sending",
           count(*) FILTER (WHERE status = 2) AS "failed",
           (SELECT count(*) FROM endpoint_flow WHERE circuit_opened_at IS NOT NULL) AS "circuitsOpen",
           (SELECT count(*) FROM endpoints WHERE disabled AND deleted_at IS NULL) AS "endpointsDisabled"
         FROM deliveries`,
        [now, now, now],
      );
      return row!;
    },
    poolUse: () => db.poolUse(),
    close: () => db.close(),
  };
}

/** `?schema=name` on the URL selects a schema (created if missing), as `schema` does. */
export function withSchemaFromUrl(options: PostgresOptions): PostgresOptions {
  const url = new URL(options.url);
  const schema = url.searchParams.get('schema');
  if (!schema) return options;
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`Invalid schema name ${JSON.stringify(schema)} in the database URL: use lower-case letters, digits and _.`);
  url.searchParams.delete('schema');
  return { ...options, url: url.toString(), schema };
}
