import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

const BIG_INVOICES = { eventType: 'invoice.paid', 'payload.amount': { $gt: 100 } };

await forEachStore((store) => describe(`payload filters on endpoints (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  let receiver: Receiver;

  before(async () => {
    h = await startTestHerald({ store });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    await h.close(failures.any());
  });

  it('stores a filter given at create, shows it, keeps it when a PATCH or an SDK update leaves it out, and clears it with null', async () => {
    const app = await h.svix.application.create({ name: 'filter fields' });
    const created = await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/fields`, filter: BIG_INVOICES });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.filter, BIG_INVOICES);
    const path = `/api/v1/app/${app.id}/endpoint/${created.body.id}`;
    assert.deepEqual((await h.api('GET', path)).body.filter, BIG_INVOICES);

    assert.deepEqual((await h.api('PATCH', path, { description: 'kept' })).body.filter, BIG_INVOICES);
    // Svix's SDK sends only the fields it knows: an update through it must not drop the filter.
    const viaSdk = await h.svix.endpoint.upsert(app.id, created.body.id, { url: `${receiver.url}/fields-2` });
    assert.equal(viaSdk.url, `${receiver.url}/fields-2`);
    assert.equal('filter' in viaSdk, false, 'the SDK drops fields it does not know');
    assert.deepEqual((await h.api('GET', path)).body.filter, BIG_INVOICES);
    await h.svix.endpoint.patch(app.id, created.body.id, { description: 'via the SDK' });
    assert.deepEqual((await h.api('GET', path)).body.filter, BIG_INVOICES);

    const other = { channels: { $in: ['eu'] } };
    assert.deepEqual((await h.api('PATCH', path, { filter: other })).body.filter, other);
    assert.equal((await h.api('PATCH', path, { filter: null })).body.filter, null);
    assert.equal((await h.api('GET', path)).body.filter, null);

    const put = await h.api('PUT', path, { url: `${receiver.url}/fields`, filter: BIG_INVOICES });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body.filter, BIG_INVOICES);
    assert.equal((await h.api('PUT', path, { url: `${receiver.url}/fields`, filter: null })).body.filter, null);

    const upserted = await h.api('PUT', `/api/v1/app/${app.id}/endpoint/filter-upsert`, { url: `${receiver.url}/upsert`, filter: other });
    assert.equal(upserted.status, 201);
    assert.deepEqual(upserted.body.filter, other);
    assert.equal((await h.svix.endpoint.create(app.id, { url: `${receiver.url}/sdk` })).id.startsWith('ep_'), true);
  });

  it('refuses a bad filter with a 422 naming the failing part, on create, PUT and PATCH alike, and stores nothing', async () => {
    const app = await h.svix.application.create({ name: 'bad filters' });
    const endpoint = await h.svix.endpoint.create(app.id, { url: `${receiver.url}/bad` });
    const path = `/api/v1/app/${app.id}/endpoint/${endpoint.id}`;
    const cases: Array<[unknown, string[]]> = [
      ['payload.amount', ['body', 'filter']],
      [{ amount: { $gt: 1 } }, ['body', 'filter', 'amount']],
      [{ 'payload.amount': { $gt: [1] } }, ['body', 'filter', 'payload.amount', '$gt']],
      [{ 'payload.amount': { $where: 'sleep(1000)' } }, ['body', 'filter', 'payload.amount', '$where']],
      [{ $or: [{ eventType: 'a' }, { 'payload.x': { $regex: '(?<=a)b' } }] }, ['body', 'filter', '$or', '1', 'payload.x', '$regex']],
      [{ 'payload.x': { $regex: '[' } }, ['body', 'filter', 'payload.x', '$regex']],
      [{ 'payload.constructor.prototype': 1 }, ['body', 'filter', 'payload.constructor.prototype']],
    ];
    for (const [filter, loc] of cases) {
      for (const [method, url, body] of [
        ['POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/bad`, filter }],
        ['PUT', path, { url: `${receiver.url}/bad`, filter }],
        ['PATCH', path, { filter }],
      ] as const) {
        const response = await h.api(method, url, body);
        assert.equal(response.status, 422, `${method} ${JSON.stringify(filter)}`);
        assert.equal(response.body.code, 'validation');
        assert.deepEqual(response.body.detail.map((item: { loc: string[] }) => item.loc), [loc], `${method} ${JSON.stringify(filter)}: ${JSON.stringify(response.body.detail)}`);
        assert.ok(response.body.detail[0].msg.length > 0);
      }
    }
    assert.equal((await h.api('GET', path)).body.filter, null);
    assert.equal((await h.svix.endpoint.list(app.id)).data.length, 1, 'no bad create went through');
  });

  it('delivers a message only to the endpoints whose filter it matches, creating no delivery for the others', async () => {
    const app = await h.svix.application.create({ name: 'fan-out' });
    const make = async (name: string, filter: unknown) =>
      [name, (await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/fan-out/${name}`, filter })).body.id as string] as const;
    const endpoints = new Map([
      await make('all', null),
      await make('big', BIG_INVOICES),
      await make('eu', { channels: 'eu' }),
      await make('vip', { 'payload.customer.tags': { $regex: '^vip' }, 'payload.items.sku': { $in: ['gold', 'platinum'] } }),
      await make('not-test', { $not: { 'payload.test': true } }),
    ]);
    const sends: Array<[{ eventType: string; channels?: string[]; payload: Record<string, unknown> }, string[]]> = [
      [{ eventType: 'invoice.paid', payload: { amount: 150 } }, ['all', 'big', 'not-test']],
      [{ eventType: 'invoice.paid', payload: { amount: 50, test: true } }, ['all']],
      [{ eventType: 'invoice.sent', channels: ['eu'], payload: { amount: 500, test: false } }, ['all', 'eu', 'not-test']],
      [{ eventType: 'order.made', payload: { customer: { tags: ['new', 'vip-2024'] }, items: [{ sku: 'basic' }, { sku: 'gold' }], test: true } }, ['all', 'vip']],
      [{ eventType: 'order.made', payload: { customer: { tags: ['vip'] }, items: [{ sku: 'basic' }] } }, ['all', 'not-test']],
    ];
    const expectedPaths: string[] = [];
    for (const [message, names] of sends) {
      const sent = await h.svix.message.create(app.id, message);
      // The deliveries are committed with the message, before the answer: none for a filtered-out endpoint.
      const destinations = (await h.svix.messageAttempt.listAttemptedDestinations(app.id, sent.id)).data.map((d) => d.id).sort();
      assert.deepEqual(destinations, names.map((name) => endpoints.get(name)!).sort(), JSON.stringify(message));
      for (const name of names) expectedPaths.push(`${sent.id} /fan-out/${name}`);
    }
    const received = () => receiver.requests.filter((r) => r.path.startsWith('/fan-out/')).map((r) => `${r.headers['webhook-id']} ${r.path}`);
    await waitFor('every matching endpoint to receive its messages', () => received().length >= expectedPaths.length);
    assert.deepEqual(received().sort(), expectedPaths.sort());

    // A changed filter reaches the cached endpoint list fan-out reads: the next message obeys it.
    await h.api('PATCH', `/api/v1/app/${app.id}/endpoint/${endpoints.get('big')}`, { filter: { 'payload.amount': { $gt: 1000 } } });
    await h.api('PATCH', `/api/v1/app/${app.id}/endpoint/${endpoints.get('eu')}`, { filter: null });
    const after = await h.svix.message.create(app.id, { eventType: 'invoice.paid', payload: { amount: 150, test: true } });
    const destinations = (await h.svix.messageAttempt.listAttemptedDestinations(app.id, after.id)).data.map((d) => d.id).sort();
    assert.deepEqual(destinations, ['all', 'eu'].map((name) => endpoints.get(name)!).sort());
  });

  it('replays to an endpoint only the missing messages its filter takes', async () => {
    const app = await h.svix.application.create({ name: 'replay-missing' });
    const small = await h.svix.message.create(app.id, { eventType: 'invoice.paid', payload: { amount: 50 } });
    const big = await h.svix.message.create(app.id, { eventType: 'invoice.paid', payload: { amount: 150 } });
    const created = await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/replayed`, filter: BIG_INVOICES });
    const started = await h.api('POST', `/api/v1/app/${app.id}/endpoint/${created.body.id}/replay-missing`, { since: new Date(Date.now() - 3_600_000).toISOString() });
    assert.equal(started.status, 202);
    const task = await waitFor('the replay to end', async () => {
      const { body } = await h.api('GET', `/api/v1/background-task/${started.body.id}`);
      return body.status !== 'running' && body;
    }, 20_000);
    assert.equal(task.status, 'finished');
    assert.equal(task.data.matched, 1);
    assert.deepEqual((await h.svix.messageAttempt.listAttemptedDestinations(app.id, big.id)).data.map((d) => d.id), [created.body.id]);
    assert.deepEqual((await h.svix.messageAttempt.listAttemptedDestinations(app.id, small.id)).data, []);
    await waitFor('the replayed message to arrive', () => receiver.requests.some((r) => r.path === '/replayed' && r.headers['webhook-id'] === big.id));
  });

  it('filters a source\'s requests too: a JSON body by its fields, and one that is not JSON as having no payload', async () => {
    const source = await h.api('POST', '/ingest/api/v1/source', { name: 'filtered source', type: 'generic-webhook', config: {} });
    assert.equal(source.status, 201);
    const base = `/ingest/api/v1/source/${source.body.id}`;
    const endpoint = async (path: string, filter: unknown) => (await h.api('POST', `${base}/endpoint`, { url: `${receiver.url}${path}`, filter })).body.id as string;
    const orders = await endpoint('/source-orders', { 'payload.kind': 'order' });
    const others = await endpoint('/source-others', { payload: { $exists: false } });
    const post = async (body: string, contentType: string) => {
      const response = await fetch(source.body.ingestUrl, { method: 'POST', headers: { 'content-type': contentType }, body });
      assert.equal(response.status, 200);
      return response.headers.get('herald-message-id')!;
    };
    const json = await post('{"kind": "order", "id": 7}', 'application/json');
    const form = await post('kind=order&id=7', 'application/x-www-form-urlencoded');
    const destinations = async (messageId: string) => (await h.api('GET', `${base}/msg/${messageId}/endpoint`)).body.data.map((d: { id: string }) => d.id);
    assert.deepEqual(await destinations(json), [orders]);
    assert.deepEqual(await destinations(form), [others]);
    await waitFor('both requests forwarded', () => receiver.requests.some((r) => r.path === '/source-orders') && receiver.requests.some((r) => r.path === '/source-others'));
    assert.equal(receiver.requests.find((r) => r.path === '/source-others')!.body.toString(), 'kind=order&id=7');
  });
}));
