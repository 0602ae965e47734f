import { constants, existsSync, statSync } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { type Config, isPostgresUrl, sqliteFile, withoutPassword } from './config/config.ts';
import { addressPolicy } from './core/address-policy.ts';
import { systemRandom } from './core/clock.ts';
import { createSecretBox } from './core/secret-box.ts';
import { ENCRYPTION_KEY_FILE, KEY_CHECK, loadEncryptionKey, opensKeyCheck } from './encryption-key.ts';
import { readMigrations } from './store/migration-files.ts';
import { withSchemaFromUrl } from './store/postgres/postgres-store.ts';

/**
 * `herald doctor`: what stands between this machine and a working Herald, each finding with what
 * to do about it. It only reads: the database is opened read-only (SQLite, beside a running Herald,
 * whose process lock it leaves alone) or through one connection that changes nothing (PostgreSQL),
 * never migrated, and no key file is generated.
 */
export type Verdict = 'ok' | 'warn' | 'fail';
export interface Finding {
  check: string;
  verdict: Verdict;
  detail: string;
  /** What to do, when the verdict is not ok. */
  fix?: string;
}

const MIN_NODE_MAJOR = 24;
const LOW_SPACE_BYTES = 1024 ** 3;
const SLOW_QUERY_MS = 50;
const CLOCK_SKEW_MS = 2_000;

/** What the database tells: its schema version, journal mode, one query's latency, its clock, the key check. */
interface DatabaseFacts {
  kind: 'SQLite' | 'PostgreSQL';
  where: string;
  version: number;
  known: number;
  journalMode: string | null;
  latencyMs: number;
  skewMs: number | null;
  keyCheck: string | null;
}

export async function diagnose(config: Config, options: { endpoint?: string; now?: () => number } = {}): Promise<Finding[]> {
  const now = options.now ?? Date.now;
  const findings: Finding[] = [];
  const add = (finding: Finding) => findings.push(finding);

  const major = Number(process.versions.node.split('.')[0]);
  add(major >= MIN_NODE_MAJOR
    ? { check: 'Node.js', verdict: 'ok', detail: process.version }
    : { check: 'Node.js', verdict: 'fail', detail: `${process.version}; Herald needs ${MIN_NODE_MAJOR} or later`, fix: 'run it with `npx herald` from the repository (it installs Node.js 24), or install Node.js 24' });

  add(await dataDirectory(config.dataDir));

  let facts: DatabaseFacts | null = null;
  try {
    facts = await databaseFacts(config, now);
  } catch (error) {
    add({ check: 'database', verdict: 'fail', detail: (error as Error).message, fix: config.databaseUrl?.startsWith('postgres')
      ? 'check HERALD_DATABASE_URL (host, port, user, password, database) and that PostgreSQL runs'
      : 'check --data-dir / HERALD_DATA_DIR: it should be the directory `herald serve` uses' });
  }
  if (facts) {
    const { kind, where, version, known } = facts;
    if (version === 0) add({ check: 'database', verdict: 'warn', detail: `${kind} at ${where} has no Herald schema yet`, fix: '`herald serve` creates it at its first start' });
    else if (version > known) add({ check: 'database', verdict: 'fail', detail: `${kind} at ${where} is at schema version ${version}, newer than this Herald's ${known}`, fix: 'run the newer Herald that migrated it, or restore a backup taken before the upgrade' });
    else if (version < known) add({ check: 'database', verdict: 'warn', detail: `${kind} at ${where} is at schema version ${version} of ${known}`, fix: `\`herald serve\` applies the ${known - version} missing migrations at its next start` });
    else add({ check: 'database', verdict: 'ok', detail: `${kind} at ${where}, schema version ${version} (current)` });
    if (facts.journalMode !== null) {
      add(facts.journalMode === 'wal'
        ? { check: 'journal mode', verdict: 'ok', detail: 'WAL' }
        : { check: 'journal mode', verdict: version === 0 ? 'warn' : 'fail', detail: facts.journalMode, fix: '`herald serve` sets WAL at start; a database copied without its -wal file may have lost it' });
    }
    if (version > 0 || kind === 'PostgreSQL') add(facts.latencyMs <= SLOW_QUERY_MS
      ? { check: 'database latency', verdict: 'ok', detail: `${facts.latencyMs.toFixed(1)} ms for a query` }
      : { check: 'database latency', verdict: 'warn', detail: `${facts.latencyMs.toFixed(1)} ms for a query`, fix: 'a database this slow slows every publish; check the network to it and its load' });
    if (facts.skewMs !== null) {
      add(Math.abs(facts.skewMs) <= CLOCK_SKEW_MS
        ? { check: 'clock', verdict: 'ok', detail: `within ${Math.abs(facts.skewMs).toFixed(0)} ms of the database's` }
        : { check: 'clock', verdict: 'fail', detail: `${(facts.skewMs / 1000).toFixed(1)} s off the database's`, fix: 'run NTP (chrony, systemd-timesyncd) on every machine: retries, leases and signature timestamps depend on the clocks agreeing' });
    }
    add(encryptionKey(config, facts.keyCheck));
  }

  if (options.endpoint) findings.push(...(await endpointFindings(options.endpoint, config)));
  return findings;
}

