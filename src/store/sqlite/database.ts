import { closeSync, fsync, openSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { StoreError } from '../errors.ts';
import { readMigrations, schemaTooNew } from '../migration-files.ts';
import type { Row } from '../rows.ts';
import { acquireProcessLock } from './process-lock.ts';

/**
 * Fsyncs of the log in flight at once. A commit landing while one is under way need not wait for
 * it to finish before its own starts; two leave the rest of libuv's four threads to DNS lookups.
 */
const MAX_SYNCS = 2;

type Job = { work: () => unknown; durable: boolean; resolve: (value: unknown) => void; reject: (error: unknown) => void };
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * One SQLite connection with a statement cache and group commit.
 *
 * node:sqlite is synchronous, so a write never interleaves with another; `write()` queues work
 * and runs everything queued in the same event-loop turn inside one transaction, where one job
 * failing does not undo its neighbours (see `#commit`). Concurrent API requests thus share one
 * fsync (design invariant 1) and none is answered before its commit.
 */
export class SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** The same, for statements that return rows as arrays (see `tuples`). */
  readonly #tupleStatements = new Map<string, StatementSync>();
  #queue: Job[] = [];
  /** The write-ahead log, which Herald syncs itself after each durable commit (see `write`). */
  readonly #wal: number;
  /** Commits waiting for the next fsync of the log, which serves them all. */
  #unsynced: Array<(error: Error | null) => void> = [];
  #syncs = 0;
  readonly #releaseLock: () => void;
  #checkpointer: Worker | null = null;
  /** Reads sent to the checkpointer thread, by id, waiting for its answer. */
  readonly #asides = new Map<number, { resolve: (row: unknown) => void; reject: (error: Error) => void }>();
  #asideIds = 0;

  constructor(path: string) {
    this.#releaseLock = acquireProcessLock(path);
    this.#db = new DatabaseSync(path, { timeout: 5_000 });
    this.#db.exec('PRAGMA journal_mode = WAL');
    this.#db.exec('PRAGMA synchronous = NORMAL');
    this.#db.exec('PRAGMA foreign_keys = ON');
    // Savepoints (a batch with a failed job runs again with one per job) and statements that may
    // need undoing keep undo copies of the pages they touch, in a temporary file by default: a
    // write system call per page, which made an insert cost three times what it does in memory.
    this.#db.exec('PRAGMA temp_store = MEMORY');
    // The checkpointer thread keeps the log short; this only matters if it falls far behind.
    this.#db.exec('PRAGMA wal_autocheckpoint = 10000');
    this.#db.exec('PRAGMA journal_size_limit = 67108864');
    this.#wal = openSync(`${path}-wal`, 'a');
    this.#path = path;
  }

  readonly #path: string;

  /** Moves checkpoints to a worker thread (see checkpointer.ts). */
  startCheckpointer(intervalMs = 200): void {
    this.#checkpointer = new Worker(new URL('./checkpointer.js', import.meta.url), { workerData: { path: this.#path, intervalMs } });
    this.#checkpointer.unref();
    // Under steady writes a checkpoint running beside the writer never catches the log's end, and
    // the log only starts over once one has. So after each of the worker's passes the writer
    // copies the frames committed during it (few, so about a millisecond) between two of its own
    // transactions, and its next commit can start the log from the beginning.
    this.#checkpointer.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null) {
        const { id, row, error } = message as { id: number; row?: unknown; error?: string };
        const aside = this.#asides.get(id);
        this.#asides.delete(id);
        if (error === undefined) aside?.resolve(row);
        else aside?.reject(new StoreError('unavailable', `SQLite read failed: ${error}`));
        return;
      }
      if (message !== 'checkpointed') return;
      setImmediate(() => {
        if (this.#db.isOpen && !this.#db.isTransaction) this.#statement('PRAGMA wal_checkpoint(PASSIVE)').all();
      });
    });
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

  /** Registers a deterministic SQL function written in JavaScript on this connection. */
  defineFunction(name: string, fn: (...args: never[]) => unknown): void {
    this.#db.function(name, { deterministic: true }, fn as (...args: SQLInputValue[]) => SQLInputValue);
  }

  all<T = Row>(sql: string, ...params: unknown[]): T[] {
    return this.#statement(sql).all(...(params as SQLInputValue[])) as T[];
  }

  /**
   * Rows as arrays of column values, in the order the query names them: for queries returning many
   * small rows, where building an object per row costs more than running the query.
   */
  tuples<T extends unknown[]>(sql: string, ...params: unknown[]): T[] {
    return this.#statement(sql, { arrays: true }).all(...(params as SQLInputValue[])) as unknown as T[];
  }

  get<T = Row>(sql: string, ...params: unknown[]): T | undefined {
    return this.#statement(sql).get(...(params as SQLInputValue[])) as T | undefined;
  }

  /**
   * Runs a read on the checkpointer thread's connection, so a slow one (a count over every
   * delivery) does not block the event loop; it sees the last commit, like any reader in WAL mode.
   * Without that thread (not started), it runs here.
   */
  readAside<T = Row>(sql: string, ...params: unknown[]): Promise<T | undefined> {
    const worker = this.#checkpointer;
    if (!worker) return Promise.resolve(this.get<T>(sql, ...params));
    return new Promise<T | undefined>((resolve, reject) => {
      const id = ++this.#asideIds;
      this.#asides.set(id, { resolve: resolve as (row: unknown) => void, reject });
      worker.postMessage({ id, sql, params });
    });
  }

  /** Runs an INSERT and returns the new row's rowid. */
  insert(sql: string, ...params: unknown[]): number {
    return Number(this.#statement(sql).run(...(params as SQLInputValue[])).lastInsertRowid);
  }

  run(sql: string, ...params: unknown[]): number {
    return Number(this.#statement(sql).run(...(params as SQLInputValue[])).changes);
  }

  /**
   * Runs `work` in the next group commit and resolves once it is committed.
   *
   * A commit is in the write-ahead log as soon as it returns, so it survives the process being
   * killed. A durable one is also synced to disk before it resolves, so it survives power loss:
   * SQLite's own `synchronous = FULL` would block the event loop for the fsync, so the database
   * runs with `NORMAL` (which still syncs at checkpoints) and Herald fsyncs the log file itself on
   * libuv's thread pool, answering its callers when that completes. Group commit keeps it to one
   * fsync per batch. Queue bookkeeping (claims, results, released leases) asks for less: losing
   * its last commits to a power cut only means a delivery is sent again.
   *
   * `work` may run twice (a batch in which another job failed runs again), so it must do nothing
   * but database work.
   */
  write<T>(work: () => T, { durable = true }: { durable?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#queue.length === 0) setImmediate(() => this.#commit());
      this.#queue.push({ work, durable, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  async close(): Promise<void> {
    if (this.#queue.length > 0) this.#commit();
    while (this.#syncs > 0 || this.#unsynced.length > 0) await new Promise((resolve) => setTimeout(resolve, 1));
    const checkpointer = this.#checkpointer;
    if (checkpointer) {
      await new Promise((resolve) => {
        checkpointer.on('message', (message) => message === 'stopped' && resolve(undefined));
        checkpointer.once('exit', resolve);
        checkpointer.postMessage('stop');
      });
      await checkpointer.terminate();
      for (const aside of this.#asides.values()) aside.reject(new StoreError('unavailable', 'The database was closed.'));
      this.#asides.clear();
    }
    closeSync(this.#wal);
    this.#db.close();
    this.#releaseLock();
  }

  #commit(): void {
    const jobs = this.#queue;
    this.#queue = [];
    if (jobs.length === 0) return;
    let outcomes: Outcome[];
    try {
      // A savepoint per job lets one that fails undo only itself, but copying the pages each job
      // touches made up a quarter of an insert's cost. Jobs rarely fail, so a batch runs without
      // savepoints first, and only when one fails is it rolled back and run again with them.
      outcomes = this.#transaction(jobs, { isolate: false });
      if (jobs.length > 1 && outcomes.some((outcome) => !outcome.ok)) outcomes = this.#transaction(jobs, { isolate: true });
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      const failure = new StoreError('unavailable', `SQLite commit failed: ${(error as Error).message}`, { cause: error });
      for (const job of jobs) job.reject(failure);
      return;
    }
    const durable: Array<[Job, Outcome]> = [];
    jobs.forEach((job, index) => {
      const outcome = outcomes[index]!;
      if (job.durable && outcome.ok) durable.push([job, outcome]);
      else if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    });
    if (durable.length === 0) return;
    this.#unsynced.push((error) => {
      const failure = error && new StoreError('unavailable', `Syncing the SQLite log failed: ${error.message}`, { cause: error });
      for (const [job, outcome] of durable) {
        if (failure) job.reject(failure);
        else job.resolve((outcome as { value: unknown }).value);
      }
    });
    this.#sync();
  }

  /**
   * Runs the jobs in one transaction. Isolated, each runs under a savepoint and a failure undoes
   * only its own job; otherwise the first failure rolls the whole transaction back and ends it,
   * so the jobs after it get no outcome.
   */
  #transaction(jobs: readonly Job[], { isolate }: { isolate: boolean }): Outcome[] {
    const outcomes: Outcome[] = [];
    this.#statement('BEGIN IMMEDIATE').run();
    for (const job of jobs) {
      if (isolate) this.#statement('SAVEPOINT job').run();
      try {
        outcomes.push({ ok: true, value: job.work() });
        if (isolate) this.#statement('RELEASE job').run();
      } catch (error) {
        outcomes.push({ ok: false, error: translate(error) });
        if (!isolate) {
          if (this.#db.isTransaction) this.#statement('ROLLBACK').run();
          return outcomes;
        }
        this.#statement('ROLLBACK TO job').run();
        this.#statement('RELEASE job').run();
      }
    }
    this.#statement(outcomes.some((outcome) => outcome.ok) ? 'COMMIT' : 'ROLLBACK').run();
    return outcomes;
  }

  #sync(): void {
    if (this.#syncs >= MAX_SYNCS || this.#unsynced.length === 0) return;
    const waiting = this.#unsynced;
    this.#unsynced = [];
    this.#syncs++;
    fsync(this.#wal, (error) => {
      this.#syncs--;
      for (const done of waiting) done(error);
      this.#sync();
    });
  }

  #statement(sql: string, { arrays = false } = {}): StatementSync {
    const cache = arrays ? this.#tupleStatements : this.#statements;
    let statement = cache.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      statement.setReturnArrays(arrays);
      cache.set(sql, statement);
    }
    return statement;
  }
}

const SQLITE_CONSTRAINT = 19;

function translate(error: unknown): unknown {
  const errcode = (error as { errcode?: number }).errcode;
  if (errcode !== undefined && errcode % 256 === SQLITE_CONSTRAINT) {
    const message = (error as Error).message;
    if (/UNIQUE/.test(message)) return new StoreError('conflict', message, { cause: error });
    // What a row refers to was deleted by a write that committed first (an application, say).
    if (/FOREIGN KEY/.test(message)) return new StoreError('missing', message, { cause: error });
  }
  return error;
}
