import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { heraldAndReceiverPerSuite, startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/** Every form of a forbidden address the endpoint API must refuse when it is written as a literal. */
const LITERALS = [
  '127.0.0.1', '127.1.2.3', '0.0.0.0', '10.0.0.1', '172.16.5.4', '192.168.0.1', '100.64.0.1', '169.254.169.254',
  '224.0.0.1', '240.0.0.1', '[::1]', '[::]', '[fe80::1]', '[fc00::1]', '[fd12::1]', '[ff02::1]',
  '[::ffff:127.0.0.1]', '[::ffff:169.254.169.254]', '[::ffff:a9fe:a9fe]', '[64:ff9b::7f00:1]', '[2002:7f00:1::1]', '[2002:a9fe:a9fe::]',
];

await forEachStore((store) => describe(`the SSRF guard (${store})`, () => {
  let guarded: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({ store, env: { HERALD_ALLOW_PRIVATE_NETWORKS: 'false' } }, (started) => ({ h: guarded, receiver } = started));

  const attemptFor = async (h: TestHerald, url: string) => {
    const app = await h.svix.application.create({ name: 'ssrf' });
    await h.svix.endpoint.create(app.id, { url });
    const message = await h.svix.message.create(app.id, { eventType: 'ssrf.test', payload: {} });
    return waitFor('the attempt', async () => (await h.api('GET', `/api/v1/app/${app.id}/attempt/msg/${message.id}?with_content=true`)).body.data[0]);
  };

  it('refuses an endpoint at every blocked literal address and encoding with 422', async () => {
    const app = await guarded.svix.application.create({ name: 'literals' });
    for (const host of LITERALS) {
      const answer = await guarded.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `http://${host}:8080/hook` });
      assert.equal(answer.status, 422, host);
      assert.deepEqual(answer.body.detail[0].loc, ['body', 'url'], host);
    }
    // A host name passes here: it is checked when it is connected to, and nothing is sent to this one.
    const patched = await guarded.svix.endpoint.create(app.id, { url: 'http://localhost:9/hook' });
    assert.equal((await guarded.api('PATCH', `/api/v1/app/${app.id}/endpoint/${patched.id}`, { url: 'http://[::1]/' })).status, 422);
  });

  it('blocks a name that resolves to loopback when it connects, and records why', async () => {
    const attempt = await attemptFor(guarded, `http://localhost:${new URL(receiver.url).port}/hook`);
    assert.equal(attempt.failureReason, 'blocked_address');
    assert.match(attempt.response, /localhost resolves to .*loopback/);
    assert.equal(receiver.requests.length, 0);
  });

  it('lets an operator allow a network, and nothing outside it', async () => {
    const allowed = await startTestHerald({ store, env: { HERALD_ALLOW_PRIVATE_NETWORKS: 'false', HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' } });
    const elsewhere = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.2', resolve));
    try {
      const ok = await attemptFor(allowed, `${receiver.url}/allowed`);
      assert.equal(ok.responseStatusCode, 200);
      const app = await allowed.svix.application.create({ name: 'outside' });
      assert.equal((await allowed.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `http://127.0.0.2:${(elsewhere.address() as AddressInfo).port}/` })).status, 422);
    } finally {
      await allowed.close();
      elsewhere.close();
    }
  });

  it('never follows a redirect, so none can lead it to a private address', async () => {
    const inside = await startReceiver();
    const allowed = await startTestHerald({ store, env: { HERALD_ALLOW_PRIVATE_NETWORKS: 'false', HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' } });
    // The target is one the guard lets through, so a followed redirect would land there and count.
    const redirecting = await startReceiver(() => ({ status: 307, headers: { location: `${inside.url}/metadata` } }));
    try {
      const attempt = await attemptFor(allowed, redirecting.url);
      assert.equal(attempt.responseStatusCode, 307);
      assert.equal(attempt.status, 2);
      assert.equal(inside.requests.length, 0);
    } finally {
      await allowed.close();
      await redirecting.close();
      await inside.close();
    }
  });

  it('refuses plain http when endpoints must use https', async () => {
    const strict = await startTestHerald({ store, env: { HERALD_ENDPOINT_HTTPS_ONLY: 'true' } });
    try {
      const app = await strict.svix.application.create({ name: 'https' });
      const answer = await strict.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: 'http://127.0.0.1:9/hook' });
      assert.equal(answer.status, 422);
      assert.match(answer.body.detail[0].msg, /https/);
      assert.equal((await strict.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: 'https://127.0.0.1:9/hook' })).status, 201);
    } finally {
      await strict.close();
    }
  });
}));
