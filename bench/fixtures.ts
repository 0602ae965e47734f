import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import pg from 'pg';
import { systemClock, systemRandom } from '../src/core/clock.ts';
import { createIdGenerator } from '../src/core/ids.ts';
import { Status, Trigger } from '../src/core/model.ts';
import { TEST_DATABASE_URL } from '../test/support/stores.ts';

/**
 * Fixtures written straight into a workspace's database. Kept apart from lib.ts, which brings the
 * whole store and the test helpers, so that the loader process (processes/queue-loader.ts) starts
 * in a fraction of the time.
 */

const ids = createIdGenerator(systemClock, systemRandom);

type Run = (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

/** A workspace's database without the store. */
export class RawDatabase {
  readonly #run: Run;
  readonly #close: () => Promise<void>;
  readonly isPostgres: boolean;

  private constructor(postgres: boolean, run: Run, close: () => Promise<void>) {
    this.isPostgres = postgres;
    this.#run = run;
    this.#close = close;
  }

  /** The PostgreSQL schema's database if there is a schema, else the SQLite file's. */
  static async open(schema: string | null, path: string): Promise<RawDatabase> {
    return schema ? RawDatabase.postgres(schema) : RawDatabase.sqlite(path);
  }

  static async postgres(schema: string): Promise<RawDatabase> {
    // Its rows are consistent by construction, so the fixture connection skips the foreign-key
    // triggers, which took half of the inserts' time.
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema} -c session_replication_role=replica` });
    await client.connect();
    return new RawDatabase(true, async (sql, params) => (await client.query(sql, params)).rows, () => client.end());
  }

  static sqlite(path: string): RawDatabase {
    const db = new DatabaseSync(path, { timeout: 5_000 });
    // A million rows' indexes outgrow the default 2 MB page cache many times over.
    db.exec('PRAGMA cache_size = -262144');
    return new RawDatabase(false, async (sql, params) => {
      const statement = db.prepare(sql);
      return statement.columns().length > 0 ? statement.all(...(params as SQLInputValue[])) : (statement.run(...(params as SQLInputValue[])), []);
    }, async () => db.close());
  }

  /** Runs one statement and returns its rows; `$1`-style parameters on PostgreSQL, `?` on SQLite. */
  exec(sql: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
    return this.#run(sql, params);
  }

  /**
   * Runs `load` with the queue tables' secondary indexes dropped, and builds them again after: one
   * sorted build costs less than a million single updates (on PostgreSQL, a backlog's prefill took
   * an eighth less time, and finishing it 40% less). Indexes behind a key or a unique constraint
   * stay, as the load needs them.
   */
  async withoutIndexes(load: () => Promise<unknown>): Promise<void> {
    const indexes = await this.exec(this.isPostgres
      ? `SELECT indexname AS name, indexdef AS sql FROM pg_indexes i
         WHERE schemaname = current_schema() AND tablename IN ('messages', 'deliveries')
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`
      : "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('messages', 'deliveries')");
    for (const { name } of indexes) await this.exec(`DROP INDEX ${name}`);
    await load();
    for (const { sql } of indexes) await this.exec(sql as string);
  }

  /**
   * Queues messages (one payload for all) for every endpoint, pending and due since each one's
   * `createdAt`, and stored message by message, as the API would have stored them.
   */
  async queue(appId: string, messages: ReadonlyArray<{ id: string; createdAt: number }>, endpointIds: string[], payload: Buffer): Promise<void> {
    const due = `${Status.pending}, 0, ${Trigger.scheduled}`;
    if (this.isPostgres) {
      const [ids, times] = [messages.map((m) => m.id), messages.map((m) => m.createdAt)];
      await this.exec('INSERT INTO messages (id, app_id, event_type, payload, created_at) SELECT unnest($1::text[]), $2, $3, $4, unnest($5::bigint[])', [ids, appId, 'bench.prefilled', payload, times]);
      await this.exec(
        `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempt_count, trigger, run_at, lease, next_attempt_at, created_at, updated_at)
         SELECT m.id, e.id, $4, ${due}, m.at, 0, m.at, m.at, m.at
         FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS m(id, at, n) CROSS JOIN unnest($3::text[]) WITH ORDINALITY AS e(id, n)
         ORDER BY m.n, e.n`,
        [ids, times, endpointIds, appId],
      );
      return;
    }
    const rows = JSON.stringify(messages.map((m) => [m.id, m.createdAt]));
    await this.exec('BEGIN');
    await this.exec("INSERT INTO messages (id, app_id, event_type, payload, created_at) SELECT value ->> 0, ?, ?, ?, value ->> 1 FROM json_each(?)", [appId, 'bench.prefilled', payload, rows]);
    await this.exec(
      `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempt_count, trigger, run_at, lease, next_attempt_at, created_at, updated_at)
       SELECT m.value ->> 0, e.value, ?, ${due}, m.value ->> 1, 0, m.value ->> 1, m.value ->> 1, m.value ->> 1
       FROM json_each(?) AS m, json_each(?) AS e ORDER BY m.key, e.key`,
      [appId, rows, JSON.stringify(endpointIds)],
    );
    await this.exec('COMMIT');
  }

  close(): Promise<void> {
    return this.#close();
  }
}

/**
 * Queues `messages` messages with `payloadBytes` of filler for every endpoint, ten thousand to a
 * statement, as if they had arrived at 10,000 a second, the newest just now.
 */
export async function loadQueue(db: RawDatabase, appId: string, endpointIds: string[], messages: number, payloadBytes: number): Promise<void> {
  const payload = Buffer.from(JSON.stringify({ data: 'x'.repeat(payloadBytes) }));
  const firstAt = Date.now() - Math.ceil(messages / 10);
  await db.withoutIndexes(async () => {
    for (let done = 0; done < messages; done += PREFILL_CHUNK) {
      const chunk = Array.from({ length: Math.min(PREFILL_CHUNK, messages - done) }, (_, i) => ({ id: ids('message'), createdAt: firstAt + Math.floor((done + i) / 10) }));
      await db.queue(appId, chunk, endpointIds, payload);
    }
  });
  // What autovacuum would have done by the time a queue that size had built up: without it, the
  // first claims planned against an empty table's statistics and took ten times as long.
  if (db.isPostgres) await db.exec('VACUUM ANALYZE');
}

const PREFILL_CHUNK = 10_000;
