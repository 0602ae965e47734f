import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { MessageStatus } from 'svix';
import { loadConfig } from '../src/config/config.ts';
import { type Herald, startHerald } from '../src/herald.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { dropSchema, forEachStore, postgresUrl, trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

const HOUR = 3_600_000;

await forEachStore((store) => describe(`background tasks: recover, replay-missing, bulk-replay (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  let receiver: Receiver;
  /** Paths that answer 500 while they are in the set. */
  const down = new Set<string>();

  before(async () => {
    h = await startTestHerald({ store, env: { HERALD_RETRY_SCHEDULE: '50ms' } });
    receiver = await startReceiver((request) => (down.has(request.path) ? { status: 500 } : { status: 200 }));
  });
  after(async () => {
    await receiver.close();
    await h.close(failures.any());
  });

  const requestsOf = (messageId: string) => receiver.requests.filter((r) => r.headers['webhook-id'] === messageId);
  const since = () => new Date(Date.now() - HOUR).toISOString();
  const statusOf = async (appId: string, messageId: string) => (await h.svix.messageAttempt.listAttemptedDestinations(appId, messageId)).data[0]?.status;

  async function finished(taskId: string) {
    return waitFor(`task ${taskId} to end`, async () => {
      const { body } = await h.api('GET', `/api/v1/background-task/${taskId}`);
      return body.status !== 'running' && body;
    }, 20_000);
  }

  async function failedMessages(appId: string, path: string, count: number) {
    down.add(path);
    const messages = [];
    for (let i = 0; i < count; i++) messages.push(await h.svix.message.create(appId, { eventType: 'order.paid', payload: { i } }));
    for (const message of messages) await waitFor(`${message.id} to fail`, async () => (await statusOf(appId, message.id)) === MessageStatus.Fail);
    down.delete(path);
    return messages;
  }

  it('recovers failed deliveries in the background, answering 202 with a task in Svix shape whose progress GET reports', async () => {
    const app = await h.svix.application.create({ name: 'recover' });
    const endpoint = await h.svix.endpoint.create(app.id, { url: `${receiver.url}/recover` });
    const messages = await failedMessages(app.id, '/recover', 3);

    const started = await h.svix.endpoint.recover(app.id, endpoint.id, { since: new Date(Date.now() - HOUR) });
    assert.match(started.id, /^qtask_/);
    assert.equal(started.task, 'endpoint.recover');
    const task = await finished(started.id);
    assert.equal(task.status, 'finished');
    assert.deepEqual([task.data.examined, task.data.matched, task.data.queued], [3, 3, 3]);
    for (const message of messages) await waitFor('the recovered delivery', async () => (await statusOf(app.id, message.id)) === MessageStatus.Success);
    await waitFor('every queued delivery counted as done', async () => (await h.api('GET', `/api/v1/background-task/${started.id}`)).body.data.done === 3);

    const listed = await h.api('GET', '/api/v1/background-task?task=endpoint.recover&status=finished');
    assert.ok(listed.body.data.some((t: { id: string }) => t.id === started.id));
  });

  it('counts without sending on a dry run', async () => {
    const app = await h.svix.application.create({ name: 'dry run' });
    const endpoint = await h.svix.endpoint.create(app.id, { url: `${receiver.url}/dry` });
    const [message] = await failedMessages(app.id, '/dry', 1);
    const before = requestsOf(message!.id).length;
    const started = await h.api('POST', `/api/v1/app/${app.id}/endpoint/${endpoint.id}/recover`, { since: since(), dryRun: true });
    const task = await finished(started.body.id);
    assert.deepEqual([task.data.matched, task.data.queued, task.data.dryRun], [1, 0, true]);
    // Had it queued the delivery, the delivery would be pending (or further) once the task ended.
    assert.equal(await statusOf(app.id, message!.id), MessageStatus.Fail);
    // A real recover of the same window, started after, shows what the dry run would have sent was still there to send.
    const real = await finished((await h.api('POST', `/api/v1/app/${app.id}/endpoint/${endpoint.id}/recover`, { since: since() })).body.id);
    assert.equal(real.data.queued, 1);
    await waitFor('the real recover to send', () => requestsOf(message!.id).length === before + 1);
    await waitFor('the recovered delivery', async () => (await statusOf(app.id, message!.id)) === MessageStatus.Success);
  });

  it('replays the messages an endpoint never got: created later, or filtered out then', async () => {
    const app = await h.svix.application.create({ name: 'replay missing' });
    const early = await h.svix.endpoint.create(app.id, { url: `${receiver.url}/early` });
    const sent = [await h.svix.message.create(app.id, { eventType: 'order.paid', payload: {} }), await h.svix.message.create(app.id, { eventType: 'order.shipped', payload: {} })];
    for (const message of sent) await waitFor('the first delivery', async () => (await statusOf(app.id, message.id)) === MessageStatus.Success);
    await h.svix.eventType.create({ name: 'order.paid', description: 'paid' }).catch(() => {});
    const late = (await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/late`, eventTypes: ['order.paid'] })).body;

    const started = await h.svix.endpoint.replayMissing(app.id, late.id, { since: new Date(Date.now() - HOUR) });
    const task = await finished(started.id);
    const viaSdk = await h.svix.backgroundTask.get(started.id);
    assert.equal(viaSdk.task, 'endpoint.replay');
    assert.ok((await h.svix.backgroundTask.list({ task: viaSdk.task })).data.some((t) => t.id === started.id));
    assert.equal(task.task, 'endpoint.replay');
    assert.deepEqual([task.data.examined, task.data.matched, task.data.queued], [2, 1, 1], 'only the message its filter takes');
    await waitFor('the late endpoint to get the paid order', () => receiver.requests.some((r) => r.path === '/late' && r.headers['webhook-id'] === sent[0]!.id));
    assert.equal(receiver.requests.filter((r) => r.path === '/late').length, 1);
    // The early endpoint had both: nothing is missing there.
    const again = await finished((await h.api('POST', `/api/v1/app/${app.id}/endpoint/${early.id}/replay-missing`, { since: since() })).body.id);
    assert.equal(again.data.matched, 0);
  });

  it('bulk-replays what an endpoint got, filtered by status, event type and channel', async () => {
    const app = await h.svix.application.create({ name: 'bulk replay' });
    const endpoint = await h.svix.endpoint.create(app.id, { url: `${receiver.url}/bulk` });
    const ok = await h.svix.message.create(app.id, { eventType: 'a.done', payload: {}, channels: ['eu'] });
    const other = await h.svix.message.create(app.id, { eventType: 'b.done', payload: {}, channels: ['us'] });
    for (const message of [ok, other]) await waitFor('delivered', async () => (await statusOf(app.id, message.id)) === MessageStatus.Success);
    const [failed] = await failedMessages(app.id, '/bulk', 1);

    const bySuccess = await finished((await h.svix.endpoint.bulkReplay(app.id, endpoint.id, { since: new Date(Date.now() - HOUR), status: MessageStatus.Success, channel: 'eu' })).id);
    assert.deepEqual([bySuccess.data.matched, bySuccess.data.queued], [1, 1]);
    await waitFor('the replayed success', () => requestsOf(ok.id).length === 2);
    assert.equal(requestsOf(other.id).length, 1);

    const byType = await finished((await h.api('POST', `/api/v1/app/${app.id}/endpoint/${endpoint.id}/bulk-replay`, { since: since(), eventTypes: ['order.paid'] })).body.id);
    const tasksBefore = (await h.api('GET', '/api/v1/background-task?limit=250')).body.data.length;
    assert.deepEqual([byType.data.matched], [1]);
    await waitFor('the replayed failure', async () => (await statusOf(app.id, failed!.id)) === MessageStatus.Success);

    const refused = await h.api('POST', `/api/v1/app/${app.id}/endpoint/${endpoint.id}/bulk-replay`, { since: since(), status: 1 });
    assert.equal(refused.status, 422);
    // Svix's filters Herald cannot apply are refused, naming the field, rather than ignored to replay everything.
    for (const [field, value] of [['tag', 'project_1337'], ['statusCodeClass', 500], ['statusCodeClass', 123]] as const) {
      const answer = await h.api('POST', `/api/v1/app/${app.id}/endpoint/${endpoint.id}/bulk-replay`, { since: since(), [field]: value });
      assert.equal(answer.status, 422, `${field}: ${value}`);
      assert.deepEqual(answer.body.detail.map((d: { loc: string[] }) => d.loc.join('.')), [`body.${field}`]);
    }
    assert.equal((await h.api('GET', '/api/v1/background-task?limit=250')).body.data.length, tasksBefore, 'no task started for them');
  });

  it('paces re-queued deliveries by their due time, and can be canceled', async () => {
    const app = await h.svix.application.create({ name: 'paced' });
    const endpoint = await h.svix.endpoint.create(app.id, { url: `${receiver.url}/paced` });
    const messages = await failedMessages(app.id, '/paced', 4);
    const before = new Map(messages.map((m) => [m.id, requestsOf(m.id).length]));
    const startedAt = Date.now();
    const task = await finished((await h.api('POST', `/api/v1/app/${app.id}/endpoint/${endpoint.id}/recover`, { since: since(), pace: 4 })).body.id);
    assert.equal(task.data.queued, 4);
    await waitFor('every paced delivery', () => messages.every((m) => requestsOf(m.id).length === before.get(m.id)! + 1), 20_000);
    const times = messages.map((m) => requestsOf(m.id).at(-1)!.receivedAt).sort((a, b) => a - b);
    // Four a second: the k-th is due k × 250 ms after the task started, and no delivery goes early
    // (a late one, on a loaded machine, only makes the bound easier to meet).
    times.forEach((time, k) => assert.ok(time >= startedAt + k * 250, `the ${k}th paced delivery came ${time - startedAt} ms after the start`));

    const canceled = await h.api('POST', `/api/v1/background-task/${task.id}/cancel`);
    assert.equal(canceled.body.status, 'finished', 'an ended task stays as it ended');
    assert.equal((await h.api('POST', '/api/v1/background-task/qtask_0000000000000000000000/cancel')).status, 404);
  });

  it('queues a paced task\'s deliveries only as they fall due, so it runs until the last is queued and a cancel stops the rest', async () => {
    const app = await h.svix.application.create({ name: 'paced cancel' });
    const endpoint = await h.svix.endpoint.create(app.id, { url: `${receiver.url}/paced-cancel` });
    const messages = [];
    for (let i = 0; i < 13; i++) messages.push(await h.svix.message.create(app.id, { eventType: 'order.paid', payload: { i } }));
    for (const message of messages) await waitFor('delivered', async () => (await statusOf(app.id, message.id)) === MessageStatus.Success);
    const replayed = () => receiver.requests.filter((r) => r.path === '/paced-cancel').length - 13;

    const started = (await h.api('POST', `/api/v1/app/${app.id}/endpoint/${endpoint.id}/bulk-replay`, { since: since(), pace: 2 })).body;
    await waitFor('the first replays', () => replayed() >= 3, 10_000);
    // Two a second: 13 take over six seconds to queue, and the task runs until the last is queued.
    const running = (await h.api('GET', `/api/v1/background-task/${started.id}`)).body;
    assert.equal(running.status, 'running');
    assert.ok(running.data.queued < 13, `queued ${running.data.queued} of 13`);

    const canceled = (await h.api('POST', `/api/v1/background-task/${started.id}/cancel`)).body;
    assert.equal(canceled.status, 'failed');
    assert.equal(canceled.data.canceled, true);
    const atCancel = replayed();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // At most what was due within the second (two) and one in flight go after the cancel.
    // Uncanceled, three seconds at two a second would have brought six.
    assert.ok(replayed() - atCancel <= 3, `${replayed() - atCancel} replays came after the cancel`);
    const ended = (await h.api('GET', `/api/v1/background-task/${started.id}`)).body;
    assert.equal(ended.status, 'failed');
    assert.ok(ended.data.queued <= canceled.data.queued + 2, `queued ${ended.data.queued}, ${canceled.data.queued} when canceled`);
  });

  it('resumes a paced task after a restart where it stopped, at its pace, queueing nothing twice', async () => {
    const first = await startTestHerald({ store, env: { HERALD_RETRY_SCHEDULE: '50ms' } });
    let second: Herald | null = null;
    try {
      const app = await first.svix.application.create({ name: 'paced restart' });
      const endpoint = await first.svix.endpoint.create(app.id, { url: `${receiver.url}/paced-restart` });
      const messages: Array<{ id: string }> = [];
      for (let i = 0; i < 9; i++) messages.push(await first.svix.message.create(app.id, { eventType: 'order.paid', payload: { i } }));
      await waitFor('every message delivered', () => messages.every((m) => requestsOf(m.id).length === 1));
      const startedAt = Date.now();
      const started = (await first.api('POST', `/api/v1/app/${app.id}/endpoint/${endpoint.id}/bulk-replay`, { since: since(), pace: 4 })).body;
      await waitFor('the first replays', () => messages.some((m) => requestsOf(m.id).length === 2));
      await first.herald.close();

      second = await startHerald(loadConfig({}, {
        ...(first.schema ? { HERALD_DATABASE_URL: postgresUrl(first.schema) } : {}),
        HERALD_DATA_DIR: first.dataDir, HERALD_PORT: '0', HERALD_ALLOW_PRIVATE_NETWORKS: 'true', HERALD_LOG_LEVEL: 'silent',
      }), { logger: pino({ level: 'silent' }) });
      const url = second.url!;
      const task = await waitFor('the task to end on the restarted Herald', async () => {
        const response = await fetch(`${url}/api/v1/background-task/${started.id}`, { headers: { authorization: `Bearer ${first.token}` } });
        const body = await response.json() as { status: string; data: Record<string, number> };
        return body.status === 'running' ? null : body;
      }, 20_000);
      assert.equal(task.status, 'finished');
      assert.deepEqual([task.data.examined, task.data.matched, task.data.queued], [9, 9, 9]);
      await waitFor('every message replayed', () => messages.every((m) => requestsOf(m.id).length >= 2), 20_000);
      const times = messages.map((m) => requestsOf(m.id)[1]!.receivedAt).sort((a, b) => a - b);
      times.forEach((time, k) => assert.ok(time >= startedAt + k * 250, `the ${k}th paced delivery came ${time - startedAt} ms after the start`));
    } finally {
      await second?.close();
      rmSync(first.dataDir, { recursive: true, force: true });
      if (first.schema) await dropSchema(first.schema);
    }
  });

  it('refuses a window that ends before it starts, a bad pace, and an app token on the task routes', async () => {
    const app = await h.svix.application.create({ name: 'bad input' });
    const endpoint = await h.svix.endpoint.create(app.id, { url: `${receiver.url}/bad` });
    const path = `/api/v1/app/${app.id}/endpoint/${endpoint.id}/recover`;
    assert.equal((await h.api('POST', path, { since: new Date().toISOString(), until: since() })).status, 422);
    assert.equal((await h.api('POST', path, { since: since(), pace: 0 })).status, 422);
    assert.equal((await h.api('GET', '/api/v1/background-task?status=sleeping')).status, 422);
    const portal = await h.svix.authentication.appPortalAccess(app.id, {});
    const asApp = await fetch(`${h.url}/api/v1/background-task`, { headers: { authorization: `Bearer ${portal.token}` } });
    assert.equal(asApp.status, 403);
  });
}));
