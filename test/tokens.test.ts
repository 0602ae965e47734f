import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Svix } from 'svix';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

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

  it('refuses a token the moment it expires, even one it has just let in', async () => {
    const issued = Date.now();
    const { token } = await h.svix.authentication.appPortalAccess(appA, { expiry: 1 });
    assert.equal((await as(token, 'GET', `/api/v1/app/${appA}`)).status, 200);
    // The token cache lives 5 s: a refusal within 2.5 s of issuing comes from the expiry itself.
    await waitFor('the expired token to be refused', async () => (await as(token, 'GET', `/api/v1/app/${appA}`)).status === 401, 2_500);
    assert.ok(Date.now() - issued >= 1_000, 'not refused before its expiry');
  });

  it('refuses a token as soon as its application\'s tokens are expired, even one it has just let in', async () => {
    const { token } = await h.svix.authentication.appPortalAccess(appB, {});
    assert.equal((await as(token, 'GET', `/api/v1/app/${appB}`)).status, 200);
    // The server counts the second from when it handles the call, which is after this moment and
    // may be well before the answer arrives on a busy machine: so the bound is taken before asking.
    // The token stays valid for that second: a refusal, first asked for at once, must come after
    // it. (Asserting a 200 right after the call would fail when the call itself took the second.)
    const asked = Date.now();
    await h.svix.authentication.expireAll(appB, { expiry: 1 });
    await waitFor('the token to be refused once expire-all\'s delay is over', async () => (await as(token, 'GET', `/api/v1/app/${appB}`)).status === 401, 2_500);
    assert.ok(Date.now() - asked >= 1_000, `refused ${Date.now() - asked} ms after expire-all was asked for, before its second was over`);
  });

  it('logs a portal token out through the SDK: it stops working at once, and the others do not', async () => {
    const { token } = await h.svix.authentication.appPortalAccess(appA, {});
    const { token: other } = await h.svix.authentication.appPortalAccess(appA, {});
    assert.equal((await as(token, 'GET', `/api/v1/app/${appA}`)).status, 200);
    await new Svix(token, { serverUrl: h.url }).authentication.logout();
    assert.equal((await as(token, 'GET', `/api/v1/app/${appA}`)).status, 401);
    assert.equal((await as(token, 'POST', '/api/v1/auth/logout')).status, 401, 'a second logout has no token left to act for');
    assert.equal((await as(other, 'GET', `/api/v1/app/${appA}`)).status, 200);
  });

  it('refuses to log out an admin token with 400, and keeps it working', async () => {
    const answer = await as(h.token, 'POST', '/api/v1/auth/logout');
    assert.equal(answer.status, 400);
    assert.equal(answer.body.code, 'bad_request');
    assert.match(answer.body.detail, /application tokens/);
    assert.equal((await as(h.token, 'GET', '/api/v1/app')).status, 200);
  });

  it('refuses to log out HERALD_ADMIN_TOKEN with 400 saying it is configuration', async () => {
    const configured = await startTestHerald({ store, env: { HERALD_ADMIN_TOKEN: 'hrld_configured_admin_token_for_logout' } });
    try {
      const response = await fetch(`${configured.url}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: 'Bearer hrld_configured_admin_token_for_logout' } });
      const body = await response.json() as { code: string; detail: string };
      assert.equal(response.status, 400);
      assert.match(body.detail, /HERALD_ADMIN_TOKEN/);
      assert.equal((await configured.api('GET', '/api/v1/app')).status, 200);
    } finally {
      await configured.close();
    }
  });

  describe('capabilities', () => {
    const ALL = ['ViewBase', 'ViewEndpointSecret', 'ManageEndpointSecret', 'ManageTransformations', 'CreateAttempts', 'ManageEndpoint'];
    /** Each route a portal token may reach beyond reading, and the capability it needs. */
    const guarded: Array<{ does: string; needs: string[]; call: (token: string) => Promise<{ status: number }> }> = [
      { does: 'list endpoints', needs: ['ViewBase'], call: (t) => as(t, 'GET', `/api/v1/app/${appA}/endpoint`) },
      { does: 'read messages', needs: ['ViewBase'], call: (t) => as(t, 'GET', `/api/v1/app/${appA}/msg/${messageA}`) },
      { does: 'see an endpoint secret', needs: ['ViewEndpointSecret', 'ManageEndpointSecret', 'ManageEndpoint'], call: (t) => as(t, 'GET', `/api/v1/app/${appA}/endpoint/${endpointA}/secret`) },
      { does: 'rotate an endpoint secret', needs: ['ManageEndpointSecret', 'ManageEndpoint'], call: (t) => as(t, 'POST', `/api/v1/app/${appA}/endpoint/${endpointA}/secret/rotate`, { gracePeriodSeconds: 0 }) },
      { does: 'create an endpoint', needs: ['ManageEndpoint'], call: (t) => as(t, 'POST', `/api/v1/app/${appA}/endpoint`, { url: 'http://127.0.0.1:9/cap' }) },
      { does: 'change an endpoint', needs: ['ManageEndpoint'], call: (t) => as(t, 'PATCH', `/api/v1/app/${appA}/endpoint/${endpointA}`, { description: 'changed' }) },
      { does: 'set an endpoint\'s headers', needs: ['ManageEndpoint'], call: (t) => as(t, 'PATCH', `/api/v1/app/${appA}/endpoint/${endpointA}/headers`, { headers: { 'x-cap': '1' } }) },
      { does: 'send an example', needs: ['CreateAttempts'], call: (t) => as(t, 'POST', `/api/v1/app/${appA}/endpoint/${endpointA}/send-example`, { eventType: 'x.y' }) },
      { does: 'resend a message', needs: ['CreateAttempts'], call: (t) => as(t, 'POST', `/api/v1/app/${appA}/msg/${messageA}/endpoint/${endpointA}/resend`) },
      { does: 'recover failed messages', needs: ['CreateAttempts'], call: (t) => as(t, 'POST', `/api/v1/app/${appA}/endpoint/${endpointA}/recover`, { since: new Date(Date.now() - 60_000).toISOString() }) },
    ];
    const sets: Array<{ name: string; access: Record<string, unknown>; has: string[] }> = [
      { name: 'no capabilities given (Svix\'s default: all of them)', access: {}, has: ALL },
      { name: 'readOnly', access: { readOnly: true }, has: ['ViewBase'] },
      ...ALL.filter((c) => c !== 'ViewBase').map((c) => ({ name: `ViewBase and ${c}`, access: { capabilities: ['ViewBase', c] }, has: ['ViewBase', c] })),
      { name: 'ViewBase alone', access: { capabilities: ['ViewBase'] }, has: ['ViewBase'] },
    ];
    for (const set of sets) {
      it(`lets a token with ${set.name} do what its capabilities allow and answers 403 to the rest`, async () => {
        const { token } = await h.svix.authentication.appPortalAccess(appA, set.access);
        for (const route of guarded) {
          const allowed = route.needs.some((capability) => set.has.includes(capability));
          const { status } = await route.call(token);
          if (allowed) assert.ok(status >= 200 && status < 300, `${route.does}: ${status}`);
          else assert.equal(status, 403, route.does);
        }
      });
    }

    it('refuses capabilities without ViewBase, unknown ones, and readOnly beside more than ViewBase, with 422', async () => {
      for (const body of [{ capabilities: ['CreateAttempts'] }, { capabilities: ['ViewBase', 'Everything'] }, { readOnly: true, capabilities: ['ViewBase', 'ManageEndpoint'] }]) {
        const answer = await h.api('POST', `/api/v1/auth/app-portal-access/${appA}`, body);
        assert.equal(answer.status, 422, JSON.stringify(body));
        assert.equal(answer.body.detail[0].loc[1], 'capabilities', JSON.stringify(answer.body));
      }
    });
  });
}));
