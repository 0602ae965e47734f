import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';

/**
 * A PUT to a uid is Svix's upsert: the first creates the object under that uid, and the same PUT
 * sent again replaces it, keeping the uid, so a client that repeats it (a retry, a deploy script
 * run twice) never ends up with a second object or one it can no longer reach by its uid.
 */
await forEachStore((store) => describe(`PUT by uid, repeated (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;

  before(async () => {
    h = await startTestHerald({ store });
  });
  after(async () => {
    await h.close(failures.any());
  });

  /** PUTs `body` to `path` three times: created once, then the same object, uid kept, each time. */
  async function putThrice(path: string, body: object, uid: string, status = [201, 200, 200]) {
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await h.api('PUT', path, body));
    assert.deepEqual(answers.map((a) => a.status), status, JSON.stringify(answers.map((a) => a.body)));
    assert.equal(new Set(answers.map((a) => a.body.id)).size, 1, 'one object');
    assert.deepEqual(answers.map((a) => a.body.uid), [uid, uid, uid]);
    const read = await h.api('GET', path);
    assert.deepEqual([read.status, read.body.id], [200, answers[0]!.body.id]);
  }

  it('keeps an application\'s uid', async () => {
    await putThrice(`/api/v1/app/upsert-app-${store}`, { name: 'upserted' }, `upsert-app-${store}`);
  });

  it('keeps an endpoint\'s uid, and adds no second endpoint', async () => {
    const app = (await h.api('POST', '/api/v1/app', { name: 'upsert endpoints' })).body;
    await putThrice(`/api/v1/app/${app.id}/endpoint/upsert-ep`, { url: 'http://127.0.0.1:9/hook' }, 'upsert-ep');
    assert.equal((await h.api('GET', `/api/v1/app/${app.id}/endpoint`)).body.data.length, 1);
  });

  it('keeps an operational webhook endpoint\'s uid, and adds no second one to send each event to', async () => {
    await putThrice('/api/v1/operational-webhook/endpoint/upsert-ops', { url: 'http://127.0.0.1:9/ops' }, 'upsert-ops');
    const listed = (await h.api('GET', '/api/v1/operational-webhook/endpoint')).body.data;
    assert.equal(listed.filter((e: { uid: string | null }) => e.uid === 'upsert-ops' || e.uid === null).length, 1);
  });

  it('keeps a source\'s uid', async () => {
    const created = await h.api('POST', '/ingest/api/v1/source', { name: 'upserted', uid: 'upsert-source', type: 'github', config: { secret: 's' } });
    assert.equal(created.status, 201);
    await putThrice('/ingest/api/v1/source/upsert-source', { name: 'upserted', type: 'github', config: { secret: 's' } }, 'upsert-source', [200, 200, 200]);
  });

  it('still clears a uid the body sets to another, or that the path did not name', async () => {
    const app = (await h.api('PUT', `/api/v1/app/renamed-${store}`, { name: 'renamed' })).body;
    assert.equal((await h.api('PUT', `/api/v1/app/renamed-${store}`, { name: 'renamed', uid: `renamed-again-${store}` })).body.uid, `renamed-again-${store}`);
    assert.equal((await h.api('PUT', `/api/v1/app/${app.id}`, { name: 'renamed' })).body.uid, null, 'a PUT by id replaces the uid with the body\'s none');
  });
}));
