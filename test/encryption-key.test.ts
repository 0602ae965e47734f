import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { systemClock, systemRandom } from '../src/core/clock.ts';
import { createIdGenerator } from '../src/core/ids.ts';
import { createSecretBox } from '../src/core/secret-box.ts';
import { type Herald, openStore, startHerald } from '../src/herald.ts';
import { withEncryptedSecrets } from '../src/store/encrypted-store.ts';
import { call, failedStart, freePort, type HeraldProcess, kill, spawnHerald } from './support/process.ts';
import { startReceiver } from './support/receiver.ts';
import { dropSchema, forEachStore, postgresReachable, postgresUrl, SKIPPED_POSTGRES, type StoreKind, TEST_DATABASE_URL, trackFailures, uniqueSchema } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

const FIRST_KEY = Buffer.alloc(32, 1).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 2).toString('base64');
const ADMIN = 'hrld_encryption_key_test_admin';

/** A place for one test's data: a data directory, and on PostgreSQL a schema. */
function place(store: StoreKind) {
  return { dataDir: mkdtempSync(join(tmpdir(), 'herald-key-')), schema: store === 'postgres' ? uniqueSchema() : null };
}
type Place = ReturnType<typeof place>;

function configFor({ dataDir, schema }: Place, env: Record<string, string>) {
  return loadConfig({}, {
    ...(schema ? { HERALD_DATABASE_URL: postgresUrl(schema) } : {}),
    HERALD_PORT: '0', HERALD_DATA_DIR: dataDir, HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
    HERALD_RETRY_SCHEDULE: '100ms,200ms', HERALD_REQUEST_TIMEOUT: '2s', HERALD_LOG_LEVEL: 'silent', ...env,
  });
}

const startOn = (at: Place, env: Record<string, string>) => startHerald(configFor(at, env), { logger: pino({ level: 'silent' }) });