async function dataDirectory(dir: string): Promise<Finding> {
  const check = 'data directory';
  if (!existsSync(dir)) return { check, verdict: 'warn', detail: `${dir} does not exist yet`, fix: '`herald serve` creates it; or give --data-dir' };
  try {
    await access(dir, constants.W_OK);
  } catch {
    return { check, verdict: 'fail', detail: `${dir} is not writable by this user`, fix: `chown it to the user Herald runs as, or give another --data-dir` };
  }
  const mode = statSync(dir).mode & 0o777;
  const keyFile = join(dir, ENCRYPTION_KEY_FILE);
  const keyMode = existsSync(keyFile) ? statSync(keyFile).mode & 0o777 : 0o600;
  if ((keyMode & 0o077) !== 0) {
    return { check, verdict: 'fail', detail: `${keyFile} is readable by others (mode ${keyMode.toString(8)})`, fix: `chmod 600 ${keyFile}: it unseals every endpoint secret` };
  }
  const { bavail, bsize } = await statfs(dir);
  const free = bavail * bsize;
  const gb = (free / 1024 ** 3).toFixed(1);
  if (free < LOW_SPACE_BYTES) return { check, verdict: 'warn', detail: `${dir}: ${gb} GB free`, fix: 'SQLite stops accepting messages when the disk fills: free space or lower HERALD_RETENTION' };
  if ((mode & 0o002) !== 0) return { check, verdict: 'warn', detail: `${dir} is writable by everyone (mode ${mode.toString(8)})`, fix: `chmod o-w ${dir}` };
  return { check, verdict: 'ok', detail: `${dir}, writable, ${gb} GB free` };
}

