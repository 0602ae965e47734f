import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { OPERATIONAL_APP_ID } from '../src/core/operational-events.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { type Receiver, type ReceivedRequest, startReceiver } from './support/receiver.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { settled, waitFor } from './support/wait.ts';

/** Six attempts 50 ms apart: the fourth failure and the last come within a second. */
const RETRY_SCHEDULE = '50ms,50ms,50ms,50ms,50ms';

interface Event {
  type: string;
  data: Record<string, any>;
}

/** The events a receiver got, each checked with the standardwebhooks library and its secret. */
function eventsAt(receiver: Receiver, secret: string): Event[] {
  return receiver.requests.map((request: ReceivedRequest) => new Webhook(secret).verify(request.body.toString('utf8'), request.headers as Record<string, string>) as Event);
}

/** Waits until none of an operational endpoint's deliveries is pending or in flight (it has no API of its stats). */
async function opsSettled(h: TestHerald, endpointId: string): Promise<void> {
  await waitFor('the operational endpoint\'s deliveries to settle', async () => {
    const stats = await h.herald.store.queue.stats(endpointId, { before: null, after: null });
    return stats.pending === 0 && stats.sending === 0;
  });
}

await forEachStore((store) => {
  describe(`operational webhooks (${store})`, () => {
    const failures = trackFailures();
    let h: TestHerald;
    const receivers: Receiver[] = [];
    const receiver = async (respond?: Parameters<typeof startReceiver>[0]) => {
      const r = await startReceiver(respond);
      receivers.push(r);
      return r;
    };
    /** A fresh operational endpoint (through the SDK) at a fresh receiver, with its secret. */
    const opsEndpoint = async (eventTypes?: string[], respond?: Parameters<typeof startReceiver>[0]) => {
      const r = await receiver(respond);
      const endpoint = await h.svix.operationalWebhook.endpoint.create({ url: `${r.url}/ops`, ...(eventTypes ? { eventTypes } : {}) });
      const { key } = await h.svix.operationalWebhook.endpoint.getSecret(endpoint.id);
      return { endpoint, receiver: r, secret: key, events: () => eventsAt(r, key) };
    };
    const removeOps = async () => {
      for (const e of (await h.svix.operationalWebhook.endpoint.list({ limit: 250 })).data) await h.svix.operationalWebhook.endpoint.delete(e.id);
    };

    before(async () => {
      // Two requests at once per endpoint, so most of a burst waits in the queue (cancel-msgs).
      h = await startTestHerald({ store, env: { HERALD_RETRY_SCHEDULE: RETRY_SCHEDULE, HERALD_MAX_IN_FLIGHT_PER_ENDPOINT: '2' } });
      await h.svix.eventType.create({ name: 'invoice.paid', description: 'paid' });
    });
    after(async () => {
      await h.close(failures.any());
      for (const r of receivers) await r.close();
    });

    it('manages operational endpoints through the svix SDK, and keeps their application out of the application routes', async () => {
      const ops = h.svix.operationalWebhook.endpoint;
      const created = await ops.create({ url: 'http://127.0.0.1:9/ops', uid: 'pager', description: 'pager', eventTypes: ['endpoint.disabled'], metadata: { team: 'infra' } });
      assert.match(created.id, /^ep_/);
      assert.deepEqual([created.uid, created.description, created.eventTypes, created.disabled, created.metadata], ['pager', 'pager', ['endpoint.disabled'], false, { team: 'infra' }]);
      assert.deepEqual((await ops.list()).data.map((e) => e.id), [created.id]);
      assert.equal((await ops.get('pager')).id, created.id);

      const upserted = await ops.upsert(created.id, { url: 'http://127.0.0.1:9/ops2', eventTypes: ['message.attempt.exhausted', 'endpoint.disabled'], disabled: true });
      assert.deepEqual([upserted.url, upserted.eventTypes, upserted.disabled, upserted.uid], ['http://127.0.0.1:9/ops2', ['message.attempt.exhausted', 'endpoint.disabled'], true, null]);

      const { key } = await ops.getSecret(created.id);
      assert.match(key, /^whsec_/);
      await ops.rotateSecret(created.id, {});
      assert.notEqual((await ops.getSecret(created.id)).key, key);

      await ops.setHeaders(created.id, { headers: { 'X-Team': 'infra', Authorization: 'Bearer x' } });
      assert.deepEqual(await ops.getHeaders(created.id), { headers: { 'X-Team': 'infra' }, sensitive: ['Authorization'] });

      const refused = await h.api('POST', '/api/v1/operational-webhook/endpoint', { url: 'http://127.0.0.1:9/x', filterTypes: ['endpoint.created', 'invoice.paid'] });
      assert.equal(refused.status, 422);
      assert.deepEqual(refused.body.detail.map((d: { loc: string[] }) => d.loc), [['body', 'filterTypes', '1']]);

      assert.ok(!(await h.api('GET', '/api/v1/app?limit=250')).body.data.some((a: { id: string }) => a.id === OPERATIONAL_APP_ID));
      assert.equal((await h.api('GET', `/api/v1/app/${OPERATIONAL_APP_ID}/endpoint`)).status, 404);
      const app = await h.svix.application.create({ name: 'portal' });
      const { token } = await h.svix.authentication.appPortalAccess(app.id, {});
      const asApp = await fetch(`${h.url}/api/v1/operational-webhook/endpoint`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(asApp.status, 403, 'an application\'s token may not reach them');

      await ops.delete(created.id);
      assert.equal((await h.api('GET', `/api/v1/operational-webhook/endpoint/${created.id}`)).status, 404);
    });

    it('sends endpoint.created, updated, disabled, enabled and deleted, signed with the operational endpoint\'s secret', async () => {
      const ops = await opsEndpoint();
      const app = await h.svix.application.create({ name: 'Acme', uid: `acme-${store}` });
      const endpoint = await h.svix.endpoint.create(app.id, { url: 'http://127.0.0.1:9/hook', uid: 'billing' });
      await h.svix.endpoint.patch(app.id, endpoint.id, { description: 'billing' });
      await h.svix.endpoint.patch(app.id, endpoint.id, { disabled: true });
      await h.svix.endpoint.patch(app.id, endpoint.id, { disabled: false });
      await h.svix.endpoint.delete(app.id, endpoint.id);

      await waitFor('seven endpoint events', () => ops.receiver.requests.length >= 7);
      await opsSettled(h, ops.endpoint.id);
      const events = ops.events();
      const ref = { appId: app.id, appUid: `acme-${store}`, endpointId: endpoint.id, endpointUid: 'billing' };
      const of = (type: string) => events.filter((e) => e.type === type);
      assert.deepEqual(of('endpoint.created').map((e) => e.data), [ref]);
      assert.equal(of('endpoint.updated').length, 3, 'one per change');
      assert.deepEqual(of('endpoint.disabled').map((e) => e.data), [{ ...ref, trigger: 'manual', failSince: null }]);
      assert.deepEqual(of('endpoint.enabled').map((e) => e.data), [ref]);
      assert.deepEqual(of('endpoint.deleted').map((e) => e.data), [ref]);
      assert.equal(events.length, 7);
      assert.ok(ops.receiver.requests.every((r) => r.headers['webhook-signature']), 'every event is signed');
      await h.svix.operationalWebhook.endpoint.delete(ops.endpoint.id);
    });

    it('sends message.attempt.failing on the fourth failure, exhausted after the last, and recovered on a later success', async () => {
      const ops = await opsEndpoint(['message.attempt.failing', 'message.attempt.exhausted', 'message.attempt.recovered']);
      const app = await h.svix.application.create({ name: 'Retries', uid: `retries-${store}` });
      const dead = await receiver(() => ({ status: 500, body: 'down' }));
      const flaky = await receiver((_request, index) => (index < 4 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' }));
      // One message to each endpoint: the second endpoint is made once the first is disabled.
      const deadEndpoint = await h.svix.endpoint.create(app.id, { url: `${dead.url}/hook` });
      const toDead = await h.api('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'invoice.paid', eventId: 'inv-dead', payload: { n: 1 } });
      assert.equal(toDead.status, 202);
      await settled((path) => h.api('GET', path), [`/api/v1/app/${app.id}/endpoint/${deadEndpoint.id}`]);
      assert.equal(dead.requests.length, 6);
      await h.svix.endpoint.patch(app.id, deadEndpoint.id, { disabled: true });
      const flakyEndpoint = await h.svix.endpoint.create(app.id, { url: `${flaky.url}/hook` });
      const toFlaky = await h.api('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'invoice.paid', eventId: 'inv-flaky', payload: { n: 2 } });
      await settled((path) => h.api('GET', path), [`/api/v1/app/${app.id}/endpoint/${flakyEndpoint.id}`]);
      assert.equal(flaky.requests.length, 5);

      await waitFor('four attempt events', () => ops.receiver.requests.length >= 4);
      await opsSettled(h, ops.endpoint.id);
      const events = ops.events();
      const about = (msgId: string) => events.filter((e) => e.data.msgId === msgId).map((e) => e.type).sort();
      assert.deepEqual(about(toDead.body.id), ['message.attempt.exhausted', 'message.attempt.failing']);
      assert.deepEqual(about(toFlaky.body.id), ['message.attempt.failing', 'message.attempt.recovered']);
      assert.equal(events.length, 4);
      const exhausted = events.find((e) => e.type === 'message.attempt.exhausted')!;
      assert.deepEqual({ ...exhausted.data, lastAttempt: { ...exhausted.data.lastAttempt, id: null, timestamp: null } }, {
        appId: app.id, appUid: `retries-${store}`, msgId: toDead.body.id, msgEventId: 'inv-dead', endpointId: deadEndpoint.id,
        lastAttempt: { id: null, responseStatusCode: 500, timestamp: null },
      });
      const attempts = (await h.api('GET', `/api/v1/app/${app.id}/attempt/endpoint/${deadEndpoint.id}`)).body.data;
      assert.equal(exhausted.data.lastAttempt.id, attempts[0].id, 'lastAttempt is the last attempt made');
      assert.equal(events.find((e) => e.type === 'message.attempt.recovered')!.data.lastAttempt.responseStatusCode, 200);
      await h.svix.operationalWebhook.endpoint.delete(ops.endpoint.id);
    });

    it('sends endpoint.disabled with trigger automatic, once, when a 410 disables an endpoint', async () => {
      const ops = await opsEndpoint(['endpoint.disabled', 'endpoint.created']);
      const app = await h.svix.application.create({ name: 'Gone' });
      const gone = await receiver(() => ({ status: 410, body: 'gone' }));
      const endpoint = await h.svix.endpoint.create(app.id, { url: `${gone.url}/hook` });
      for (let i = 0; i < 3; i++) await h.api('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'invoice.paid', payload: { i } });
      await waitFor('endpoint.disabled', () => ops.events().some((e) => e.type === 'endpoint.disabled'));
      // Nothing in flight: what was not sent before the 410 disabled the endpoint waits for it to be
      // enabled again (parked, pending), so no other answer can raise a second endpoint.disabled.
      await waitFor('nothing in flight to the disabled endpoint', async () => (await h.api('GET', `/api/v1/app/${app.id}/endpoint/${endpoint.id}/stats`)).body.sending === 0);
      // Positive control: an event raised after that arrives, so a second endpoint.disabled,
      // raised before it, would have had the time to arrive as well.
      const later = await h.svix.endpoint.create(app.id, { url: 'http://127.0.0.1:9/later' });
      await waitFor('the later endpoint.created', () => ops.events().some((e) => e.type === 'endpoint.created' && e.data.endpointId === later.id));
      await opsSettled(h, ops.endpoint.id);
      const disabled = ops.events().filter((e) => e.type === 'endpoint.disabled');
      assert.equal(disabled.length, 1);
      assert.equal(disabled[0]!.data.trigger, 'automatic');
      assert.equal(disabled[0]!.data.endpointId, endpoint.id);
      assert.ok(Date.parse(disabled[0]!.data.failSince) > 0);
      assert.equal((await h.svix.endpoint.get(app.id, endpoint.id)).disabled, true);
      await h.svix.operationalWebhook.endpoint.delete(ops.endpoint.id);
    });

    it('sends an operational endpoint only the event types it filters on', async () => {
      const all = await opsEndpoint();
      const createdOnly = await opsEndpoint(['endpoint.created']);
      const app = await h.svix.application.create({ name: 'Filters' });
      const endpoint = await h.svix.endpoint.create(app.id, { url: 'http://127.0.0.1:9/hook' });
      await h.svix.endpoint.patch(app.id, endpoint.id, { description: 'changed' });
      await waitFor('both events at the unfiltered endpoint', () => all.events().filter((e) => e.data.endpointId === endpoint.id).length === 2);
      // The endpoint.updated message fanned out to both endpoints in the commit the unfiltered one's
      // delivery came from: once the filtered one's deliveries settle, nothing more can reach it.
      await opsSettled(h, createdOnly.endpoint.id);
      assert.deepEqual(createdOnly.events().filter((e) => e.data.endpointId === endpoint.id).map((e) => e.type), ['endpoint.created']);
      await removeOps();
    });

    it('raises no event about an operational endpoint\'s own failures', async () => {
      const failing = await opsEndpoint(undefined, () => ({ status: 500, body: 'down' }));
      const gone = await opsEndpoint(undefined, () => ({ status: 410, body: 'gone' }));
      const watcher = await opsEndpoint();
      const app = await h.svix.application.create({ name: 'Loops' });
      const first = await h.svix.endpoint.create(app.id, { url: 'http://127.0.0.1:9/hook' });
      await waitFor('the failing endpoint to exhaust its attempts', () => failing.receiver.requests.length >= 6);
      await waitFor('the gone endpoint to be disabled', async () => (await h.svix.operationalWebhook.endpoint.get(gone.endpoint.id)).disabled);
      await opsSettled(h, failing.endpoint.id);
      // Positive control: an event raised now reaches the watcher, after anything raised before it could.
      const second = await h.svix.endpoint.create(app.id, { url: 'http://127.0.0.1:9/hook2' });
      await waitFor('the second endpoint.created', () => watcher.events().some((e) => e.data.endpointId === second.id));
      await opsSettled(h, watcher.endpoint.id);
      assert.deepEqual(watcher.events().map((e) => `${e.type} ${e.data.endpointId}`).sort(), [`endpoint.created ${first.id}`, `endpoint.created ${second.id}`]);
      await removeOps();
    });

    it('cancels an endpoint\'s waiting deliveries with cancel-msgs: they are never sent and count as canceled, in-flight ones go on', async () => {
      let hold = true;
      const slow = await receiver(() => (hold ? { status: 200, body: 'ok', delayMs: 1_500 } : { status: 200, body: 'ok' }));
      const app = await h.svix.application.create({ name: 'Cancel' });
      const endpoint = await h.svix.endpoint.create(app.id, { url: `${slow.url}/hook` });
      const path = `/api/v1/app/${app.id}/endpoint/${endpoint.id}`;
      const sent: string[] = [];
      for (let i = 0; i < 40; i++) sent.push((await h.api('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'invoice.paid', payload: { i } })).body.id);
      await waitFor('the first deliveries in flight', () => slow.requests.length > 0);
      hold = false;
      assert.equal((await h.api('POST', `${path}/cancel-msgs`, { createdBefore: new Date().toISOString() })).status, 204);
      const stats = (await h.api('GET', `${path}/stats`)).body;
      assert.ok(stats.canceled > 0, `some were canceled: ${JSON.stringify(stats)}`);
      // Positive control: a message published now is due after every canceled one, so once it has
      // arrived (and the queue settled) a canceled delivery that was going to be sent would have been.
      const control = (await h.api('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'invoice.paid', payload: { control: true } })).body.id;
      await waitFor('the control message', () => slow.requests.some((r) => r.headers['webhook-id'] === control));
      await settled((p) => h.api('GET', p), [path]);

      const arrived = new Set(slow.requests.map((r) => String(r.headers['webhook-id'])));
      const rows = (await h.api('GET', `${path}/msg?limit=250&expanded_statuses=true`)).body.data as Array<{ id: string; status: number; statusText: string }>;
      const canceled = rows.filter((row) => row.status === 4);
      assert.equal(canceled.length, stats.canceled);
      assert.ok(canceled.every((row) => row.statusText === 'canceled' && !arrived.has(row.id)), 'no canceled delivery was sent');
      assert.ok(rows.filter((row) => row.status !== 4).every((row) => row.status === 0 && arrived.has(row.id)), 'the rest, in flight when canceled, were');
      assert.ok(sent.filter((id) => arrived.has(id)).length > 0, 'deliveries in flight went on');
      const after = (await h.api('GET', `${path}/stats`)).body;
      const { success, pending, sending, fail, canceled: canceledCount } = after;
      assert.deepEqual({ success, pending, sending, fail, canceled: canceledCount }, { success: sent.length + 1 - stats.canceled, pending: 0, sending: 0, fail: 0, canceled: stats.canceled });
      // Without expanded_statuses a canceled delivery shows as Svix shows it to older clients: success.
      const plain = (await h.api('GET', `${path}/msg?limit=250`)).body.data as Array<{ id: string; status: number }>;
      assert.ok(plain.every((row) => row.status === 0));
      const bad = await h.api('POST', `${path}/cancel-msgs`, { createdBefore: 'yesterday' });
      assert.equal(bad.status, 422);
    });
  });
});
