import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, type HeraldProcess, kill, spawnHerald, TEST_TOKEN } from './support/process.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { dropSchema, forEachStore, postgresReachable, postgresUrl, SKIPPED_POSTGRES, trackFailures, uniqueSchema } from './support/stores.ts';

/** A POST with an idempotency key, answered as status, raw body text and whether it was a replay. */
async function post(url: string, token: string, path: string, body: unknown, key: string) {
  const response = await fetch(url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text(), replayed: response.headers.get('idempotent-replayed') === 'true' };
}

async function messageCount(url: string, token: string, appId: string): Promise<number> {
  const response = await fetch(`${url}/api/v1/app/${appId}/msg?limit=250`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  return ((await response.json()) as { data: unknown[] }).data.length;
}

await forEachStore((store) => describe(`idempotency keys on ${store}`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  before(async () => {
    h = await startTestHerald({ store });
  });
  after(() => h?.close(failures.any()));

  const newApp = async () => (await h.api('POST', '/api/v1/app', { name: 'idempotency' })).body.id as string;

  it('frees the key after a 4xx, so the corrected retry with the same key runs, and replays that 2xx after', async () => {
    const appId = await newApp();
    const wrong = await post(h.url, h.token, `/api/v1/app/${appId}/msg`, { eventType: 'not a valid type!', payload: {} }, 'fix-me');
    assert.equal(wrong.status, 422);
    const fixed = await post(h.url, h.token, `/api/v1/app/${appId}/msg`, { eventType: 'user.created', payload: { n: 1 } }, 'fix-me');
    assert.equal(fixed.status, 202, fixed.text);
    assert.equal(fixed.replayed, false);
    const again = await post(h.url, h.token, `/api/v1/app/${appId}/msg`, { eventType: 'user.created', payload: { n: 2 } }, 'fix-me');
    assert.equal(again.status, 202);
    assert.equal(again.replayed, true);
    assert.equal(again.text, fixed.text);
    assert.equal(await messageCount(h.url, h.token, appId), 1);

    const uid = `later-${randomBytes(4).toString('hex')}`;
    assert.equal((await post(h.url, h.token, `/api/v1/app/${uid}/msg`, { eventType: 'user.created', payload: {} }, 'too-soon')).status, 404);
    await h.api('POST', '/api/v1/app', { name: 'later', uid });
    const retried = await post(h.url, h.token, `/api/v1/app/${uid}/msg`, { eventType: 'user.created', payload: {} }, 'too-soon');
    assert.equal(retried.status, 202, 'the 404 was not kept');
  });

  it('runs the same key once on each route and once for each token owner', async () => {
    const created = await post(h.url, h.token, '/api/v1/app', { name: 'shared key' }, 'shared');
    assert.equal(created.status, 201, created.text);
    const appId = JSON.parse(created.text).id as string;
    const byAdmin = await post(h.url, h.token, `/api/v1/app/${appId}/msg`, { eventType: 'user.created', payload: {} }, 'shared');
    assert.equal(byAdmin.status, 202, 'another route with the same key runs');
    assert.match(JSON.parse(byAdmin.text).id, /^msg_/);

    // Application tokens may create endpoints, so both owners post the same key there.
    const portal = await h.api('POST', `/api/v1/auth/app-portal-access/${appId}`, {});
    const appToken = portal.body.token as string;
    const endpoint = { url: 'http://127.0.0.1:9/hook' };
    const byAdmin2 = await post(h.url, h.token, `/api/v1/app/${appId}/endpoint`, endpoint, 'owners');
    const byApp = await post(h.url, appToken, `/api/v1/app/${appId}/endpoint`, endpoint, 'owners');
    assert.equal(byAdmin2.status, 201, byAdmin2.text);
    assert.equal(byApp.status, 201, byApp.text);
    assert.equal(byApp.replayed, false, "the application's token is another owner than the admin");
    assert.notEqual(JSON.parse(byApp.text).id, JSON.parse(byAdmin2.text).id);
    assert.equal((await h.api('GET', `/api/v1/app/${appId}/endpoint`)).body.data.length, 2);
    const replayed = await post(h.url, appToken, `/api/v1/app/${appId}/endpoint`, endpoint, 'owners');
    assert.equal(replayed.text, byApp.text, 'and each owner replays its own answer');
  });

  it('runs twenty identical requests sent at once exactly once, and answers all twenty with its answer', async () => {
    const appId = await newApp();
    const answers = await Promise.all(Array.from({ length: 20 }, () =>
      post(h.url, h.token, `/api/v1/app/${appId}/msg`, { eventType: 'user.created', payload: { once: true } }, 'burst')));
    assert.deepEqual(answers.map((a) => a.status), Array(20).fill(202));
    assert.equal(new Set(answers.map((a) => a.text)).size, 1, 'every answer is the one answer');
    assert.equal(answers.filter((a) => !a.replayed).length, 1);
    assert.equal(await messageCount(h.url, h.token, appId), 1);
  });
}));

const suite = (await postgresReachable()) ? describe : describe.skip;

suite((await postgresReachable()) ? 'idempotency keys across processes on PostgreSQL' : SKIPPED_POSTGRES, () => {
  const failures = trackFailures();
  const processes: HeraldProcess[] = [];
  const dataDirs: string[] = [];
  const schema = uniqueSchema();
  after(async () => {
    await Promise.all(processes.map((p) => kill(p)));
    if (failures.any()) return;
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema);
  });

  it('runs a key sent to two Herald processes at the same moment exactly once, and both answer with its answer', async () => {
    const shared = { HERALD_DATABASE_URL: postgresUrl(schema), HERALD_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    for (let i = 0; i < 2; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'herald-idem-'));
      dataDirs.push(dataDir);
      processes.push(await spawnHerald(dataDir, await freePort(), shared));
    }
    const [a, b] = processes as [HeraldProcess, HeraldProcess];
    const appId = JSON.parse((await post(a.url, TEST_TOKEN, '/api/v1/app', { name: 'two processes' }, 'app')).text).id as string;
    for (let round = 0; round < 5; round++) {
      const key = `together-${round}`;
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) =>
        post(i % 2 === 0 ? a.url : b.url, TEST_TOKEN, `/api/v1/app/${appId}/msg`, { eventType: 'user.created', payload: { round } }, key)));
      assert.deepEqual(answers.map((x) => x.status), Array(10).fill(202));
      assert.equal(new Set(answers.map((x) => x.text)).size, 1, 'both processes answer with the one answer');
      assert.equal(await messageCount(a.url, TEST_TOKEN, appId), round + 1, 'each key made exactly one message');
    }
  });
});
