import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Agent } from 'undici';
import { heraldAndReceiverPerSuite, type TestHerald } from './support/herald.ts';
import { forEachStore } from './support/stores.ts';

/**
 * Writes that race the deletion of what they hang from: each is answered as if it had come just
 * before the delete (2xx) or just after it (404), never with a 5xx, on both stores.
 */
await forEachStore((store) => describe(`writes racing a delete (${store})`, () => {
  let h: TestHerald;
  heraldAndReceiverPerSuite({ store, env: { HERALD_RATE_LIMIT: '0' } }, (started) => ({ h } = started));

  /** Sends `count` requests with 16 in flight, deletes the application once `deleteAfter` are answered, and returns every status. */
  async function race(path: (appId: string) => string, body: (i: number) => object, count = 400, deleteAfter = 50) {
    const app = await h.svix.application.create({ name: 'Doomed' });
    const agent = new Agent({ connections: 16 });
    const statuses: number[] = [];
    let next = 0;
    let deleted: Promise<unknown> | null = null;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < count) {
        const i = next++;
        const response = await agent.request({
          origin: h.url, path: path(app.id), method: 'POST',
          headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body(i)),
        });
        await response.body.text();
        statuses.push(response.statusCode);
        if (statuses.length === deleteAfter) deleted = h.api('DELETE', `/api/v1/app/${app.id}`);
      }
    }));
    await deleted;
    await agent.close();
    return statuses;
  }

  it('answers messages published while their application is deleted with 202 or 404, never a 5xx', async () => {
    const statuses = await race((app) => `/api/v1/app/${app}/msg`, (i) => ({ eventType: 'race.test', payload: { i } }));
    assert.deepEqual([...new Set(statuses)].filter((s) => s !== 202 && s !== 404), [], `statuses: ${JSON.stringify(statuses)}`);
    assert.ok(statuses.includes(202) && statuses.includes(404), 'some came before the delete and some after');
  });

  it('answers endpoints created while their application is deleted with 201 or 404, never a 5xx', async () => {
    const statuses = await race((app) => `/api/v1/app/${app}/endpoint`, (i) => ({ url: `http://127.0.0.1:9/${i}` }), 300, 30);
    assert.deepEqual([...new Set(statuses)].filter((s) => s !== 201 && s !== 404), [], `statuses: ${JSON.stringify(statuses)}`);
    assert.ok(statuses.includes(201) && statuses.includes(404), 'some came before the delete and some after');
  });
}));
