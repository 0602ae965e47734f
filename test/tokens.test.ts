import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Svix } from 'svix';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';

await forEachStore((store) => describe(`API tokens (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  let appA: string;
  let appB: string;
  let messageA: string;
  let messageB: string;
  let endpointA: string;
  let tokenA: string;

  /** Calls the API with a given token (or none) and returns the status. */
  const as = async (token: string | null, method: string, path: string, body?: unknown) => {
    const response = await fetch(h.url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };

  before(async () => {
    h = await startTestHerald({ store });
    appA = (await h.svix.application.create({ name: 'A', uid: 'tenant-a' })).id;
    appB = (await h.svix.application.create({ name: 'B', uid: 'tenant-b' })).id;
    endpointA = (await h.svix.endpoint.create(appA, { url: 'http://127.0.0.1:9/a' })).id;
    await h.svix.endpoint.create(appB, { url: 'http://127.0.0.1:9/b' });
    messageA = (await h.svix.message.create(appA, { eventType: 'x.y', payload: {} })).id;
    messageB = (await h.svix.message.create(appB, { eventType: 'x.y', payload: {} })).id;
    tokenA = (await h.svix.authentication.appPortalAccess(appA, {})).token;
  });
  after(() => h.close(failures.any()));

  it('issues a token for one application through the SDK, with a portal URL', async () => {
    const access = await h.svix.authentication.appPortalAccess('tenant-a', {});
    assert.match(access.token, /^appsk_/);
    assert.ok(access.url.includes(access.token));
  });

  it('lets an application token manage its endpoints and read its messages and attempts, through the SDK', async () => {
    const svix = new Svix(tokenA, { serverUrl: h.url });
    assert.equal((await svix.application.get(appA)).id, appA);
    assert.ok((await svix.endpoint.list(appA)).data.some((e) => e.id === endpointA));
    const created = await svix.endpoint.create(appA, { url: 'http://127.0.0.1:9/new' });
    await svix.endpoint.patch(appA, created.id, { description: 'from the portal' });
    await svix.endpoint.rotateSecret(appA, created.id, {});
    assert.equal((await svix.message.get(appA, messageA)).id, messageA);
    await svix.messageAttempt.listByMsg(appA, messageA);
    await svix.messageAttempt.resend(appA, messageA, endpointA);
    assert.ok((await svix.eventType.list()).data !== undefined, 'event types can be read');
    await svix.endpoint.delete(appA, created.id);
  });

  it('answers 403 when an application token reaches for another application', async () => {
    for (const [method, path] of [
      ['GET', `/api/v1/app/${appB}`],
      ['GET', '/api/v1/app/tenant-b'],
      ['GET', `/api/v1/app/${appB}/endpoint`],
      ['POST', `/api/v1/app/${appB}/endpoint`],
      ['GET', `/api/v1/app/${appB}/msg`],
      ['GET', `/api/v1/app/${appB}/msg/${messageB}`],
      ['GET', `/api/v1/app/${appB}/attempt/msg/${messageB}`],
      ['GET', '/api/v1/app/app_0000000000000000000000/endpoint'],
    ] as const) {
      const answer = await as(tokenA, method, path, method === 'POST' ? { url: 'http://127.0.0.1:9/' } : undefined);
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.equal(answer.body.code, 'forbidden');
    }
  });

  it('answers 403 when an application token reaches for admin routes', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/v1/app', undefined],
      ['POST', '/api/v1/app', { name: 'sneaky' }],
      ['DELETE', `/api/v1/app/${appA}`, undefined],
      ['PATCH', `/api/v1/app/${appA}`, { name: 'renamed' }],
      ['POST', `/api/v1/app/${appA}/msg`, { eventType: 'x.y', payload: {} }],
      ['POST', '/api/v1/event-type', { name: 'a.b', description: 'd' }],
      ['DELETE', '/api/v1/event-type/x.y', undefined],
      ['POST', `/api/v1/auth/app-portal-access/${appA}`, {}],
      ['POST', `/api/v1/auth/app/${appA}/expire-all`, {}],
    ] as const) {
      assert.equal((await as(tokenA, method, path, body)).status, 403, `${method} ${path}`);
    }
  });

  it('keeps a read-only token to reading', async () => {
    const { token } = await h.svix.authentication.appPortalAccess(appA, { readOnly: true });
    assert.equal((await as(token, 'GET', `/api/v1/app/${appA}/endpoint`)).status, 200);
    assert.equal((await as(token, 'POST', `/api/v1/app/${appA}/endpoint`, { url: 'http://127.0.0.1:9/' })).status, 403);
    assert.equal((await as(token, 'GET', `/api/v1/app/${appA}/endpoint/${endpointA}/secret`)).status, 403);
  });

  it('answers 401 without a token, with a wrong one, and once the application\'s tokens are expired', async () => {
    assert.equal((await as(null, 'GET', `/api/v1/app/${appA}`)).status, 401);
    assert.equal((await as('appsk_made_up', 'GET', `/api/v1/app/${appA}`)).status, 401);
    const { token } = await h.svix.authentication.appPortalAccess(appB, {});
    assert.equal((await as(token, 'GET', `/api/v1/app/${appB}`)).status, 200);
    await h.svix.authentication.expireAll(appB, {});
    assert.equal((await as(token, 'GET', `/api/v1/app/${appB}`)).status, 401);
    assert.equal((await as(tokenA, 'GET', `/api/v1/app/${appA}`)).status, 200, 'other applications keep theirs');
  });

  it('lets a token lapse at its expiry', async () => {
    const { token } = await h.svix.authentication.appPortalAccess(appA, { expiry: 1 });
    assert.equal((await as(token, 'GET', `/api/v1/app/${appA}`)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 5_100)); // past the expiry and the 5 s token cache
    assert.equal((await as(token, 'GET', `/api/v1/app/${appA}`)).status, 401);
  });
}));
