import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { call, freePort, kill, spawnHerald, TEST_TOKEN } from './support/process.ts';
import { startReceiver } from './support/receiver.ts';
import { waitFor } from './support/wait.ts';

it('writes no secret, token or signature to its logs, even at trace level', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-logs-'));
  const receiver = await startReceiver((_req, index) => (index === 0 ? { status: 500 } : { status: 200 }));
  const herald = await spawnHerald(dataDir, await freePort(), { HERALD_LOG_LEVEL: 'trace', HERALD_RETRY_SCHEDULE: '100ms' });
  try {
    const secret = `whsec_${Buffer.alloc(32, 0x51).toString('base64')}`;
    const app = await call(herald.url, 'POST', '/api/v1/app', { name: 'logs' });
    const endpoint = await call(herald.url, 'POST', `/api/v1/app/${app.body.id}/endpoint`, { url: receiver.url, secret, headers: { Authorization: 'Bearer hdr-5ecret' } });
    const portal = await call(herald.url, 'POST', `/api/v1/auth/app-portal-access/${app.body.id}`, {});
    await call(herald.url, 'POST', `/api/v1/app/${app.body.id}/endpoint`, { url: receiver.url, secret: 'whsec_short' });
    await fetch(`${herald.url}/api/v1/app`, { headers: { authorization: 'Bearer wrong-token-value' } });
    await call(herald.url, 'POST', `/api/v1/app/${app.body.id}/msg`, { eventType: 'logs.test', payload: {} });
    await waitFor('the retried delivery', () => receiver.requests.length >= 2);
    await call(herald.url, 'GET', `/api/v1/app/${app.body.id}/endpoint/${endpoint.body.id}/secret`);
    await kill(herald, 'SIGTERM');
    const output = herald.output();
    assert.ok(output.length > 0, 'something was logged');
    const signature = String(receiver.requests[0]!.headers['webhook-signature']).slice(3);
    for (const [what, value] of [
      ['the endpoint secret', secret.slice(6)], ['a header value', 'hdr-5ecret'], ['the admin token', TEST_TOKEN],
      ['the portal token', portal.body.token], ['a wrong token', 'wrong-token-value'], ['a signature', signature],
    ] as const) {
      assert.equal(output.includes(value), false, `${what} appears in the logs`);
    }
  } finally {
    await kill(herald);
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
