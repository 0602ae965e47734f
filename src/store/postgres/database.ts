import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { StoreError } from '../errors.ts';
import { readMigrations, schemaTooNew } from '../migration-files.ts';
import type { Row } from '../rows.ts';
import type { PoolUse } from '../store.ts';
import { numbered } from '../sql.ts';

/** The notification channel a committed message's deliveries are announced on. */
export const DUE_CHANNEL = 'herald_due';
/** The channel changes to an application or its endpoints are announced on, with the app id. */
export const CONFIG_CHANNEL = 'herald_config';
/** The channel a committed bin capture is announced on, with the bin id. */
export const BIN_CHANNEL = 'herald_bin';
/** Marks a notice on BIN_CHANNEL as the bin's deletion; bin ids never start with it. */
export const DELETED_MARK = '-';

/** What a fence's payload, and an answer to one, start with, so listeners tell them from a change (see `fence`). */
const FENCE = 'fence:';
const ACK = 'ack:';
const FENCE_TIMEOUT_MS = 1_000;

export interface PostgresOptions {
  url: string;
  /** A schema to use instead of the URL's default (tests give each store its own). */
  schema?: string;
  poolSize?: number;
}

const INT8_OID = 20;

export interface QueryOptions {
  /**
   * False for the queue's bookkeeping (claims, results, released leases): a crash that loses one
   * only causes a resend, so it commits without waiting for the log to reach the disk, and the
   * flushes left are the ones accepted messages wait for.
   */
  durable?: boolean;
  /** Prepared once per connection under a name: for the statements every message runs. */
  prepared?: boolean;
}

/**
 * A pg Pool with Herald's conventions: `?` placeholders, bigint as number (epoch milliseconds fit),
 * and errors turned into StoreError: unique violations into 'conflict', data exceptions into
 * 'invalid', lost or refused connections into 'unavailable' (the API answers 503 and workers back
 * off).
 */
export class PostgresDatabase {
  readonly pool: pg.Pool;
  /** Connections whose commits do not wait for the log flush (`synchronous_commit = off`). */
  readonly #bookkeeping: pg.Pool;
  readonly #options: PostgresOptions;
  /** Prepared statements by their SQL: the text with numbered placeholders, and its name. */
  readonly #statements = new Map<string, { text: string; name: string }>();
  /** Fences this process waits on, by their nonce: each counts the answers to it (see `fence`). */
  readonly #fences = new Map<string, () => void>();
  /** Listening connections up, by channel. */
  readonly #listening = new Map<string, number>();

  constructor(options: PostgresOptions) {
    this.#options = options;
    const size = options.poolSize ?? 10;
    // Bookkeeping is a few statements at a time (one claim, a batch of results), so it takes a
    // third of the connections and the API the rest; each pool opens connections only as needed.
    const bookkeeping = Math.max(1, Math.round(size / 3));
    this.pool = this.#newPool(Math.max(1, size - bookkeeping), []);
    this.#bookkeeping = this.#newPool(bookkeeping, ['-c synchronous_commit=off']);
  }

