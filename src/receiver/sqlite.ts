import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { type ClaimOutcome, DEFAULT_RETENTION_MS, type IdempotencyStore } from './idempotency.ts';
import { expiryIndexName, PRUNE_BATCH, PRUNE_EVERY_MS, quotedTableName } from './table-name.ts';

export interface SqliteStoreOptions {
  /** The table to keep ids in (one identifier), created if missing. Default `herald_webhook_ids`. */
  table?: string;
  /** How long a handled id is remembered, in ms (default 7 days). */
  retentionMs?: number;
}

/**
 * Handled ids in a SQLite database (`node:sqlite`, nothing to install): a file path, or a
 * `DatabaseSync` the service already has open. Several processes may share one file: each step is
 * one statement, and a path opened here waits up to 5 s for another process's write lock.
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  readonly #db: DatabaseSync;
  readonly #ownsDb: boolean;
  readonly #retentionMs: number;
  readonly #claim: StatementSync;
  readonly #state: StatementSync;
  readonly #complete: StatementSync;
  readonly #release: StatementSync;
  readonly #prune: StatementSync;
  #prunedAt = 0;

  constructor(database: string | DatabaseSync, options: SqliteStoreOptions = {}) {
    const name = options.table ?? 'herald_webhook_ids';
    const table = quotedTableName(name, false);
    this.#retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.#ownsDb = typeof database === 'string';
    this.#db = typeof database === 'string' ? new DatabaseSync(database, { timeout: 5_000 }) : database;
    if (this.#ownsDb) this.#db.exec('PRAGMA journal_mode = WAL');
    // expires_at: when a pending claim's lock runs out, or when a done id is forgotten (ms).
    this.#db.exec(`CREATE TABLE IF NOT EXISTS ${table} (
      id TEXT PRIMARY KEY,
      state TEXT NOT NULL,
      holder TEXT,
      expires_at INTEGER NOT NULL
    ) WITHOUT ROWID`);
    this.#db.exec(`CREATE INDEX IF NOT EXISTS ${expiryIndexName(name)} ON ${table} (expires_at)`);
    this.#claim = this.#db.prepare(`INSERT INTO ${table} (id, state, holder, expires_at) VALUES (?, 'pending', ?, ?)
      ON CONFLICT (id) DO UPDATE SET state = 'pending', holder = excluded.holder, expires_at = excluded.expires_at
      WHERE ${table}.expires_at <= ?
      RETURNING holder`);
    this.#state = this.#db.prepare(`SELECT state FROM ${table} WHERE id = ?`);
    this.#complete = this.#db.prepare(`INSERT INTO ${table} (id, state, holder, expires_at) VALUES (?, 'done', NULL, ?)
      ON CONFLICT (id) DO UPDATE SET state = 'done', holder = NULL, expires_at = excluded.expires_at`);
    this.#release = this.#db.prepare(`DELETE FROM ${table} WHERE id = ? AND state = 'pending' AND holder = ?`);
    this.#prune = this.#db.prepare(`DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE expires_at <= ? LIMIT ${PRUNE_BATCH})`);
  }

  async claim(id: string, holder: string, nowMs: number, lockMs: number): Promise<ClaimOutcome> {
    if (nowMs - this.#prunedAt >= PRUNE_EVERY_MS) {
      this.#prunedAt = nowMs;
      this.#prune.run(nowMs);
    }
    for (;;) {
      if (this.#claim.get(id, holder, nowMs + lockMs, nowMs)) return 'claimed';
      const row = this.#state.get(id) as { state: string } | undefined;
      // Gone between the two statements (released by its holder): claim again.
      if (row) return row.state === 'done' ? 'done' : 'busy';
    }
  }

  async complete(id: string, nowMs: number): Promise<void> {
    this.#complete.run(id, nowMs + this.#retentionMs);
  }

  async release(id: string, holder: string): Promise<void> {
    this.#release.run(id, holder);
  }

  /** Closes the database if this store opened it. */
  close(): void {
    if (this.#ownsDb && this.#db.isOpen) this.#db.close();
  }
}
