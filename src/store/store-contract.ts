import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { systemClock, systemRandom } from '../core/clock.ts';
import { createIdGenerator } from '../core/ids.ts';
import { type Application, type Attempt, type Endpoint, type EventType, type Message, Status, Trigger } from '../core/model.ts';
import { StoreError } from './errors.ts';
import type { AttemptFilter, ClaimRequest, DeliveryResult, MessageFilter, Store } from './store.ts';

/** A store opened for one test, and how to get rid of it: `keep` leaves a failed test's data for a look. */
export interface OpenedStore {
  store: Store;
  dispose(keep: boolean): Promise<void>;
}

/**
 * The storage contract: every Store implementation runs these same tests (SQLite in
 * sqlite/sqlite-store.test.ts, PostgreSQL in postgres/postgres-store.test.ts). They speak only the
 * Store interface, with fixtures made in code and explicit times instead of waiting.
 */
export function storeContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(name, () => {
    const ids = createIdGenerator(systemClock, systemRandom);
    const opened: OpenedStore[] = [];
    afterEach(async (t) => {
      const failed = (t as { passed?: boolean }).passed === false;
      await Promise.all(opened.splice(0).map((entry) => entry.dispose(failed)));
    });
    const fresh = async () => {
      const entry = await open();
      opened.push(entry);
      return entry.store;
    };

    const T0 = 1_700_000_000_000;
    const anApp = (over: Partial<Application> = {}): Application =>
      ({ id: ids('application'), uid: null, name: 'App', metadata: {}, throttleRate: null, createdAt: T0, updatedAt: T0, ...over });
    const anEndpoint = (appId: string, over: Partial<Endpoint> = {}): Endpoint => ({
      id: ids('endpoint'), appId, uid: null, url: 'https://example.com/hook', description: '', eventTypes: null, channels: null,
      disabled: false, metadata: {}, throttleRate: null, headers: {}, secrets: [{ key: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', expiresAt: null }],
      createdAt: T0, updatedAt: T0, ...over,
    });
    const aMessage = (appId: string, over: Partial<Message> = {}): Message => ({
      id: ids('message'), appId, eventType: 'invoice.paid', eventId: null, channels: null,
      payload: Buffer.from('{"a":1}'), inbound: null, createdAt: T0, ...over,
    });
    const anEventType = (over: Partial<EventType> = {}): EventType => ({
      name: `type.${ids('message').slice(-8)}`, description: 'd', schemas: null, archived: false, deprecated: false,
      featureFlag: null, createdAt: T0, updatedAt: T0, ...over,
    });
    const claim = (store: Store, over: Partial<ClaimRequest> = {}) =>
      store.queue.claim({ now: T0, limit: 10, leaseMs: 30_000, slots: new Map(), defaultSlots: 10, appSlots: new Map(), defaultAppSlots: 10, ...over });
    const anAttempt = (message: Message, endpointId: string, over: Partial<Attempt> = {}): Attempt => ({
      id: ids('attempt'), messageId: message.id, endpointId, appId: message.appId, url: 'https://example.com/hook',
      status: Status.success, responseStatusCode: 200, response: 'ok', responseDurationMs: 5, trigger: Trigger.scheduled,
      failureReason: null, attemptNumber: 1, createdAt: T0, ...over,
    });
    const result = (delivery: { id: number; lease: number }, attempt: Attempt, next: DeliveryResult['next'], disableEndpoint = false, attemptCount = attempt.attemptNumber): DeliveryResult =>
      ({ id: delivery.id, lease: delivery.lease, attempt, next, attemptCount, disableEndpoint });
    const noFilter: MessageFilter = { eventTypes: null, channel: null, before: null, after: null };
    const page = (limit = 50, order: 'asc' | 'desc' = 'desc', after: string | null = null) => ({ limit, order, after });
    const conflict = (error: unknown) => error instanceof StoreError && error.code === 'conflict';

    /** An application with one endpoint and one queued message. */
    async function queued(store: Store, endpointOver: Partial<Endpoint> = {}, messageOver: Partial<Message> = {}) {
      const app = await store.apps.create(anApp());
      const endpoint = await store.endpoints.create(anEndpoint(app.id, endpointOver));
      const message = aMessage(app.id, messageOver);
      await store.messages.enqueue(message, [endpoint.id]);
      return { app, endpoint, message };
    }

    it('answers a ping', async () => {
      await (await fresh()).ping();
    });

    describe('applications', () => {
      it('finds an application by id and by uid', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp({ uid: 'acme', metadata: { tier: 'gold' }, throttleRate: 5 }));
        assert.deepEqual(await store.apps.get(app.id), app);
        assert.deepEqual(await store.apps.get('acme'), app);
        assert.equal(await store.apps.get('nope'), null);
      });

      it('pages in both orders and says when it is done', async () => {
        const store = await fresh();
        const apps = [];
        for (let i = 0; i < 5; i++) apps.push(await store.apps.create(anApp({ name: `a${i}` })));
        const first = await store.apps.list(page(2, 'asc'));
        assert.deepEqual(first.items.map((a) => a.id), [apps[0]!.id, apps[1]!.id]);
        assert.equal(first.done, false);
        const last = await store.apps.list(page(2, 'asc', apps[3]!.id));
        assert.deepEqual(last.items.map((a) => a.id), [apps[4]!.id]);
        assert.equal(last.done, true);
        const newest = await store.apps.list(page(2, 'desc'));
        assert.deepEqual(newest.items.map((a) => a.id), [apps[4]!.id, apps[3]!.id]);
      });

      it('refuses a taken uid on create and on update', async () => {
        const store = await fresh();
        await store.apps.create(anApp({ uid: 'taken' }));
        const other = await store.apps.create(anApp({ uid: 'free' }));
        await assert.rejects(store.apps.create(anApp({ uid: 'taken' })), conflict);
        await assert.rejects(store.apps.update({ ...other, uid: 'taken' }), conflict);
      });

      it('updates every field', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const changed = { ...app, uid: 'new', name: 'New', metadata: { a: 'b' }, throttleRate: 9, updatedAt: T0 + 1 };
        await store.apps.update(changed);
        assert.deepEqual(await store.apps.get(app.id), changed);
      });

      it('deletes an application with its endpoints, messages, deliveries and attempts', async () => {
        const store = await fresh();
        const { app, endpoint, message } = await queued(store);
        const [delivery] = await claim(store);
        await store.queue.complete([result(delivery!, anAttempt(message, endpoint.id), { status: Status.success })]);
        assert.equal(await store.apps.delete(app.id), true);
        assert.equal(await store.apps.get(app.id), null);
        assert.equal(await store.endpoints.get(app.id, endpoint.id), null);
        assert.equal(await store.messages.get(app.id, message.id), null);
        assert.equal((await store.attempts.listByEndpoint(endpoint.id, { ...noFilter, status: null, statusCodeClass: null, endpointId: null }, page())).items.length, 0);
        assert.equal(await store.queue.nextDueAt(), null);
        assert.equal(await store.apps.delete(app.id), false);
      });
    });

    describe('event types', () => {
      it('creates, updates, hides archived ones unless asked, and deletes', async () => {
        const store = await fresh();
        const shown = await store.eventTypes.create(anEventType({ name: 'a.shown', schemas: { '1': { type: 'object' } } }));
        const archived = await store.eventTypes.create(anEventType({ name: 'b.archived', archived: true }));
        assert.deepEqual(await store.eventTypes.get('a.shown'), shown);
        assert.deepEqual((await store.eventTypes.list(page(10, 'asc'), false)).items.map((e) => e.name), ['a.shown']);
        assert.deepEqual((await store.eventTypes.list(page(10, 'asc'), true)).items.map((e) => e.name), ['a.shown', 'b.archived']);
        const updated = { ...archived, archived: false, deprecated: true, description: 'new', featureFlag: 'beta', updatedAt: T0 + 1 };
        await store.eventTypes.update(updated);
        assert.deepEqual(await store.eventTypes.get('b.archived'), updated);
        assert.equal(await store.eventTypes.delete('a.shown'), true);
        assert.equal(await store.eventTypes.get('a.shown'), null);
      });

      it('refuses a duplicate name', async () => {
        const store = await fresh();
        await store.eventTypes.create(anEventType({ name: 'dup.name' }));
        await assert.rejects(store.eventTypes.create(anEventType({ name: 'dup.name' })), conflict);
      });
    });

    describe('endpoints', () => {
      it('scopes uids to their application', async () => {
        const store = await fresh();
        const [a, b] = [await store.apps.create(anApp()), await store.apps.create(anApp())];
        const endpoint = await store.endpoints.create(anEndpoint(a.id, { uid: 'main' }));
        await store.endpoints.create(anEndpoint(b.id, { uid: 'main' }));
        await assert.rejects(store.endpoints.create(anEndpoint(a.id, { uid: 'main' })), conflict);
        assert.deepEqual(await store.endpoints.get(a.id, 'main'), endpoint);
        assert.equal(await store.endpoints.get(b.id, endpoint.id), null);
      });

      it('round-trips every field through an update', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const endpoint = await store.endpoints.create(anEndpoint(app.id));
        const changed: Endpoint = {
          ...endpoint, uid: 'u', url: 'https://example.org/x', description: 'desc', eventTypes: ['a.b', 'c.d'], channels: ['eu'],
          disabled: true, metadata: { k: 'v' }, throttleRate: 3, headers: { 'X-A': '1' },
          secrets: [{ key: 'whsec_bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3', expiresAt: null }, { key: endpoint.secrets[0]!.key, expiresAt: T0 + 5 }],
          updatedAt: T0 + 1,
        };
        await store.endpoints.update(changed);
        assert.deepEqual(await store.endpoints.get(app.id, endpoint.id), changed);
      });

      it('lists pages, and only enabled endpoints for fan-out', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const on = await store.endpoints.create(anEndpoint(app.id));
        const off = await store.endpoints.create(anEndpoint(app.id, { disabled: true }));
        assert.deepEqual((await store.endpoints.list(app.id, page(10, 'asc'))).items.map((e) => e.id), [on.id, off.id]);
        assert.deepEqual((await store.endpoints.listEnabled(app.id)).map((e) => e.id), [on.id]);
      });

      it('deletes an endpoint and its deliveries but keeps the message', async () => {
        const store = await fresh();
        const { app, endpoint, message } = await queued(store);
        assert.equal(await store.endpoints.delete(app.id, endpoint.id), true);
        assert.equal(await store.queue.nextDueAt(), null);
        assert.ok(await store.messages.get(app.id, message.id));
      });
    });

    describe('messages', () => {
      it('stores the payload bytes exactly and queues one delivery per endpoint', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const [e1, e2] = [await store.endpoints.create(anEndpoint(app.id)), await store.endpoints.create(anEndpoint(app.id))];
        const payload = Buffer.from('{"name":"Zoë","emoji":"✓","n":1.50}');
        const message = aMessage(app.id, { payload, channels: ['eu', 'us'], eventId: 'evt-1' });
        await store.messages.enqueue(message, [e1.id, e2.id]);
        const stored = await store.messages.get(app.id, message.id);
        assert.deepEqual(Buffer.from(stored!.payload), payload);
        assert.deepEqual({ ...stored, payload: null }, { ...message, payload: null });
        assert.equal((await store.messages.get(app.id, 'evt-1'))!.id, message.id);
        assert.deepEqual((await store.queue.listByMessage(message.id, page(10, 'asc'))).items.map((r) => r.delivery.status), [Status.pending, Status.pending]);
      });

      it('keeps the payloads of messages enqueued together apart, whatever their bytes', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const endpoint = await store.endpoints.create(anEndpoint(app.id));
        const payloads = [Buffer.from('{"first":true}'), Buffer.alloc(0), Buffer.from([0xff, 0x00, 0xfe, 0x5c, 0x22]), Buffer.alloc(70_000, 'x')];
        const messages = payloads.map((payload) => aMessage(app.id, { payload }));
        await Promise.all(messages.map((message) => store.messages.enqueue(message, [endpoint.id])));
        for (const [i, message] of messages.entries()) {
          assert.deepEqual(Buffer.from((await store.messages.get(app.id, message.id))!.payload), payloads[i]);
        }
      });

      it('refuses a repeated eventId in one application and writes nothing for it', async () => {
        const store = await fresh();
        const { app, endpoint } = await queued(store, {}, { eventId: 'once' });
        const again = aMessage(app.id, { eventId: 'once' });
        await assert.rejects(store.messages.enqueue(again, [endpoint.id]), conflict);
        assert.equal((await store.messages.list(app.id, noFilter, page())).items.length, 1);
        assert.equal((await claim(store)).length, 1);
        const other = await store.apps.create(anApp());
        await store.messages.enqueue(aMessage(other.id, { eventId: 'once' }), []);
      });

      it('filters by event type, channel and time, newest first', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const m1 = aMessage(app.id, { eventType: 'a.one', channels: ['eu'], createdAt: T0 + 1 });
        const m2 = aMessage(app.id, { eventType: 'b.two', channels: ['us', 'eu'], createdAt: T0 + 2 });
        const m3 = aMessage(app.id, { eventType: 'c.three', createdAt: T0 + 3 });
        for (const m of [m1, m2, m3]) await store.messages.enqueue(m, []);
        const list = async (filter: Partial<typeof noFilter>) =>
          (await store.messages.list(app.id, { ...noFilter, ...filter }, page())).items.map((m) => m.id);
        assert.deepEqual(await list({}), [m3.id, m2.id, m1.id]);
        assert.deepEqual(await list({ eventTypes: ['a.one', 'c.three'] }), [m3.id, m1.id]);
        assert.deepEqual(await list({ channel: 'eu' }), [m2.id, m1.id]);
        assert.deepEqual(await list({ before: T0 + 3, after: T0 + 1 }), [m2.id]);
      });

      it('purges old messages with nothing pending, with their deliveries and attempts', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const endpoint = await store.endpoints.create(anEndpoint(app.id));
        const done = aMessage(app.id);
        const waiting = aMessage(app.id, { createdAt: T0 + 100 });
        await store.messages.enqueue(done, []);
        await store.messages.enqueue(waiting, [endpoint.id]);
        await store.queue.resend(done.id, endpoint.id, T0);
        const [delivery] = await claim(store, { limit: 1 });
        assert.equal(delivery!.message.id, done.id);
        await store.queue.complete([result(delivery!, anAttempt(done, endpoint.id), { status: Status.success })]);
        assert.equal(await store.messages.purge(Date.now() + 1000, 10), 1, 'only the finished message goes');
        assert.equal(await store.messages.get(app.id, done.id), null);
        assert.ok(await store.messages.get(app.id, waiting.id));
        assert.equal(await store.messages.purge(Date.now() - 60_000, 10), 0, 'nothing is older than a minute ago');
      });

      it('keeps received requests past the retention until their own cut-off', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const inbound = { method: 'POST', url: 'https://h/in/t', headers: {}, verified: true, diagnosis: null, duplicateOf: null };
        const received = aMessage(app.id, { inbound, eventId: 'evt_1' });
        const sent = aMessage(app.id);
        await store.messages.enqueue(received, []);
        await store.messages.enqueue(sent, []);
        assert.equal(await store.messages.purge(Date.now() + 1000, 10, Date.now() - 60_000), 1, 'only the message sent goes');
        assert.ok(await store.messages.get(app.id, received.id));
        assert.equal(await store.messages.purge(Date.now() + 1000, 10, Date.now() + 1000), 1);
        assert.equal(await store.messages.get(app.id, received.id), null);
      });
    });

    describe('delivery queue', () => {
      it('claims only due deliveries, with what sending needs', async () => {
        const store = await fresh();
        const { endpoint, message } = await queued(store, { headers: { 'X-A': '1' } });
        assert.deepEqual(await claim(store, { now: T0 - 1 }), []);
        const [delivery, ...rest] = await claim(store);
        assert.equal(rest.length, 0);
        assert.equal(delivery!.attemptNumber, 1);
        assert.equal(delivery!.trigger, Trigger.scheduled);
        assert.deepEqual(Buffer.from(delivery!.message.payload), Buffer.from(message.payload));
        assert.deepEqual({ ...delivery!.message, payload: null }, { id: message.id, appId: message.appId, eventType: message.eventType, payload: null, inbound: null });
        assert.deepEqual(delivery!.endpoint, { id: endpoint.id, url: endpoint.url, headers: { 'X-A': '1' }, secrets: endpoint.secrets, disabled: false });
      });

      it('carries a fanned-out message\'s payload once in a claim, shared by all its deliveries', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const endpoints: Endpoint[] = [];
        for (let i = 0; i < 5; i++) endpoints.push(await store.endpoints.create(anEndpoint(app.id)));
        const wide = aMessage(app.id, { payload: Buffer.alloc(10_000, 'w') });
        const narrow = aMessage(app.id, { payload: Buffer.from('{"narrow":true}') });
        await store.messages.enqueue(wide, endpoints.map((e) => e.id));
        await store.messages.enqueue(narrow, endpoints.slice(0, 2).map((e) => e.id));
        const claimed = await claim(store);
        assert.equal(claimed.length, 7);
        for (const message of [wide, narrow]) {
          const mine = claimed.filter((d) => d.message.id === message.id);
          assert.deepEqual(Buffer.from(mine[0]!.message.payload), message.payload);
          assert.ok(mine.every((d) => d.message.payload === mine[0]!.message.payload), `the deliveries of ${message.id} share one payload`);
        }
        const ofFirstEndpoint = claimed.filter((d) => d.endpoint.id === endpoints[0]!.id);
        assert.equal(ofFirstEndpoint.length, 2);
        assert.equal(ofFirstEndpoint[0]!.endpoint, ofFirstEndpoint[1]!.endpoint, 'and the deliveries of one endpoint share its details');
      });

      it('holds a claimed delivery until its lease expires, then lets it be claimed again', async () => {
        const store = await fresh();
        await queued(store);
        const [first] = await claim(store, { leaseMs: 1000 });
        assert.deepEqual(await claim(store, { now: T0 + 999 }), []);
        assert.equal(await store.queue.nextDueAt(), T0 + 1000);
        const [second] = await claim(store, { now: T0 + 1000 });
        assert.equal(second!.id, first!.id);
        assert.notEqual(second!.lease, first!.lease);
      });

      it('stores deliveries handed to the dispatcher already leased, and returns every delivery id in endpoint order', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const kept = await store.endpoints.create(anEndpoint(app.id));
        const queuedOne = await store.endpoints.create(anEndpoint(app.id));
        const message = aMessage(app.id);
        const ids = await store.messages.enqueue(message, [kept.id, queuedOne.id], { until: T0 + 1000, endpointIds: new Set([kept.id]) });
        assert.equal(ids.length, 2);
        assert.notEqual(ids[0], ids[1]);
        const [claimed, ...rest] = await claim(store, { leaseMs: 1000 });
        assert.equal(rest.length, 0, 'the leased delivery is not claimable while its lease runs');
        assert.equal(claimed!.id, ids[1]);
        assert.equal(claimed!.endpoint.id, queuedOne.id);
        const [expired] = await claim(store, { now: T0 + 1000 });
        assert.equal(expired!.id, ids[0]);
        assert.equal(expired!.lease, 2, 'a new claim supersedes the lease the delivery was stored with');
        const handedOff = (await store.queue.listByMessage(message.id, page())).items.find((row) => row.endpoint.id === kept.id);
        assert.equal(handedOff!.delivery.status, Status.sending);
      });

      it('records the result of a delivery stored leased, under lease 1', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const endpoint = await store.endpoints.create(anEndpoint(app.id));
        const message = aMessage(app.id);
        const [id] = await store.messages.enqueue(message, [endpoint.id], { until: T0 + 1000, endpointIds: new Set([endpoint.id]) });
        await store.queue.complete([result({ id: id!, lease: 1 }, anAttempt(message, endpoint.id), { status: Status.success })]);
        const [row] = (await store.queue.listByMessage(message.id, page())).items;
        assert.equal(row!.delivery.status, Status.success);
        assert.equal(row!.delivery.attemptCount, 1);
      });

      it('gives released deliveries back to the queue at once', async () => {
        const store = await fresh();
        await queued(store);
        const [delivery] = await claim(store);
        await store.queue.release([delivery!], T0 + 1);
        assert.equal(await store.queue.nextDueAt(), T0 + 1);
        const [again] = await claim(store, { now: T0 + 1 });
        assert.equal(again!.id, delivery!.id);
        assert.equal(again!.attemptNumber, 1, 'a release uses up no attempt');
      });

      it('moves a delivery on when its result lands, and records the attempt', async () => {
        const store = await fresh();
        const { endpoint, message } = await queued(store);
        const [delivery] = await claim(store);
        const failed = anAttempt(message, endpoint.id, { status: Status.fail, responseStatusCode: 500, response: 'boom' });
        await store.queue.complete([result(delivery!, failed, { status: Status.pending, runAt: T0 + 5000 })]);
        let [row] = (await store.queue.listByMessage(message.id, page())).items;
        assert.equal(row!.delivery.status, Status.pending);
        assert.equal(row!.delivery.nextAttemptAt, T0 + 5000);
        assert.equal(row!.delivery.attemptCount, 1);
        assert.equal(await store.queue.nextDueAt(), T0 + 5000);
        const [retry] = await claim(store, { now: T0 + 5000 });
        assert.equal(retry!.attemptNumber, 2);
        await store.queue.complete([result(retry!, anAttempt(message, endpoint.id, { attemptNumber: 2, createdAt: T0 + 5000 }), { status: Status.success })]);
        [row] = (await store.queue.listByMessage(message.id, page())).items;
        assert.equal(row!.delivery.status, Status.success);
        assert.equal(row!.delivery.nextAttemptAt, null);
        assert.equal(await store.queue.nextDueAt(), null);
        const attempts = await store.attempts.listByMessage(message.id, { ...noFilter, status: null, statusCodeClass: null, endpointId: null }, page());
        assert.deepEqual(attempts.items.map((a) => a.responseStatusCode), [200, 500]);
        assert.deepEqual(await store.attempts.get(message.id, failed.id), failed);
      });

      it('records a stale result\'s attempt but leaves the delivery to its newer lease', async () => {
        const store = await fresh();
        const { endpoint, message } = await queued(store);
        const [stale] = await claim(store, { leaseMs: 10 });
        await claim(store, { now: T0 + 10 });
        await store.queue.complete([result(stale!, anAttempt(message, endpoint.id), { status: Status.success })]);
        const [row] = (await store.queue.listByMessage(message.id, page())).items;
        assert.equal(row!.delivery.status, Status.sending);
        assert.equal((await store.attempts.listByMessage(message.id, { ...noFilter, status: null, statusCodeClass: null, endpointId: null }, page())).items.length, 1);
      });

      it('commits a batch of results whose message or endpoint was deleted meanwhile, dropping only what went', async () => {
        const store = await fresh();
        const appGone = await queued(store);
        const endpointGone = await queued(store);
        const live = await queued(store);
        const claimed = await claim(store);
        const of = (message: Message) => claimed.find((d) => d.message.id === message.id)!;
        await store.apps.delete(appGone.app.id);
        await store.endpoints.delete(endpointGone.app.id, endpointGone.endpoint.id);
        const anyAttempt: AttemptFilter = { ...noFilter, status: null, statusCodeClass: null, endpointId: null };
        await store.queue.complete([
          result(of(appGone.message), anAttempt(appGone.message, appGone.endpoint.id), { status: Status.success }),
          result(of(endpointGone.message), anAttempt(endpointGone.message, endpointGone.endpoint.id, { status: Status.fail, responseStatusCode: 410 }), { status: Status.fail }, true),
          result(of(live.message), anAttempt(live.message, live.endpoint.id), { status: Status.success }),
        ]);
        const [row] = (await store.queue.listByMessage(live.message.id, page())).items;
        assert.equal(row!.delivery.status, Status.success);
        assert.equal(row!.delivery.attemptCount, 1);
        assert.equal((await store.attempts.listByMessage(live.message.id, anyAttempt, page())).items.length, 1);
        assert.equal((await store.attempts.listByEndpoint(appGone.endpoint.id, anyAttempt, page())).items.length, 0, 'nothing is left of the deleted application');
        assert.equal((await store.attempts.listByMessage(endpointGone.message.id, anyAttempt, page())).items.length, 1,
          'an attempt on an endpoint deleted meanwhile stays in its message\'s history');
        assert.equal(await store.queue.nextDueAt(), null);
      });

      it('disables the endpoint when a result asks for it', async () => {
        const store = await fresh();
        const { app, endpoint, message } = await queued(store);
        const [delivery] = await claim(store);
        await store.queue.complete([result(delivery!, anAttempt(message, endpoint.id, { status: Status.fail, responseStatusCode: 410 }), { status: Status.fail }, true)]);
        assert.equal((await store.endpoints.get(app.id, endpoint.id))!.disabled, true);
      });

      it('takes no more from an endpoint than its free slots, and still serves the others', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const busy = await store.endpoints.create(anEndpoint(app.id));
        const quiet = await store.endpoints.create(anEndpoint(app.id));
        const capped = await store.endpoints.create(anEndpoint(app.id));
        for (let i = 0; i < 6; i++) await store.messages.enqueue(aMessage(app.id, { createdAt: T0 + i }), [busy.id, capped.id]);
        await store.messages.enqueue(aMessage(app.id, { createdAt: T0 + 10 }), [quiet.id]);
        const taken = await claim(store, { now: T0 + 10, slots: new Map([[busy.id, 0], [capped.id, 1]]), defaultSlots: 2 });
        const byEndpoint = (id: string) => taken.filter((d) => d.endpoint.id === id).length;
        assert.equal(byEndpoint(busy.id), 0);
        assert.equal(byEndpoint(capped.id), 1);
        assert.equal(byEndpoint(quiet.id), 1);
        const more = await claim(store, { now: T0 + 10, slots: new Map(), defaultSlots: 2 });
        assert.equal(more.filter((d) => d.endpoint.id === busy.id).length, 2, 'defaultSlots caps endpoints not listed');
      });

      it('takes no more from an application than its free slots over all its endpoints, and skips one that has none', async () => {
        const store = await fresh();
        const apps = [await store.apps.create(anApp()), await store.apps.create(anApp()), await store.apps.create(anApp())];
        const [full, capped, open] = apps;
        const endpointsOf = new Map<string, Endpoint[]>();
        for (const app of apps) {
          const endpoints = [await store.endpoints.create(anEndpoint(app.id)), await store.endpoints.create(anEndpoint(app.id)), await store.endpoints.create(anEndpoint(app.id))];
          endpointsOf.set(app.id, endpoints);
          for (let i = 0; i < 2; i++) await store.messages.enqueue(aMessage(app.id, { createdAt: T0 + i }), endpoints.map((e) => e.id));
        }
        const busyEndpoint = endpointsOf.get(capped!.id)![0]!;
        const taken = await claim(store, {
          now: T0 + 10, limit: 20, defaultSlots: 10, slots: new Map([[busyEndpoint.id, 0]]),
          appSlots: new Map([[full!.id, 0], [capped!.id, 3]]), defaultAppSlots: 4,
        });
        const ofApp = (app: Application) => taken.filter((d) => d.message.appId === app.id);
        assert.equal(ofApp(full!).length, 0, 'an application with no free slot is skipped');
        assert.equal(ofApp(capped!).length, 3, 'an application takes its free slots, from its endpoints that have some');
        assert.ok(ofApp(capped!).every((d) => d.endpoint.id !== busyEndpoint.id));
        assert.equal(ofApp(open!).length, 4, 'defaultAppSlots caps applications not listed');
        const [first] = await store.messages.list(capped!.id, noFilter, page(1, 'asc')).then((p) => p.items);
        assert.equal(ofApp(capped!).filter((d) => d.message.id === first!.id).length, 2, 'in due order');
      });

      it('resends a finished delivery, and creates one for an endpoint that never had it', async () => {
        const store = await fresh();
        const { app, endpoint, message } = await queued(store);
        const [delivery] = await claim(store);
        await store.queue.complete([result(delivery!, anAttempt(message, endpoint.id), { status: Status.success })]);
        await store.queue.resend(message.id, endpoint.id, T0 + 100);
        const late = await store.endpoints.create(anEndpoint(app.id));
        await store.queue.resend(message.id, late.id, T0 + 100);
        const again = await claim(store, { now: T0 + 100 });
        assert.deepEqual(again.map((d) => [d.attemptNumber, d.trigger, d.resumeAt]), [[1, Trigger.manual, null], [1, Trigger.manual, null]]);
        assert.deepEqual(new Set(again.map((d) => d.endpoint.id)), new Set([endpoint.id, late.id]));
      });

      it('resends a delivery still on its retry schedule for one manual attempt, after which it goes back to its place', async () => {
        const store = await fresh();
        const { endpoint, message } = await queued(store);
        const [first] = await claim(store);
        await store.queue.complete([result(first!, anAttempt(message, endpoint.id, { status: Status.fail }), { status: Status.pending, runAt: T0 + 5000 })]);
        await store.queue.resend(message.id, endpoint.id, T0 + 100);
        await store.queue.resend(message.id, endpoint.id, T0 + 150);
        const [manual, ...rest] = await claim(store, { now: T0 + 150 });
        assert.equal(rest.length, 0);
        assert.deepEqual([manual!.trigger, manual!.attemptNumber, manual!.resumeAt], [Trigger.manual, 2, T0 + 5000], 'resent twice, it still remembers its schedule');
        // What a failed manual attempt reports: back to the schedule, no attempt used.
        const failed = anAttempt(message, endpoint.id, { status: Status.fail, trigger: Trigger.manual, attemptNumber: 2, createdAt: T0 + 150 });
        await store.queue.complete([result(manual!, failed, { status: Status.pending, runAt: T0 + 5000 }, false, 1)]);
        const [row] = (await store.queue.listByMessage(message.id, page())).items;
        assert.deepEqual([row!.delivery.status, row!.delivery.attemptCount, row!.delivery.nextAttemptAt], [Status.pending, 1, T0 + 5000]);
        assert.deepEqual(await claim(store, { now: T0 + 4999 }), []);
        const [scheduled] = await claim(store, { now: T0 + 5000 });
        assert.deepEqual([scheduled!.trigger, scheduled!.attemptNumber, scheduled!.resumeAt], [Trigger.scheduled, 2, null]);
      });

      it('resends a delivery in flight for one manual attempt that supersedes it, due again at once if it fails', async () => {
        const store = await fresh();
        const { endpoint, message } = await queued(store);
        const [inFlight] = await claim(store);
        await store.queue.resend(message.id, endpoint.id, T0 + 100);
        const [manual] = await claim(store, { now: T0 + 100 });
        assert.deepEqual([manual!.trigger, manual!.attemptNumber, manual!.resumeAt], [Trigger.manual, 1, T0 + 100]);
        await store.queue.complete([result(inFlight!, anAttempt(message, endpoint.id), { status: Status.success })]);
        const [row] = (await store.queue.listByMessage(message.id, page())).items;
        assert.equal(row!.delivery.status, Status.sending, 'the superseded attempt is recorded but moves nothing');
      });

      it('recovers only failed deliveries of the endpoint created in the range', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const endpoint = await store.endpoints.create(anEndpoint(app.id));
        const messages = [T0, T0 + 10, T0 + 20].map((createdAt) => aMessage(app.id, { createdAt }));
        for (const m of messages) await store.messages.enqueue(m, [endpoint.id]);
        for (const d of await claim(store, { now: T0 + 20 })) {
          const m = messages.find((x) => x.id === d.message.id)!;
          await store.queue.complete([result(d, anAttempt(m, endpoint.id, { status: Status.fail }), { status: Status.fail })]);
        }
        assert.equal(await store.queue.recover(endpoint.id, T0 + 10, T0 + 20, T0 + 30), 1);
        const [recovered] = await claim(store, { now: T0 + 30 });
        assert.equal(recovered!.message.id, messages[1]!.id);
        assert.deepEqual([recovered!.trigger, recovered!.attemptNumber, recovered!.resumeAt], [Trigger.manual, 1, null]);
        const stats = await store.queue.stats(endpoint.id, { before: null, after: null });
        assert.deepEqual(stats, { success: 0, pending: 0, sending: 1, fail: 2 });
        assert.deepEqual(await store.queue.stats(endpoint.id, { before: T0 + 10, after: null }), { success: 0, pending: 0, sending: 0, fail: 1 });
      });

      it('recovers by the message\'s creation time and leaves pending and in-flight deliveries alone', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const endpoint = await store.endpoints.create(anEndpoint(app.id));
        const late = await store.endpoints.create(anEndpoint(app.id));
        const [failed, waiting, inFlight] = [aMessage(app.id), aMessage(app.id), aMessage(app.id)];
        await store.messages.enqueue(failed, [endpoint.id]);
        // A delivery that a resend created long after its message counts from the message.
        await store.queue.resend(failed.id, late.id, T0 + 1000);
        for (const d of await claim(store, { now: T0 + 1000 })) {
          await store.queue.complete([result(d, anAttempt(failed, d.endpoint.id, { status: Status.fail, createdAt: T0 + 1000 }), { status: Status.fail })]);
        }
        await store.messages.enqueue(inFlight, [endpoint.id, late.id]);
        await claim(store, { now: T0 + 1000 });
        await store.messages.enqueue(waiting, [endpoint.id, late.id]);
        assert.equal(await store.queue.recover(late.id, T0, T0 + 1, T0 + 2000), 1);
        assert.equal(await store.queue.recover(endpoint.id, T0, T0 + 1, T0 + 2000), 1);
        const claimed = await claim(store, { now: T0 + 2000 });
        const [recovered, ...others] = claimed.filter((d) => d.trigger === Trigger.manual);
        assert.equal(others.length, 1);
        assert.equal(recovered!.message.id, failed.id);
        assert.deepEqual(claimed.filter((d) => d.trigger === Trigger.scheduled).map((d) => d.message.id), [waiting.id, waiting.id],
          'the pending deliveries are still on their schedule');
      });

      it('lists an endpoint\'s deliveries by status, newest message first', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const endpoint = await store.endpoints.create(anEndpoint(app.id));
        const [m1, m2] = [aMessage(app.id), aMessage(app.id)];
        await store.messages.enqueue(m1, [endpoint.id]);
        await store.messages.enqueue(m2, [endpoint.id]);
        const [d] = await claim(store, { limit: 1 });
        await store.queue.complete([result(d!, anAttempt(m1, endpoint.id), { status: Status.success })]);
        const list = async (status: Status | null) =>
          (await store.queue.listByEndpoint(endpoint.id, { ...noFilter, status }, page())).items.map((r) => r.message.id);
        assert.deepEqual(await list(null), [m2.id, m1.id]);
        assert.deepEqual(await list(Status.success), [m1.id]);
        assert.deepEqual(await list(Status.pending), [m2.id]);
      });
    });

    describe('attempts', () => {
      it('filters by status, status code class, endpoint and event type, newest first', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const [e1, e2] = [await store.endpoints.create(anEndpoint(app.id)), await store.endpoints.create(anEndpoint(app.id))];
        const message = aMessage(app.id, { eventType: 'x.y' });
        await store.messages.enqueue(message, [e1.id, e2.id]);
        const [d1, d2] = await claim(store);
        const ok = anAttempt(message, d1!.endpoint.id);
        const refused = anAttempt(message, d2!.endpoint.id, { status: Status.fail, responseStatusCode: 0, failureReason: 'connection_refused' });
        await store.queue.complete([result(d1!, ok, { status: Status.success }), result(d2!, refused, { status: Status.fail })]);
        const base: AttemptFilter = { ...noFilter, status: null, statusCodeClass: null, endpointId: null };
        const ids = async (filter: Partial<typeof base>) =>
          (await store.attempts.listByMessage(message.id, { ...base, ...filter }, page())).items.map((a) => a.id);
        assert.deepEqual(await ids({}), [refused.id, ok.id]);
        assert.deepEqual(await ids({ status: Status.fail }), [refused.id]);
        assert.deepEqual(await ids({ statusCodeClass: 0 }), [refused.id]);
        assert.deepEqual(await ids({ statusCodeClass: 200 }), [ok.id]);
        assert.deepEqual(await ids({ endpointId: d1!.endpoint.id }), [ok.id]);
        assert.deepEqual(await ids({ eventTypes: ['other.type'] }), []);
        assert.deepEqual((await store.attempts.listByEndpoint(d2!.endpoint.id, base, page())).items, [refused]);
        assert.equal(await store.attempts.get(aMessage(app.id).id, ok.id), null);
      });

      it('purges attempts older than the cut-off', async () => {
        const store = await fresh();
        const { endpoint, message } = await queued(store);
        const [delivery] = await claim(store);
        await store.queue.complete([result(delivery!, anAttempt(message, endpoint.id), { status: Status.success })]);
        assert.equal(await store.attempts.purge(Date.now() - 60_000, 10), 0);
        assert.equal(await store.attempts.purge(Date.now() + 1000, 10), 1);
      });
    });

    describe('idempotency keys', () => {
      it('keeps a response per scope and key within its window, and purges old ones', async () => {
        const store = await fresh();
        await store.idempotency.put('/a', 'k1', { statusCode: 202, body: '{"id":1}' }, T0);
        assert.deepEqual(await store.idempotency.get('/a', 'k1', T0), { statusCode: 202, body: '{"id":1}' });
        assert.equal(await store.idempotency.get('/b', 'k1', T0), null);
        assert.equal(await store.idempotency.get('/a', 'k1', T0 + 1), null);
        await store.idempotency.put('/a', 'k1', { statusCode: 409, body: '{}' }, T0 + 5);
        assert.deepEqual(await store.idempotency.get('/a', 'k1', T0), { statusCode: 409, body: '{}' });
        await store.idempotency.put('/a', 'k2', { statusCode: 200, body: '{}' }, T0 + 10);
        assert.equal(await store.idempotency.purge(T0 + 6, 10), 1);
        assert.ok(await store.idempotency.get('/a', 'k2', T0));
      });
    });
  });
}
