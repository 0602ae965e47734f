import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { systemClock, systemRandom } from '../core/clock.ts';
import { createIdGenerator, smallestIdAt } from '../core/ids.ts';
import { OPERATIONAL_APP_ID } from '../core/operational-events.ts';
import { type ApiToken, type Application, type Attempt, type Endpoint, ERASED_RESPONSE, type EventType, type Message, Status, Trigger } from '../core/model.ts';
import { type Bin, type BinRequest, DEFAULT_BIN_RESPONSE, DEFAULT_BIN_RULES } from '../core/bins.ts';
import { bucketOf, LATENCY_BINS, latencyBin, ROLLUP_MS } from '../core/attempt-stats.ts';
import type { BackgroundTask } from '../core/replay.ts';
import { DEFAULT_FLOW_POLICY } from '../core/flow-control.ts';
import { StoreError } from './errors.ts';
import { flowContract } from './flow-contract.ts';
import type { ClaimedDelivery, AttemptFilter, ClaimRequest, DeliveryResult, MessageFilter, PollRequest, PullRequest, Store } from './store.ts';

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
      id: ids('endpoint'), appId, uid: null, url: 'http://127.0.0.1:9/hook', description: '', eventTypes: null, channels: null,
      disabled: false, disabledReason: null, disabledAt: null, metadata: {}, throttleRate: null, retrySchedule: null, filter: null, headers: {}, secrets: [{ key: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', expiresAt: null }],
      createdAt: T0, updatedAt: T0, ...over,
    });
    const aMessage = (appId: string, over: Partial<Message> = {}): Message => ({
      id: ids('message'), appId, eventType: 'invoice.paid', eventId: null, channels: null,
      payload: Buffer.from('{"a":1}'), inbound: null, payloadExpiresAt: null, payloadErasedAt: null, createdAt: T0, ...over,
    });
    const anEventType = (over: Partial<EventType> = {}): EventType => ({
      name: `type.${ids('message').slice(-8)}`, description: 'd', schemas: null, archived: false, deprecated: false, retrySchedule: null,
      featureFlag: null, createdAt: T0, updatedAt: T0, ...over,
    });
    const claim = (store: Store, over: Partial<ClaimRequest> = {}) =>
      store.queue.claim({ now: T0, limit: 10, leaseMs: 30_000, slots: new Map(), defaultSlots: 10, appSlots: new Map(), defaultAppSlots: 10, ...over });
    const anAttempt = (message: Message, endpointId: string, over: Partial<Attempt> = {}): Attempt => ({
      id: ids('attempt'), messageId: message.id, endpointId, appId: message.appId, url: 'http://127.0.0.1:9/hook',
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

      it('searches names and uids for a substring, case aside, and pages through the matches', async () => {
        const store = await fresh();
        const acme = await store.apps.create(anApp({ name: 'Acme Corp', uid: 'acme' }));
        const beta = await store.apps.create(anApp({ name: 'Beta', uid: 'the-ACME-partner' }));
        await store.apps.create(anApp({ name: 'Gamma', uid: 'gamma' }));
        await store.apps.create(anApp({ name: '100% off_sale', uid: null }));
        const names = async (search: string, p = page(50, 'asc')) => (await store.apps.list(p, { search })).items.map((a) => a.name);
        assert.deepEqual(await names('cMe'), ['Acme Corp', 'Beta']);
        assert.deepEqual(await names('GAMMA'), ['Gamma']);
        assert.deepEqual(await names('nothing'), []);
        // LIKE's wildcards are searched for as themselves.
        assert.deepEqual(await names('%'), ['100% off_sale']);
        assert.deepEqual(await names('f_s'), ['100% off_sale']);
        assert.deepEqual(await names('a_m'), []);
        const first = await store.apps.list(page(1, 'asc'), { search: 'acme' });
        assert.deepEqual([first.items.map((a) => a.id), first.done], [[acme.id], false]);
        const second = await store.apps.list(page(1, 'asc', acme.id), { search: 'acme' });
        assert.deepEqual([second.items.map((a) => a.id), second.done], [[beta.id], true]);
        assert.deepEqual((await store.apps.list(page(50, 'asc'), { search: null })).items.length, 4);
      });

      it('counts live endpoints and finds the newest message of a page of applications', async () => {
        const store = await fresh();
        const busy = await store.apps.create(anApp());
        const idle = await store.apps.create(anApp());
        const kept = await store.endpoints.create(anEndpoint(busy.id));
        const gone = await store.endpoints.create(anEndpoint(busy.id));
        await store.endpoints.create(anEndpoint(busy.id));
        await store.endpoints.delete(busy.id, gone.id, T0 + 5);
        await store.messages.enqueue(aMessage(busy.id, { createdAt: T0 + 10 }), [kept.id]);
        await store.messages.enqueue(aMessage(busy.id, { createdAt: T0 + 20 }), []);
        const stats = await store.apps.stats([busy.id, idle.id, 'app_missing']);
        assert.deepEqual(Object.fromEntries(stats), {
          [busy.id]: { endpointCount: 2, lastMessageAt: T0 + 20 },
          [idle.id]: { endpointCount: 0, lastMessageAt: null },
        });
        assert.equal((await store.apps.stats([])).size, 0);
      });

      it("counts only the endpoints the application's endpoint list shows, not listen sessions or polling sinks", async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const shown = await store.endpoints.create(anEndpoint(app.id));
        await store.endpoints.create(anEndpoint(app.id, { url: 'listen://laptop', listen: { name: 'laptop', dropped: 0 } }));
        await store.endpoints.create(anEndpoint(app.id, { url: 'polling://', secrets: [], polling: true }));
        const listed = await store.endpoints.list(app.id, page(50, 'asc'));
        assert.deepEqual(listed.items.map((e) => e.id), [shown.id]);
        assert.equal((await store.apps.stats([app.id])).get(app.id)?.endpointCount, listed.items.length);
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
        const updated = { ...archived, archived: false, deprecated: true, description: 'new', featureFlag: 'beta', retrySchedule: [500, 5_000], updatedAt: T0 + 1 };
        await store.eventTypes.update(updated);
        assert.deepEqual(await store.eventTypes.get('b.archived'), updated);
        assert.equal(await store.eventTypes.delete('a.shown'), true);
        assert.equal(await store.eventTypes.get('a.shown'), null);
      });

      it("keeps an event type's own schema validation mode, and its clearing", async () => {
        const store = await fresh();
        const strict = await store.eventTypes.create(anEventType({ name: 'a.strict', schemaValidation: 'enforce' }));
        assert.deepEqual(await store.eventTypes.get('a.strict'), strict);
        const cleared = { ...strict, schemaValidation: null, updatedAt: T0 + 1 };
        await store.eventTypes.update(cleared);
        assert.equal((await store.eventTypes.get('a.strict'))!.schemaValidation ?? null, null);
        await store.eventTypes.update({ ...cleared, schemaValidation: 'off' });
        assert.equal((await store.eventTypes.get('a.strict'))!.schemaValidation, 'off');
      });

      it('refuses a duplicate name', async () => {
        const store = await fresh();
        await store.eventTypes.create(anEventType({ name: 'dup.name' }));
        await assert.rejects(store.eventTypes.create(anEventType({ name: 'dup.name' })), conflict);
      });

      it('finds the event types of a list of names at once, leaving out the names that do not exist', async () => {
        const store = await fresh();
        const live = await store.eventTypes.create(anEventType({ name: 'many.live' }));
        const archived = await store.eventTypes.create(anEventType({ name: 'many.archived', archived: true }));
        const found = await store.eventTypes.getMany(['many.archived', 'many.missing', 'many.live', 'many.live']);
        assert.deepEqual([...found].sort((a, b) => a.name.localeCompare(b.name)), [archived, live]);
        assert.deepEqual(await store.eventTypes.getMany([]), []);
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
          ...endpoint, uid: 'u', url: 'http://127.0.0.1:9/x', description: 'desc', eventTypes: ['a.b', 'c.d'], channels: ['eu'],
          disabled: true, disabledReason: 'manual', disabledAt: T0 + 1, metadata: { k: 'v' }, throttleRate: 3, retrySchedule: [1_000, 60_000],
          filter: { eventType: 'a.b', 'payload.amount': { $gt: 100 }, $or: [{ 'payload.tags': 'x' }, { channels: { $in: ['eu'] } }] }, headers: { 'X-A': '1' },
          secrets: [{ key: 'whsec_bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3', expiresAt: null }, { key: endpoint.secrets[0]!.key, expiresAt: T0 + 5 }],
          updatedAt: T0 + 1,
        };
        await store.endpoints.update(changed);
        assert.deepEqual(await store.endpoints.get(app.id, endpoint.id), changed);
      });

      it('keeps a transformation apart from the endpoint\'s other fields, and a claim carries its code only while it is enabled', async () => {
        const store = await fresh();
        const { app, endpoint } = await queued(store);
        assert.equal((await store.endpoints.get(app.id, endpoint.id))!.transformation, undefined);
        const code = 'function handler(webhook) { return webhook; }';
        assert.equal(await store.endpoints.setTransformation(app.id, endpoint.id, { code, enabled: false, updatedAt: T0 + 1 }), true);
        // An update of the rest, made from a copy read before, leaves the transformation alone.
        await store.endpoints.update({ ...endpoint, description: 'changed', updatedAt: T0 + 2 });
        const read = (await store.endpoints.get(app.id, endpoint.id))!;
        assert.deepEqual([read.description, read.transformation], ['changed', { code, enabled: false, updatedAt: T0 + 1 }]);
        const [disabledClaim] = await claim(store);
        assert.equal(disabledClaim!.endpoint.transformation ?? null, null);
        await store.queue.release([disabledClaim!], T0);
        await store.endpoints.setTransformation(app.id, endpoint.id, { code, enabled: true, updatedAt: T0 + 3 });
        const [enabledClaim] = await claim(store);
        assert.equal(enabledClaim!.endpoint.transformation, code);
        assert.equal(await store.endpoints.setTransformation(app.id, 'ep_missing', { code: null, enabled: false, updatedAt: T0 }), false);
      });

      it('lists pages, and only enabled endpoints for fan-out', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const on = await store.endpoints.create(anEndpoint(app.id));
        const off = await store.endpoints.create(anEndpoint(app.id, { disabled: true }));
        assert.deepEqual((await store.endpoints.list(app.id, page(10, 'asc'))).items.map((e) => e.id), [on.id, off.id]);
        assert.deepEqual((await store.endpoints.listEnabled(app.id)).map((e) => e.id), [on.id]);
      });

      it('refuses an endpoint past the application\'s maximum, also when created at the same moment, and counts only live ones', async () => {
        const store = await fresh();
        const [app, other] = [await store.apps.create(anApp()), await store.apps.create(anApp())];
        const limited = (error: unknown) => error instanceof StoreError && error.code === 'limit';
        const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => store.endpoints.create(anEndpoint(app.id), 3)));
        assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 3);
        assert.ok(outcomes.every((o) => o.status === 'fulfilled' || limited(o.reason)));
        assert.equal((await store.endpoints.list(app.id, page(10))).items.length, 3);
        await store.endpoints.create(anEndpoint(other.id), 3);
        const [first] = (await store.endpoints.list(app.id, page(10))).items;
        await store.endpoints.delete(app.id, first!.id, T0);
        await store.endpoints.create(anEndpoint(app.id), 3);
        await assert.rejects(store.endpoints.create(anEndpoint(app.id), 3), limited);
      });

      it('deletes an endpoint: gone from lookups, lists and fan-out, its uid free again, its secrets and headers wiped', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const endpoint = await store.endpoints.create(anEndpoint(app.id, { uid: 'main', headers: { 'X-Key': 'sealed-value' } }));
        const kept = await store.endpoints.create(anEndpoint(app.id));
        assert.equal(await store.endpoints.delete(app.id, endpoint.id, T0 + 5), true);
        assert.equal(await store.endpoints.delete(app.id, endpoint.id, T0 + 6), false, 'a second delete finds nothing');
        assert.equal(await store.endpoints.get(app.id, endpoint.id), null);
        assert.equal(await store.endpoints.get(app.id, 'main'), null);
        assert.deepEqual((await store.endpoints.list(app.id, page(10))).items.map((e) => e.id), [kept.id]);
        assert.deepEqual((await store.endpoints.listEnabled(app.id)).map((e) => e.id), [kept.id]);
        const again = await store.endpoints.create(anEndpoint(app.id, { uid: 'main' }));
        assert.equal((await store.endpoints.get(app.id, 'main'))!.id, again.id);
        // An update that loaded the endpoint before its delete does not bring it back.
        await store.endpoints.update({ ...endpoint, uid: 'revived', description: 'late', updatedAt: T0 + 7 });
        assert.equal(await store.endpoints.get(app.id, endpoint.id), null);
        assert.equal(await store.endpoints.get(app.id, 'revived'), null);
      });

      it('ends a deleted endpoint\'s unfinished deliveries, and keeps them with the endpoint among the message\'s destinations', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const [doomed, kept] = [await store.endpoints.create(anEndpoint(app.id, { description: 'doomed' })), await store.endpoints.create(anEndpoint(app.id))];
        const [sending, waiting] = [aMessage(app.id), aMessage(app.id, { createdAt: T0 + 1 })];
        await store.messages.enqueue(sending, [doomed.id, kept.id]);
        const claimed = await claim(store, { limit: 1 });
        assert.equal(claimed[0]!.endpoint.id, doomed.id, 'one delivery is in flight');
        await store.messages.enqueue(waiting, [doomed.id]);
        assert.equal(await store.endpoints.delete(app.id, doomed.id, T0 + 10), true);

        // The attempt in flight is recorded, but cannot move the ended delivery on (say, to a retry).
        await store.queue.complete([result(claimed[0]!, anAttempt(sending, doomed.id, { status: Status.fail }), { status: Status.pending, runAt: T0 + 20 })]);
        const due = await claim(store, { now: T0 + 60_000, leaseMs: 1 });
        assert.deepEqual(due.map((d) => d.endpoint.id), [kept.id], 'only the live endpoint\'s delivery is left to send');

        const destinations = (await store.queue.listByMessage(sending.id, page(10, 'asc'))).items;
        assert.deepEqual(destinations.map((row) => row.endpoint.id).sort(), [doomed.id, kept.id].sort());
        const gone = destinations.find((row) => row.endpoint.id === doomed.id)!;
        assert.equal(gone.delivery.status, Status.fail);
        assert.equal(gone.delivery.nextAttemptAt, null);
        assert.equal(gone.endpoint.url, doomed.url);
        assert.equal(gone.endpoint.description, 'doomed');
        assert.deepEqual(gone.endpoint.secrets, [], 'no secret outlives the endpoint');
        assert.deepEqual(gone.endpoint.headers, {});
        assert.equal((await store.queue.listByMessage(waiting.id, page(10))).items[0]!.delivery.status, Status.fail);
        const attempts = await store.attempts.listByMessage(sending.id, { ...noFilter, status: null, statusCodeClass: null, endpointId: null }, page());
        assert.deepEqual(attempts.items.map((a) => a.endpointId), [doomed.id]);
      });

      it('gives no delivery to an endpoint deleted before the message was enqueued', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const [doomed, kept] = [await store.endpoints.create(anEndpoint(app.id)), await store.endpoints.create(anEndpoint(app.id))];
        await store.endpoints.delete(app.id, doomed.id, T0);
        // A publisher whose list of endpoints predates the delete (say, another process's cache).
        const late = aMessage(app.id);
        const ids = await store.messages.enqueue(late, [doomed.id, kept.id], { until: T0 + 30_000, endpointIds: new Set([doomed.id, kept.id]) });
        assert.equal(ids[0], null);
        assert.equal(typeof ids[1], 'number');
        assert.deepEqual(await store.messages.enqueue(aMessage(app.id), [doomed.id]), [null]);
        assert.deepEqual((await store.queue.listByMessage(late.id, page(10))).items.map((row) => row.endpoint.id), [kept.id]);
        assert.deepEqual((await claim(store, { now: T0 + 60_000 })).map((d) => d.endpoint.id), [kept.id]);
      });

      it('claims a delivery to a deleted endpoint as disabled, so one that slips in (a resend racing the delete) ends without a request', async () => {
        const store = await fresh();
        const { app, endpoint, message } = await queued(store);
        await store.endpoints.delete(app.id, endpoint.id, T0);
        await store.queue.resend(message.id, endpoint.id, T0 + 1);
        const [delivery] = await claim(store, { now: T0 + 1 });
        assert.equal(delivery!.endpoint.id, endpoint.id);
        assert.equal(delivery!.endpoint.disabled, true);
      });

      it('purges deleted endpoints once no delivery refers to them, and only those deleted before the cut-off', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const [referred, free, recent, live] = [
          await store.endpoints.create(anEndpoint(app.id)), await store.endpoints.create(anEndpoint(app.id)),
          await store.endpoints.create(anEndpoint(app.id)), await store.endpoints.create(anEndpoint(app.id)),
        ];
        const message = aMessage(app.id);
        await store.messages.enqueue(message, [referred.id]);
        await store.endpoints.delete(app.id, referred.id, T0);
        await store.endpoints.delete(app.id, free.id, T0);
        await store.endpoints.delete(app.id, recent.id, T0 + 1_000);
        assert.equal(await store.endpoints.purge(T0 + 1, 10), 1, 'only the deleted endpoint nothing refers to goes');
        assert.equal((await store.queue.listByMessage(message.id, page(10))).items[0]!.endpoint.id, referred.id);
        // Retention takes the message, and with it the last delivery that named the endpoint.
        assert.equal(await store.messages.purge(Date.now() + 1_000, 10), 1);
        assert.equal(await store.endpoints.purge(T0 + 1, 10), 1);
        assert.equal(await store.endpoints.purge(T0 + 1, 10), 0);
        assert.equal(await store.endpoints.purge(T0 + 1_001, 10), 1);
        assert.deepEqual((await store.endpoints.list(app.id, page(10))).items.map((e) => e.id), [live.id]);
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

      it('keeps what a schema check found wrong with a message, and nothing for one without', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const schemaViolations = { version: '2', violations: [{ path: ['lines', '1', 'sku'], rule: 'required', message: 'field required' }] };
        const warned = aMessage(app.id, { schemaViolations });
        const clean = aMessage(app.id);
        await store.messages.enqueue(warned, []);
        await store.messages.enqueue(clean, []);
        assert.deepEqual((await store.messages.get(app.id, warned.id))!.schemaViolations, schemaViolations);
        assert.equal((await store.messages.get(app.id, clean.id))!.schemaViolations, undefined);
        const listed = (await store.messages.list(app.id, noFilter, page(10, 'asc'))).items;
        assert.deepEqual(listed.find((m) => m.id === warned.id)!.schemaViolations, schemaViolations);
      });

      it("lists messages by their deliveries' status: failed before sending before pending before succeeded", async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const [e1, e2] = [await store.endpoints.create(anEndpoint(app.id)), await store.endpoints.create(anEndpoint(app.id))];
        const lease = (endpointIds: string[]) => ({ until: T0 + 30_000, endpointIds: new Set(endpointIds) });
        // Deliveries leased at enqueue are sending; completing them (lease 1) makes them succeed or fail.
        async function send(outcomes: Array<'success' | 'fail' | 'sending' | 'pending'>) {
          const endpoints = [e1, e2].slice(0, outcomes.length).map((e) => e.id);
          const message = aMessage(app.id);
          const ids = await store.messages.enqueue(message, endpoints, lease(endpoints.filter((_, i) => outcomes[i] !== 'pending')));
          const results = outcomes.flatMap((outcome, i) => outcome === 'success' || outcome === 'fail'
            ? [result({ id: ids[i]!, lease: 1 }, anAttempt(message, endpoints[i]!, { status: Status[outcome] }), { status: Status[outcome] })]
            : []);
          if (results.length) await store.queue.complete(results);
          return message.id;
        }
        const failed = await send(['success', 'fail']);
        const failedWhileSending = await send(['fail', 'sending']);
        const succeeded = await send(['success', 'success']);
        const sending = await send(['sending', 'pending']);
        const pending = await send(['success', 'pending']);
        const nowhere = await send([]);
        const list = async (status: Status | null) =>
          (await store.messages.list(app.id, { ...noFilter, status }, page(50, 'asc'))).items.map((m) => m.id);
        assert.deepEqual(await list(Status.fail), [failed, failedWhileSending]);
        assert.deepEqual(await list(Status.sending), [sending]);
        assert.deepEqual(await list(Status.pending), [pending]);
        assert.deepEqual(await list(Status.success), [succeeded]);
        assert.deepEqual(await list(null), [failed, failedWhileSending, succeeded, sending, pending, nowhere]);
        // The status narrows the keyset walk without changing it.
        const first = await store.messages.list(app.id, { ...noFilter, status: Status.fail }, page(1, 'asc'));
        assert.deepEqual([first.items.map((m) => m.id), first.done], [[failed], false]);
        const next = await store.messages.list(app.id, { ...noFilter, status: Status.fail }, page(1, 'asc', failed));
        assert.deepEqual([next.items.map((m) => m.id), next.done], [[failedWhileSending], true]);
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

      it('fails a message that cannot be stored alone: the others enqueued with it are committed', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const endpoint = await store.endpoints.create(anEndpoint(app.id));
        const first = aMessage(app.id, { eventId: 'taken' });
        await store.messages.enqueue(first, [endpoint.id]);
        const good = Array.from({ length: 6 }, () => aMessage(app.id));
        // An application that does not exist, an id already used, and an eventId already taken.
        const bad = [
          aMessage(ids('application')),
          aMessage(app.id, { id: first.id }),
          aMessage(app.id, { eventId: 'taken' }),
        ];
        // Enqueued in one turn, so each store commits them together.
        const outcomes = await Promise.allSettled([
          store.messages.enqueue(good[0]!, [endpoint.id]),
          store.messages.enqueue(bad[0]!, []),
          store.messages.enqueue(good[1]!, [endpoint.id]),
          store.messages.enqueue(good[2]!, [endpoint.id]),
          store.messages.enqueue(bad[1]!, [endpoint.id]),
          store.messages.enqueue(good[3]!, []),
          store.messages.enqueue(bad[2]!, [endpoint.id]),
          store.messages.enqueue(good[4]!, [endpoint.id]),
          store.messages.enqueue(good[5]!, [endpoint.id]),
        ]);
        assert.deepEqual(outcomes.map((outcome) => outcome.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        assert.ok(conflict((outcomes[6] as PromiseRejectedResult).reason), 'a repeated eventId is still a conflict');
        const stored = (await store.messages.list(app.id, noFilter, page())).items.map((message) => message.id).sort();
        assert.deepEqual(stored, [...good.map((message) => message.id), stored.find((id) => !good.some((m) => m.id === id))!].sort());
        assert.equal(stored.length, good.length + 1, 'the good ones and the first "taken"');
        assert.equal((await claim(store, { limit: 50 })).length, 1 + 5, 'each good message with an endpoint has its delivery');
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
        assert.deepEqual(await list({ channels: ['us', 'asia'] }), [m2.id], 'any of the channels');
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
        const inbound = { method: 'POST', url: 'http://127.0.0.1:9/in/t', headers: {}, verified: true, diagnosis: null, duplicateOf: null };
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

    describe('erasing payloads', () => {
      const later = T0 + 60_000;

      it('erases a payload and keeps the rest of the message, its deliveries and attempts; pending deliveries end failed', async () => {
        const store = await fresh();
        const { app, endpoint, message } = await queued(store, {}, { eventId: 'evt-erase', channels: ['eu'] });
        const [delivery] = await claim(store);
        const failed = anAttempt(message, endpoint.id, { status: Status.fail, responseStatusCode: 500 });
        await store.queue.complete([result(delivery!, failed, { status: Status.pending, runAt: T0 + 1000 })]);

        assert.equal(await store.messages.erasePayloads({ messageId: message.id }, later), 1);
        const erased = await store.messages.get(app.id, 'evt-erase');
        assert.equal(Buffer.from(erased!.payload).byteLength, 0);
        assert.deepEqual({ ...erased, payload: null }, { ...message, payload: null, payloadErasedAt: later });
        const [row] = (await store.queue.listByMessage(message.id, page())).items;
        assert.equal(row!.delivery.status, Status.fail);
        assert.equal(row!.delivery.nextAttemptAt, null);
        assert.equal(row!.delivery.attemptCount, 1);
        assert.deepEqual((await store.attempts.listByMessage(message.id, { ...noFilter, status: null, statusCodeClass: null, endpointId: null }, page())).items, [failed]);
        assert.deepEqual(await claim(store, { now: later + 86_400_000 }), [], 'nothing is sent again');
        assert.equal(await store.queue.nextDueAt(), null);
        assert.equal(await store.messages.erasePayloads({ messageId: message.id }, later + 1), 0, 'an erased payload is not erased twice');
        assert.equal((await store.messages.get(app.id, message.id))!.payloadErasedAt, later);
      });

      it('keeps the request a transformation made with its attempt, and drops its body with the payload', async () => {
        const store = await fresh();
        const { app, endpoint, message } = await queued(store);
        const [delivery] = await claim(store);
        const transformed = { method: 'PUT', headers: { 'X-Tenant': 't1' }, contentType: 'application/xml', body: Buffer.from('<order id="1"/>') };
        const made = anAttempt(message, endpoint.id, { transformed });
        await store.queue.complete([result(delivery!, made, { status: Status.success })]);
        const read = async () => (await store.attempts.get(message.id, made.id))!;
        const kept = await read();
        assert.deepEqual({ ...kept.transformed, body: Buffer.from(kept.transformed!.body!).toString() }, { ...transformed, body: '<order id="1"/>' });
        assert.equal(await store.messages.erasePayloads({ messageId: message.id }, later), 1);
        assert.deepEqual((await read()).transformed, { ...transformed, body: null });
        assert.ok(await store.messages.get(app.id, message.id));
      });

      it('keeps an attempt under way when the payload is erased from rescheduling its delivery', async () => {
        const store = await fresh();
        const { endpoint, message } = await queued(store);
        const [delivery] = await claim(store);
        await store.messages.erasePayloads({ messageId: message.id }, T0 + 1);
        const attempt = anAttempt(message, endpoint.id, { status: Status.fail, responseStatusCode: 503 });
        await store.queue.complete([result(delivery!, attempt, { status: Status.pending, runAt: T0 + 10 })]);
        assert.deepEqual(await store.attempts.get(message.id, attempt.id), attempt, 'the attempt is recorded');
        assert.equal((await store.queue.listByMessage(message.id, page())).items[0]!.delivery.status, Status.fail);
        assert.deepEqual(await claim(store, { now: later }), []);
      });

      it('neither resends nor recovers a message whose payload was erased', async () => {
        const store = await fresh();
        const { endpoint, message } = await queued(store);
        const kept = aMessage(message.appId);
        await store.messages.enqueue(kept, [endpoint.id]);
        for (const delivery of await claim(store)) {
          await store.queue.complete([result(delivery, anAttempt(delivery.message as Message, endpoint.id, { status: Status.fail }), { status: Status.fail })]);
        }
        await store.messages.erasePayloads({ messageId: message.id }, T0 + 1);
        await store.queue.resend(message.id, endpoint.id, T0 + 2);
        assert.equal(await store.queue.recover(endpoint.id, T0 - 1, T0 + 1, T0 + 3), 1, 'only the message that kept its payload');
        const claimed = await claim(store, { now: later });
        assert.deepEqual(claimed.map((d) => d.message.id), [kept.id]);
      });

      it('erases expired payloads, earliest expiry first and at most a batch at a time, and never one without an expiry', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const first = aMessage(app.id, { payloadExpiresAt: T0 + 10 });
        const second = aMessage(app.id, { payloadExpiresAt: T0 + 20 });
        const notYet = aMessage(app.id, { payloadExpiresAt: T0 + 30 });
        const never = aMessage(app.id);
        for (const m of [second, notYet, never, first]) await store.messages.enqueue(m, []);
        assert.equal((await store.messages.get(app.id, first.id))!.payloadExpiresAt, T0 + 10);
        assert.equal(await store.messages.erasePayloads({ expiredBy: T0 + 25, limit: 1 }, later), 1);
        assert.equal((await store.messages.get(app.id, first.id))!.payloadErasedAt, later);
        assert.equal((await store.messages.get(app.id, second.id))!.payloadErasedAt, null);
        assert.equal(await store.messages.erasePayloads({ expiredBy: T0 + 25, limit: 1 }, later), 1);
        assert.equal(await store.messages.erasePayloads({ expiredBy: T0 + 25, limit: 1 }, later), 0);
        const states = await Promise.all([first, second, notYet, never].map(async (m) => {
          const stored = await store.messages.get(app.id, m.id);
          return [stored!.payloadErasedAt, stored!.payloadExpiresAt, Buffer.from(stored!.payload).toString()];
        }));
        assert.deepEqual(states, [[later, null, ''], [later, null, ''], [null, T0 + 30, '{"a":1}'], [null, null, '{"a":1}']]);
      });

      it("erases an attempt's response body and keeps the rest of the attempt", async () => {
        const store = await fresh();
        const { endpoint, message } = await queued(store);
        const [delivery] = await claim(store);
        const attempt = anAttempt(message, endpoint.id, { response: 'secret stuff' });
        await store.queue.complete([result(delivery!, attempt, { status: Status.success })]);
        assert.equal(await store.attempts.eraseResponse(aMessage(message.appId).id, attempt.id), false, 'another message has no such attempt');
        assert.equal(await store.attempts.eraseResponse(message.id, attempt.id), true);
        assert.deepEqual(await store.attempts.get(message.id, attempt.id), { ...attempt, response: ERASED_RESPONSE });
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
        assert.deepEqual({ ...delivery!.message, payload: null }, { id: message.id, appId: message.appId, eventId: null, eventType: message.eventType, payload: null, inbound: null });
        assert.equal(delivery!.alerted, false);
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

      it('counts the queue by state for metrics: due, delayed, in flight, failed; open circuits and disabled endpoints', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const endpoint = await store.endpoints.create(anEndpoint(app.id));
        await store.endpoints.create(anEndpoint(app.id, { disabled: true }));
        const messages = Array.from({ length: 5 }, () => aMessage(app.id));
        for (const message of messages) await store.messages.enqueue(message, [endpoint.id]);
        const [first, second] = await claim(store, { limit: 2 });
        const byId = new Map(messages.map((m) => [m.id, m]));
        await store.queue.complete([
          result(first!, anAttempt(byId.get(first!.message.id)!, endpoint.id, { status: Status.fail }), { status: Status.fail }),
          result(second!, anAttempt(byId.get(second!.message.id)!, endpoint.id, { status: Status.fail }), { status: Status.pending, runAt: T0 + 5_000 }),
        ]);
        await claim(store, { limit: 1 });
        assert.deepEqual(await store.census(T0), { due: 2, delayed: 1, sending: 1, failed: 1, circuitsOpen: 0, endpointsDisabled: 1 });
        // A minute on, the retry is due and the lease has run out: both are claimable again.
        assert.deepEqual(await store.census(T0 + 60_000), { due: 4, delayed: 0, sending: 0, failed: 1, circuitsOpen: 0, endpointsDisabled: 1 });
        const failures = [1, 2, 3].map((i) => ({ endpointId: endpoint.id, appId: app.id, kind: 'failure' as const, sentAt: T0 + i, at: T0 + i + 1, retryAfterMs: null }));
        await store.flow.record(failures, { ...DEFAULT_FLOW_POLICY, circuitFailures: 3 });
        assert.equal((await store.census(T0)).circuitsOpen, 1);
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
        await store.endpoints.delete(endpointGone.app.id, endpointGone.endpoint.id, T0);
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

      it('disables the endpoint when a result asks for it, and reports it only the first time', async () => {
        const store = await fresh();
        const { app, endpoint, message } = await queued(store);
        const second = aMessage(app.id);
        await store.messages.enqueue(second, [endpoint.id]);
        const [delivery, other] = await claim(store);
        const gone = (d: typeof delivery, m: Message) => result(d!, anAttempt(m, endpoint.id, { status: Status.fail, responseStatusCode: 410 }), { status: Status.fail }, true);
        assert.deepEqual(await store.queue.complete([gone(delivery, message)]), { disabledEndpoints: [endpoint.id] });
        assert.equal((await store.endpoints.get(app.id, endpoint.id))!.disabled, true);
        assert.deepEqual(await store.queue.complete([gone(other, second)]), { disabledEndpoints: [] }, 'an endpoint already disabled is not reported again');
      });

      it('keeps whether a delivery was alerted, and hands it and the message\'s eventId to the next claim', async () => {
        const store = await fresh();
        const { endpoint, message } = await queued(store, {}, { eventId: 'evt-1' });
        const [first] = await claim(store);
        assert.equal(first!.message.eventId, 'evt-1');
        await store.queue.complete([{ ...result(first!, anAttempt(message, endpoint.id, { status: Status.fail, responseStatusCode: 500 }), { status: Status.pending, runAt: T0 + 1 }), alerted: true }]);
        const [second] = await claim(store, { now: T0 + 1 });
        assert.equal(second!.alerted, true);
        await store.queue.complete([result(second!, anAttempt(message, endpoint.id, { attemptNumber: 2 }), { status: Status.success })]);
        await store.queue.resend(message.id, endpoint.id, T0 + 2);
        assert.equal((await claim(store, { now: T0 + 2 }))[0]!.alerted, false, 'a success clears it');
      });

      it('cancels an endpoint\'s pending deliveries of messages made before a time, leaving in-flight ones and other endpoints\' alone', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const endpoint = await store.endpoints.create(anEndpoint(app.id));
        const other = await store.endpoints.create(anEndpoint(app.id));
        const made = (at: number) => aMessage(app.id, { id: smallestIdAt('message', at).slice(0, -1) + 'z', createdAt: at });
        const [inFlight, waiting, later] = [made(T0), made(T0 + 1), made(T0 + 10)];
        for (const m of [inFlight, waiting, later]) await store.messages.enqueue(m, [endpoint.id, other.id]);
        const claimed = await claim(store, { now: T0 + 20, limit: 1, slots: new Map([[other.id, 0]]) });
        assert.equal(claimed[0]!.message.id, inFlight.id);
        assert.equal(await store.queue.cancel(endpoint.id, T0 + 5, T0 + 20), 1);
        const stats = await store.queue.stats(endpoint.id, { before: null, after: null });
        assert.deepEqual(stats, { success: 0, pending: 1, sending: 1, fail: 0, canceled: 1 });
        assert.equal((await store.queue.stats(other.id, { before: null, after: null })).canceled, 0);
        const next = await claim(store, { now: T0 + 20 });
        assert.ok(!next.some((d) => d.message.id === waiting.id && d.endpoint.id === endpoint.id), 'a canceled delivery is never claimed');
        assert.equal((await store.messages.list(app.id, { ...noFilter, status: Status.canceled }, page())).items.length, 0,
          'a message with other deliveries still going is not canceled as a whole');
      });

      it('leaves the internal operational application out of application lists', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        await store.apps.create(anApp({ id: OPERATIONAL_APP_ID }));
        assert.deepEqual((await store.apps.list(page(50, 'asc'))).items.map((a) => a.id), [app.id]);
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
        assert.deepEqual(stats, { success: 0, pending: 0, sending: 1, fail: 2, canceled: 0 });
        assert.deepEqual(await store.queue.stats(endpoint.id, { before: T0 + 10, after: null }), { success: 0, pending: 0, sending: 0, fail: 1, canceled: 0 });
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

    describe('ordering keys', () => {
      /** An endpoint with messages published in turn on the keys given (null: no key), one ms apart. */
      async function keyed(store: Store, keys: Array<string | null>, endpointOver: Partial<Endpoint> = {}) {
        const app = await store.apps.create(anApp());
        const endpoint = await store.endpoints.create(anEndpoint(app.id, endpointOver));
        const messages: Message[] = [];
        for (const [i, orderingKey] of keys.entries()) {
          const message = aMessage(app.id, { createdAt: T0 + i, orderingKey });
          await store.messages.enqueue(message, [endpoint.id]);
          messages.push(message);
        }
        return { app, endpoint, messages };
      }
      const keyOf = (messages: readonly Message[], d: ClaimedDelivery) => messages.find((m) => m.id === d.message.id)!.orderingKey ?? null;
      const finish = (store: Store, messages: readonly Message[], d: ClaimedDelivery, status: Status, at: number, next: DeliveryResult['next'] = { status: status as typeof Status.success }) =>
        store.queue.complete([{ ...result(d, anAttempt(messages.find((m) => m.id === d.message.id)!, d.endpoint.id, { status: status as typeof Status.success, createdAt: at }), next), orderingKey: d.orderingKey ?? null }]);

      it('hands out one delivery of a key at a time, the first published, beside every other key and the unkeyed', async () => {
        const store = await fresh();
        const { messages } = await keyed(store, ['order-1', 'order-1', 'order-2', null, 'order-1', null, 'order-2']);
        const claimed = await claim(store, { now: T0 + 10 });
        assert.deepEqual(claimed.map((d) => d.message.id).sort(), [messages[0], messages[2], messages[3], messages[5]].map((m) => m!.id).sort());
        assert.deepEqual(claimed.map((d) => d.orderingKey ?? null).sort(), [null, null, 'order-1', 'order-2'].sort(), 'the claim carries the key');
        assert.deepEqual(await claim(store, { now: T0 + 10 }), [], 'the rest of each key waits for the one in flight');
      });

      it('makes the next of a key due the moment the one ahead succeeds, and keeps publish order to the last', async () => {
        const store = await fresh();
        const { messages } = await keyed(store, ['k', 'k', 'k', 'k']);
        const order: string[] = [];
        let now = T0 + 10;
        for (let i = 0; i < 4; i++) {
          const [d, ...rest] = await claim(store, { now });
          assert.equal(rest.length, 0);
          order.push(d!.message.id);
          await finish(store, messages, d!, Status.success, now);
          now += 1;
        }
        assert.deepEqual(order, messages.map((m) => m.id));
        assert.equal(await store.queue.nextDueAt(), null);
      });

      it('holds a key behind a delivery waiting for its retry, and only that key', async () => {
        const store = await fresh();
        const { messages } = await keyed(store, ['stuck', 'stuck', 'free', 'free']);
        const first = await claim(store, { now: T0 + 10 });
        const stuck = first.find((d) => keyOf(messages, d) === 'stuck')!;
        const free = first.find((d) => keyOf(messages, d) === 'free')!;
        await finish(store, messages, stuck, Status.fail, T0 + 10, { status: Status.pending, runAt: T0 + 60_000 });
        await finish(store, messages, free, Status.success, T0 + 10);
        const second = await claim(store, { now: T0 + 20 });
        assert.deepEqual(second.map((d) => d.message.id), [messages[3]!.id], 'the free key goes on; the stuck one waits for its retry');
        await finish(store, messages, second[0]!, Status.success, T0 + 20);
        assert.deepEqual(await claim(store, { now: T0 + 59_999 }), [], 'nothing of the stuck key before its first is retried');
        const [retried, ...rest] = await claim(store, { now: T0 + 60_000 });
        assert.equal(rest.length, 0);
        assert.deepEqual([retried!.message.id, retried!.attemptNumber], [messages[0]!.id, 2], 'the retry goes first, alone');
        await finish(store, messages, retried!, Status.success, T0 + 60_001);
        const [next] = await claim(store, { now: T0 + 60_001 });
        assert.equal(next!.message.id, messages[1]!.id, 'then the next of the key, at once');
      });

      it('lets the next of a key go once the one ahead is exhausted', async () => {
        const store = await fresh();
        const { messages } = await keyed(store, ['k', 'k']);
        const [head] = await claim(store, { now: T0 + 10 });
        await finish(store, messages, head!, Status.fail, T0 + 10, { status: Status.fail });
        const [next] = await claim(store, { now: T0 + 10 });
        assert.equal(next!.message.id, messages[1]!.id);
      });

      it('keeps one of a key in flight even when its lease runs out and it is claimed again', async () => {
        const store = await fresh();
        const { messages } = await keyed(store, ['k', 'k']);
        const [head] = await claim(store, { now: T0 + 10, leaseMs: 1000 });
        assert.deepEqual(await claim(store, { now: T0 + 500 }), []);
        const [again, ...rest] = await claim(store, { now: T0 + 2000 });
        assert.equal(rest.length, 0);
        assert.equal(again!.id, head!.id, 'the head is claimed again, not the one behind it');
        assert.equal(keyOf(messages, again!), 'k');
      });

      it('orders a rate-limited endpoint\'s keys the same way', async () => {
        const store = await fresh();
        const { messages } = await keyed(store, ['k', 'k', null], { throttleRate: 100 });
        const claimed = await claim(store, { now: T0 + 10 });
        assert.deepEqual(claimed.map((d) => d.message.id).sort(), [messages[0]!.id, messages[2]!.id].sort());
        const head = claimed.find((d) => d.message.id === messages[0]!.id)!;
        await finish(store, messages, head, Status.success, T0 + 20);
        const [next] = await claim(store, { now: T0 + 1000 });
        assert.equal(next!.message.id, messages[1]!.id);
      });

      it('keeps the key on the message, and on a delivery a resend creates', async () => {
        const store = await fresh();
        const { app, messages } = await keyed(store, ['order-9']);
        assert.equal((await store.messages.get(app.id, messages[0]!.id))!.orderingKey, 'order-9');
        const other = await store.endpoints.create(anEndpoint(app.id));
        await store.queue.resend(messages[0]!.id, other.id, T0 + 10);
        const claimed = await claim(store, { now: T0 + 10 });
        assert.deepEqual(claimed.map((d) => d.orderingKey), ['order-9', 'order-9']);
      });
    });

    describe('listen sessions (pulled deliveries)', () => {
      const pull = (store: Store, endpointId: string, over: Partial<PullRequest> = {}) =>
        store.queue.pull({ endpointId, now: T0, limit: 10, leaseMs: 30_000, keep: 100, olderThan: 0, ...over });
      async function session(store: Store) {
        const app = await store.apps.create(anApp());
        const listener = await store.endpoints.create(anEndpoint(app.id, { url: 'listen://laptop', listen: { name: 'laptop', dropped: 0 } }));
        const pushed = await store.endpoints.create(anEndpoint(app.id));
        const messages = [aMessage(app.id), aMessage(app.id), aMessage(app.id)];
        for (const message of messages) await store.messages.enqueue(message, [listener.id, pushed.id]);
        return { app, listener, pushed, messages };
      }

      it('finds a session by name, leaves it out of the endpoint list, and never lets the dispatcher claim its deliveries', async () => {
        const store = await fresh();
        const { app, listener, pushed } = await session(store);
        assert.deepEqual((await store.endpoints.getListen(app.id, 'laptop'))?.listen, { name: 'laptop', dropped: 0 });
        assert.equal(await store.endpoints.getListen(app.id, 'other'), null);
        assert.equal(await store.endpoints.setListener(app.id, listener.id, 'lst_2'), true);
        assert.deepEqual((await store.endpoints.get(app.id, listener.id))?.listen, { name: 'laptop', dropped: 0, listener: 'lst_2' });
        assert.equal(await store.endpoints.setListener(app.id, pushed.id, 'lst_3'), false, 'an endpoint that is no session');
        assert.deepEqual((await store.endpoints.list(app.id, page())).items.map((e) => e.id), [pushed.id]);
        await assert.rejects(store.endpoints.create(anEndpoint(app.id, { listen: { name: 'laptop', dropped: 0 } })), conflict);
        const claimed = await claim(store);
        assert.deepEqual(claimed.map((d) => d.endpoint.id), [pushed.id, pushed.id, pushed.id]);
        assert.equal((await store.queue.pull({ endpointId: listener.id, now: T0, limit: 10, leaseMs: 1, keep: 100, olderThan: 0 })).length, 3);
      });

      it('hands out a session\'s deliveries in arrival order, and none after one that is leased or waiting for a retry', async () => {
        const store = await fresh();
        const { listener, messages } = await session(store);
        const [first, ...rest] = await pull(store, listener.id, { limit: 1 });
        assert.equal(rest.length, 0);
        assert.equal(first!.message.id, messages[0]!.id);
        assert.deepEqual(await pull(store, listener.id), [], 'the first is leased: nothing after it');
        await store.queue.complete([result(first!, anAttempt(messages[0]!, listener.id, { status: Status.fail, responseStatusCode: 500 }), { status: Status.pending, runAt: T0 + 1_000 })]);
        assert.deepEqual(await pull(store, listener.id), [], 'the first waits for its retry: nothing after it');
        const again = await pull(store, listener.id, { now: T0 + 1_000 });
        assert.deepEqual(again.map((d) => [d.message.id, d.attemptNumber]), [[messages[0]!.id, 2], [messages[1]!.id, 1], [messages[2]!.id, 1]]);
        // A lease that runs out hands the rows out again, in order.
        assert.deepEqual((await pull(store, listener.id, { now: T0 + 1_000 + 30_000 })).map((d) => d.message.id), messages.map((m) => m.id));
      });

      it('gives a session\'s leased deliveries and waiting retries back at once when it is taken over', async () => {
        const store = await fresh();
        const { listener, messages } = await session(store);
        const [first] = await pull(store, listener.id, { limit: 1 });
        assert.equal(await store.queue.releasePulled(listener.id, T0, true), 1);
        const [again] = await pull(store, listener.id, { limit: 1 });
        assert.equal(again!.message.id, messages[0]!.id);
        assert.ok(again!.lease > first!.lease);
        const pulled = await store.queue.getPulled(listener.id, messages[0]!.id);
        assert.deepEqual([pulled?.status, pulled?.lease], [Status.sending, again!.lease]);
      });

      it('drops the oldest unfinished deliveries beyond a session\'s bounds and counts them', async () => {
        const store = await fresh();
        const { app, listener, messages } = await session(store);
        const newer = aMessage(app.id, { createdAt: T0 + 10 });
        await store.messages.enqueue(newer, [listener.id]);
        const kept = await pull(store, listener.id, { keep: 2, now: T0 + 10 });
        assert.deepEqual(kept.map((d) => d.message.id), [messages[2]!.id, newer.id]);
        assert.equal((await store.endpoints.get(app.id, listener.id))?.listen?.dropped, 2);
        assert.equal((await store.queue.getPulled(listener.id, messages[0]!.id))?.status, Status.fail);
        assert.equal(await store.queue.trimPulled(100, T0 + 5, T0 + 20), 1, 'by age, in the maintenance round');
        assert.equal((await store.endpoints.get(app.id, listener.id))?.listen?.dropped, 3);
      });
    });

    describe('polling endpoints (logs read from committed offsets)', () => {
      const poll = (store: Store, endpointId: string, consumerId: string, over: Partial<PollRequest> = {}) =>
        store.polling.poll({ endpointId, consumerId, now: T0, limit: 10, leaseMs: 30_000, start: 'earliest', ...over });
      const idsOf = (page: { items: Array<{ message: Message }> }) => page.items.map((item) => item.message.id);
      async function sink(store: Store) {
        const app = await store.apps.create(anApp());
        const polling = await store.endpoints.create(anEndpoint(app.id, { url: 'polling://', secrets: [], polling: true }));
        const pushed = await store.endpoints.create(anEndpoint(app.id));
        const messages = [aMessage(app.id, { createdAt: T0 }), aMessage(app.id, { createdAt: T0 + 10 }), aMessage(app.id, { createdAt: T0 + 20 })];
        for (const message of messages) await store.messages.enqueue(message, [polling.id, pushed.id]);
        return { app, polling, pushed, messages };
      }

      it('stores a polling endpoint\'s deliveries done, out of the dispatcher\'s way, and lists it apart from the endpoints', async () => {
        const store = await fresh();
        const { app, polling, pushed, messages } = await sink(store);
        assert.equal((await store.endpoints.get(app.id, polling.id))?.polling, true);
        assert.equal((await store.endpoints.get(app.id, pushed.id))?.polling, undefined);
        assert.deepEqual((await store.endpoints.list(app.id, page())).items.map((e) => e.id), [pushed.id]);
        assert.deepEqual((await store.endpoints.listPolling(app.id, page())).items.map((e) => e.id), [polling.id]);
        assert.deepEqual((await claim(store, { now: T0 + 100 })).map((d) => d.endpoint.id), [pushed.id, pushed.id, pushed.id]);
        const destinations = await store.queue.listByMessage(messages[0]!.id, page());
        assert.equal(destinations.items.find((row) => row.endpoint.id === polling.id)?.delivery.status, Status.success);
      });

      it('reads a log in offset order from a consumer\'s position, each consumer its own', async () => {
        const store = await fresh();
        const { polling, messages } = await sink(store);
        const first = await poll(store, polling.id, 'a', { limit: 2, leaseMs: 0 });
        assert.deepEqual(idsOf(first), messages.slice(0, 2).map((m) => m.id));
        assert.equal(first.done, false);
        assert.ok(first.items[0]!.offset < first.items[1]!.offset);
        assert.equal(await store.polling.position(polling.id, 'a'), 0);
        await store.polling.commit(polling.id, 'a', first.items[1]!.offset, T0);
        assert.equal(await store.polling.position(polling.id, 'a'), first.items[1]!.offset);
        const rest = await poll(store, polling.id, 'a');
        assert.deepEqual(idsOf(rest), [messages[2]!.id]);
        assert.equal(rest.done, true);
        assert.deepEqual(idsOf(await poll(store, polling.id, 'b', { leaseMs: 0 })), messages.map((m) => m.id), 'b has its own position');
        assert.deepEqual(idsOf(await poll(store, polling.id, 'c', { start: 'latest' })), [], 'c starts after the last');
        assert.deepEqual(idsOf(await store.polling.read(polling.id, first.items[0]!.offset, 10)), messages.slice(1).map((m) => m.id));
        assert.equal(await store.polling.position(polling.id, 'nobody'), null);
      });

      it('goes on after what a lease handed out while it lasts, and hands the uncommitted part out again once it runs out', async () => {
        const store = await fresh();
        const { polling, messages } = await sink(store);
        const leased = await poll(store, polling.id, 'w', { limit: 2 });
        assert.deepEqual(idsOf(await poll(store, polling.id, 'w', { now: T0 + 1 })), [messages[2]!.id]);
        assert.deepEqual(idsOf(await poll(store, polling.id, 'w', { now: T0 + 2 })), []);
        await store.polling.commit(polling.id, 'w', leased.items[0]!.offset, T0 + 3);
        assert.deepEqual(idsOf(await poll(store, polling.id, 'w', { now: T0 + 1 + 30_000 })), messages.slice(1).map((m) => m.id));
        // A commit short of what the lease handed out leaves the rest leased until it runs out.
        await store.polling.commit(polling.id, 'w', leased.items[1]!.offset, T0 + 40_000);
        assert.deepEqual(idsOf(await poll(store, polling.id, 'w', { now: T0 + 40_001 })), []);
        assert.deepEqual(idsOf(await poll(store, polling.id, 'w', { now: T0 + 70_000 })), [messages[2]!.id]);
      });

      it('finds the offset of the last message made at or before a time', async () => {
        const store = await fresh();
        const { polling } = await sink(store);
        const all = await store.polling.read(polling.id, 0, 10);
        assert.equal(await store.polling.offsetAt(polling.id, T0 + 15), all.items[1]!.offset);
        assert.equal(await store.polling.offsetAt(polling.id, T0 - 1), 0);
        assert.equal(await store.polling.offsetAt(polling.id, null), all.items[2]!.offset);
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

    describe('attempt statistics', () => {
      const B0 = bucketOf(T0);
      /** A message whose id carries the time `at`, as ids made at that moment do. */
      const messageAt = (appId: string, at: number) => aMessage(appId, { id: createIdGenerator({ now: () => at }, systemRandom)('message'), createdAt: at });
      const histogramOf = (...durations: number[]) => {
        const bins = new Array<number>(LATENCY_BINS).fill(0);
        for (const ms of durations) bins[latencyBin(ms)]!++;
        return bins;
      };

      it('rolls attempts up per endpoint and five-minute bucket as results are recorded, adding later batches to the same rows', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const [e1, e2] = [await store.endpoints.create(anEndpoint(app.id)), await store.endpoints.create(anEndpoint(app.id))];
        const [m1, m2, m3] = [aMessage(app.id), aMessage(app.id), aMessage(app.id)];
        for (const m of [m1, m2, m3]) await store.messages.enqueue(m, [e1.id, e2.id]);
        const claimed = await claim(store);
        const of = (m: Message, e: Endpoint) => claimed.find((d) => d.message.id === m.id && d.endpoint.id === e.id)!;
        await store.queue.complete([
          result(of(m1, e1), anAttempt(m1, e1.id, { responseDurationMs: 12, createdAt: B0 + 1 }), { status: Status.success }),
          result(of(m2, e1), anAttempt(m2, e1.id, { responseDurationMs: 250, status: Status.fail, responseStatusCode: 500, createdAt: B0 + 299_999 }), { status: Status.fail }),
          result(of(m3, e1), anAttempt(m3, e1.id, { responseDurationMs: 0, status: Status.fail, responseStatusCode: 0, failureReason: 'endpoint_disabled', createdAt: B0 + 2 }), { status: Status.fail }),
          result(of(m1, e2), anAttempt(m1, e2.id, { responseDurationMs: 40, createdAt: B0 + ROLLUP_MS }), { status: Status.success }),
        ]);
        await store.queue.complete([
          result(of(m2, e2), anAttempt(m2, e2.id, { responseDurationMs: 41, createdAt: B0 + ROLLUP_MS + 5 }), { status: Status.success }),
          result(of(m3, e2), anAttempt(m3, e2.id, { responseDurationMs: 5000, status: Status.fail, responseStatusCode: 0, failureReason: 'timeout', createdAt: B0 + ROLLUP_MS + 6 }), { status: Status.fail }),
        ]);
        assert.deepEqual(await store.stats.attempts(app.id, null, B0, B0 + 2 * ROLLUP_MS), [
          { endpointId: e1.id, bucketStart: B0, success: 1, failure: 1, canceled: 1, latency: histogramOf(12, 250) },
          { endpointId: e2.id, bucketStart: B0 + ROLLUP_MS, success: 2, failure: 1, canceled: 0, latency: histogramOf(40, 41, 5000) },
        ]);
        assert.deepEqual((await store.stats.attempts(app.id, e2.id, B0, B0 + 2 * ROLLUP_MS)).map((row) => row.endpointId), [e2.id]);
        assert.deepEqual(await store.stats.attempts(app.id, null, B0 + ROLLUP_MS, B0 + 2 * ROLLUP_MS).then((rows) => rows.map((row) => row.bucketStart)), [B0 + ROLLUP_MS]);
        assert.deepEqual(await store.stats.attempts(app.id, null, B0 - ROLLUP_MS, B0), []);
        const totals = await store.stats.endpointTotals(app.id, [e1.id, e2.id, 'ep_none'], B0 + ROLLUP_MS);
        assert.deepEqual([...totals], [[e2.id, { success: 2, failure: 1, canceled: 0 }]]);
        assert.deepEqual((await store.stats.endpointTotals(app.id, [e1.id], B0)).get(e1.id), { success: 1, failure: 1, canceled: 1 });
      });

      it('counts messages by the time their ids carry, for an application or one endpoint', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const [e1, e2] = [await store.endpoints.create(anEndpoint(app.id)), await store.endpoints.create(anEndpoint(app.id))];
        const other = await store.apps.create(anApp());
        await store.messages.enqueue(messageAt(app.id, B0 - 1), [e1.id]);
        await store.messages.enqueue(messageAt(app.id, B0), [e1.id, e2.id]);
        await store.messages.enqueue(messageAt(app.id, B0 + 59_999), [e2.id]);
        await store.messages.enqueue(messageAt(app.id, B0 + 60_000), []);
        await store.messages.enqueue(messageAt(other.id, B0 + 10), []);
        assert.deepEqual(await store.stats.messageCounts(app.id, null, [B0, B0 + 60_000, B0 + 120_000]), [2, 1]);
        assert.deepEqual(await store.stats.messageCounts(app.id, e1.id, [B0 - 60_000, B0, B0 + 60_000]), [1, 1]);
        assert.deepEqual(await store.stats.messageCounts(app.id, e2.id, [B0, B0 + 60_000]), [2]);
        assert.deepEqual(await store.stats.messageCounts(other.id, null, [B0, B0 + 60_000]), [1]);
      });

      it('drops the rollup of an application deleted while its results were in flight, and purges old buckets', async () => {
        const store = await fresh();
        const { app, endpoint, message } = await queued(store);
        const [delivery] = await claim(store);
        await store.apps.delete(app.id);
        await store.queue.complete([result(delivery!, anAttempt(message, endpoint.id), { status: Status.success })]);
        assert.deepEqual(await store.stats.attempts(app.id, null, 0, T0 * 2), []);

        const kept = await queued(store);
        const [next] = await claim(store);
        await store.queue.complete([result(next!, anAttempt(kept.message, kept.endpoint.id, { createdAt: B0 }), { status: Status.success })]);
        assert.equal(await store.stats.purge(B0, 10), 0);
        assert.equal(await store.stats.purge(B0 + 1, 10), 1);
        assert.deepEqual(await store.stats.attempts(kept.app.id, null, 0, T0 * 2), []);
      });

      it('deletes an application\'s rollup with the application', async () => {
        const store = await fresh();
        const { app, endpoint, message } = await queued(store);
        const [delivery] = await claim(store);
        await store.queue.complete([result(delivery!, anAttempt(message, endpoint.id), { status: Status.success })]);
        assert.equal((await store.stats.attempts(app.id, null, 0, T0 * 2)).length, 1);
        await store.apps.delete(app.id);
        assert.deepEqual(await store.stats.attempts(app.id, null, 0, T0 * 2), []);
      });
    });

    describe('tokens', () => {
      it('keeps a token\'s capabilities, finds it only until it expires, and deletes it', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const token = { id: ids('token'), digest: 'd'.repeat(64), appId: app.id, capabilities: ['ViewBase', 'CreateAttempts'] as ApiToken['capabilities'], createdAt: T0, expiresAt: T0 + 1_000 };
        const admin = { id: ids('token'), digest: 'a'.repeat(64), appId: null, capabilities: null, createdAt: T0, expiresAt: null };
        await store.tokens.create(token);
        await store.tokens.create(admin);
        assert.deepEqual(await store.tokens.find(token.digest, T0 + 999), token);
        assert.equal(await store.tokens.find(token.digest, T0 + 1_000), null);
        assert.deepEqual(await store.tokens.find(admin.digest, T0), admin);
        assert.equal(await store.tokens.hasAdmin(), true);
        assert.deepEqual(await store.tokens.delete(token.id), token);
        assert.equal(await store.tokens.delete(token.id), null);
        assert.equal(await store.tokens.find(token.digest, T0), null);
      });

      it('expires an application\'s tokens, keeping earlier expiries', async () => {
        const store = await fresh();
        const app = await store.apps.create(anApp());
        const soon = { id: ids('token'), digest: 'b'.repeat(64), appId: app.id, capabilities: ['ViewBase'] as ApiToken['capabilities'], createdAt: T0, expiresAt: T0 + 10 };
        const later = { ...soon, id: ids('token'), digest: 'c'.repeat(64), expiresAt: null };
        await store.tokens.create(soon);
        await store.tokens.create(later);
        await store.tokens.expireForApp(app.id, T0 + 100);
        assert.equal((await store.tokens.find(later.digest, T0 + 99))?.expiresAt, T0 + 100);
        assert.equal(await store.tokens.find(later.digest, T0 + 100), null);
        assert.equal(await store.tokens.find(soon.digest, T0 + 10), null);
      });
    });

    describe('background tasks', () => {
      const aTask = (appId: string, endpointId: string, over: Partial<BackgroundTask> = {}): BackgroundTask => ({
        id: ids('task'), kind: 'endpoint.recover', status: 'running', appId, endpointId,
        params: { since: 0, until: Date.now() + 60_000, eventTypes: null, channel: null, statuses: null, dryRun: false, pace: null },
        progress: { examined: 0, matched: 0, queued: 0 }, cursor: null, paceAt: T0, createdAt: T0, updatedAt: T0, ...over,
      });

      it('leases a running task to one worker at a time, and to another once the lease runs out', async () => {
        const store = await fresh();
        const { app, endpoint } = await queued(store);
        const task = await store.tasks.create(aTask(app.id, endpoint.id));
        assert.deepEqual(await store.tasks.get(task.id), task);
        const first = await store.tasks.claim(T0, 1_000);
        assert.equal(first?.task.id, task.id);
        assert.equal(await store.tasks.claim(T0 + 500, 1_000), null, 'held by the first worker');
        const second = await store.tasks.claim(T0 + 1_000, 1_000);
        assert.equal(second?.task.id, task.id);
        assert.equal(await store.tasks.save({ ...task, cursor: 'x' }, first!.lease, T0 + 5_000), false, 'the first lease is lost');
        assert.equal(await store.tasks.save({ ...task, status: 'finished', updatedAt: T0 + 2 }, second!.lease, T0 + 5_000), true);
        assert.equal((await store.tasks.get(task.id))!.status, 'finished');
        assert.equal(await store.tasks.claim(T0 + 10_000, 1_000), null, 'a finished task is not run again');
      });

      it('cancels a running task: it ends failed and canceled, and its worker can no longer save', async () => {
        const store = await fresh();
        const { app, endpoint } = await queued(store);
        const task = await store.tasks.create(aTask(app.id, endpoint.id));
        const claimed = await store.tasks.claim(T0, 1_000);
        const canceled = await store.tasks.cancel(task.id, T0 + 1);
        assert.equal(canceled!.status, 'failed');
        assert.equal(canceled!.progress.canceled, true);
        assert.equal(await store.tasks.save({ ...task, cursor: 'x' }, claimed!.lease, T0 + 5_000), false);
        assert.equal(await store.tasks.cancel('qtask_none', T0), null);
      });

      it('lists tasks newest first, filtered by status and kind', async () => {
        const store = await fresh();
        const { app, endpoint } = await queued(store);
        const a = await store.tasks.create(aTask(app.id, endpoint.id));
        const b = await store.tasks.create(aTask(app.id, endpoint.id, { kind: 'endpoint.replay', status: 'finished' }));
        assert.deepEqual((await store.tasks.list({ status: null, kind: null }, page(10, 'desc'))).items.map((t) => t.id), [b.id, a.id]);
        assert.deepEqual((await store.tasks.list({ status: 'finished', kind: null }, page(10, 'desc'))).items.map((t) => t.id), [b.id]);
        assert.deepEqual((await store.tasks.list({ status: null, kind: 'endpoint.recover' }, page(10, 'desc'))).items.map((t) => t.id), [a.id]);
      });

      it("walks a window's messages after a cursor with the endpoint's delivery, and re-queues finished ones and missing ones only", async () => {
        const store = await fresh();
        const { app, endpoint, message: delivered } = await queued(store);
        const [delivery] = await claim(store);
        await store.queue.complete([result(delivery!, anAttempt(delivered, endpoint.id), { status: Status.success })]);
        const missing = aMessage(app.id);
        await store.messages.enqueue(missing, []);
        const pending = aMessage(app.id);
        await store.messages.enqueue(pending, [endpoint.id]);
        const window = { since: Date.now() - 60_000, until: Date.now() + 60_000 };

        const all = await store.tasks.candidates(app.id, endpoint.id, window, null, 10);
        assert.deepEqual(all.map((c) => [c.messageId, c.deliveryStatus]), [[delivered.id, Status.success], [missing.id, null], [pending.id, Status.pending]]);
        assert.deepEqual((await store.tasks.candidates(app.id, endpoint.id, window, delivered.id, 1)).map((c) => c.messageId), [missing.id]);
        assert.deepEqual(await store.tasks.candidates(app.id, endpoint.id, { since: 0, until: 1 }, null, 10), []);

        const taskId = ids('task');
        const queuedNow = await store.tasks.requeue(taskId, endpoint.id, [delivered, missing, pending].map((m) => ({ messageId: m.id, runAt: T0 + 5 })), T0 + 1);
        assert.equal(queuedNow, 2, 'the pending delivery is left as it is');
        const after = await store.tasks.candidates(app.id, endpoint.id, window, null, 10);
        assert.deepEqual(after.map((c) => c.deliveryStatus), [Status.pending, Status.pending, Status.pending]);
        assert.equal(await store.tasks.finished(taskId), 0);
        const claimed = await claim(store, { now: T0 + 10 });
        const requeued = claimed.filter((d) => d.message.id === delivered.id || d.message.id === missing.id);
        assert.equal(requeued.length, 2);
        assert.ok(requeued.every((d) => d.trigger === Trigger.manual && d.attemptNumber === 1));
        await store.queue.complete(requeued.map((d) => result(d, anAttempt(d.message as Message, endpoint.id), { status: Status.success })));
        assert.equal(await store.tasks.finished(taskId), 2);
      });
    });

    describe('settings', () => {
      it('keeps the first value claimed under a name', async () => {
        const store = await fresh();
        assert.equal(await store.settings.get('check'), null);
        assert.equal(await store.settings.claim('check', 'first'), 'first');
        assert.equal(await store.settings.claim('check', 'second'), 'first');
        assert.equal(await store.settings.get('check'), 'first');
        assert.deepEqual(await Promise.all([store.settings.claim('race', 'a'), store.settings.claim('race', 'b')]), ['a', 'a']);
      });
    });

    describe('request bins', () => {
      const aBin = (over: Partial<Bin> = {}): Bin => ({
        id: ids('bin'), name: 'bin', token: `tok-${ids('bin')}`, response: DEFAULT_BIN_RESPONSE, rules: DEFAULT_BIN_RULES,
        createdAt: T0, updatedAt: T0, lastRequestAt: null, requestSeq: 0, ...over,
      });
      const aRequest = (binId: string, over: Partial<BinRequest> = {}): BinRequest => {
        const body = over.body ?? Buffer.from('{"n":1}');
        return {
          id: ids('binRequest'), binId, seq: 0, method: 'POST', path: '', query: null, headers: [['Content-Type', 'application/json']],
          secretHeaders: [], ip: '127.0.0.1', responseStatus: 200, rule: 'configured', createdAt: T0, ...over, body, size: body.byteLength,
        };
      };
      const digestOf = (bin: Bin) => `digest-${bin.token}`;
      const created = async (store: Store, over: Partial<Bin> = {}) => {
        const bin = aBin(over);
        await store.bins.create(bin, digestOf(bin));
        return bin;
      };
      const kept = async (store: Store, binId: string) => (await store.bins.listRequests(binId, page(250, 'asc'), true)).items;

      it('keeps a bin, finds it by id and by its token\'s digest, pages bins, updates and deletes them', async () => {
        const store = await fresh();
        const bin = await created(store, { response: { status: 201, headers: { 'X-A': 'b' }, body: 'made', delayMs: 5 }, rules: { ...DEFAULT_BIN_RULES, failRate: 0.25 } });
        const other = await created(store, { name: null });
        assert.deepEqual(await store.bins.get(bin.id), bin);
        assert.deepEqual(await store.bins.getByTokenDigest(digestOf(bin)), bin);
        assert.equal(await store.bins.getByTokenDigest('digest-nope'), null);
        assert.deepEqual((await store.bins.list(page(1, 'asc'))).items, [bin]);
        assert.deepEqual(await store.bins.list(page(1, 'asc', bin.id)), { items: [other], done: true });
        const changed = { ...bin, name: 'renamed', token: 'tok-rotated', rules: { ...DEFAULT_BIN_RULES, timeoutRate: 1 }, updatedAt: T0 + 1 };
        await store.bins.update(changed, 'digest-rotated');
        assert.deepEqual(await store.bins.get(bin.id), changed);
        assert.equal(await store.bins.getByTokenDigest(digestOf(bin)), null, 'the old token finds nothing');
        assert.deepEqual(await store.bins.getByTokenDigest('digest-rotated'), changed);
        assert.equal(await store.bins.delete(bin.id), true);
        assert.equal(await store.bins.delete(bin.id), false);
        assert.equal(await store.bins.get(bin.id), null);
        await assert.rejects(store.bins.update(changed, 'digest-rotated'), (error) => error instanceof StoreError && error.code === 'missing');
      });

      it('captures requests byte for byte and numbers them in the order they are stored', async () => {
        const store = await fresh();
        const bin = await created(store);
        const notUtf8 = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0a]);
        const first = aRequest(bin.id, {
          method: 'PATCH', path: '/a/b%2Fc/', query: 'x=1&x=2&y=%00&z', body: notUtf8, ip: '::ffff:127.0.0.1',
          headers: [['X-Dup', 'one'], ['Authorization', 'Bearer t'], ['x-dup', 'two'], ['X-Latin', 'caf\u00e9 \u00ff']], secretHeaders: [1],
          responseStatus: null, rule: 'timeout',
        });
        const second = aRequest(bin.id, { method: 'GET', body: Buffer.alloc(0), query: '', createdAt: T0 + 5 });
        assert.equal((await store.bins.capture(first, 10)).seq, 1);
        assert.equal((await store.bins.capture(second, 10)).seq, 2);
        const [one, two] = await kept(store, bin.id);
        assert.deepEqual({ ...one!, body: Buffer.from(one!.body) }, { ...first, seq: 1 });
        assert.deepEqual({ ...two!, body: Buffer.from(two!.body) }, { ...second, seq: 2 });
        assert.deepEqual(Buffer.from((await store.bins.getRequest(bin.id, first.id))!.body), notUtf8);
        assert.equal(await store.bins.getRequest(bin.id, 'breq_nope'), null);
        const other = await created(store);
        assert.equal(await store.bins.getRequest(other.id, first.id), null, 'only through its own bin');
        const after = (await store.bins.get(bin.id))!;
        assert.equal(after.requestSeq, 2);
        assert.equal(after.lastRequestAt, T0 + 5);
      });

      it('keeps only a bin\'s newest requests beyond the cap, also when they are captured at the same moment', async () => {
        const store = await fresh();
        const bin = await created(store);
        const one = [];
        for (let i = 0; i < 5; i++) one.push(await store.bins.capture(aRequest(bin.id), 3));
        assert.deepEqual((await kept(store, bin.id)).map((r) => r.id), one.slice(2).map((r) => r.id));
        const together = await Promise.all(Array.from({ length: 10 }, () => store.bins.capture(aRequest(bin.id), 4)));
        assert.deepEqual(together.map((r) => r.seq).sort((a, b) => a - b), [6, 7, 8, 9, 10, 11, 12, 13, 14, 15], 'each takes its own number');
        const left = await kept(store, bin.id);
        assert.deepEqual(left.map((r) => r.seq).sort((a, b) => a - b), [12, 13, 14, 15], 'the four newest stay');
        const other = await created(store);
        await store.bins.capture(aRequest(other.id), 1);
        assert.equal((await kept(store, bin.id)).length, 4, 'another bin\'s cap leaves this one alone');
      });

      it('refuses a capture into a deleted bin, and deleting a bin takes its requests', async () => {
        const store = await fresh();
        const bin = await created(store);
        const request = await store.bins.capture(aRequest(bin.id), 10);
        assert.equal(await store.bins.delete(bin.id), true);
        assert.equal(await store.bins.getRequest(bin.id, request.id), null);
        await assert.rejects(store.bins.capture(aRequest(bin.id), 10), (error) => error instanceof StoreError && error.code === 'missing');
        const live = await created(store);
        const [gone, stored] = await Promise.allSettled([store.bins.capture(aRequest(bin.id), 10), store.bins.capture(aRequest(live.id), 10)]);
        assert.equal(gone.status, 'rejected', 'the one into the deleted bin fails');
        assert.equal(stored.status, 'fulfilled', 'alone');
      });

      it('pages a bin\'s requests newest first, with or without their bodies', async () => {
        const store = await fresh();
        const bin = await created(store);
        const made = [];
        for (let i = 0; i < 5; i++) made.push(await store.bins.capture(aRequest(bin.id, { body: Buffer.from(`body ${i}`) }), 10));
        const first = await store.bins.listRequests(bin.id, page(2, 'desc'), true);
        assert.deepEqual(first.items.map((r) => r.id), [made[4]!.id, made[3]!.id]);
        assert.equal(first.done, false);
        const last = await store.bins.listRequests(bin.id, page(2, 'desc', made[1]!.id), false);
        assert.deepEqual(last.items.map((r) => r.id), [made[0]!.id]);
        assert.equal(last.done, true);
        assert.equal(last.items[0]!.body.byteLength, 0, 'no body without content');
        assert.equal(last.items[0]!.size, 6, 'but its size');
        assert.equal(Buffer.from(first.items[0]!.body).toString(), 'body 4');
      });

      it('reads the requests numbered after a number, in order, and deletes one', async () => {
        const store = await fresh();
        const bin = await created(store);
        const made = [];
        for (let i = 0; i < 4; i++) made.push(await store.bins.capture(aRequest(bin.id), 10));
        assert.deepEqual((await store.bins.requestsAfter(bin.id, 1, 2)).map((r) => r.id), [made[1]!.id, made[2]!.id]);
        assert.deepEqual(await store.bins.requestsAfter(bin.id, 4, 10), []);
        assert.equal(await store.bins.deleteRequest(bin.id, made[1]!.id), true);
        assert.equal(await store.bins.deleteRequest(bin.id, made[1]!.id), false);
        assert.deepEqual((await store.bins.requestsAfter(bin.id, 0, 10)).map((r) => r.id), [made[0]!.id, made[2]!.id, made[3]!.id]);
      });

      it('purges requests captured before the cut-off, and bins neither changed nor sent to since', async () => {
        const store = await fresh();
        const idle = await created(store, { updatedAt: T0 });
        const changed = await created(store, { updatedAt: T0 + 100 });
        const used = await created(store, { updatedAt: T0 });
        await store.bins.capture(aRequest(used.id, { createdAt: T0 + 100 }), 10);
        assert.equal(await store.bins.purgeRequests(Date.now() - 60_000, 10), 0);
        assert.equal(await store.bins.purgeRequests(Date.now() + 1_000, 10), 1);
        assert.equal(await store.bins.purgeIdle(T0 + 50, 10), 1);
        assert.equal(await store.bins.get(idle.id), null);
        assert.ok(await store.bins.get(changed.id));
        assert.ok(await store.bins.get(used.id));
      });

      it('announces a committed capture with its bin\'s id', async () => {
        const store = await fresh();
        const bin = await created(store);
        const found: BinRequest[][] = [];
        const stop = store.onBinChange((binId, change) => {
          if (binId === bin.id && change === 'captured') void store.bins.requestsAfter(bin.id, 0, 10).then((rows) => found.push(rows));
        });
        try {
          // A listener on another connection may still be connecting: capture until one is announced.
          const deadline = Date.now() + 5_000;
          while (found.length === 0 && Date.now() < deadline) {
            await store.bins.capture(aRequest(bin.id), 100);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          assert.ok(found.length > 0, 'announced');
          assert.ok(found[0]!.length > 0, 'once it can be read');
        } finally {
          await stop();
        }
      });

      it('announces a bin\'s deletion with its id, so its live streams end on every process', async () => {
        const store = await fresh();
        const changes: string[] = [];
        const stop = store.onBinChange((binId, change) => void changes.push(`${binId} ${change}`));
        try {
          // A listener on another connection may still be connecting: delete bins until one is announced.
          const deadline = Date.now() + 5_000;
          let deleted: string | undefined;
          while (!changes.some((change) => change.endsWith(' deleted')) && Date.now() < deadline) {
            const bin = await created(store);
            await store.bins.delete(bin.id);
            deleted = bin.id;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          assert.ok(changes.includes(`${deleted} deleted`), `announced: ${changes.join(', ')}`);
        } finally {
          await stop();
        }
      });
    });

    describe('idempotency keys', () => {
      const LOCK = 60_000;
      const claimAt = (store: Store, key: string, claim: string, now = T0, notBefore = T0 - 1000) =>
        store.idempotency.claim({ key, claim, now, lockedUntil: now + LOCK, notBefore });

      it('lets one claim hold a key; another finds it pending until the holder completes it, then replays the answer', async () => {
        const store = await fresh();
        assert.deepEqual(await claimAt(store, 'k1', 'first'), { state: 'claimed' });
        assert.deepEqual(await claimAt(store, 'k1', 'second', T0 + 5), { state: 'pending', lockedUntil: T0 + LOCK });
        assert.deepEqual(await claimAt(store, 'k2', 'second'), { state: 'claimed' }, 'keys are independent');
        assert.equal(await store.idempotency.complete('k1', 'second', { statusCode: 202, body: '{"id":2}' }, T0 + 6), false, 'only the holder completes');
        assert.equal(await store.idempotency.complete('k1', 'first', { statusCode: 202, body: '{"id":1}' }, T0 + 10), true);
        assert.deepEqual(await claimAt(store, 'k1', 'third', T0 + 20), { state: 'done', response: { statusCode: 202, body: '{"id":1}' } });
        assert.deepEqual(await claimAt(store, 'k1', 'fourth', T0 + 30, T0 + 11), { state: 'claimed' }, 'an answer older than the window is forgotten');
      });

      it('frees a key its holder releases, and only its holder', async () => {
        const store = await fresh();
        await claimAt(store, 'k', 'first');
        await store.idempotency.release('k', 'other');
        assert.equal((await claimAt(store, 'k', 'second')).state, 'pending');
        await store.idempotency.release('k', 'first');
        assert.deepEqual(await claimAt(store, 'k', 'second'), { state: 'claimed' });
      });

      it('lets a claim take over a key whose holder\'s lock lapsed, after which the old holder cannot complete it', async () => {
        const store = await fresh();
        await claimAt(store, 'k', 'dead');
        assert.equal((await claimAt(store, 'k', 'next', T0 + LOCK - 1)).state, 'pending');
        assert.deepEqual(await claimAt(store, 'k', 'next', T0 + LOCK), { state: 'claimed' });
        assert.equal(await store.idempotency.complete('k', 'dead', { statusCode: 200, body: 'late' }, T0 + LOCK + 1), false);
        assert.equal(await store.idempotency.complete('k', 'next', { statusCode: 200, body: '' }, T0 + LOCK + 2), true);
        assert.deepEqual(await claimAt(store, 'k', 'again', T0 + LOCK + 3), { state: 'done', response: { statusCode: 200, body: '' } });
      });

      it('gives a key to exactly one of twenty claims made at the same moment', async () => {
        const store = await fresh();
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => claimAt(store, 'same', `c${i}`)));
        assert.equal(results.filter((r) => r.state === 'claimed').length, 1);
        assert.ok(results.every((r) => r.state === 'claimed' || r.state === 'pending'));
      });

      it('purges records made before the cut-off, answered or pending', async () => {
        const store = await fresh();
        await claimAt(store, 'old-pending', 'a', T0);
        await claimAt(store, 'old-done', 'b', T0);
        await store.idempotency.complete('old-done', 'b', { statusCode: 200, body: '{}' }, T0 + 1);
        await claimAt(store, 'young', 'c', T0 + 10);
        assert.equal(await store.idempotency.purge(T0 + 5, 10), 2);
        assert.deepEqual(await claimAt(store, 'old-pending', 'd', T0 + 20), { state: 'claimed' });
        assert.equal((await claimAt(store, 'young', 'e', T0 + 20)).state, 'pending');
      });
    });
    flowContract(fresh);
  });
}
