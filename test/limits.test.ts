import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startReceiver } from './support/receiver.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/** A GET with the given headers through node:http, which (unlike fetch) sends whatever it is given. */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end();
  });
}

await forEachStore((store) => describe(`limits (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  before(async () => {
    h = await startTestHerald({ store, env: { HERALD_RATE_LIMIT: '20' } });
  });
  after(() => h.close(failures.any()));

  it('answers 429 with Retry-After once a token goes over its rate', async () => {
    // Five seconds' worth at once: even a machine so loaded that answering them takes a few seconds
    // (the bucket refilling meanwhile) must refuse some, and must let the first second's worth through.
    const answers = await Promise.all(Array.from({ length: 100 }, () => h.api('GET', '/api/v1/event-type')));
    const limited = answers.filter((a) => a.status === 429);
    assert.ok(limited.length > 0 && answers.length - limited.length >= 20, `${limited.length} of 100 limited`);
    assert.equal(limited[0]!.body.code, 'rate_limited');
    assert.ok(Number(limited[0]!.headers.get('retry-after')) >= 1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.equal((await h.api('GET', '/api/v1/event-type')).status, 200, 'the bucket refills');
  });

  it('answers 431 to headers that are too large or too many, in the error shape', async () => {
    const url = `${h.url}/api/v1/event-type`;
    const auth = { authorization: `Bearer ${h.token}` };
    const large = await get(url, { ...auth, 'x-large': 'x'.repeat(20_000) });
    assert.equal(large.status, 431);
    assert.equal(large.body.code, 'headers_too_large');
    const many = await get(url, { ...auth, ...Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`x-h${i}`, 'v'])) });
    assert.equal(many.status, 431);
    assert.equal(many.body.code, 'headers_too_large');
  });

  it('keeps only the first 64 KiB of a huge response, and carries on', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const huge = await startReceiver(() => ({ status: 200, body: 'y'.repeat(5 * 1024 * 1024) }));
    try {
      const app = await h.svix.application.create({ name: 'huge' });
      await h.svix.endpoint.create(app.id, { url: huge.url });
      const message = await h.svix.message.create(app.id, { eventType: 'huge.test', payload: {} });
      const attempt = await waitFor('the attempt', async () =>
        (await h.svix.messageAttempt.listByMsg(app.id, message.id, { withContent: true })).data[0]);
      assert.equal(attempt.responseStatusCode, 200);
      assert.equal(attempt.response.length, 64 * 1024);
      assert.equal((await h.api('GET', '/api/v1/health')).status, 204);
    } finally {
      await huge.close();
    }
  });
}));