  /** Each pool's connections: open, idle, and the queries waiting for one. */
  poolUse(): PoolUse[] {
    const pools: Array<[string, pg.Pool]> = [['api', this.pool], ['bookkeeping', this.#bookkeeping]];
    return pools.map(([name, pool]) => ({
      pool: name, max: pool.options.max ?? 0, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount,
    }));
  }

  #newPool(max: number, settings: string[]): pg.Pool {
    const options = [...(this.#options.schema ? [`-c search_path=${this.#options.schema}`] : []), ...settings];
    const pool = new pg.Pool({
      connectionString: this.#options.url,
      max,
      connectionTimeoutMillis: 5_000,
      ...(options.length > 0 ? { options: options.join(' ') } : {}),
      types: { getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
    });
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on('error', () => {});
    return pool;
  }

  async query<T = Row>(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<T[]> {
    return (await this.#execute(sql, params, options)).rows as T[];
  }

  async one<T = Row>(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<T | undefined> {
    return (await this.query<T>(sql, params, options))[0];
  }

  async run(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<number> {
    return (await this.#execute(sql, params, options)).rowCount ?? 0;
  }

  async #execute(sql: string, params: readonly unknown[], { durable = true, prepared = false }: QueryOptions): Promise<pg.QueryResult> {
    const statement = prepared ? this.#prepared(sql) : { text: numbered(sql) };
    try {
      return await (durable ? this.pool : this.#bookkeeping).query({ ...statement, values: params as unknown[] });
    } catch (error) {
      throw translate(error);
    }
  }

  /**
   * Runs `work` in one transaction on one connection. PostgreSQL's default isolation (read
   * committed) holds: each statement sees what was committed before it started.
   */
  async transaction<T>(work: (query: <R = Row>(sql: string, params?: readonly unknown[]) => Promise<R[]>) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((error) => Promise.reject(translate(error)));
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(async <R = Row>(sql: string, params: readonly unknown[] = []) =>
        (await client.query({ text: numbered(sql), values: params as unknown[] })).rows as R[]);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw translate(error);
    } finally {
      // A connection that could not even roll back is not given to the next caller.
      client.release(broken);
    }
  }

  /** The text and name of a prepared statement; pg prepares it on each connection's first use. */
  #prepared(sql: string): { text: string; name: string } {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = { text: numbered(sql), name: `herald_${this.#statements.size}` };
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Applies pending migrations under an advisory lock, so processes starting together migrate once.
   * A schema newer than this code stops the process.
   */
  async migrate(directory: string): Promise<void> {
    const migrations = readMigrations(directory);
    const client = await this.pool.connect().catch((error) => Promise.reject(translate(error)));
    // The lock is named after the schema, and taken before creating it: concurrent
    // CREATE SCHEMA IF NOT EXISTS statements race each other.
    const lockKey = `herald_migrations:${this.#options.schema ?? (await client.query('SELECT current_schema() AS s')).rows[0].s}`;
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
      try {
        if (this.#options.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.#options.schema}"`);
        await client.query('CREATE TABLE IF NOT EXISTS herald_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)');
        const { rows } = await client.query('SELECT coalesce(max(version), 0) AS version FROM herald_migrations');
        const current = Number(rows[0].version);
        if (current > migrations.length) throw schemaTooNew(current, migrations.length);
        for (const migration of migrations.slice(current)) {
          await client.query('BEGIN');
          try {
            await client.query(migration.sql);
            await client.query('INSERT INTO herald_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [migration.version, migration.name, Date.now()]);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK');
            throw new Error(`PostgreSQL migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`, { cause: error });
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]);
      }
    } finally {
      client.release();
    }
  }

  /**
   * Calls `onNotify` for every notification on `channel`, over a dedicated connection that is
   * re-established after it drops; `onNotify(null)` is also called after each (re)connect, since
   * notifications sent while disconnected are lost.
   */
  listen(channel: string, onNotify: (payload: string | null) => void): () => Promise<void> {
    let client: pg.Client | null = null;
    let stopped = false;
    let retryMs = 100;
    const connect = async () => {
      if (stopped) return;
      const next = new pg.Client({ connectionString: this.#options.url });
      next.on('notification', (message) => {
        const payload = message.payload ?? '';
        if (!this.#fencing(channel, payload)) onNotify(payload);
      });
      next.on('error', () => {});
      next.on('end', () => {
        if (client !== next) return;
        this.#listening.set(channel, (this.#listening.get(channel) ?? 1) - 1);
        if (!stopped) setTimeout(connect, retryMs).unref();
      });
      try {
        await next.connect();
        await next.query(`LISTEN ${channel}`);
        // Stopped while connecting (a process closing right after it started): nothing holds it open.
        if (stopped) {
          await next.end().catch(() => {});
          return;
        }
        client = next;
        this.#listening.set(channel, (this.#listening.get(channel) ?? 0) + 1);
        retryMs = 100;
        onNotify(null);
      } catch {
        await next.end().catch(() => {});
        retryMs = Math.min(retryMs * 2, 5_000);
        if (!stopped) setTimeout(connect, retryMs).unref();
      }
    };
    void connect();
    return async () => {
      stopped = true;
      await client?.end().catch(() => {});
    };
  }

  /**
   * Returns once every process listening on `channel` has taken in what was notified there before
   * (or after a second; at once if nothing here listens). Each listening connection receives
   * notifications in commit order and handles them as they come, so a fence it answers (an
   * `ack:` notification of its own) follows what came before it; counting an answer from each
   * listening connection (`pg_stat_activity`, whose last query for each is its LISTEN) means all
   * of them have. A revocation that waits on it before answering has dropped every cache: a
   * request made anywhere after the answer is refused. Only a notification heard here would not
   * do: another process may be scheduled a moment later, and its next request handled first.
   */
  async fence(channel: string): Promise<void> {
    if (!this.#listening.get(channel)) return;
    const listeners = (await this.one<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query = ?', [`LISTEN ${channel}`],
    ))?.n ?? 0;
    const nonce = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<void>((resolve) => {
      let answers = 0;
      this.#fences.set(nonce, () => ++answers >= listeners && resolve());
      timer = setTimeout(resolve, FENCE_TIMEOUT_MS);
    });
    try {
      await this.run('SELECT pg_notify(?, ?)', [channel, `${FENCE}${nonce}`]);
      await answered;
    } finally {
      clearTimeout(timer);
      this.#fences.delete(nonce);
    }
  }

  /** A listening connection's part in fences: it answers each, and counts the answers to its own. */
  #fencing(channel: string, payload: string): boolean {
    if (payload.startsWith(FENCE)) {
      this.run('SELECT pg_notify(?, ?)', [channel, `${ACK}${payload.slice(FENCE.length)}`]).catch(() => {});
      return true;
    }
    if (payload.startsWith(ACK)) {
      this.#fences.get(payload.slice(ACK.length))?.();
      return true;
    }
    return false;
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.#bookkeeping.end()]);
  }
}

/** SQLSTATE classes and codes that mean "the database is not there right now". */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']);

export function translate(error: unknown): unknown {
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? '';
  if (code === '23505') return new StoreError('conflict', message, { cause: error });
  // What a row refers to was deleted by a transaction that committed first (an application, say).
  if (code === '23503') return new StoreError('missing', message, { cause: error });
  // Class 22, data exceptions: a value PostgreSQL cannot hold or read (a NUL in text, a lone
  // surrogate in jsonb, a number out of range). The API refuses what it can foresee; this catches
  // the rest as the request's fault rather than a server error.
  if (code.startsWith('22')) return new StoreError('invalid', `PostgreSQL refused a value (SQLSTATE ${code}): ${message}`, { cause: error });
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message)) {
    return new StoreError('unavailable', `PostgreSQL is unavailable: ${message}`, { cause: error });
  }
  return error;
}
