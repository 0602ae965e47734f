import { type ClaimOutcome, DEFAULT_RETENTION_MS, type IdempotencyStore } from './idempotency.ts';
import { expiryIndexName, PRUNE_BATCH, PRUNE_EVERY_MS, quotedTableName } from './table-name.ts';

/**
 * What the store needs of a PostgreSQL connection: a `pg` `Pool` or `Client` (or anything with
 * the same `query`). The service passes its own, so this module imports no driver.
 */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface PostgresStoreOptions {
  /** The table to keep ids in, `name` or `schema.name`, created if missing. Default `herald_webhook_ids`. */
  table?: string;
  /** How long a handled id is remembered, in ms (default 7 days). */
  retentionMs?: number;
}

/**
 * Handled ids in a PostgreSQL table, shared by every process of the service. A claim is one
 * `INSERT … ON CONFLICT DO UPDATE … WHERE` statement, which PostgreSQL runs atomically per id.
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  readonly #db: Queryable;
  readonly #table: string;
  readonly #index: string;
  readonly #retentionMs: number;
  #ready: Promise<void> | null = null;
  #prunedAt = 0;

  constructor(db: Queryable, options: PostgresStoreOptions = {}) {
    if (typeof db?.query !== 'function') throw new TypeError('PostgresIdempotencyStore needs a pg Pool or Client.');
    const name = options.table ?? 'herald_webhook_ids';
    this.#db = db;
    this.#table = quotedTableName(name, true);
    this.#index = expiryIndexName(name);
    this.#retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  }

  /** Creates the table if missing; the first claim does it otherwise. */
  setup(): Promise<void> {
    this.#ready ??= this.#createTable().catch((error) => {
      this.#ready = null;
      throw error;
    });
    return this.#ready;
  }

  async #createTable(): Promise<void> {
    try {
      await this.#db.query(`CREATE TABLE IF NOT EXISTS ${this.#table} (
        id text PRIMARY KEY,
        state text NOT NULL,
        holder text,
        expires_at bigint NOT NULL
      )`);
      await this.#db.query(`CREATE INDEX IF NOT EXISTS ${this.#index} ON ${this.#table} (expires_at)`);
    } catch (error) {
      // Two processes creating the table at once: IF NOT EXISTS does not stop the loser from
      // colliding on the catalog (23505) or the name (42P07). The winner made it.
      const code = (error as { code?: string }).code;
      if (code !== '23505' && code !== '42P07') throw error;
    }
  }

  async claim(id: string, holder: string, nowMs: number, lockMs: number): Promise<ClaimOutcome> {
    await this.setup();
    if (nowMs - this.#prunedAt >= PRUNE_EVERY_MS) {
      this.#prunedAt = nowMs;
      await this.#db.query(`DELETE FROM ${this.#table} WHERE id IN (SELECT id FROM ${this.#table} WHERE expires_at <= $1 LIMIT ${PRUNE_BATCH})`, [nowMs]);
    }
    for (;;) {
      const claimed = await this.#db.query(
        `INSERT INTO ${this.#table} AS t (id, state, holder, expires_at) VALUES ($1, 'pending', $2, $3)
         ON CONFLICT (id) DO UPDATE SET state = 'pending', holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE t.expires_at <= $4
         RETURNING holder`,
        [id, holder, nowMs + lockMs, nowMs],
      );
      if (claimed.rows.length > 0) return 'claimed';
      const found = await this.#db.query(`SELECT state FROM ${this.#table} WHERE id = $1`, [id]);
      const row = found.rows[0] as { state: string } | undefined;
      // Gone between the two statements (released by its holder): claim again.
      if (row) return row.state === 'done' ? 'done' : 'busy';
    }
  }

  async complete(id: string, nowMs: number): Promise<void> {
    await this.setup();
    await this.#db.query(
      `INSERT INTO ${this.#table} (id, state, holder, expires_at) VALUES ($1, 'done', NULL, $2)
       ON CONFLICT (id) DO UPDATE SET state = 'done', holder = NULL, expires_at = EXCLUDED.expires_at`,
      [id, nowMs + this.#retentionMs],
    );
  }

  async release(id: string, holder: string): Promise<void> {
    await this.setup();
    await this.#db.query(`DELETE FROM ${this.#table} WHERE id = $1 AND state = 'pending' AND holder = $2`, [id, holder]);
  }
}
