import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { systemClock, systemRandom } from '../src/core/clock.ts';
import { createIdGenerator } from '../src/core/ids.ts';
import { generateSecret } from '../src/core/signing.ts';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { freePort, type HeraldProcess, kill as killProcess, spawnHerald, TEST_TOKEN } from '../test/support/process.ts';
import { dropSchema, postgresUrl, uniqueSchema } from '../test/support/stores.ts';
import { RawDatabase } from './fixtures.ts';

export type StoreKind = 'sqlite' | 'postgres';
export const TOKEN = TEST_TOKEN;
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const ids = createIdGenerator(systemClock, systemRandom);

/** A place for one Herald's data: a data dir, and for PostgreSQL a fresh schema. */
export class Workspace {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  readonly schema: string | null;
  readonly kind: StoreKind;

  constructor(kind: StoreKind) {
    this.kind = kind;
    this.schema = kind === 'postgres' ? uniqueSchema() : null;
  }

  get env(): Record<string, string> {
    return this.schema ? { HERALD_DATABASE_URL: postgresUrl(this.schema) } : {};
  }

  async openStore(): Promise<Store> {
    return this.schema ? openPostgresStore({ url: postgresUrl(this.schema), poolSize: 8 }) : openSqliteStore(join(this.dataDir, 'herald.db'));
  }

  /** Where SQLite keeps the workspace's database (unused on PostgreSQL). */
  get databasePath(): string {
    return join(this.dataDir, 'herald.db');
  }

  /** The workspace's database opened directly, for fixtures and shortcuts the store has no call for. */
  async raw(work: (db: RawDatabase) => Promise<void>): Promise<void> {
    const db = await RawDatabase.open(this.schema, this.databasePath);
    try {
      await work(db);
    } finally {
      await db.close();
    }
  }

  async dispose(): Promise<void> {
    rmSync(this.dataDir, { recursive: true, force: true });
    if (this.schema) await dropSchema(this.schema);
  }
}

