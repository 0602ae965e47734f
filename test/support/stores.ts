import { randomBytes } from 'node:crypto';
import { afterEach, describe } from 'node:test';
import pg from 'pg';

export type StoreKind = 'sqlite' | 'postgres';

const EXPLICIT_URL = process.env.HERALD_TEST_DATABASE_URL;
/** The PostgreSQL the suites use; CI sets HERALD_TEST_DATABASE_URL, which also makes it mandatory. */
export const TEST_DATABASE_URL = EXPLICIT_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<boolean> | null = null;

/**
 * Whether the PostgreSQL suites can run. Unreachable is a failure when HERALD_TEST_DATABASE_URL
 * was given (as in CI), and a clearly reported skip otherwise (a laptop without PostgreSQL).
 */
export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch (error) {
      if (EXPLICIT_URL) throw new Error(`HERALD_TEST_DATABASE_URL=${EXPLICIT_URL} is unreachable: ${(error as Error).message}`);
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

/** The stores a suite runs against; top-level `await` it in a test file. */
export async function storeKinds(): Promise<StoreKind[]> {
  return (await postgresReachable()) ? ['sqlite', 'postgres'] : ['sqlite'];
}

export const SKIPPED_POSTGRES = `PostgreSQL suite skipped: nothing answers at ${TEST_DATABASE_URL} (set HERALD_TEST_DATABASE_URL to run it)`;

/** Declares the suite once per available store, and says so when PostgreSQL had to be skipped. */
export async function forEachStore(declare: (store: StoreKind) => void): Promise<void> {
  const kinds = await storeKinds();
  kinds.forEach(declare);
  if (!kinds.includes('postgres')) describe.skip(SKIPPED_POSTGRES, () => {});
}

/** A fresh schema name, so PostgreSQL tests run in parallel without sharing rows. */
export function uniqueSchema(): string {
  return `herald_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export function postgresUrl(schema: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('schema', schema);
  return url.toString();
}

/**
 * Remembers whether any test of the calling file failed, so its data (a schema, a data directory)
 * can be kept for inspection instead of being cleaned up.
 */
export function trackFailures(): { any(): boolean } {
  let failed = false;
  afterEach((t) => {
    if ((t as { passed?: boolean }).passed === false) failed = true;
  });
  return { any: () => failed };
}
