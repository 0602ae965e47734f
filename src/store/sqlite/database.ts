import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { StoreError } from '../errors.ts';
import { readMigrations, schemaTooNew } from '../migration-files.ts';
import type { Row } from '../rows.ts';

type Job = { work: () => unknown; durable: boolean; resolve: (value: unknown) => void; reject: (error: unknown) => void };

/**
 * One SQLite connection with a statement cache and group commit.
 *
 * node:sqlite is synchronous, so a write never interleaves with another; `write()` queues work
 * and runs everything queued in the same event-loop turn inside one transaction, each job under
 * its own savepoint so one failure does not undo its neighbours. Concurrent API requests thus
 * share one fsync (design invariant 1) and none is answered before its commit.
 */
export class SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #queue: Job[] = [];
  #synchronous: 'FULL' | 'NORMAL' = 'FULL';

  constructor(path: string) {
    this.#db = new DatabaseSync(path, { timeout: 0 });
    try {
      // EXCLUSIVE locking keeps a second process off the file: SQLite is Herald's single-process store.
      this.#db.exec('PRAGMA locking_mode = EXCLUSIVE');
      this.#db.exec('PRAGMA journal_mode = WAL');
      this.#db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (error) {
      this.#db.close();
      if (isBusy(error)) {
        throw new StoreError(
          'unavailable',
          `Another process holds the SQLite database ${path}. SQLite serves one Herald process per data directory; ` +
            'stop the other one, give this one its own --data-dir, or use PostgreSQL (--database-url) to run several.',
          { cause: error },
        );
      }
      throw error;
    }
    this.#db.exec('PRAGMA synchronous = FULL');
    this.#db.exec('PRAGMA foreign_keys = ON');
  }

  migrate(directory: string): void {
    const migrations = readMigrations(directory);
    this.#db.exec('CREATE TABLE IF NOT EXISTS herald_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
    const current = Number(this.get<{ v: number | null }>('SELECT max(version) AS v FROM herald_migrations')?.v ?? 0);
    if (current > migrations.length) throw schemaTooNew(current, migrations.length);
    for (const migration of migrations.slice(current)) {
      this.#db.exec('BEGIN');
      try {
        this.#db.exec(migration.sql);
        this.run('INSERT INTO herald_migrations (version, name, applied_at) VALUES (?, ?, ?)', migration.version, migration.name, Date.now());
        this.#db.exec('COMMIT');
      } catch (error) {
        this.#db.exec('ROLLBACK');
        throw new Error(`SQLite migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
  }

  all<T = Row>(sql: string, ...params: unknown[]): T[] {
    return this.#statement(sql).all(...(params as SQLInputValue[])) as T[];
  }

  get<T = Row>(sql: string, ...params: unknown[]): T | undefined {
    return this.#statement(sql).get(...(params as SQLInputValue[])) as T | undefined;
  }

  run(sql: string, ...params: unknown[]): number {
    return Number(this.#statement(sql).run(...(params as SQLInputValue[])).changes);
  }

  /**
   * Runs `work` in the next group commit and resolves once it is committed.
   *
   * A durable commit syncs the WAL (`synchronous = FULL`), so what it wrote survives power loss,
   * not only a killed process; group commit keeps that to one fsync per batch. Queue bookkeeping
   * (claims, results, released leases) asks for less: losing its last commits to a power cut only
   * means a delivery is sent again, so a batch of only those skips the fsync.
   */
  write<T>(work: () => T, { durable = true }: { durable?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#queue.length === 0) setImmediate(() => this.#commit());
      this.#queue.push({ work, durable, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  close(): void {
    if (this.#queue.length > 0) this.#commit();
    this.#db.close();
  }

  #commit(): void {
    const jobs = this.#queue;
    this.#queue = [];
    if (jobs.length === 0) return;
    const synchronous = jobs.some((job) => job.durable) ? 'FULL' : 'NORMAL';
    if (synchronous !== this.#synchronous) {
      this.#db.exec(`PRAGMA synchronous = ${synchronous}`);
      this.#synchronous = synchronous;
    }
    // Each job runs under a savepoint so that one failing undoes only itself; a lone job needs
    // none, since the transaction is all its own.
    const isolate = jobs.length > 1;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.#statement('BEGIN IMMEDIATE').run();
      for (const job of jobs) {
        if (isolate) this.#statement('SAVEPOINT job').run();
        try {
          outcomes.push({ ok: true, value: job.work() });
          if (isolate) this.#statement('RELEASE job').run();
        } catch (error) {
          outcomes.push({ ok: false, error: translate(error) });
          if (isolate) {
            this.#statement('ROLLBACK TO job').run();
            this.#statement('RELEASE job').run();
          }
        }
      }
      this.#statement(outcomes.some((outcome) => outcome.ok) ? 'COMMIT' : 'ROLLBACK').run();
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      const failure = new StoreError('unavailable', `SQLite commit failed: ${(error as Error).message}`, { cause: error });
      for (const job of jobs) job.reject(failure);
      return;
    }
    jobs.forEach((job, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    });
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}

const SQLITE_BUSY = 5;
const SQLITE_CONSTRAINT = 19;

function isBusy(error: unknown): boolean {
  return ((error as { errcode?: number }).errcode ?? 0) % 256 === SQLITE_BUSY;
}

function translate(error: unknown): unknown {
  const errcode = (error as { errcode?: number }).errcode;
  if (errcode !== undefined && errcode % 256 === SQLITE_CONSTRAINT && /UNIQUE/.test((error as Error).message)) {
    return new StoreError('conflict', (error as Error).message, { cause: error });
  }
  return error;
}
