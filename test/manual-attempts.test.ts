import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MessageAttemptTriggerType, MessageStatus } from 'svix';
import { type ReceivedRequest, startReceiver, type Receiver } from './support/receiver.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/**
 * How long a test waits to see that no further attempt comes. Each test first checks that it is
 * far longer than the gaps it saw between the scheduled retries of the same endpoint.
 */
const QUIET_MS = 4_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The longest wait between two consecutive requests of one message, over the messages given. */
function longestRetryGap(requests: readonly ReceivedRequest[], messageIds: readonly string[]): number {
  let longest = 0;
  for (const id of messageIds) {
    const times = requests.filter((r) => r.headers['webhook-id'] === id).map((r) => r.receivedAt);
    for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i]! - times[i - 1]!);
  }
  return longest;
}

await forEachStore((store) => describe(`manual attempts (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  let receiver: Receiver;
  /** Answers 500, except to a payload `{"hold":true}`, which it keeps in flight for the whole test. */
  const failing = (request: ReceivedRequest) => (JSON.parse(request.body.toString()).hold ? { status: 200, delayMs: 60_000 } : { status: 500, body: 'down' });

  before(async () => {
    h = await startTestHerald({ store, env: { HERALD_RETRY_SCHEDULE: '100ms,200ms', HERALD_REQUEST_TIMEOUT: '30s', HERALD_LEASE: '60s' } });
    receiver = await startReceiver(failing);
  });
  after(async () => {
    await receiver.close(); // first, so the held request ends and Herald stops without waiting for it
    await h.close(failures.any());
  });

  const requestsOf = (messageId: string) => receiver.requests.filter((r) => r.headers['webhook-id'] === messageId);

  async function failedAfterSchedule(appId: string, messageId: string) {
    await waitFor(`message ${messageId} to fail for good`, async () => {
      const [row] = (await h.svix.messageAttempt.listAttemptedDestinations(appId, messageId)).data;
      return row?.status === MessageStatus.Fail && requestsOf(messageId).length === 3;
    });
  }

  async function attemptsOf(appId: string, messageId: string) {
    return [...(await h.svix.messageAttempt.listByMsg(appId, messageId)).data].reverse();
  }

  it('makes exactly one manual attempt for a resend, and does not retry it when it fails', async () => {
    const app = await h.svix.application.create({ name: 'resend' });
    const endpoint = await h.svix.endpoint.create(app.id, { url: `${receiver.url}/resend` });
    const message = await h.svix.message.create(app.id, { eventType: 'resend.failing', payload: {} });
    await failedAfterSchedule(app.id, message.id);
    const gap = longestRetryGap(receiver.requests, [message.id]);
    assert.ok(gap < QUIET_MS / 2, `a failed scheduled attempt is retried well within the quiet wait (after ${gap} ms)`);

    await h.svix.messageAttempt.resend(app.id, message.id, endpoint.id);
    await waitFor('the manual attempt', () => requestsOf(message.id).length === 4);
    await waitFor('its result', async () => (await attemptsOf(app.id, message.id)).length === 4);
    await sleep(QUIET_MS);
    assert.equal(requestsOf(message.id).length, 4, 'the failed manual attempt is not retried');
    const attempts = await attemptsOf(app.id, message.id);
    assert.deepEqual(attempts.map((a) => a.triggerType), [
      MessageAttemptTriggerType.Scheduled, MessageAttemptTriggerType.Scheduled, MessageAttemptTriggerType.Scheduled, MessageAttemptTriggerType.Manual,
    ]);
    const [row] = (await h.svix.messageAttempt.listAttemptedDestinations(app.id, message.id)).data;
    assert.equal(row!.status, MessageStatus.Fail);
    assert.equal(row!.nextAttempt, null);
  });

  it('recovers each failed delivery of the window once, as one manual attempt, and leaves the others alone', async () => {
    const app = await h.svix.application.create({ name: 'recover' });
    const endpoint = await h.svix.endpoint.create(app.id, { url: `${receiver.url}/recover` });
    const publish = (payload: object) => h.svix.message.create(app.id, { eventType: 'recover.failing', payload });
    const before = await publish({});
    await sleep(5);
    const since = new Date();
    await sleep(5);
    const inWindow = [await publish({ n: 1 }), await publish({ n: 2 })];
    const inFlight = await publish({ hold: true });
    await sleep(5);
    const until = new Date();
    await sleep(5);
    const afterWindow = await publish({});
    const failed = [before, ...inWindow, afterWindow];
    for (const message of failed) await failedAfterSchedule(app.id, message.id);
    await waitFor('the held delivery in flight', () => requestsOf(inFlight.id).length === 1);
    const gap = longestRetryGap(receiver.requests, failed.map((m) => m.id));
    assert.ok(gap < QUIET_MS / 2, `a failed scheduled attempt is retried well within the quiet wait (after ${gap} ms)`);

    const task = await h.api('POST', `/api/v1/app/${app.id}/endpoint/${endpoint.id}/recover`, { since: since.toISOString(), until: until.toISOString() });
    assert.equal(task.status, 202);
    const ended = await waitFor('the recover task to end', async () => {
      const { body } = await h.api('GET', `/api/v1/background-task/${task.body.id}`);
      return body.status === 'finished' && body;
    });
    assert.equal(ended.data.queued, 2);
    for (const message of inWindow) {
      await waitFor(`the manual attempt of ${message.id}`, async () => (await attemptsOf(app.id, message.id)).length === 4);
    }
    await sleep(QUIET_MS);
    for (const message of inWindow) {
      assert.equal(requestsOf(message.id).length, 4, 'a recovered delivery gets exactly one more attempt');
      const attempts = await attemptsOf(app.id, message.id);
      assert.equal(attempts[3]!.triggerType, MessageAttemptTriggerType.Manual);
      const [row] = (await h.svix.messageAttempt.listAttemptedDestinations(app.id, message.id)).data;
      assert.equal(row!.status, MessageStatus.Fail);
    }
    assert.equal(requestsOf(before.id).length, 3, 'a message made before `since` is not recovered');
    assert.equal(requestsOf(afterWindow.id).length, 3, 'a message made at or after `until` is not recovered');
    assert.equal(requestsOf(inFlight.id).length, 1, 'a delivery in flight is not touched');
    const [held] = (await h.svix.messageAttempt.listAttemptedDestinations(app.id, inFlight.id)).data;
    assert.equal(held!.status, MessageStatus.Sending);
  });
}));
