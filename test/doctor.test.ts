import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startTestHerald } from './support/herald.ts';
import { runCli } from './support/process.ts';
import { startReceiver } from './support/receiver.ts';
import { postgresReachable, postgresUrl } from './support/stores.ts';

const POSTGRES = await postgresReachable();

/** `herald doctor` as a person runs it: a real process, against real data directories and databases. */
describe('herald doctor', () => {
  const cleanups: Array<() => unknown> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const doctor = (args: string[], env: Record<string, string> = {}) => runCli(['doctor', ...args], { PATH: process.env.PATH, ...env });
  const line = (stdout: string, check: string) => stdout.split('\n').find((l) => l.includes(` ${check}:`)) ?? '';

  it('passes a fresh data directory, saying what the first start will create', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-doctor-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const result = await doctor(['--data-dir', dir]);
    assert.equal(result.code, 0, result.stdout);
    assert.match(line(result.stdout, 'Node.js'), /^✔ Node.js: v2\d/);
    assert.match(line(result.stdout, 'database'), /^! database: SQLite .* has no Herald schema yet/);
    assert.match(result.stdout, /generates one into the data directory/);
  });

  it('checks a used SQLite database beside the Herald running on it, and fails a wrong key and a key file others can read', async () => {
    const h = await startTestHerald();
    cleanups.push(() => h.close());
    await h.api('POST', '/api/v1/app', { name: 'doctor' });
    const ok = await doctor(['--data-dir', h.dataDir]);
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(line(ok.stdout, 'database'), /^✔ database: SQLite .*schema version \d+ \(current\)/);
    assert.match(line(ok.stdout, 'journal mode'), /^✔ journal mode: WAL/);
    assert.match(line(ok.stdout, 'encryption key'), /^✔ encryption key: .* opens the database's secrets/);

    const wrong = await doctor(['--data-dir', h.dataDir], { HERALD_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    assert.equal(wrong.code, 1);
    assert.match(line(wrong.stdout, 'encryption key'), /^✖ encryption key: HERALD_ENCRYPTION_KEY cannot open the database's secrets/);

    chmodSync(join(h.dataDir, 'encryption-key'), 0o644);
    const exposed = await doctor(['--data-dir', h.dataDir]);
    assert.equal(exposed.code, 1);
    assert.match(exposed.stdout, /encryption-key is readable by others \(mode 644\)\n {4}→ chmod 600/);
  });

  it('tells whether Herald may deliver to an endpoint and whether it answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-doctor-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const blocked = await doctor(['--data-dir', dir, '--endpoint', `${receiver.url}/hook`]);
    assert.equal(blocked.code, 1);
    assert.match(blocked.stdout, /✖ endpoint .*: 127\.0\.0\.1 is loopback: Herald refuses to deliver there/);
    const allowed = await doctor(['--data-dir', dir, '--endpoint', `${receiver.url}/hook`, '--allow-private-networks', 'true']);
    assert.equal(allowed.code, 0, allowed.stdout);
    assert.match(allowed.stdout, /✔ endpoint .*: allowed, and 127\.0\.0\.1:\d+ accepts connections/);
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const dead = await doctor(['--data-dir', dir, '--endpoint', `http://127.0.0.1:${closedPort}/`, '--allow-private-networks', 'true']);
    assert.equal(dead.code, 1);
    assert.match(dead.stdout, /cannot be reached \(ECONNREFUSED\)/);
  });

  it('checks a PostgreSQL database: schema, latency and the clock against the database\'s, its password not shown', { skip: !POSTGRES && 'PostgreSQL unreachable' }, async () => {
    const h = await startTestHerald({ store: 'postgres' });
    cleanups.push(() => h.close());
    // A password in the query (pg's setting; the test database trusts and ignores it) is not shown.
    const result = await doctor(['--data-dir', h.dataDir, '--database-url', `${postgresUrl(h.schema!)}&password=leakme`]);
    assert.equal(result.code, 0, result.stdout);
    assert.match(line(result.stdout, 'database'), /^✔ database: PostgreSQL .*schema version \d+ \(current\)/);
    assert.equal(result.stdout.includes('leakme'), false, result.stdout);
    assert.match(line(result.stdout, 'clock'), /^✔ clock: within \d+ ms of the database's/);
    assert.match(line(result.stdout, 'encryption key'), /^✔ encryption key/);
  });
});