/** Starts Herald as its own process on the workspace, the way an operator would. */
export async function startHerald(workspace: Workspace, env: Record<string, string> = {}): Promise<HeraldProcess> {
  return spawnHerald(workspace.dataDir, await freePort(), {
    ...(process.env.PROF ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.PROF}` } : {}),
    HERALD_LOG_LEVEL: process.env.HERALD_LOG_LEVEL ?? 'error',
    // The benchmark measures throughput, not the per-token limiter.
    HERALD_RATE_LIMIT: '0',
    HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
    ...workspace.env,
    ...env,
  });
}

/** Stops Herald: at once, or with SIGTERM when profiling (`PROF=<dir>`), so it can write its profile. */
export function kill(herald: HeraldProcess, signal?: NodeJS.Signals): Promise<void> {
  return killProcess(herald, signal ?? (process.env.PROF ? 'SIGTERM' : 'SIGKILL'));
}

/** Resident memory of a process, in MB, from /proc. */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

/**
 * CPU time a process has used, its threads included, in seconds, from /proc (user and system
 * time, in the kernel's clock ticks of 1/100 s).
 */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A child process speaking JSON over IPC: `ask` sends a command and awaits the next message. */
export class Child {
  readonly process: ChildProcess;
  readonly ready: Promise<any>;
  #pending: { resolve: (message: any) => void; reject: (error: Error) => void } | null = null;

  constructor(script: string, args: string[] = []) {
    this.process = fork(here(script), args, { execPath: process.execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = this.#answer();
    // A child that is never asked to be ready (it reports only when done) leaves this unheard.
    this.ready.catch(() => {});
    this.process.on('message', (message) => this.#take()?.resolve(message));
    // A child that dies while an answer is awaited fails the wait instead of hanging the bench.
    this.process.once('exit', (code, signal) => this.#take()?.reject(new Error(`bench: ${script} exited (${code ?? signal}) before it answered`)));
  }

  ask(message: object): Promise<any> {
    const answer = this.#answer();
    this.process.send(message);
    return answer;
  }

  done(): Promise<any> {
    return this.#answer();
  }

  async close(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill('SIGKILL');
    await exited;
  }

  #answer(): Promise<any> {
    return new Promise((resolve, reject) => (this.#pending = { resolve, reject }));
  }

  #take() {
    const pending = this.#pending;
    this.#pending = null;
    return pending;
  }
}

export interface ReceiverStats {
  counts: number[];
  firstAt: Array<number | null>;
  lastAt: Array<number | null>;
  latencies: number[];
  /** For "limit:<n>" servers: when each request was taken, and when each was refused with 429. */
  acceptedAt: number[][];
  refusedAt: number[][];
}

/** The receiver process, one server per behaviour ("ok", "slow:5000", "flaky:0.2", "limit:50"). */
export async function startReceiver(behaviours: string[]): Promise<{ child: Child; urls: string[]; stats(): Promise<ReceiverStats> }> {
  const child = new Child('./processes/receiver.ts', behaviours);
  const { ports } = await child.ready;
  return { child, urls: (ports as number[]).map((port) => `http://127.0.0.1:${port}/hook`), stats: () => child.ask({ cmd: 'stats' }) };
}

export type BenchReceiver = Awaited<ReturnType<typeof startReceiver>>;

/**
 * A fresh workspace, a receiver with one healthy server, and Herald started on the workspace, for
 * the length of `run`; all three are gone afterwards, whatever happened.
 */
export async function withHerald<T>(kind: StoreKind, run: (herald: HeraldProcess, receiver: BenchReceiver) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  const workspace = new Workspace(kind);
  const receiver = await startReceiver(['ok']);
  try {
    const herald = await startHerald(workspace, env);
    try {
      return await run(herald, receiver);
    } finally {
      await kill(herald);
    }
  } finally {
    await receiver.child.close();
    await workspace.dispose();
  }
}

/** Waits until `check` is true, polling every `everyMs`; fails after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Requests answered in a stretch of load, how long it lasted, and the CPU time the server used in it. */
export interface Turn {
  answered: number;
  seconds: number;
  cpuSeconds: number;
}

const sum = (turns: readonly Turn[], pick: (turn: Turn) => number) => turns.reduce((total, turn) => total + pick(turn), 0);
/** Requests per second over several turns. */
export const turnsRate = (turns: readonly Turn[]) => sum(turns, (t) => t.answered) / sum(turns, (t) => t.seconds);
/** The server's CPU use over several turns, as a fraction of one core (its threads included). */
export const turnsCpu = (turns: readonly Turn[]) => sum(turns, (t) => t.cpuSeconds) / sum(turns, (t) => t.seconds);

/**
 * Closed-loop load on one server: `connections` requests in flight, each sent again as soon as
 * its answer arrives. The connections stay open between runs, so runs can alternate between
 * servers without reconnecting.
 */
export class ClosedLoop {
  readonly #target: URL;
  readonly #agent: Agent;
  readonly #options: { body: string; connections: number; expect: number; headers: Record<string, string>; serverPid: number };

  /** `serverPid` is the process answering, whose CPU time each turn reports. */
  constructor(url: string, options: { body: string; connections: number; expect: number; headers?: Record<string, string>; serverPid: number }) {
    this.#target = new URL(url);
    this.#agent = new Agent({ connections: options.connections, keepAliveTimeout: 60_000 });
    this.#options = { headers: {}, ...options };
  }

  /** Loads the server for `durationMs`: how many requests were answered (with status `expect`), in how many seconds. */
  async run(durationMs: number): Promise<Turn> {
    const { body, connections, expect, headers, serverPid } = this.#options;
    const path = this.#target.pathname + this.#target.search;
    let ok = 0;
    let stop = false;
    const cpuBefore = processCpuSeconds(serverPid);
    const started = performance.now();
    setTimeout(() => (stop = true), durationMs).unref();
    await Promise.all(Array.from({ length: connections }, async () => {
      while (!stop) {
        const response = await this.#agent.request({ origin: this.#target.origin, path, method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
        await response.body.dump();
        if (response.statusCode !== expect) throw new Error(`bench: ${this.#target.href} answered ${response.statusCode}`);
        ok++;
      }
    }));
    return { answered: ok, seconds: (performance.now() - started) / 1000, cpuSeconds: processCpuSeconds(serverPid) - cpuBefore };
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/**
 * Creates an application with one endpoint per URL and queues `messages` messages for all of them.
 * The messages go straight into the database, many to a statement: through the store, a backlog
 * of a million took PostgreSQL most of a minute, and a fixture is not what the bench measures.
 */
export async function prefill(workspace: Workspace, urls: string[], messages: number, payloadBytes: number, transformation: string | null = null): Promise<{ appId: string }> {
  const store = await workspace.openStore();
  const now = Date.now();
  const app = await store.apps.create({ id: ids('application'), uid: 'bench', name: 'bench', metadata: {}, throttleRate: null, createdAt: now, updatedAt: now });
  const endpointIds: string[] = [];
  try {
    for (const url of urls) {
      const endpoint = await store.endpoints.create({
        id: ids('endpoint'), appId: app.id, uid: null, url, description: '', eventTypes: null, channels: null, disabled: false,
        metadata: {}, throttleRate: null, headers: {}, secrets: [{ key: generateSecret(systemRandom), expiresAt: null }], createdAt: now, updatedAt: now,
      });
      endpointIds.push(endpoint.id);
      if (transformation) await store.endpoints.setTransformation(app.id, endpoint.id, { code: transformation, enabled: true, updatedAt: now });
    }
  } finally {
    await store.close();
  }
  // In a process of its own: node:sqlite's statements block, and so two stores' backlogs can be
  // written side by side on the two cores (see the backlog scenario).
  const loader = new Child('./processes/queue-loader.ts', [workspace.schema ?? '', workspace.databasePath, app.id, endpointIds.join(','), String(messages), String(payloadBytes)]);
  try {
    await loader.ready;
  } finally {
    await loader.close();
  }
  return { appId: app.id };
}

/** Creates an application and one endpoint per URL through the API. */
export async function appWithEndpoints(apiUrl: string, urls: string[]): Promise<string> {
  const call = async (path: string, body: object) => {
    const response = await fetch(apiUrl + path, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`bench: ${path} answered ${response.status}: ${await response.text()}`);
    return response.json() as Promise<{ id: string }>;
  };
  const app = await call('/api/v1/app', { name: 'bench' });
  for (const url of urls) await call(`/api/v1/app/${app.id}/endpoint`, { url });
  return app.id;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Deliveries per second between the first and the last arrival at one receiver server. */
export function arrivalRate(stats: ReceiverStats, index: number): number {
  const first = stats.firstAt[index];
  const last = stats.lastAt[index];
  return first && last && last > first ? (stats.counts[index]! - 1) / ((last - first) / 1000) : Number.NaN;
}

/**
 * Calls `send` at an even cadence of `rate` a second for `durationMs`: on each timer tick, every
 * call whose time has come. Resolves with how many it started once they have all settled.
 */
export async function atRate(rate: number, durationMs: number, send: () => Promise<void>): Promise<number> {
  const pending: Array<Promise<void>> = [];
  const interval = 1000 / rate;
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < durationMs) {
    const due = Math.floor((performance.now() - started) / interval) + 1;
    for (; sent < due; sent++) pending.push(send());
    await sleep(1);
  }
  await Promise.all(pending);
  return sent;
}
