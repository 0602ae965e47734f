import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MessageStatus } from 'svix';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

const ms = (millis: number) => ({ secs: Math.floor(millis / 1000), nanos: (millis % 1000) * 1_000_000 });

await forEachStore((store) => describe(`retry schedules per event type and per endpoint (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  let receiver: Receiver;

  before(async () => {
    // The default schedule allows three attempts, 100 ms then 200 ms apart.
    h = await startTestHerald({ store, env: { HERALD_RETRY_SCHEDULE: '100ms,200ms' } });
    receiver = await startReceiver(() => ({ status: 500, body: 'down' }));
  });
  after(async () => {
    await receiver.close();
    await h.close(failures.any());
  });

  const requestsOf = (messageId: string) => receiver.requests.filter((r) => r.headers['webhook-id'] === messageId);

  /** Sends one message and waits until its only delivery failed for good; the requests it took. */
  async function attemptsUntilFailed(appId: string, eventType: string) {
    const message = await h.svix.message.create(appId, { eventType, payload: {} });
    await waitFor(`message ${message.id} to fail for good`, async () =>
      (await h.svix.messageAttempt.listAttemptedDestinations(appId, message.id)).data[0]?.status === MessageStatus.Fail, 20_000);
    return requestsOf(message.id);
  }

  it('reads and writes an event type retry schedule in Svix shape, null going back to the default', async () => {
    await h.svix.eventType.create({ name: 'schedule.shape', description: 'shape' });
    assert.deepEqual((await h.api('GET', '/api/v1/event-type/schedule.shape/retry-schedule')).body, { retrySchedule: null });
    const put = await h.api('PUT', '/api/v1/event-type/schedule.shape/retry-schedule', { retrySchedule: [ms(1_500), { secs: 60, nanos: 0 }] });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, { retrySchedule: [{ secs: 1, nanos: 500_000_000 }, { secs: 60, nanos: 0 }] });
    assert.deepEqual((await h.api('GET', '/api/v1/event-type/schedule.shape/retry-schedule')).body, put.body);
    await h.api('PUT', '/api/v1/event-type/schedule.shape/retry-schedule', { retrySchedule: null });
    assert.deepEqual((await h.api('GET', '/api/v1/event-type/schedule.shape/retry-schedule')).body, { retrySchedule: null });
  });

  it('refuses a schedule with a negative, overlong or too many delays, and an unknown event type', async () => {
    await h.svix.eventType.create({ name: 'schedule.bad', description: 'bad' });
    for (const retrySchedule of [[{ secs: -1, nanos: 0 }], [{ secs: 1, nanos: 1_000_000_000 }], [{ secs: 31 * 86_400, nanos: 0 }], Array(51).fill(ms(1_000)), [{ secs: 1 }]]) {
      const response = await h.api('PUT', '/api/v1/event-type/schedule.bad/retry-schedule', { retrySchedule });
      assert.equal(response.status, 422, JSON.stringify(retrySchedule));
      assert.equal(response.body.code, 'validation');
    }
    assert.equal((await h.api('GET', '/api/v1/event-type/no.such.type/retry-schedule')).status, 404);
    assert.equal((await h.api('PUT', '/api/v1/event-type/no.such.type/retry-schedule', { retrySchedule: [] })).status, 404);
  });

  it("retries a failing delivery on its event type's schedule instead of the default", async () => {
    const app = await h.svix.application.create({ name: 'by event type' });
    await h.svix.eventType.create({ name: 'schedule.once', description: 'one retry' });
    await h.api('PUT', '/api/v1/event-type/schedule.once/retry-schedule', { retrySchedule: [ms(50)] });
    await h.svix.endpoint.create(app.id, { url: `${receiver.url}/by-type` });

    assert.equal((await attemptsUntilFailed(app.id, 'schedule.once')).length, 2);
    // The same endpoint, another event type without a schedule: the default's three attempts.
    assert.equal((await attemptsUntilFailed(app.id, 'schedule.default')).length, 3);
  });

  it("lets an endpoint's own schedule win over its event type's, and waits the delays it names", async () => {
    const app = await h.svix.application.create({ name: 'by endpoint' });
    await h.svix.eventType.create({ name: 'schedule.endpoint', description: 'type schedule' });
    await h.api('PUT', '/api/v1/event-type/schedule.endpoint/retry-schedule', { retrySchedule: [] });
    const created = await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/by-endpoint`, retrySchedule: [ms(1_000), ms(50), ms(50)] });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.retrySchedule, [ms(1_000), ms(50), ms(50)]);

    const requests = await attemptsUntilFailed(app.id, 'schedule.endpoint');
    assert.equal(requests.length, 4);
    // One second less the schedule's jitter (a fifth either way), where the default would wait 100 ms.
    assert.ok(requests[1]!.receivedAt - requests[0]!.receivedAt >= 800, `waited ${requests[1]!.receivedAt - requests[0]!.receivedAt} ms`);
  });

  it('clears an endpoint schedule with PATCH null and keeps it when the field is absent', async () => {
    const app = await h.svix.application.create({ name: 'patch' });
    const created = await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/patch`, retrySchedule: [ms(2_000)] });
    const path = `/api/v1/app/${app.id}/endpoint/${created.body.id}`;
    assert.deepEqual((await h.api('PATCH', path, { description: 'kept' })).body.retrySchedule, [ms(2_000)]);
    assert.deepEqual((await h.api('GET', path)).body.retrySchedule, [ms(2_000)]);
    assert.equal((await h.api('PATCH', path, { retrySchedule: null })).body.retrySchedule, null);
    assert.equal((await h.api('GET', path)).body.retrySchedule, null);
    assert.equal((await h.api('PATCH', path, { retrySchedule: [{ secs: 1, nanos: -1 }] })).status, 422);
  });
}));