async function api(herald: Herald, method: string, path: string, body?: unknown) {
  const response = await fetch(herald.url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function removeKeyCheck({ dataDir, schema }: Place) {
  if (!schema) {
    const db = new DatabaseSync(join(dataDir, 'herald.db'));
    db.exec('DELETE FROM settings');
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`DELETE FROM "${schema}".settings`);
  await client.end();
}

async function cleanUp({ dataDir, schema }: Place) {
  rmSync(dataDir, { recursive: true, force: true });
  if (schema) await dropSchema(schema);
}

await forEachStore((store) => describe(`one encryption key per database (${store})`, () => {
  const failures = trackFailures();
  const places: Place[] = [];
  const processes: HeraldProcess[] = [];
  after(async () => {
    await Promise.all(processes.map((p) => kill(p)));
    if (!failures.any()) for (const at of places) await cleanUp(at);
  });

  it('refuses to start, naming HERALD_ENCRYPTION_KEY, when its key cannot open the database\'s secrets', async () => {
    const at = place(store);
    places.push(at);
    const env = { ...(at.schema ? { HERALD_DATABASE_URL: postgresUrl(at.schema) } : {}), HERALD_ENCRYPTION_KEY: FIRST_KEY };
    const first = await spawnHerald(at.dataDir, await freePort(), env);
    processes.push(first);
    const app = await call(first.url, 'POST', '/api/v1/app', { name: 'sealed' });
    assert.equal((await call(first.url, 'POST', `/api/v1/app/${app.body.id}/endpoint`, { url: 'http://127.0.0.1:9/' })).status, 201);
    await kill(first);

    const refused = await failedStart(at.dataDir, { ...env, HERALD_ENCRYPTION_KEY: OTHER_KEY });
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /HERALD_ENCRYPTION_KEY/);
    assert.doesNotMatch(refused.output, /\n\s+at /, 'a message, not a stack trace');

    const again = await spawnHerald(at.dataDir, await freePort(), env);
    processes.push(again);
    assert.equal((await call(again.url, 'GET', `/api/v1/app/${app.body.id}/endpoint`)).body.data.length, 1);
  });

  it('refuses a key that cannot open the secrets of a database that has no check value yet', async () => {
    const at = place(store);
    places.push(at);
    const first = await startOn(at, { HERALD_ENCRYPTION_KEY: FIRST_KEY });
    try {
      const app = await api(first, 'POST', '/api/v1/app', { name: 'older' });
      await api(first, 'POST', `/api/v1/app/${app.body.id}/endpoint`, { url: 'http://127.0.0.1:9/' });
    } finally {
      await first.close();
    }
    await removeKeyCheck(at); // as a database written before Herald kept one

    await assert.rejects(startOn(at, { HERALD_ENCRYPTION_KEY: OTHER_KEY }), /HERALD_ENCRYPTION_KEY/);
    await (await startOn(at, { HERALD_ENCRYPTION_KEY: FIRST_KEY })).close();
    await assert.rejects(startOn(at, { HERALD_ENCRYPTION_KEY: OTHER_KEY }), /HERALD_ENCRYPTION_KEY/, 'the right key wrote the check value');
  });

  it('fails a delivery whose secret was sealed under another key alone, with secret_unavailable, and sends the rest of its claim', async () => {
    const at = place(store);
    places.push(at);
    const receiver = await startReceiver();
    try {
      // Accepted by an API-only Herald, so the deliveries wait in the queue for one claim.
      const accepting = await startOn(at, { HERALD_ENCRYPTION_KEY: FIRST_KEY, HERALD_ROLE: 'api' });
      const app = (await api(accepting, 'POST', '/api/v1/app', { name: 'mixed' })).body;
      const good = (await api(accepting, 'POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/good` })).body;
      await accepting.close();

      const raw = await openStore(configFor(at, {}), systemClock);
      const elsewhere = withEncryptedSecrets(raw, createSecretBox(Buffer.from(OTHER_KEY, 'base64'), systemRandom));
      const now = Date.now();
      const bad = createIdGenerator(systemClock, systemRandom)('endpoint');
      await elsewhere.endpoints.create({
        id: bad, appId: app.id, uid: null, url: `${receiver.url}/bad`, description: '', eventTypes: null, channels: null,
        disabled: false, metadata: {}, throttleRate: null, headers: {}, secrets: [{ key: `whsec_${Buffer.alloc(24, 9).toString('base64')}`, expiresAt: null }],
        createdAt: now, updatedAt: now,
      });
      await raw.close();

      const publishing = await startOn(at, { HERALD_ENCRYPTION_KEY: FIRST_KEY, HERALD_ROLE: 'api' });
      const queued: string[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const answer = await api(publishing, 'POST', `/api/v1/app/${app.id}/msg`, { eventType: 'mixed.test', payload: { i } });
          assert.equal(answer.status, 202, JSON.stringify(answer.body));
          queued.push(answer.body.id);
        }
      } finally {
        await publishing.close();
      }

      const sending = await startOn(at, { HERALD_ENCRYPTION_KEY: FIRST_KEY });
      try {
        await waitFor('the good endpoint\'s deliveries', () => receiver.requests.filter((r) => r.path === '/good').length === 3);
        // Handed over at publish rather than claimed: the same holds.
        const handed = (await api(sending, 'POST', `/api/v1/app/${app.id}/msg`, { eventType: 'mixed.test', payload: { i: 3 } })).body.id;
        await waitFor('the handed-over delivery', () => receiver.requests.filter((r) => r.path === '/good').length === 4);
        for (const id of [...queued, handed]) {
          const attempts = await waitFor(`${id}'s failed attempt`, async () => {
            const listed = (await api(sending, 'GET', `/api/v1/app/${app.id}/attempt/msg/${id}?endpoint_id=${bad}`)).body.data;
            return listed.length > 0 && listed;
          });
          assert.equal(attempts.length, 1, 'not retried: another try cannot open it either');
          assert.equal(attempts[0].failureReason, 'secret_unavailable');
          assert.equal(attempts[0].status, 2);
          assert.match(attempts[0].response, /HERALD_ENCRYPTION_KEY/);
        }
        assert.equal(receiver.requests.filter((r) => r.path === '/bad').length, 0, 'nothing unsigned went out');
        assert.equal((await api(sending, 'GET', `/api/v1/app/${app.id}/endpoint/${good.id}`)).status, 200);
        // Its secret and header values cannot be shown, nor the endpoint changed (which would
        // store it without them): a 500 that says why, not an anonymous one.
        const base = `/api/v1/app/${app.id}/endpoint/${bad}`;
        for (const [method, path, body] of [['GET', '/secret'], ['GET', '/headers'], ['PATCH', '', { description: 'changed' }], ['POST', '/secret/rotate', {}]] as const) {
          const refused = await api(sending, method, `${base}${path}`, body);
          assert.deepEqual([refused.status, refused.body.code], [500, 'secret_unavailable'], `${method} ${path}`);
          assert.match(refused.body.detail, /HERALD_ENCRYPTION_KEY/);
        }
        // The rest of it can be read, and it can be deleted.
        const shown = await api(sending, 'GET', base);
        assert.deepEqual([shown.status, shown.body.url, shown.body.description], [200, `${receiver.url}/bad`, '']);
        assert.equal((await api(sending, 'DELETE', base)).status, 204);
        assert.equal((await api(sending, 'GET', base)).status, 404);
      } finally {
        await sending.close();
      }
    } finally {
      await receiver.close();
    }
  });
}));

const postgres = await postgresReachable();
(postgres ? describe : describe.skip)(postgres ? 'one encryption key per cluster (PostgreSQL, real processes)' : SKIPPED_POSTGRES, () => {
  const failures = trackFailures();
  const schema = uniqueSchema();
  const dirs: string[] = [];
  const processes: HeraldProcess[] = [];
  after(async () => {
    await Promise.all(processes.map((p) => kill(p)));
    if (!failures.any()) {
      await dropSchema(schema);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-key-'));
    dirs.push(dir);
    return dir;
  };

  it('refuses to start a second process whose generated key differs from the first one\'s, and starts one given the first one\'s key', async () => {
    const env = { HERALD_DATABASE_URL: postgresUrl(schema) };
    const firstDir = dataDir();
    const first = await spawnHerald(firstDir, await freePort(), env);
    processes.push(first);

    const refused = await failedStart(dataDir(), env);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /HERALD_ENCRYPTION_KEY/);

    const key = readFileSync(join(firstDir, 'encryption-key'), 'utf8').trim();
    const second = await spawnHerald(dataDir(), await freePort(), { ...env, HERALD_ENCRYPTION_KEY: key });
    processes.push(second);
    assert.equal((await call(second.url, 'GET', '/api/v1/health')).status, 204);
  });
});
