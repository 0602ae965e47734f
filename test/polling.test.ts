import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';

/**
 * Polling endpoints (Svix's Pollerv2 and Poller routes) and the events feed, through real HTTP on
 * both stores: consumers read a sink's messages from their own committed offsets, under leases.
 */

await forEachStore((store) => describe(`polling endpoints and the events feed (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  // Herald's clock runs with the system's, moved on by `shift` to run leases out.
  let shift = 0;
  const clock = { now: () => Date.now() + shift };

  const newApp = async (uid: string) => assert.equal((await h.api('POST', '/api/v1/app', { name: uid, uid })).status, 201);
  const send = async (app: string, eventType: string, seq: number, channels?: string[]) => {
    const response = await h.api('POST', `/api/v1/app/${app}/msg`, { eventType, payload: { seq }, ...(channels ? { channels } : {}) });
    assert.equal(response.status, 202);
    return response.body.id as string;
  };
  const sink = async (app: string, body: Record<string, unknown>) => {
    const response = await h.api('POST', `/api/v1/app/${app}/destination`, { type: 'pollingEndpoint', ...body });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body;
  };
  const poll = async (app: string, sinkId: string, consumer: string, query = '') => {
    const response = await h.api('GET', `/api/v1/app/${app}/polling-endpoint/${sinkId}/consumer/${consumer}${query ? `?${query}` : ''}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body as { data: Array<{ offset: number; id: string; eventType: string; payload: { seq: number }; channels: string[] | null }>; done: boolean };
  };
  const seqs = (page: { data: Array<{ payload: { seq: number } }> }) => page.data.map((m) => m.payload.seq);
  const commit = async (app: string, sinkId: string, consumer: string, offset: number) => {
    const response = await h.api('POST', `/api/v1/app/${app}/polling-endpoint/${sinkId}/consumer/${consumer}/commit`, { offset });
    assert.equal(response.status, 204, JSON.stringify(response.body));
  };

  before(async () => {
    h = await startTestHerald({ store, clock });
    for (const name of ['order.created', 'order.paid']) await h.api('POST', '/api/v1/event-type', { name, description: name });
  });
  after(() => h.close(failures.any()));

  it('hands a consumer the sink\'s messages in order, and after a commit only newer ones', async () => {
    await newApp('shop');
    const created = await sink('shop', { uid: 'warehouse' });
    assert.match(created.id, /^ep_/);
    assert.equal(created.uid, 'warehouse');
    assert.equal(created.type, 'pollingEndpoint');
    assert.equal(created.status, 'enabled');
    const ids: string[] = [];
    for (let seq = 0; seq < 3; seq++) ids.push(await send('shop', 'order.created', seq));

    const first = await poll('shop', 'warehouse', 'erp', 'limit=2');
    assert.deepEqual(seqs(first), [0, 1]);
    assert.deepEqual(first.data.map((m) => m.id), ids.slice(0, 2));
    assert.equal(first.done, false);
    assert.ok(first.data[0]!.offset < first.data[1]!.offset, 'offsets grow with the messages');
    // The lease holds the first two: the next poll goes on after them.
    const second = await poll('shop', created.id, 'erp', 'limit=2');
    assert.deepEqual(seqs(second), [2]);
    assert.equal(second.done, true);
    await commit('shop', 'warehouse', 'erp', second.data[0]!.offset);

    for (let seq = 3; seq < 5; seq++) await send('shop', 'order.paid', seq);
    const newer = await poll('shop', 'warehouse', 'erp');
    assert.deepEqual(seqs(newer), [3, 4]);
    assert.deepEqual(newer.data.map((m) => m.eventType), ['order.paid', 'order.paid']);
    assert.equal(newer.done, true);

    // A sink is no URL of the application's: the endpoint list leaves it out, and it lists as a destination.
    assert.deepEqual((await h.api('GET', '/api/v1/app/shop/endpoint')).body.data, []);
    const destinations = (await h.api('GET', '/api/v1/app/shop/destination')).body;
    assert.deepEqual(destinations.data.map((d: { id: string }) => d.id), [created.id]);
    assert.equal(destinations.data[0].currentIterator, String(newer.data[1]!.offset));
    assert.equal((await h.api('GET', '/api/v1/app/shop/destination/warehouse')).body.id, created.id);
  });

  it('keeps one position per consumer: two consumers of one sink read independently', async () => {
    await newApp('twins');
    await sink('twins', { uid: 'feed' });
    for (let seq = 0; seq < 4; seq++) await send('twins', 'order.created', seq);
    const a = await poll('twins', 'feed', 'a', 'lease_duration_ms=0');
    assert.deepEqual(seqs(a), [0, 1, 2, 3]);
    await commit('twins', 'feed', 'a', a.data[2]!.offset);
    assert.deepEqual(seqs(await poll('twins', 'feed', 'b', 'lease_duration_ms=0')), [0, 1, 2, 3], 'b starts at the beginning');
    assert.deepEqual(seqs(await poll('twins', 'feed', 'a', 'lease_duration_ms=0')), [3], 'a goes on after what it committed');
    // A new consumer may start after the last message instead.
    assert.deepEqual(seqs(await poll('twins', 'feed', 'late', 'starting_position=latest')), []);
    await send('twins', 'order.created', 4);
    assert.deepEqual(seqs(await poll('twins', 'feed', 'late')), [4]);
  });

  it('hands the same messages out again once a lease runs out uncommitted', async () => {
    await newApp('lease');
    await sink('lease', { uid: 'slow' });
    for (let seq = 0; seq < 3; seq++) await send('lease', 'order.created', seq);
    const leased = await poll('lease', 'slow', 'worker', 'lease_duration_ms=60000');
    assert.deepEqual(seqs(leased), [0, 1, 2]);
    assert.deepEqual(seqs(await poll('lease', 'slow', 'worker')), [], 'leased: nothing after them yet');
    shift += 61_000;
    const again = await poll('lease', 'slow', 'worker');
    assert.deepEqual(again.data.map((m) => m.id), leased.data.map((m) => m.id));
    // Committed part of the way, a run-out lease hands out only what was not committed.
    await commit('lease', 'slow', 'worker', again.data[0]!.offset);
    shift += 31_000;
    assert.deepEqual(seqs(await poll('lease', 'slow', 'worker')), [1, 2]);
  });

  it('gives a sink only the messages its event types and channels take', async () => {
    await newApp('filters');
    await sink('filters', { uid: 'eu-paid', eventTypes: ['order.paid'], channels: ['eu'] });
    await send('filters', 'order.created', 0, ['eu']);
    await send('filters', 'order.paid', 1, ['us']);
    await send('filters', 'order.paid', 2, ['eu', 'vip']);
    await send('filters', 'order.paid', 3);
    await send('filters', 'order.paid', 4, ['eu']);
    const page = await poll('filters', 'eu-paid', 'c');
    assert.deepEqual(seqs(page), [2, 4]);
    assert.deepEqual(page.data[0]!.channels, ['eu', 'vip']);
    // A disabled sink takes nothing.
    await sink('filters', { uid: 'off', status: 'disabled' });
    await send('filters', 'order.paid', 5, ['eu']);
    assert.deepEqual(seqs(await poll('filters', 'off', 'c')), []);
  });

  it('pages the application\'s events feed oldest first, by iterator, after a time, by event type and channel', async () => {
    await newApp('feed');
    const ids: string[] = [];
    for (let seq = 0; seq < 5; seq++) ids.push(await send('feed', seq % 2 ? 'order.paid' : 'order.created', seq, seq === 3 ? ['vip'] : undefined));
    const get = async (query: string) => {
      const response = await h.api('GET', `/api/v1/app/feed/events?${query}`);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body as { data: Array<{ id: string; payload: { seq: number } }>; iterator: string; done: boolean };
    };
    const first = await get('limit=2');
    assert.deepEqual(first.data.map((m) => m.id), ids.slice(0, 2));
    assert.equal(first.iterator, ids[1]);
    assert.equal(first.done, false);
    const rest = await get(`limit=10&iterator=${first.iterator}`);
    assert.deepEqual(rest.data.map((m) => m.id), ids.slice(2));
    assert.equal(rest.done, true);
    // Caught up: the iterator stays where it was, for the next look.
    const caughtUp = await get(`iterator=${rest.iterator}`);
    assert.deepEqual(caughtUp, { data: [], iterator: rest.iterator, done: true });

    assert.deepEqual((await get('event_types=order.paid')).data.map((m) => m.payload.seq), [1, 3]);
    assert.deepEqual((await get('channels=vip,nobody')).data.map((m) => m.payload.seq), [3]);
    // `after` is exclusive, to the millisecond: a message made later is in, the third is not.
    const third = (await h.api('GET', `/api/v1/app/feed/msg/${ids[2]}`)).body;
    shift += 5;
    const later = await send('feed', 'order.created', 5);
    const after = await get(`after=${encodeURIComponent(third.timestamp)}`);
    assert.ok(!after.data.some((m) => m.id <= ids[2]!));
    assert.ok(after.data.every((m) => Date.parse((m as unknown as { timestamp: string }).timestamp) > Date.parse(third.timestamp)));
    assert.equal(after.data.at(-1)!.id, later);
  });

  it('answers 422 for parameters it cannot take, and 404 for what is no polling endpoint', async () => {
    await newApp('bad');
    await sink('bad', { uid: 'sink' });
    const endpoint = await h.api('POST', '/api/v1/app/bad/endpoint', { url: 'http://127.0.0.1:9/hook', uid: 'http' });
    assert.equal(endpoint.status, 201);
    const base = '/api/v1/app/bad/polling-endpoint/sink/consumer/c';
    for (const query of ['limit=0', 'limit=251', 'limit=two', 'lease_duration_ms=-1', 'starting_position=middle']) {
      const response = await h.api('GET', `${base}?${query}`);
      assert.equal(response.status, 422, query);
      assert.equal(response.body.code, 'validation', query);
    }
    assert.equal((await h.api('GET', '/api/v1/app/bad/polling-endpoint/sink/consumer/not%20a%20name')).status, 422);
    for (const body of [{}, { offset: -1 }, { offset: 'one' }, { offset: 1e15 }]) {
      assert.equal((await h.api('POST', `${base}/commit`, body)).status, 422, JSON.stringify(body));
    }
    for (const query of ['iterator=nope', 'iterator=-msg_x', 'after=yesterday', 'limit=0', 'event_types=a%20b', 'channels=%24']) {
      assert.equal((await h.api('GET', `/api/v1/app/bad/events?${query}`)).status, 422, query);
    }
    assert.equal((await h.api('GET', '/api/v1/app/bad/poller/sink?iterator=abc')).status, 422);
    const sqs = await h.api('POST', '/api/v1/app/bad/destination', { type: 'sqs', config: {} });
    assert.equal(sqs.status, 422);
    assert.deepEqual(sqs.body.detail[0].loc, ['body', 'type']);
    assert.equal((await h.api('GET', '/api/v1/app/bad/polling-endpoint/http/consumer/c')).status, 404);
    assert.equal((await h.api('GET', '/api/v1/app/bad/polling-endpoint/none/consumer/c')).status, 404);
    assert.equal((await h.api('GET', '/api/v1/app/none/events')).status, 404);
  });

  it('lets an application\'s read-only token poll and read its own feed, and refuses another application\'s', async () => {
    await newApp('mine');
    await newApp('theirs');
    await sink('mine', { uid: 'sink' });
    await sink('theirs', { uid: 'sink' });
    await send('mine', 'order.created', 0);
    const token = (await h.api('POST', '/api/v1/auth/app-portal-access/mine', { capabilities: ['ViewBase'] })).body.token as string;
    const as = (method: string, path: string, body?: unknown) => fetch(h.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const own = await as('GET', '/api/v1/app/mine/polling-endpoint/sink/consumer/portal');
    assert.equal(own.status, 200);
    const polled = (await own.json()) as { data: Array<{ offset: number; payload: { seq: number } }> };
    assert.deepEqual(polled.data.map((m) => m.payload.seq), [0]);
    assert.equal((await as('POST', '/api/v1/app/mine/polling-endpoint/sink/consumer/portal/commit', { offset: polled.data[0]!.offset })).status, 204);
    assert.equal((await as('GET', '/api/v1/app/mine/events')).status, 200);
    assert.equal((await as('GET', '/api/v1/app/theirs/polling-endpoint/sink/consumer/portal')).status, 403);
    assert.equal((await as('GET', '/api/v1/app/theirs/events')).status, 403);
    assert.equal((await as('POST', '/api/v1/app/mine/destination', { type: 'pollingEndpoint' })).status, 403, 'making a sink takes ManageEndpoint');
  });

  it('serves the svix SDK\'s poller: poll by iterator, a consumer whose iterator Herald keeps, and seek', async () => {
    await newApp('sdk');
    await sink('sdk', { uid: 'sink' });
    for (let seq = 0; seq < 3; seq++) await send('sdk', 'order.created', seq);
    const all = await h.svix.message.poller.poll('sdk', 'sink', { limit: 2 });
    assert.deepEqual(all.data.map((m) => (m.payload as { seq: number }).seq), [0, 1]);
    assert.ok(all.data[0]!.timestamp instanceof Date);
    assert.equal(all.done, false);
    const next = await h.svix.message.poller.poll('sdk', 'sink', { iterator: all.iterator });
    assert.deepEqual(next.data.map((m) => (m.payload as { seq: number }).seq), [2]);

    const first = await h.svix.message.poller.consumerPoll('sdk', 'sink', 'sdk-consumer', { limit: 2 });
    assert.deepEqual(first.data.map((m) => (m.payload as { seq: number }).seq), [0, 1]);
    const second = await h.svix.message.poller.consumerPoll('sdk', 'sink', 'sdk-consumer');
    assert.deepEqual(second.data.map((m) => (m.payload as { seq: number }).seq), [2], 'Herald kept the iterator');

    const sought = await h.svix.message.poller.consumerSeek('sdk', 'sink', 'sdk-consumer', { after: new Date(0) });
    assert.equal(sought.iterator, '0');
    assert.deepEqual((await h.svix.message.poller.consumerPoll('sdk', 'sink', 'sdk-consumer')).data.length, 3);
  });
}));
