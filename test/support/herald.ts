import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Svix } from 'svix';
import { type Config, loadConfig } from '../../src/config/config.ts';
import type { Clock } from '../../src/core/clock.ts';
import { type Herald, startHerald } from '../../src/herald.ts';
import { after, before } from 'node:test';
import { type Receiver, startReceiver } from './receiver.ts';
import { dropSchema, postgresUrl, type StoreKind, trackFailures, uniqueSchema } from './stores.ts';

export interface TestHerald {
  herald: Herald;
  svix: Svix;
  url: string;
  token: string;
  dataDir: string;
  /** The PostgreSQL schema of this Herald's data, or null on SQLite. */
  schema: string | null;
  /** Calls the API with the admin token; `body` is sent as JSON unless it is a string. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  /** Stops Herald and deletes its data, unless `keepData` (a failed test's data is worth a look). */
  close(keepData?: boolean): Promise<void>;
}

export interface TestHeraldOptions {
  store?: StoreKind;
  /** Settings, by environment variable name, over the test defaults. */
  env?: Record<string, string>;
  /** The clock Herald reads (ids, attempts, retries), instead of the system's. */
  clock?: Clock;
}

/**
 * An in-process Herald on a free port with its own SQLite data directory, private networks allowed
 * (receivers run on 127.0.0.1) and a compressed retry schedule. Settings go through the real config
 * loader, so tests use the same names operators do.
 */
export async function startTestHerald({ store = 'sqlite', env = {}, clock }: TestHeraldOptions = {}): Promise<TestHerald> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-test-'));
  const schema = store === 'postgres' ? uniqueSchema() : null;
  const config: Config = loadConfig({}, {
    ...(schema ? { HERALD_DATABASE_URL: postgresUrl(schema) } : {}),
    HERALD_PORT: '0',
    HERALD_DATA_DIR: dataDir,
    HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
    HERALD_RETRY_SCHEDULE: '100ms,200ms',
    // With retries 100 ms apart, ten failures in a row come in a second, and the circuit breaker
    // would hold back every test's failing endpoint; its own tests set it.
    HERALD_CIRCUIT_FAILURES: '1000000',
    HERALD_REQUEST_TIMEOUT: '2s',
    HERALD_LOG_LEVEL: 'silent',
    ...env,
  });
  const herald = await startHerald(config, { logger: pino({ level: config.logLevel }), ...(clock ? { clock } : {}) });
  const url = herald.url!;
  const token = herald.adminToken!;
  const svix = new Svix(token, { serverUrl: url });
  return {
    herald,
    svix,
    url,
    token,
    dataDir,
    schema,
    async api(method, path, body, headers = {}) {
      const response = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {}
      return { status: response.status, body: parsed, headers: response.headers };
    },
    async close(keepData = false) {
      await herald.close();
      if (keepData) {
        console.log(`kept the failed test's data: ${schema ? `schema ${schema}` : dataDir}`);
        return;
      }
      rmSync(dataDir, { recursive: true, force: true });
      if (schema) await dropSchema(schema);
    },
  };
}

/**
 * A Herald and a receiver for one suite: started before its first test (and handed to `started`),
 * stopped after its last. A suite with a failed test keeps its Herald's data to look at.
 */
export function heraldAndReceiverPerSuite(options: TestHeraldOptions, started: (both: { h: TestHerald; receiver: Receiver }) => void): void {
  const failures = trackFailures();
  let both: { h: TestHerald; receiver: Receiver } | undefined;
  before(async () => {
    both = { h: await startTestHerald(options), receiver: await startReceiver() };
    started(both);
  });
  after(async () => {
    await both?.h.close(failures.any());
    await both?.receiver.close();
  });
}