async function databaseFacts(config: Config, now: () => number): Promise<DatabaseFacts> {
  const url = config.databaseUrl;
  if (isPostgresUrl(url)) {
    const options = withSchemaFromUrl({ url });
    const client = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 5_000, ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}) });
    await client.connect();
    try {
      const started = performance.now();
      const { rows: [clock] } = await client.query<{ at: string }>('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS at');
      const latencyMs = performance.now() - started;
      const skewMs = now() - latencyMs / 2 - Number(clock!.at);
      const migrated = (await client.query<{ t: string | null }>("SELECT to_regclass('herald_migrations')::text AS t")).rows[0]!.t !== null;
      const version = migrated ? Number((await client.query('SELECT coalesce(max(version), 0) AS v FROM herald_migrations')).rows[0].v) : 0;
      const hasSettings = (await client.query<{ t: string | null }>("SELECT to_regclass('settings')::text AS t")).rows[0]!.t !== null;
      const keyCheck = hasSettings ? ((await client.query('SELECT value FROM settings WHERE name = $1', [KEY_CHECK])).rows[0]?.value ?? null) : null;
      return { kind: 'PostgreSQL', where: withoutPassword(url), version, known: readMigrations(join(import.meta.dirname, 'store/postgres/migrations')).length, journalMode: null, latencyMs, skewMs, keyCheck };
    } finally {
      await client.end();
    }
  }
  const path = sqliteFile(config)!;
  const known = readMigrations(join(import.meta.dirname, 'store/sqlite/migrations')).length;
  if (!existsSync(path)) return { kind: 'SQLite', where: path, version: 0, known, journalMode: null, latencyMs: 0, skewMs: null, keyCheck: null };
  const db = new DatabaseSync(path, { readOnly: true, timeout: 5_000 });
  try {
    const table = (name: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    const started = performance.now();
    const version = table('herald_migrations') ? Number((db.prepare('SELECT coalesce(max(version), 0) AS v FROM herald_migrations').get() as { v: number }).v) : 0;
    const latencyMs = performance.now() - started;
    const journalMode = String((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode);
    const keyCheck = table('settings') ? ((db.prepare('SELECT value FROM settings WHERE name = ?').get(KEY_CHECK) as { value: string } | undefined)?.value ?? null) : null;
    return { kind: 'SQLite', where: path, version, known, journalMode, latencyMs, skewMs: null, keyCheck };
  } finally {
    db.close();
  }
}

function encryptionKey(config: Config, keyCheck: string | null): Finding {
  const check = 'encryption key';
  const file = join(config.dataDir, ENCRYPTION_KEY_FILE);
  if (!config.encryptionKey && !existsSync(file)) {
    return keyCheck === null
      ? { check, verdict: 'ok', detail: 'none yet: `herald serve` generates one into the data directory at its first start' }
      : { check, verdict: 'fail', detail: `the database's secrets were sealed with a key, and neither HERALD_ENCRYPTION_KEY nor ${file} holds one`, fix: 'set HERALD_ENCRYPTION_KEY to the key the other processes use, or restore the key file from a backup' };
  }
  let key;
  try {
    key = loadEncryptionKey(config.encryptionKey, config.dataDir, systemRandom);
  } catch (error) {
    return { check, verdict: 'fail', detail: (error as Error).message, fix: 'restore the key file from a backup' };
  }
  const source = key.file ?? 'HERALD_ENCRYPTION_KEY';
  if (keyCheck === null) return { check, verdict: 'ok', detail: `${source}; the database has sealed nothing yet` };
  return opensKeyCheck(createSecretBox(key.key, systemRandom), keyCheck)
    ? { check, verdict: 'ok', detail: `${source} opens the database's secrets` }
    : { check, verdict: 'fail', detail: `${source} cannot open the database's secrets: they were sealed with another key`, fix: 'set HERALD_ENCRYPTION_KEY to the key the database was first used with (the same on every process)' };
}

/** Whether Herald may and can reach an endpoint URL: the address policy, then a TCP connection. */
async function endpointFindings(text: string, config: Config): Promise<Finding[]> {
  const check = `endpoint ${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return [{ check, verdict: 'fail', detail: 'not a URL', fix: 'give a full URL such as https://hooks.example.com/herald' }];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return [{ check, verdict: 'fail', detail: `${url.protocol} is not http or https` }];
  if (config.endpointHttpsOnly && url.protocol === 'http:') return [{ check, verdict: 'fail', detail: 'plain http, and HERALD_ENDPOINT_HTTPS_ONLY is set', fix: 'use https' }];
  let addresses: Array<{ address: string }>;
  try {
    addresses = await lookup(url.hostname.replace(/^\[|\]$/g, ''), { all: true });
  } catch (error) {
    return [{ check, verdict: 'fail', detail: `${url.hostname} does not resolve (${(error as NodeJS.ErrnoException).code})`, fix: 'check the name, and this machine\'s DNS' }];
  }
  const policy = addressPolicy(config.allowPrivateNetworks, config.allowedNetworks);
  const blocked = addresses.map(({ address }) => ({ address, reason: policy(address) })).filter((entry) => entry.reason !== null);
  if (blocked.length > 0) {
    return [{ check, verdict: 'fail', detail: `${blocked[0]!.address} is ${blocked[0]!.reason}: Herald refuses to deliver there`, fix: 'allow it with HERALD_ALLOWED_NETWORKS=<cidr> (or HERALD_ALLOW_PRIVATE_NETWORKS=true on a trusted network)' }];
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const address = addresses[0]!.address;
  const started = performance.now();
  const error = await new Promise<Error | null>((resolve) => {
    const socket = connect({ host: address, port, timeout: 5_000 });
    socket.once('connect', () => (socket.destroy(), resolve(null)));
    socket.once('timeout', () => (socket.destroy(), resolve(new Error('no answer within 5 s'))));
    socket.once('error', resolve);
  });
  if (error) return [{ check, verdict: 'fail', detail: `allowed, but ${address}:${port} cannot be reached (${(error as NodeJS.ErrnoException).code ?? error.message})`, fix: 'check that the receiver runs and that no firewall stands between' }];
  return [{ check, verdict: 'ok', detail: `allowed, and ${address}:${port} accepts connections (${(performance.now() - started).toFixed(0)} ms)` }];
}
