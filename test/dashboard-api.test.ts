/**
 * What the dashboard and the app portal read, through real HTTP on each store: the application
 * list's search and stats, whoami, an attempt's headers, the message list's status filter and a
 * source's received requests.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { heraldAndReceiverPerSuite, type TestHerald } from './support/herald.ts';
import type { Receiver } from './support/receiver.ts';
import { forEachStore } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

const SECRET = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;

await forEachStore((store) => describe(`the dashboard's API (${store})`, () => {
  let h: TestHerald;
  let receiver: Receiver;
  heraldAndReceiverPerSuite({ store }, (started) => {
    ({ h, receiver } = started);
    // The receiver fails what is sent to /fail, and keeps everything else.
    receiver.respond = (request) => (request.path.startsWith('/fail') ? { status: 500, body: 'no' } : { status: 200, body: 'ok' });
  });

  /** Calls the API with a given token (or none). */
  const as = async (token: string | null, path: string) => {
    const response = await fetch(h.url + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: response.status, body: await response.json() as any };
  };
  const portalToken = async (app: string, capabilities?: string[]) =>
    (await h.api('POST', `/api/v1/auth/app-portal-access/${app}`, capabilities ? { capabilities } : {})).body.token as string;
  const invalidAt = (body: any) => body.detail.map((item: { loc: string[] }) => item.loc.join('.'));
  const attemptsOf = async (app: string, msg: string) => (await h.api('GET', `/api/v1/app/${app}/attempt/msg/${msg}`)).body.data as any[];

  it('searches applications by name or uid, case aside, and pages through the matches', async () => {
    const alpha = (await h.api('POST', '/api/v1/app', { name: 'Searchable Alpha', uid: 'srch-alpha' })).body;
    const beta = (await h.api('POST', '/api/v1/app', { name: 'Beta', uid: 'the-SEARCHABLE-beta' })).body;
    await h.api('POST', '/api/v1/app', { name: 'Unrelated', uid: 'unrelated' });
    const first = await h.api('GET', '/api/v1/app?search=searchABLE&limit=1');
    assert.equal(first.status, 200);
    assert.deepEqual([first.body.data.map((a: any) => a.id), first.body.done], [[alpha.id], false]);
    const second = await h.api('GET', `/api/v1/app?search=searchABLE&limit=1&iterator=${first.body.iterator}`);
    assert.deepEqual([second.body.data.map((a: any) => a.id), second.body.done], [[beta.id], true]);
    const back = await h.api('GET', `/api/v1/app?search=searchABLE&limit=1&iterator=${second.body.prevIterator}`);
    assert.deepEqual(back.body.data.map((a: any) => a.id), [alpha.id]);
    assert.deepEqual((await h.api('GET', '/api/v1/app?search=srch-alp')).body.data.map((a: any) => a.id), [alpha.id]);
    assert.deepEqual((await h.api('GET', '/api/v1/app?search=no-such-thing')).body.data, []);
    assert.equal('endpointCount' in first.body.data[0], false, 'stats only when asked for');
  });

  it('adds live endpoint counts and the last message time to a page of applications when asked', async () => {
    const busy = (await h.api('POST', '/api/v1/app', { name: 'Stats busy', uid: 'stats-busy' })).body;
    const idle = (await h.api('POST', '/api/v1/app', { name: 'Stats idle', uid: 'stats-idle' })).body;
    for (const path of ['/a', '/b', '/c']) await h.api('POST', `/api/v1/app/${busy.id}/endpoint`, { url: receiver.url + path, uid: path.slice(1) });
    assert.equal((await h.api('DELETE', `/api/v1/app/${busy.id}/endpoint/c`)).status, 204);
    await h.api('POST', `/api/v1/app/${busy.id}/msg`, { eventType: 'stats.first', payload: {} });
    const last = (await h.api('POST', `/api/v1/app/${busy.id}/msg`, { eventType: 'stats.last', payload: {} })).body;
    const listed = await h.api('GET', '/api/v1/app?search=stats-&with_stats=true');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.data.map((a: any) => [a.uid, a.endpointCount, a.lastMessageAt]), [
      ['stats-busy', 2, last.timestamp],
      ['stats-idle', 0, null],
    ]);
    assert.equal(listed.body.data[1].id, idle.id);
    assert.equal(listed.body.data[0].name, 'Stats busy', 'the application itself is all there');
  });

  it("counts in an application's endpointCount the endpoints its endpoint list shows, not a listen session or a polling sink", async () => {
    const app = (await h.api('POST', '/api/v1/app', { name: 'Count hidden', uid: 'count-hidden' })).body;
    assert.equal((await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/shown` })).status, 201);
    assert.equal((await h.api('POST', `/api/v1/app/${app.id}/listen`, { name: 'laptop' })).status, 201);
    assert.equal((await h.api('POST', `/api/v1/app/${app.id}/destination`, { type: 'pollingEndpoint' })).status, 201);
    const listed = (await h.api('GET', `/api/v1/app/${app.id}/endpoint`)).body.data;
    assert.equal(listed.length, 1);
    const [counted] = (await h.api('GET', '/api/v1/app?search=count-hidden&with_stats=true')).body.data;
    assert.equal(counted.endpointCount, listed.length);
  });

  it('refuses a bad with_stats, an over-long search and a bad limit with 422 at the parameter', async () => {
    for (const [query, loc] of [['with_stats=maybe', 'query.with_stats'], [`search=${'x'.repeat(257)}`, 'query.search'], ['limit=0', 'query.limit']]) {
      const answer = await h.api('GET', `/api/v1/app?${query}`);
      assert.equal(answer.status, 422, query);
      assert.deepEqual(invalidAt(answer.body), [loc], query);
    }
  });

  it('tells an admin token and an application token who they are, with the effective capabilities', async () => {
    const admin = await as(h.token, '/api/v1/auth/whoami');
    assert.deepEqual([admin.status, admin.body], [200, {
      envId: null, appId: null, permissionSource: 'GlobalAuthToken', kind: 'admin', capabilities: null, expiresAt: null,
    }]);
    const app = (await h.api('POST', '/api/v1/app', { name: 'Whoami' })).body;
    const issued = await h.api('POST', `/api/v1/auth/app-portal-access/${app.id}`, { capabilities: ['ViewBase', 'ManageEndpoint'], expiry: 3600 });
    const before = Date.now();
    const portal = await as(issued.body.token, '/api/v1/auth/whoami');
    assert.equal(portal.status, 200);
    assert.deepEqual({ ...portal.body, expiresAt: null }, {
      envId: null, appId: app.id, permissionSource: 'Unknown', kind: 'app',
      capabilities: ['ViewBase', 'ViewEndpointSecret', 'ManageEndpointSecret', 'ManageEndpoint'], expiresAt: null,
    });
    const expiresIn = Date.parse(portal.body.expiresAt) - before;
    assert.ok(expiresIn > 3_500_000 && expiresIn <= 3_600_000, `expires in ${expiresIn} ms`);
    const readOnly = await as(await portalToken(app.id, ['ViewBase']), '/api/v1/auth/whoami');
    assert.deepEqual(readOnly.body.capabilities, ['ViewBase']);
    assert.equal((await as(null, '/api/v1/auth/whoami')).status, 401);
    assert.equal((await as('appsk_not-a-token', '/api/v1/auth/whoami')).status, 401);
  });

  describe("an attempt's headers", () => {
    let app: string;
    let other: string;
    let msg: string;
    let attempt: string;
    let arrived: Record<string, string>;

    it('are the headers the request was sent with', async () => {
      app = (await h.api('POST', '/api/v1/app', { name: 'Headers' })).body.id;
      other = (await h.api('POST', '/api/v1/app', { name: 'Other tenant' })).body.id;
      await h.api('POST', `/api/v1/app/${app}/endpoint`, {
        url: `${receiver.url}/headers`, secret: SECRET, headers: { 'X-Custom': 'plain', 'X-Api-Key': 'k-123' },
      });
      msg = (await h.api('POST', `/api/v1/app/${app}/msg`, { eventType: 'headers.test', payload: { a: 1 } })).body.id;
      const request = await waitFor('the delivery', () => receiver.requests.find((r) => r.headers['webhook-id'] === msg));
      await waitFor('its attempt', async () => (await attemptsOf(app, msg)).length === 1);
      attempt = (await attemptsOf(app, msg))[0].id;
      arrived = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
      const answer = await h.api('GET', `/api/v1/app/${app}/msg/${msg}/attempt/${attempt}/headers`);
      assert.equal(answer.status, 200);
      const sent = Object.fromEntries(Object.entries(answer.body.sentHeaders as Record<string, string>).map(([name, value]) => [name.toLowerCase(), value]));
      for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'svix-id', 'svix-timestamp', 'svix-signature',
        'content-type', 'user-agent', 'x-custom', 'x-api-key']) {
        assert.equal(sent[name], arrived[name], name);
      }
      assert.deepEqual(answer.body.responseHeaders, null);
      assert.equal(answer.body.body, request.body.toString('utf8'), 'the body sent, as text');
      assert.equal(answer.body.endpointChanged, false);
      assert.deepEqual(new Set((answer.body.sensitive as string[]).map((name) => name.toLowerCase())), new Set(['webhook-signature', 'svix-signature', 'x-api-key']));
      // What an admin is shown verifies, as the request did.
      new Webhook(SECRET).verify(request.body, { 'webhook-id': sent['webhook-id']!, 'webhook-timestamp': sent['webhook-timestamp']!, 'webhook-signature': sent['webhook-signature']! });
    });

    it('are masked for a portal token without ViewEndpointSecret, and shown to one with it', async () => {
      const viewer = await as(await portalToken(app, ['ViewBase']), `/api/v1/app/${app}/msg/${msg}/attempt/${attempt}/headers`);
      assert.equal(viewer.status, 200);
      const masked = Object.fromEntries(Object.entries(viewer.body.sentHeaders as Record<string, string>).map(([name, value]) => [name.toLowerCase(), value]));
      assert.equal(masked['webhook-signature'], 'v1,****');
      assert.equal(masked['svix-signature'], 'v1,****');
      assert.equal(masked['x-api-key'], '****');
      assert.equal(masked['x-custom'], 'plain');
      assert.equal(masked['webhook-timestamp'], arrived['webhook-timestamp']);
      const secretViewer = await as(await portalToken(app, ['ViewBase', 'ViewEndpointSecret']), `/api/v1/app/${app}/msg/${msg}/attempt/${attempt}/headers`);
      const shown = Object.fromEntries(Object.entries(secretViewer.body.sentHeaders as Record<string, string>).map(([name, value]) => [name.toLowerCase(), value]));
      assert.equal(shown['webhook-signature'], arrived['webhook-signature']);
      assert.equal(shown['x-api-key'], 'k-123');
    });

    it("are out of reach of another application's token, and 404 for an attempt that is not there", async () => {
      const otherToken = await portalToken(other);
      assert.equal((await as(otherToken, `/api/v1/app/${app}/msg/${msg}/attempt/${attempt}/headers`)).status, 403);
      assert.equal((await as(otherToken, `/api/v1/app/${other}/msg/${msg}/attempt/${attempt}/headers`)).status, 404);
      assert.equal((await h.api('GET', `/api/v1/app/${app}/msg/${msg}/attempt/atmpt_0000000000000000000000/headers`)).status, 404);
      assert.equal((await h.api('GET', `/api/v1/app/${other}/msg/${msg}/attempt/${attempt}/headers`)).status, 404);
    });

    it('hide the signature even from an admin once the payload it signed is erased', async () => {
      assert.equal((await h.api('DELETE', `/api/v1/app/${app}/msg/${msg}/content`)).status, 204);
      const answer = await h.api('GET', `/api/v1/app/${app}/msg/${msg}/attempt/${attempt}/headers`);
      const sent = Object.fromEntries(Object.entries(answer.body.sentHeaders as Record<string, string>).map(([name, value]) => [name.toLowerCase(), value]));
      assert.equal(sent['webhook-signature'], 'v1,****');
      assert.equal(sent['webhook-timestamp'], arrived['webhook-timestamp']);
      assert.equal(sent['x-api-key'], 'k-123', 'what does not depend on the payload is still shown');
      assert.equal(answer.body.body, null, 'the body went with the payload');
    });

    it('say when the endpoint changed after the attempt, as the headers are rebuilt from it as it is now', async () => {
      const endpoint = (await h.api('GET', `/api/v1/app/${app}/endpoint`)).body.data[0].id;
      assert.equal((await h.api('PUT', `/api/v1/app/${app}/endpoint/${endpoint}/headers`, { headers: { 'X-Custom': 'changed' } })).status, 204);
      const answer = await h.api('GET', `/api/v1/app/${app}/msg/${msg}/attempt/${attempt}/headers`);
      assert.equal(answer.body.endpointChanged, true);
    });
  });

  it("filters a message list by the message's status, with its other filters", async () => {
    const app = (await h.api('POST', '/api/v1/app', { name: 'Status filter' })).body.id;
    await h.api('POST', `/api/v1/app/${app}/endpoint`, { url: `${receiver.url}/ok`, channels: ['ok'] });
    await h.api('POST', `/api/v1/app/${app}/endpoint`, { url: `${receiver.url}/fail`, channels: ['bad'] });
    const send = async (channels: string[]) => (await h.api('POST', `/api/v1/app/${app}/msg`, { eventType: 'status.test', channels, payload: {} })).body;
    const ok = await send(['ok']);
    const failed = await send(['bad']);
    const mixed = await send(['ok', 'bad']);
    const nowhere = await send(['none']);
    const ids = async (query: string) => {
      const answer = await h.api('GET', `/api/v1/app/${app}/msg?${query}`);
      assert.equal(answer.status, 200, query);
      return answer.body.data.map((m: any) => m.id);
    };
    // The failing endpoint is tried three times (the test schedule is 100ms, 200ms) and then fails.
    await waitFor('every delivery to finish', async () => (await ids('status=1')).length === 0 && (await ids('status=3')).length === 0
      && (await ids('status=2')).length === 2, 20_000);
    assert.deepEqual(await ids('status=0'), [ok.id]);
    assert.deepEqual(await ids('status=2'), [mixed.id, failed.id]);
    assert.deepEqual(await ids(''), [nowhere.id, mixed.id, failed.id, ok.id]);
    assert.deepEqual(await ids('status=2&channel=ok'), [mixed.id]);
    assert.deepEqual(await ids('status=2&limit=1'), [mixed.id]);
    assert.deepEqual(await ids(`status=2&before=${encodeURIComponent(mixed.timestamp)}`), Date.parse(failed.timestamp) < Date.parse(mixed.timestamp) ? [failed.id] : []);
    assert.deepEqual(await ids(`channel=ok&after=${encodeURIComponent(new Date(Date.parse(ok.timestamp) - 1).toISOString())}`), [mixed.id, ok.id]);
    assert.deepEqual(await ids('status=0&event_types=other.type'), []);
    // 4 is Svix's Canceled (cancel-msgs), a status a message can have; 5 is none.
    assert.deepEqual(await ids('status=4'), []);
    for (const bad of ['status=5', 'status=-1', 'status=fail']) {
      const answer = await h.api('GET', `/api/v1/app/${app}/msg?${bad}`);
      assert.equal(answer.status, 422, bad);
      assert.deepEqual(invalidAt(answer.body), ['query.status'], bad);
    }
  });

  it("lists a source's received requests, verified and rejected with their diagnosis, and shows one with its body and masked headers", async () => {
    const source = (await h.api('POST', '/ingest/api/v1/source', { name: 'Stripe', type: 'stripe', config: { secret: 'whsec_dashboard_test' } })).body;
    const body = JSON.stringify({ id: 'evt_dash_1', type: 'invoice.paid' });
    const timestamp = Math.floor(Date.now() / 1000);
    const { createHmac } = await import('node:crypto');
    const signature = createHmac('sha256', 'whsec_dashboard_test').update(`${timestamp}.${body}`).digest('hex');
    const post = (headers: Record<string, string>, content = body) =>
      fetch(source.ingestUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer provider-cred', ...headers }, body: content });
    assert.equal((await post({ 'stripe-signature': `t=${timestamp},v1=${signature}` })).status, 200);
    assert.equal((await post({ 'stripe-signature': `t=${timestamp},v1=${signature}` }, `${body} `)).status, 401);

    const list = await h.api('GET', `/api/v1/source/${source.id}/request`);
    assert.equal(list.status, 200);
    const [rejected, accepted] = list.body.data;
    assert.equal(list.body.done, true);
    assert.deepEqual({ ...accepted, receivedAt: null, id: null, messageId: null }, {
      id: null, messageId: null, receivedAt: null, method: 'POST', url: accepted.url, verified: true, diagnosis: null, duplicateOf: null,
      eventType: 'invoice.paid', eventId: 'evt_dash_1', size: body.length, payloadErased: false,
    });
    assert.equal(accepted.id, accepted.messageId);
    assert.ok(accepted.url.endsWith('/in/{token}'), accepted.url);
    assert.equal(rejected.verified, false);
    assert.equal(typeof rejected.diagnosis, 'string');
    assert.ok(rejected.diagnosis.length > 0);
    assert.equal(rejected.size, body.length + 1);
    assert.equal('headers' in rejected, false, 'a list carries no headers or body');
    // The same requests the ingest API lists as messages.
    assert.deepEqual((await h.api('GET', `/ingest/api/v1/source/${source.id}/msg`)).body.data.map((m: any) => m.id), [rejected.id, accepted.id]);

    const page = await h.api('GET', `/api/v1/source/${source.id}/request?limit=1`);
    assert.deepEqual([page.body.data.map((r: any) => r.id), page.body.done], [[rejected.id], false]);
    const rest = await h.api('GET', `/api/v1/source/${source.id}/request?limit=1&iterator=${page.body.iterator}`);
    assert.deepEqual(rest.body.data.map((r: any) => r.id), [accepted.id]);

    const one = await h.api('GET', `/api/v1/source/${source.id}/request/${rejected.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.body, `${body} `);
    assert.equal(Buffer.from(one.body.bodyBase64, 'base64').toString(), `${body} `);
    assert.equal(one.body.diagnosis, rejected.diagnosis);
    const header = (answer: any, name: string) => answer.body.headers.find((entry: any) => entry.name === name);
    assert.deepEqual(header(one, 'content-type'), { name: 'content-type', value: 'application/json' });
    assert.deepEqual(header(one, 'stripe-signature'), { name: 'stripe-signature', value: null, masked: true });
    assert.deepEqual(header(one, 'authorization'), { name: 'authorization', value: null, masked: true });
    const revealed = await h.api('GET', `/api/v1/source/${source.id}/request/${rejected.id}?reveal=true`);
    assert.deepEqual(header(revealed, 'authorization'), { name: 'authorization', value: 'Bearer provider-cred' });

    assert.equal((await h.api('GET', `/api/v1/source/${source.id}/request/msg_0000000000000000000000`)).status, 404);
    assert.equal((await h.api('GET', '/api/v1/source/src_0000000000000000000000/request')).status, 404);
    const badIterator = await h.api('GET', `/api/v1/source/${source.id}/request?iterator=nope`);
    assert.deepEqual([badIterator.status, invalidAt(badIterator.body)], [422, ['query.iterator']]);
    assert.equal((await h.api('GET', `/api/v1/source/${source.id}/request/${rejected.id}?reveal=perhaps`)).status, 422);
    const portal = await portalToken((await h.api('POST', '/api/v1/app', { name: 'Not a source owner' })).body.id);
    assert.equal((await as(portal, `/api/v1/source/${source.id}/request`)).status, 403);
  });
}));
