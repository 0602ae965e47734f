import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dropSchema, postgresReachable, postgresUrl, SKIPPED_POSTGRES, uniqueSchema } from '../../test/support/stores.ts';
import { waitFor } from '../../test/support/wait.ts';
import { systemClock, systemRandom } from '../core/clock.ts';
import { createIdGenerator } from '../core/ids.ts';
import type { Application, Endpoint } from '../core/model.ts';
import { withConfigCache } from './cached-store.ts';
import { openPostgresStore } from './postgres/postgres-store.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';

const ids = createIdGenerator(systemClock, systemRandom);
const anApp = (): Application => ({ id: ids('application'), uid: null, name: 'a', metadata: {}, throttleRate: null, createdAt: 1, updatedAt: 1 });
const anEndpoint = (appId: string): Endpoint => ({
  id: ids('endpoint'), appId, uid: null, url: 'http://127.0.0.1:9/', description: '', eventTypes: null, channels: null, disabled: false,
  metadata: {}, throttleRate: null, headers: {}, secrets: [], createdAt: 1, updatedAt: 1,
});

const postgres = await postgresReachable();

describe('the config cache', () => {
  it('serves fan-out from memory and forgets what this process changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-cache-'));
    const raw = openSqliteStore(join(dir, 'herald.db'));
    const store = withConfigCache(raw, systemClock);
    try {
      const app = await store.apps.create(anApp());
      const endpoint = await store.endpoints.create(anEndpoint(app.id));
      assert.equal((await store.endpoints.listEnabled(app.id)).length, 1);
      await raw.endpoints.create(anEndpoint(app.id)); // behind the cache's back
      assert.equal((await store.endpoints.listEnabled(app.id)).length, 1, 'served from memory');
      await store.endpoints.update({ ...endpoint, disabled: true });
      assert.equal((await store.endpoints.listEnabled(app.id)).length, 1, 'reread after a change: the hidden one is enabled, this one not');
      await store.apps.update({ ...app, name: 'renamed' });
      assert.equal((await store.apps.get(app.id))!.name, 'renamed');
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drops entries after the time to live', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-cache-'));
    let now = 0;
    const raw = openSqliteStore(join(dir, 'herald.db'));
    const store = withConfigCache(raw, { now: () => now }, 1_000);
    try {
      const app = await store.apps.create(anApp());
      assert.equal((await store.endpoints.listEnabled(app.id)).length, 0);
      await raw.endpoints.create(anEndpoint(app.id));
      now = 999;
      assert.equal((await store.endpoints.listEnabled(app.id)).length, 0);
      now = 1_000;
      assert.equal((await store.endpoints.listEnabled(app.id)).length, 1);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  (postgres ? it : it.skip)(postgres ? 'hears about changes made by another process through PostgreSQL' : SKIPPED_POSTGRES, async () => {
    const schema = uniqueSchema();
    const here = withConfigCache(await openPostgresStore({ url: postgresUrl(schema) }), systemClock, 60_000);
    const there = await openPostgresStore({ url: postgresUrl(schema) });
    try {
      const app = await here.apps.create(anApp());
      await waitFor('the listener', async () => {
        await there.endpoints.create(anEndpoint(app.id));
        return (await here.endpoints.listEnabled(app.id)).length > 0;
      });
      const before = (await here.endpoints.listEnabled(app.id)).length;
      await there.endpoints.create(anEndpoint(app.id));
      await waitFor('the other process\'s endpoint', async () => (await here.endpoints.listEnabled(app.id)).length === before + 1);
    } finally {
      await here.close();
      await there.close();
      await dropSchema(schema);
    }
  });
});
