import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { startHerald } from '../src/herald.ts';
import { startTestHerald } from './support/herald.ts';
import { startReceiver } from './support/receiver.ts';
import { waitFor } from './support/wait.ts';

it('on SQLite, an API-only process queues what it accepts, and a worker started on the same data sends it', async () => {
  const receiver = await startReceiver();
  const h = await startTestHerald({ env: { HERALD_ROLE: 'api' } });
  try {
    const app = await h.svix.application.create({ name: 'roles' });
    await h.svix.endpoint.create(app.id, { url: receiver.url });
    const message = await h.svix.message.create(app.id, { eventType: 'a.b', payload: { n: 1 } });
    // A control: a Herald in the default role, started once the message was accepted, sends one
    // of its own. By then the API-only process has had longer than the control took, and must
    // have sent nothing.
    const control = await startTestHerald();
    const controlReceiver = await startReceiver();
    try {
      const controlApp = await control.svix.application.create({ name: 'roles control' });
      await control.svix.endpoint.create(controlApp.id, { url: controlReceiver.url });
      await control.svix.message.create(controlApp.id, { eventType: 'a.b', payload: { n: 1 } });
      await waitFor('the control to send it', () => controlReceiver.requests.length === 1);
    } finally {
      await control.close();
      await controlReceiver.close();
    }
    assert.equal(receiver.requests.length, 0, 'an API-only process sends nothing');
    await h.herald.close();

    const config = loadConfig({}, {
      HERALD_DATA_DIR: h.dataDir, HERALD_ROLE: 'worker', HERALD_ALLOW_PRIVATE_NETWORKS: 'true', HERALD_LOG_LEVEL: 'silent',
    });
    const worker = await startHerald(config, { logger: pino({ level: 'silent' }) });
    try {
      assert.equal(worker.url, null, 'a worker serves no HTTP');
      await waitFor('the queued message to arrive', () => receiver.requests.length === 1);
      assert.equal(receiver.requests[0]!.headers['webhook-id'], message.id);
    } finally {
      await worker.close();
    }
  } finally {
    await receiver.close();
    rmSync(h.dataDir, { recursive: true, force: true });
  }
});
