import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dropSchema, postgresReachable, postgresUrl, SKIPPED_POSTGRES, uniqueSchema } from '../../test/support/stores.ts';
import { waitFor } from '../../test/support/wait.ts';
import { systemClock, systemRandom } from '../core/clock.ts';
import { createIdGenerator } from '../core/ids.ts';
import type { Application, Endpoint, EventType, Source } from '../core/model.ts';
import { withConfigCache } from './cached-store.ts';
import { openPostgresStore } from './postgres/postgres-store.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';

const ids = createIdGenerator(systemClock, systemRandom);
const anApp = (): Application => ({ id: ids('application'), uid: null, name: 'a', metadata: {}, throttleRate: null, createdAt: 1, updatedAt: 1 });
const anEndpoint = (appId: string): Endpoint => ({
  id: ids('endpoint'), appId, uid: null, url: 'http://127.0.0.1:9/', description: '', eventTypes: null, channels: null, disabled: false,
  metadata: {}, throttleRate: null, headers: {}, secrets: [], createdAt: 1, updatedAt: 1,
});

const aSource = (token: string): Source => ({
  id: ids('source'), uid: null, name: 's', type: 'generic-webhook', config: {}, metadata: {}, token, createdAt: 1, updatedAt: 1,
});

const anEventType = (name: string): EventType => ({
  name, description: 'd', schemas: null, archived: false, deprecated: false, featureFlag: null, createdAt: 1, updatedAt: 1,
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

  it('does not remember what a read saw when a change overtook it, so a deleted application or endpoint is not served again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-cache-'));
    const raw = openSqliteStore(join(dir, 'herald.db'));
    // Reads that finish only when the test says, as a slow PostgreSQL answer would.
    let release = () => {};
    let held = Promise.resolve();
    const hold = () => (held = new Promise((resolve) => (release = resolve)));
    const slow = {
      ...raw,
      apps: { ...raw.apps, get: async (idOrUid: string) => { const app = await raw.apps.get(idOrUid); await held; return app; } },
      endpoints: { ...raw.endpoints, listEnabled: async (appId: string) => { const list = await raw.endpoints.listEnabled(appId); await held; return list; } },
    };
    const store = withConfigCache(slow, systemClock);
    try {
      const app = await store.apps.create(anApp());
      const endpoint = await store.endpoints.create(anEndpoint(app.id));
      hold();
      const staleList = store.endpoints.listEnabled(app.id);
      await store.endpoints.delete(app.id, endpoint.id, 2);
      release();
      assert.equal((await staleList).length, 1, 'the read began before the delete');
      assert.equal((await store.endpoints.listEnabled(app.id)).length, 0, 'and was not kept');

      hold();
      const staleApp = store.apps.get(app.id);
      await store.apps.delete(app.id);
      release();
      assert.ok(await staleApp);
      assert.equal(await store.apps.get(app.id), null);
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

  it('forgets a source found by its URL token once the token is rotated, and tells subscribers of each change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-cache-'));
    const raw = openSqliteStore(join(dir, 'herald.db'));
    const store = withConfigCache(raw, systemClock, 60_000);
    const heard: Array<string | null> = [];
    const stop = store.onConfigChange!((appId) => heard.push(appId));
    try {
      const source = await store.sources.create(aSource('old-token'), 'digest-old');
      assert.equal((await store.sources.getByTokenDigest('digest-old'))?.id, source.id);
      await store.sources.update({ ...source, token: 'new-token' }, 'digest-new');
      assert.equal(await store.sources.getByTokenDigest('digest-old'), null, 'the old token is forgotten at once');
      const app = await store.apps.create(anApp());
      await store.tokens.expireForApp(app.id, 1);
      assert.deepEqual(heard, [source.id, app.id]);
      await stop();
      await store.tokens.expireForApp(app.id, 1);
      assert.equal(heard.length, 2, 'a subscriber that stopped hears nothing more');
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  (postgres ? it : it.skip)(postgres ? 'hears about token revocations and rotated source tokens in another process through PostgreSQL' : SKIPPED_POSTGRES, async () => {
    const schema = uniqueSchema();
    const here = withConfigCache(await openPostgresStore({ url: postgresUrl(schema) }), systemClock, 60_000);
    const there = await openPostgresStore({ url: postgresUrl(schema) });
    const heard: Array<string | null> = [];
    here.onConfigChange!((appId) => heard.push(appId));
    try {
      const app = await here.apps.create(anApp());
      await waitFor('the listener', async () => {
        await there.tokens.expireForApp(app.id, 1);
        return heard.includes(app.id);
      });
      const token = { id: ids('token'), digest: 'e'.repeat(64), appId: app.id, capabilities: ['ViewBase' as const], createdAt: 1, expiresAt: null };
      await here.tokens.create(token);
      heard.length = 0;
      await there.tokens.delete(token.id);
      await waitFor('the logout', () => heard.includes(app.id));

      const source = await here.sources.create(aSource('old-token'), 'digest-old');
      assert.equal((await here.sources.getByTokenDigest('digest-old'))?.id, source.id);
      await there.sources.update({ ...source, token: 'new-token' }, 'digest-new');
      await waitFor('the rotated token to be forgotten', async () => (await here.sources.getByTokenDigest('digest-old')) === null);
    } finally {
      await here.close();
      await there.close();
      await dropSchema(schema);
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
  it('remembers an event type, and that a name has none, until this process changes event types', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-cache-'));
    const raw = openSqliteStore(join(dir, 'herald.db'));
    const store = withConfigCache(raw, systemClock);
    try {
      assert.equal(await store.eventTypes.get('order.placed'), null);
      await raw.eventTypes.create(anEventType('order.placed')); // behind the cache's back
      assert.equal(await store.eventTypes.get('order.placed'), null, 'the absence served from memory');
      await store.eventTypes.create(anEventType('other.one'));
      const found = await store.eventTypes.get('order.placed');
      assert.equal(found?.name, 'order.placed', 'reread after a change');
      await raw.eventTypes.update({ ...found!, description: 'hidden' });
      assert.equal((await store.eventTypes.get('order.placed'))!.description, 'd', 'served from memory');
      await store.eventTypes.update({ ...found!, schemas: { 1: { type: 'object' } } });
      assert.deepEqual((await store.eventTypes.get('order.placed'))!.schemas, { 1: { type: 'object' } });
      await store.eventTypes.delete('order.placed');
      assert.equal(await store.eventTypes.get('order.placed'), null);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  (postgres ? it : it.skip)(postgres ? 'hears about event types changed by another process through PostgreSQL' : SKIPPED_POSTGRES, async () => {
    const schema = uniqueSchema();
    const here = withConfigCache(await openPostgresStore({ url: postgresUrl(schema) }), systemClock, 60_000);
    const there = await openPostgresStore({ url: postgresUrl(schema) });
    try {
      let n = 0;
      // Once a name created there is seen here, the listener is up.
      await waitFor('the listener', async () => {
        const name = `probe.${n++}`;
        assert.equal(await here.eventTypes.get(name), null);
        await there.eventTypes.create(anEventType(name));
        return (await here.eventTypes.get(name)) !== null;
      });
      const created = await there.eventTypes.create(anEventType('order.placed'));
      await waitFor('the created event type', async () => (await here.eventTypes.get('order.placed')) !== null);
      await there.eventTypes.update({ ...created, schemas: { 1: { required: ['a'] } }, updatedAt: 2 });
      await waitFor('the changed schema', async () => (await here.eventTypes.get('order.placed'))!.schemas !== null);
      await there.eventTypes.delete('order.placed');
      await waitFor('the deletion', async () => (await here.eventTypes.get('order.placed')) === null);
    } finally {
      await here.close();
      await there.close();
      await dropSchema(schema);
    }
  });
});
