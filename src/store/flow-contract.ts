import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock, systemRandom } from '../core/clock.ts';
import { DEFAULT_FLOW_POLICY, type FlowSignal, PROBE_MIN_MS } from '../core/flow-control.ts';
import { createIdGenerator } from '../core/ids.ts';
import { type Application, type Endpoint, type Message, Status, Trigger } from '../core/model.ts';
import type { ClaimRequest, DeliveryResult, Store } from './store.ts';

/** The store contract's part on flow control (run inside `storeContract`, on each store). */
export function flowContract(fresh: () => Promise<Store>): void {
  const ids = createIdGenerator(systemClock, systemRandom);
  const T0 = 1_700_000_000_000;
  const policy = { ...DEFAULT_FLOW_POLICY, circuitFailures: 3 };
  const anApp = (over: Partial<Application> = {}): Application =>
    ({ id: ids('application'), uid: null, name: 'App', metadata: {}, throttleRate: null, createdAt: T0, updatedAt: T0, ...over });
  const anEndpoint = (appId: string, over: Partial<Endpoint> = {}): Endpoint => ({
    id: ids('endpoint'), appId, uid: null, url: 'http://127.0.0.1:9/hook', description: '', eventTypes: null, channels: null,
    disabled: false, metadata: {}, throttleRate: null, retrySchedule: null, filter: null, headers: {}, secrets: [{ key: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', expiresAt: null }],
    createdAt: T0, updatedAt: T0, ...over,
  });
  const aMessage = (appId: string): Message => ({
    id: ids('message'), appId, eventType: 'invoice.paid', eventId: null, channels: null, payload: Buffer.from('{}'), inbound: null, createdAt: T0,
  });
  const claim = (store: Store, now: number, over: Partial<ClaimRequest> = {}) =>
    store.queue.claim({ now, limit: 50, leaseMs: 30_000, slots: new Map(), defaultSlots: 50, appSlots: new Map(), defaultAppSlots: 50, ...over });
  const signal = (endpointId: string, appId: string, kind: FlowSignal['kind'], at: number): FlowSignal =>
    ({ endpointId, appId, kind, sentAt: at - 5, at, retryAfterMs: null });
  /** One application, its endpoints, and `n` messages queued to each. */
  async function backlog(store: Store, n: number, app: Partial<Application>, ...endpoints: Array<Partial<Endpoint>>) {
    const application = await store.apps.create(anApp(app));
    const created = [];
    for (const over of endpoints) created.push(await store.endpoints.create(anEndpoint(application.id, over)));
    for (let i = 0; i < n; i++) await store.messages.enqueue(aMessage(application.id), created.map((e) => e.id));
    return { app: application, endpoints: created };
  }
  const fail = (delivery: { id: number; lease: number; message: Pick<Message, 'id' | 'appId'>; endpoint: { id: string } }, at: number): DeliveryResult => ({
    id: delivery.id, lease: delivery.lease, next: { status: Status.pending, runAt: at + 60_000 }, attemptCount: 1, disableEndpoint: false,
    attempt: { id: ids('attempt'), messageId: delivery.message.id, endpointId: delivery.endpoint.id, appId: delivery.message.appId, url: 'http://x/',
      status: Status.fail, responseStatusCode: 500, response: '', responseDurationMs: 1, trigger: Trigger.scheduled, failureReason: null, attemptNumber: 1, createdAt: at },
  });

  describe('flow control', () => {
    it('leases what an endpoint\'s throttleRate allows, a second\'s worth at once, and makes the rest due later, spending nothing', async () => {
      const store = await fresh();
      const { endpoints: [slow, free] } = await backlog(store, 6, {}, { throttleRate: 2 }, {});
      const first = await claim(store, T0);
      assert.equal(first.filter((d) => d.endpoint.id === slow!.id).length, 2);
      assert.equal(first.filter((d) => d.endpoint.id === free!.id).length, 6);
      assert.deepEqual(await claim(store, T0 + 10), [], 'the rest is not due yet');
      const due = await store.queue.nextDueAt();
      assert.ok(due !== null && due > T0 + 10 && due <= T0 + 500, `next due at ${due}`);
      // The listings say when the deferred ones go, not their schedule's time (T0) long past.
      const listed = await store.queue.listByEndpoint(slow!.id, { eventTypes: null, channel: null, before: null, after: null, status: Status.pending }, { limit: 10, after: null, order: 'desc' });
      assert.deepEqual(listed.items.map((row) => row.delivery.nextAttemptAt! > T0 + 10), [true, true, true, true], 'each waiting delivery is due later than its schedule');
      assert.equal((await claim(store, T0 + 500)).length, 1);
      const waiting = await store.queue.stats(slow!.id, { before: null, after: null });
      assert.equal(waiting.pending, 3, 'the waiting deliveries are pending, not failed');
      // None of the waiting ones spent an attempt.
      const later = await claim(store, T0 + 10_000);
      assert.ok(later.every((d) => d.attemptNumber === 1));
    });

    it('tells since when the deliveries a rate holds back were due, and nothing for an endpoint none waits at', async () => {
      const store = await fresh();
      const { endpoints: [slow, free] } = await backlog(store, 6, {}, { throttleRate: 2 }, {});
      assert.equal(await store.flow.heldBackSince(slow!.id, T0), null, 'due, but not yet held back');
      await claim(store, T0);
      assert.equal(await store.flow.heldBackSince(slow!.id, T0 + 10), T0, 'waiting since their schedule\'s time');
      assert.equal(await store.flow.heldBackSince(free!.id, T0 + 10), null);
      // Once every waiting one has gone, nothing is held back; a retry's wait is the schedule's, not the rate's.
      const sent = [...await claim(store, T0 + 5_000), ...await claim(store, T0 + 10_000)].filter((d) => d.endpoint.id === slow!.id);
      assert.equal(sent.length, 4);
      await store.queue.complete(sent.map((d) => fail(d, T0 + 10_000)));
      assert.equal(await store.flow.heldBackSince(slow!.id, T0 + 10_001), null);
    });

    it('spreads an application\'s throttleRate over all its endpoints', async () => {
      const store = await fresh();
      await backlog(store, 4, { throttleRate: 3 }, {}, {});
      assert.equal((await claim(store, T0)).length, 3);
      assert.equal((await claim(store, T0 + 1)).length, 0);
    });

    it('opens the circuit after a run of failures: one probe at a time, then the first success closes it and the backlog is due', async () => {
      const store = await fresh();
      const { app, endpoints: [endpoint] } = await backlog(store, 6, {}, {});
      const sent = await claim(store, T0, { limit: 3 });
      await store.queue.complete(sent.map((d) => fail(d, T0 + 10)));
      const outcome = await store.flow.record(sent.map(() => signal(endpoint!.id, app.id, 'failure', T0 + 10)), policy);
      assert.deepEqual(outcome.opened, [endpoint!.id]);
      assert.ok((await store.flow.watched()).includes(endpoint!.id));
      const state = await store.flow.get(endpoint!.id);
      assert.equal(state?.circuitOpenedAt, T0 + 10);
      assert.deepEqual(await claim(store, T0 + 20), [], 'nothing goes while the circuit is open');
      const probe = await claim(store, T0 + 10 + PROBE_MIN_MS);
      assert.equal(probe.length, 1, 'one probe');
      assert.deepEqual(await claim(store, T0 + 11 + PROBE_MIN_MS), []);
      const closed = await store.flow.record([signal(endpoint!.id, app.id, 'success', T0 + 20 + PROBE_MIN_MS)], policy);
      assert.deepEqual(closed.closed, [endpoint!.id]);
      assert.equal((await claim(store, T0 + 30 + PROBE_MIN_MS)).length, 2, 'the deliveries the circuit held back are due again');
    });

    it('disables an endpoint failing without a success for too long, with the reason and time', async () => {
      const store = await fresh();
      const { app, endpoints: [endpoint] } = await backlog(store, 1, {}, {});
      const day = 24 * 3_600_000;
      await store.flow.record([signal(endpoint!.id, app.id, 'failure', T0)], policy);
      const outcome = await store.flow.record([signal(endpoint!.id, app.id, 'failure', T0 + 5 * day)], policy);
      assert.deepEqual(outcome.disabled, [{ endpointId: endpoint!.id, appId: app.id }]);
      const disabled = await store.endpoints.get(app.id, endpoint!.id);
      assert.equal(disabled?.disabled, true);
      assert.equal(disabled?.disabledReason, 'failing');
      assert.equal(disabled?.disabledAt, T0 + 5 * day);
    });

    it('keeps a disabled endpoint\'s deliveries waiting, and lets them go when it is resumed', async () => {
      const store = await fresh();
      const { endpoints: [endpoint] } = await backlog(store, 2, {}, {});
      await store.endpoints.update({ ...endpoint!, disabled: true, disabledReason: 'manual', disabledAt: T0 });
      assert.deepEqual(await claim(store, T0), []);
      assert.equal((await store.queue.stats(endpoint!.id, { before: null, after: null })).pending, 2);
      await store.endpoints.update({ ...endpoint!, disabled: false });
      assert.equal(await store.flow.resume(endpoint!.id, T0 + 1), 2);
      assert.equal((await claim(store, T0 + 1)).length, 2);
    });

    it('lets retention purge a disabled endpoint\'s waiting deliveries with their messages', async () => {
      const store = await fresh();
      const { endpoints: [endpoint] } = await backlog(store, 1, {}, {});
      await store.endpoints.update({ ...endpoint!, disabled: true });
      // Message ids carry the real time they were made at, which the purge compares.
      assert.equal(await store.messages.purge(Date.now() + 1_000, 10), 1);
    });
  });
}
