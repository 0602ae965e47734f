import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { pino } from 'pino';
import { systemClock, systemRandom } from './core/clock.ts';
import { createIdGenerator } from './core/ids.ts';
import { startMaintenance } from './maintenance.ts';
import { openSqliteStore } from './store/sqlite/sqlite-store.ts';

it('purges messages past the retention when it starts, and keeps younger ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-retention-'));
  const store = openSqliteStore(join(dir, 'herald.db'));
  try {
    const day = 24 * 60 * 60 * 1000;
    const now = Date.now();
    const app = { id: 'app_retention', uid: null, name: 'r', metadata: {}, throttleRate: null, createdAt: now, updatedAt: now };
    await store.apps.create(app);
    // Ids carry their creation time, so "old" messages are made by a clock set back 40 days.
    const idsAt = (ms: number) => createIdGenerator({ now: () => ms }, systemRandom);
    const old = { id: idsAt(now - 40 * day)('message'), appId: app.id, eventType: 'a.b', eventId: null, channels: null, payload: Buffer.from('{}'), createdAt: now - 40 * day };
    const young = { ...old, id: createIdGenerator(systemClock, systemRandom)('message'), createdAt: now };
    await store.messages.enqueue(old, []);
    await store.messages.enqueue(young, []);
    const stop = startMaintenance({ store, clock: systemClock, retentionMs: 30 * day, logger: pino({ level: 'silent' }) });
    await stop();
    assert.equal(await store.messages.get(app.id, old.id), null);
    assert.ok(await store.messages.get(app.id, young.id));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('keeps requests received by a source for at least seven days, however short the retention', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-retention-'));
  const store = openSqliteStore(join(dir, 'herald.db'));
  try {
    const day = 24 * 60 * 60 * 1000;
    const now = Date.now();
    const app = { id: 'app_inbound_retention', uid: null, name: 'r', metadata: {}, throttleRate: null, createdAt: now, updatedAt: now };
    await store.apps.create(app);
    const idsAt = (ms: number) => createIdGenerator({ now: () => ms }, systemRandom);
    const inbound = { method: 'POST', url: 'https://h/in/t', headers: {}, verified: true, diagnosis: null, duplicateOf: null };
    const message = (ageDays: number, received: boolean) => ({
      id: idsAt(now - ageDays * day)('message'), appId: app.id, eventType: 'a.b', eventId: received ? `evt_${ageDays}` : null, channels: null,
      payload: Buffer.from('{}'), inbound: received ? inbound : null, createdAt: now - ageDays * day,
    });
    const sent = message(3, false);
    const receivedRecently = message(3, true);
    const receivedLongAgo = message(8, true);
    for (const m of [sent, receivedRecently, receivedLongAgo]) await store.messages.enqueue(m, []);
    await startMaintenance({ store, clock: systemClock, retentionMs: day, logger: pino({ level: 'silent' }) })();
    assert.equal(await store.messages.get(app.id, sent.id), null);
    assert.ok(await store.messages.get(app.id, receivedRecently.id), 'a provider retrying a 3-day-old event still finds it a duplicate');
    assert.equal(await store.messages.get(app.id, receivedLongAgo.id), null);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
