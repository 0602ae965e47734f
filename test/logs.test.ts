import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { call, freePort, kill, spawnHerald, TEST_TOKEN } from './support/process.ts';
import { startReceiver } from './support/receiver.ts';
import { waitFor } from './support/wait.ts';
import { prettyLogs } from '../src/logging.ts';

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

it('writes JSON lines off a terminal, with the request id on a request\'s lines, and a start-up line saying where everything is', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-logs-'));
  const herald = await spawnHerald(dataDir, await freePort(), { HERALD_LOG_LEVEL: 'debug' });
  try {
    const given = await fetch(`${herald.url}/api/v1/app`, { headers: { authorization: `Bearer ${TEST_TOKEN}`, 'x-request-id': 'trace-abc-123' } });
    assert.equal(given.headers.get('x-request-id'), 'trace-abc-123');
    const made = await fetch(`${herald.url}/api/v1/app`, { headers: { authorization: `Bearer ${TEST_TOKEN}`, 'x-request-id': 'not ok!' } });
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'an id that is not a plain token is replaced');
    await waitFor('the request\'s log line', () => herald.output().includes('trace-abc-123'));
    await kill(herald, 'SIGTERM');
    const lines = herald.output().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    const completed = lines.find((line) => line.requestId === 'trace-abc-123');
    assert.equal(completed?.msg, 'request completed');
    assert.equal(completed?.route, '/api/v1/app');
    const start = lines.find((line) => String(line.msg).includes('listening on'))!;
    assert.equal(start.dashboard, `${herald.url}/dashboard/`);
    assert.equal(start.apiDocs, `${herald.url}/docs`);
    assert.equal(start.database, `SQLite ${join(dataDir, 'herald.db')}`);
    assert.equal(start.dataDir, dataDir);
    assert.match(String(start.getToken), /HERALD_ADMIN_TOKEN/);
  } finally {
    await kill(herald);
    rmSync(dataDir, { recursive: true, force: true });
  }
});

it('writes pino-pretty\'s readable lines when asked (as on a terminal), secrets still redacted', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-logs-'));
  const herald = await spawnHerald(dataDir, await freePort(), { HERALD_LOG_FORMAT: 'pretty', HERALD_LOG_LEVEL: 'info' });
  try {
    await waitFor('the start-up line', () => herald.output().includes('listening on'));
    const output = herald.output();
    assert.match(output, /INFO.*Herald .* listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(output, /dashboard: "http:\/\/127\.0\.0\.1:\d+\/dashboard\/"/);
    assert.throws(() => JSON.parse(output.split('\n')[0]!), 'not JSON');
    assert.equal(output.includes(TEST_TOKEN), false);
  } finally {
    await kill(herald);
    rmSync(dataDir, { recursive: true, force: true });
  }
});

it('picks pretty lines on a terminal only, unless told', () => {
  assert.equal(prettyLogs('auto', true), true);
  assert.equal(prettyLogs('auto', false), false);
  assert.equal(prettyLogs('json', true), false);
  assert.equal(prettyLogs('pretty', false), true);
});
