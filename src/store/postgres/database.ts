import pg from 'pg';
import { StoreError } from '../errors.ts';
import { readMigrations, schemaTooNew } from '../migration-files.ts';
import type { Row } from '../rows.ts';
import { numbered } from '../sql.ts';

/** The notification channel a committed message's deliveries are announced on. */
export const DUE_CHANNEL = 'herald_due';
/** The channel changes to an application or its endpoints are announced on, with the app id. */
export const CONFIG_CHANNEL = 'herald_config';

export interface PostgresOptions {
  url: string;
  /** A schema to use instead of the URL's default (tests give each store its own). */
  schema?: string;
  poolSize?: number;
}

const INT8_OID = 20;

/**
 * A pg Pool with Herald's conventions: `?` placeholders, bigint as number (epoch milliseconds fit),
 * and errors turned into StoreError: unique violations into 'conflict', lost or refused
 * connections into 'unavailable' (the API answers 503 and workers back off).
 */
export class PostgresDatabase {
  readonly pool: pg.Pool;
  readonly #options: PostgresOptions;

  constructor(options: PostgresOptions) {
    this.#options = options;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
      types: { getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
    });
    // An idle client losing its server must not crash the process; the next query reports it.
    this.pool.on('error', () => {});
  }

  async query<T = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(numbered(sql), params as unknown[])).rows as T[];
    } catch (error) {
      throw translate(error);
    }
  }

  async one<T = Row>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.query<T>(sql, params))[0];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    try {
      return (await this.pool.query(numbered(sql), params as unknown[])).rowCount ?? 0;
    } catch (error) {
      throw translate(error);
    }
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
      next.on('notification', (message) => onNotify(message.payload ?? ''));
      next.on('error', () => {});
      next.on('end', () => {
        if (client === next && !stopped) setTimeout(connect, retryMs).unref();
      });
      try {
        await next.connect();
        await next.query(`LISTEN ${channel}`);
        client = next;
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

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** SQLSTATE classes and codes that mean "the database is not there right now". */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']);

export function translate(error: unknown): unknown {
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? '';
  if (code === '23505') return new StoreError('conflict', message, { cause: error });
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message)) {
    return new StoreError('unavailable', `PostgreSQL is unavailable: ${message}`, { cause: error });
  }
  return error;
}
