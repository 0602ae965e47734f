import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { maintenanceRound } from '../src/maintenance.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { type Receiver, startReceiver } from './support/receiver.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/**
 * Erasing what a message or an attempt held (Svix's expunge routes) and a message's
 * `payloadRetentionPeriod`: the payload or response body goes, everything else stays, and a message
 * without its payload is never sent again.
 */
await forEachStore((store) => describe(`erasing payloads and responses on ${store}`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  let failing: Receiver;
  let answering: Receiver;
  before(async () => {
    // A failed attempt is retried an hour later: long after each test is over.
    h = await startTestHerald({ store, env: { HERALD_RETRY_SCHEDULE: '1h' } });
    failing = await startReceiver(() => ({ status: 500, body: 'no' }));
    answering = await startReceiver(() => ({ status: 200, body: '{"card":"4242 4242 4242 4242"}' }));
  });
  after(async () => {
    await h?.close(failures.any());
    await failing?.close();
    await answering?.close();
  });

  async function appWithEndpoint(receiver: Receiver) {
    const app = await h.svix.application.create({ name: 'erasure' });
    const endpoint = await h.svix.endpoint.create(app.id, { url: receiver.url });
    return { appId: app.id, endpointId: endpoint.id };
  }
  const attemptsOf = async (appId: string, msgId: string) => (await h.svix.messageAttempt.listByMsg(appId, msgId, { withContent: true })).data;
  const destinationOf = async (appId: string, msgId: string) => (await h.api('GET', `/api/v1/app/${appId}/msg/${msgId}/endpoint`)).body.data[0];

  it("erases a message's payload and keeps the message, its attempts and its delivery, which is never sent again", async () => {
    const { appId, endpointId } = await appWithEndpoint(failing);
    const sent = await h.svix.message.create(appId, { eventType: 'user.secret', eventId: 'erase-me', payload: { password: 'hunter2' } });
    await waitFor('the first attempt to be recorded', async () => (await attemptsOf(appId, sent.id)).length === 1);
    assert.equal((await destinationOf(appId, sent.id)).status, 1, 'pending its retry');
    const before = await attemptsOf(appId, sent.id);

    await h.svix.message.expungeContent(appId, sent.id);

    const erased = await h.svix.message.get(appId, 'erase-me', { withContent: true });
    assert.deepEqual(erased.payload, { expired: true }, "Svix's answer for a payload that is gone");
    assert.deepEqual({ ...erased, payload: null }, { ...sent, payload: null });
    assert.deepEqual((await h.svix.message.list(appId, { withContent: true })).data.map((m) => m.payload), [{ expired: true }]);
    assert.deepEqual(await attemptsOf(appId, sent.id), before);
    const destination = await destinationOf(appId, sent.id);
    assert.equal(destination.status, 2, 'the delivery pending its retry ends failed');
    assert.equal(destination.nextAttempt, null);

    const resend = await h.api('POST', `/api/v1/app/${appId}/msg/${sent.id}/endpoint/${endpointId}/resend`);
    assert.equal(resend.status, 400);
    assert.equal(resend.body.code, 'missing_payload');
    const recovered = await h.api('POST', `/api/v1/app/${appId}/endpoint/${endpointId}/recover`, { since: new Date(Date.now() - HOUR).toISOString() });
    assert.equal(recovered.status, 202);
    const task = await waitFor('the recover task to end', async () => {
      const { body } = await h.api('GET', `/api/v1/background-task/${recovered.body.id}`);
      return body.status === 'finished' && body;
    });
    assert.deepEqual([task.data.matched, task.data.queued], [0, 0]);
    assert.equal((await destinationOf(appId, sent.id)).status, 2);
    assert.equal(await h.herald.store.queue.nextDueAt(), null, 'nothing of it waits to be sent');
    assert.equal(failing.requests.filter((r) => r.headers['webhook-id'] === sent.id).length, 1);
  });

  it("erases an attempt's response body and keeps the rest of the attempt", async () => {
    const { appId } = await appWithEndpoint(answering);
    const sent = await h.svix.message.create(appId, { eventType: 'card.added', payload: {} });
    const attempt = await waitFor('the attempt', async () => (await attemptsOf(appId, sent.id))[0]);
    assert.match(attempt.response, /4242/);

    await h.svix.messageAttempt.expungeContent(appId, sent.id, attempt.id);

    const after = await h.svix.messageAttempt.get(appId, sent.id, attempt.id);
    assert.deepEqual(after, { ...attempt, response: 'EXPUNGED' });
    assert.deepEqual((await h.svix.message.get(appId, sent.id, { withContent: true })).payload, {}, 'the message keeps its payload');
    assert.equal((await h.api('DELETE', `/api/v1/app/${appId}/msg/${sent.id}/attempt/atmpt_missing/content`)).status, 404);
  });

  it('lets only admin tokens erase, and answers 404 for a message that does not exist', async () => {
    const { appId } = await appWithEndpoint(answering);
    const sent = await h.svix.message.create(appId, { eventType: 'user.created', payload: { a: 1 } });
    const { token } = (await h.api('POST', `/api/v1/auth/app-portal-access/${appId}`, {})).body;
    const byApp = await fetch(`${h.url}/api/v1/app/${appId}/msg/${sent.id}/content`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(byApp.status, 403);
    assert.deepEqual((await h.svix.message.get(appId, sent.id, { withContent: true })).payload, { a: 1 });
    assert.equal((await h.api('DELETE', `/api/v1/app/${appId}/msg/msg_missing/content`)).status, 404);
  });

  it('erases a payload once its payloadRetentionPeriod (or payloadRetentionHours) has passed, and keeps the message and its attempts', async () => {
    const { appId } = await appWithEndpoint(answering);
    const short = await h.svix.message.create(appId, { eventType: 'user.created', payload: { keep: 'five days' }, payloadRetentionPeriod: 5 });
    const hourly = await h.svix.message.create(appId, { eventType: 'user.created', payload: { keep: 'two hours' }, payloadRetentionHours: 2 });
    const byDefault = await h.svix.message.create(appId, { eventType: 'user.created', payload: { keep: 'default' } });
    const stored = await h.herald.store.messages.get(appId, short.id);
    assert.equal(stored!.payloadExpiresAt, stored!.createdAt + 5 * DAY);
    assert.equal((await h.herald.store.messages.get(appId, byDefault.id))!.payloadExpiresAt, null,
      "Svix's default of 90 days outlasts the 30 days the message itself is kept");
    await waitFor('the three deliveries', async () => {
      const counts = await Promise.all([short, hourly, byDefault].map(async (m) => (await attemptsOf(appId, m.id)).length));
      return counts.every((n) => n === 1);
    });

    // One maintenance round on this Herald's store, as its clock would see it later on.
    const round = (at: number) => maintenanceRound({ store: h.herald.store, clock: { now: () => at }, retentionMs: 30 * DAY, logger: pino({ level: 'warn' }) });
    await round(Date.now() + HOUR);
    assert.deepEqual((await h.svix.message.get(appId, hourly.id, { withContent: true })).payload, { keep: 'two hours' }, 'not yet');
    await round(Date.now() + 2 * HOUR + 60_000);
    assert.deepEqual((await h.svix.message.get(appId, hourly.id, { withContent: true })).payload, { expired: true });
    assert.deepEqual((await h.svix.message.get(appId, short.id, { withContent: true })).payload, { keep: 'five days' });
    await round(Date.now() + 5 * DAY + 60_000);
    assert.deepEqual((await h.svix.message.get(appId, short.id, { withContent: true })).payload, { expired: true });
    assert.deepEqual((await h.svix.message.get(appId, byDefault.id, { withContent: true })).payload, { keep: 'default' });
    for (const message of [short, hourly]) {
      assert.equal((await attemptsOf(appId, message.id)).length, 1, 'the attempts stay');
      assert.equal((await h.svix.message.get(appId, message.id, { withContent: true })).id, message.id);
    }
  });

  it('refuses payloadRetentionPeriod and payloadRetentionHours together, and a period beyond 90 days', async () => {
    const { appId } = await appWithEndpoint(answering);
    const both = await h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: {}, payloadRetentionPeriod: 5, payloadRetentionHours: 5 });
    assert.equal(both.status, 422);
    assert.deepEqual(both.body.detail[0].loc, ['body', 'payloadRetentionHours']);
    assert.equal((await h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: {}, payloadRetentionPeriod: 91 })).status, 422);
    assert.equal((await h.svix.message.list(appId)).data.length, 0);
  });
}));
