import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { call, freePort, spawnHerald } from './support/process.ts';
import { startReceiver } from './support/receiver.ts';
import { settled, waitFor } from './support/wait.ts';

describe('a Herald process that dies', () => {
  const dataDirs: string[] = [];
  const newDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-crash-'));
    dataDirs.push(dir);
    return dir;
  };
  after(() => dataDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('delivers every accepted message at least once after kill -9 and a restart', async () => {
    // A slow receiver and few slots keep deliveries queued and in flight when the process dies.
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 200 }));
    const dataDir = newDataDir();
    const port = await freePort();
    const slots = { HERALD_MAX_IN_FLIGHT_PER_ENDPOINT: '4' };
    let herald = await spawnHerald(dataDir, port, slots);
    try {
      const app = await call(herald.url, 'POST', '/api/v1/app', { name: 'crash' });
      await call(herald.url, 'POST', `/api/v1/app/${app.body.id}/endpoint`, { url: receiver.url });

      const accepted = new Set<string>();
      let killed = false;
      const send = async (i: number) => {
        const response = await call(herald.url, 'POST', `/api/v1/app/${app.body.id}/msg`, { eventType: 'crash.test', payload: { i } })
          .catch(() => null);
        if (response?.status === 202) accepted.add(response.body.id);
      };
      // Ten concurrent senders; the process is killed once a hundred messages were accepted.
      await Promise.all(Array.from({ length: 10 }, async (_, worker) => {
        for (let i = worker; i < 400 && !killed; i += 10) {
          await send(i);
          if (accepted.size >= 100 && !killed) {
            killed = true;
            herald.child.kill('SIGKILL');
          }
        }
      }));
      await herald.exited;
      const receivedBeforeRestart = new Set(receiver.requests.map((r) => String(r.headers['webhook-id'])));

      herald = await spawnHerald(dataDir, port);
      const missing = () => [...accepted].filter((id) => !receiver.requests.some((r) => r.headers['webhook-id'] === id));
      await waitFor('every accepted message to arrive', () => missing().length === 0, 20_000);
      assert.ok(accepted.size >= 100);
      assert.ok(receivedBeforeRestart.size < accepted.size / 2, 'most accepted messages were still queued when the process died');
    } finally {
      herald.child.kill('SIGKILL');
      await herald.exited;
      await receiver.close();
    }
  });

  it('finishes deliveries in flight on SIGTERM and exits cleanly', async () => {
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 500 }));
    const dataDir = newDataDir();
    const port = await freePort();
    const herald = await spawnHerald(dataDir, port);
    const app = await call(herald.url, 'POST', '/api/v1/app', { name: 'sigterm' });
    const endpoint = await call(herald.url, 'POST', `/api/v1/app/${app.body.id}/endpoint`, { url: receiver.url });
    const message = await call(herald.url, 'POST', `/api/v1/app/${app.body.id}/msg`, { eventType: 'term.test', payload: {} });
    await waitFor('the delivery to start', () => receiver.requests.length === 1);
    herald.child.kill('SIGTERM');
    assert.equal(await herald.exited, 0);

    const restarted = await spawnHerald(dataDir, port);
    try {
      const attempts = await call(restarted.url, 'GET', `/api/v1/app/${app.body.id}/attempt/msg/${message.body.id}`);
      assert.equal(attempts.body.data.length, 1, 'the attempt in flight was recorded before exit');
      assert.equal(attempts.body.data[0].status, 0);
      // A control sent through the restarted process arrives, and then nothing is left to send: had
      // the first delivery been left due, it would have gone out before or with the control.
      const control = await call(restarted.url, 'POST', `/api/v1/app/${app.body.id}/msg`, { eventType: 'term.test', payload: { control: true } });
      await waitFor('the control to arrive', () => receiver.requests.some((r) => r.headers['webhook-id'] === control.body.id));
      await settled((path) => call(restarted.url, 'GET', path), [`/api/v1/app/${app.body.id}/endpoint/${endpoint.body.id}`]);
      assert.equal(receiver.requests.filter((r) => r.headers['webhook-id'] === message.body.id).length, 1, 'nothing is resent after a clean stop');
    } finally {
      restarted.child.kill('SIGKILL');
      await restarted.exited;
      await receiver.close();
    }
  });

  it('refuses a second process on the same SQLite data directory', async () => {
    const dataDir = newDataDir();
    const first = await spawnHerald(dataDir, await freePort());
    try {
      await assert.rejects(spawnHerald(dataDir, await freePort()), /Another process holds the SQLite database/);
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }
  });
});
