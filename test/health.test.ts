import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestHerald } from './support/herald.ts';
import { freePort, kill, spawnHerald } from './support/process.ts';
import { dropSchema, postgresReachable, SKIPPED_POSTGRES, storeKinds, TEST_DATABASE_URL, uniqueSchema } from './support/stores.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';
import { waitFor } from './support/wait.ts';

const status = async (url: string) => (await fetch(url).catch(() => null))?.status ?? 'refused';

for (const store of await storeKinds()) {
  describe(`health on ${store}`, () => {
    it('answers liveness and readiness without a token', async () => {
      const h = await startTestHerald({ store });
      try {
        assert.equal(await status(`${h.url}/api/v1/health`), 204);
        assert.equal(await status(`${h.url}/api/v1/health/ready`), 204);
      } finally {
        await h.close();
      }
    });
  });
}

describe('readiness while PostgreSQL is unreachable', { skip: !(await postgresReachable()) && SKIPPED_POSTGRES }, () => {
  it('turns 503 while the database is cut off, liveness staying 204, and 204 again once it is back', async () => {
    const proxy = await startTcpProxy(Number(new URL(TEST_DATABASE_URL).port || 5432));
    const schema = uniqueSchema();
    const url = new URL(TEST_DATABASE_URL);
    url.port = String(proxy.port);
    url.searchParams.set('schema', schema);
    // API only: readiness is the API's, and a worker's maintenance round cut off mid-query is another test's matter.
    const h = await startTestHerald({ env: { HERALD_DATABASE_URL: url.toString(), HERALD_ROLE: 'api' } });
    try {
      assert.equal(await status(`${h.url}/api/v1/health/ready`), 204);
      await proxy.stop();
      const down = await fetch(`${h.url}/api/v1/health/ready`);
      assert.equal(down.status, 503);
      assert.equal(((await down.json()) as { code: string }).code, 'unavailable');
      assert.equal(await status(`${h.url}/api/v1/health`), 204, 'liveness does not depend on the database');
      await proxy.start();
      await waitFor('readiness once the database is back', async () => (await status(`${h.url}/api/v1/health/ready`)) === 204, 15_000);
    } finally {
      await proxy.start().catch(() => {});
      await h.close();
      await proxy.close();
      await dropSchema(schema);
    }
  });
});

describe('draining after SIGTERM', () => {
  it('answers readiness with 503 for the drain delay while the API still serves, then exits cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-drain-'));
    const herald = await spawnHerald(dataDir, await freePort(), { HERALD_DRAIN_DELAY: '3s' });
    try {
      assert.equal(await status(`${herald.url}/api/v1/health/ready`), 204);
      const signalled = Date.now();
      herald.child.kill('SIGTERM');
      const answer = await waitFor('readiness to turn 503', async () => {
        const response = await fetch(`${herald.url}/api/v1/health/ready`).catch(() => null);
        return response?.status === 503 ? response : null;
      });
      assert.equal(((await answer.json()) as { code: string }).code, 'draining');
      assert.equal(await status(`${herald.url}/api/v1/health`), 204, 'the API still serves while draining');
      assert.equal(await herald.exited, 0);
      assert.ok(Date.now() - signalled >= 3_000, 'it waited for the drain delay before stopping');
    } finally {
      await kill(herald);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
