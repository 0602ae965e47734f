import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { pino } from 'pino';
import { type BinRequest, DEFAULT_BIN_RESPONSE, DEFAULT_BIN_RULES } from './core/bins.ts';
import { systemClock, systemRandom } from './core/clock.ts';
import { createIdGenerator } from './core/ids.ts';
import type { InboundEnvelope, Message } from './core/model.ts';
import { maintenanceRound } from './maintenance.ts';
import { openSqliteStore } from './store/sqlite/sqlite-store.ts';
import type { Store } from './store/store.ts';

const DAY = 24 * 60 * 60 * 1000;

/**
 * A SQLite store with one application, and a maker of its messages of a given age. Ids carry
 * their creation time, so an old message's id is made by a clock set back that far.
 */
async function withMessages(test: (store: Store, message: (ageDays: number, inbound?: InboundEnvelope) => Message, appId: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-retention-'));
  const store = openSqliteStore(join(dir, 'herald.db'));
  try {
    const now = Date.now();
    const app = { id: 'app_retention', uid: null, name: 'r', metadata: {}, throttleRate: null, createdAt: now, updatedAt: now };
    await store.apps.create(app);
    let n = 0;
    const message = (ageDays: number, inbound: InboundEnvelope | null = null): Message => ({
      id: createIdGenerator({ now: () => now - ageDays * DAY }, systemRandom)('message'), appId: app.id, eventType: 'a.b',
      eventId: inbound ? `evt_${++n}` : null, channels: null, payload: Buffer.from('{}'), inbound, createdAt: now - ageDays * DAY,
    });
    await test(store, message, app.id);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const retain = (store: Store, retentionMs: number) => maintenanceRound({ store, clock: systemClock, retentionMs, logger: pino({ level: 'silent' }) });

it('purges messages past the retention when it starts, and keeps younger ones', () => withMessages(async (store, message, appId) => {
  const old = message(40);
  const young = message(0);
  for (const m of [old, young]) await store.messages.enqueue(m, []);
  await retain(store, 30 * DAY);
  assert.equal(await store.messages.get(appId, old.id), null);
  assert.ok(await store.messages.get(appId, young.id));
}));

it('keeps requests received by a source for at least seven days, however short the retention', () => withMessages(async (store, message, appId) => {
  const inbound = { method: 'POST', url: 'http://127.0.0.1:9/in/t', headers: {}, verified: true, diagnosis: null, duplicateOf: null };
  const sent = message(3);
  const receivedRecently = message(3, inbound);
  const receivedLongAgo = message(8, inbound);
  for (const m of [sent, receivedRecently, receivedLongAgo]) await store.messages.enqueue(m, []);
  await retain(store, DAY);
  assert.equal(await store.messages.get(appId, sent.id), null);
  assert.ok(await store.messages.get(appId, receivedRecently.id), 'a provider retrying a 3-day-old event still finds it a duplicate');
  assert.equal(await store.messages.get(appId, receivedLongAgo.id), null);
}));

it('removes a deleted endpoint once retention has taken the messages that were sent to it', () => withMessages(async (store, message, appId) => {
  const now = Date.now();
  const endpoint = {
    id: createIdGenerator(systemClock, systemRandom)('endpoint'), appId, uid: 'gone', url: 'http://127.0.0.1:9/', description: '', eventTypes: null,
    channels: null, disabled: false, metadata: {}, throttleRate: null, headers: {}, secrets: [], createdAt: now - 41 * DAY, updatedAt: now - 41 * DAY,
  };
  await store.endpoints.create(endpoint);
  const old = message(40);
  await store.messages.enqueue(old, [endpoint.id]);
  await store.endpoints.delete(appId, endpoint.id, now - 40 * DAY);
  await retain(store, 30 * DAY);
  assert.equal(await store.messages.get(appId, old.id), null);
  assert.equal(await store.endpoints.purge(now, 10), 0, 'the endpoint was purged with the message that named it');
}));

it('purges bin requests past the retention, then the bins that nothing was sent to or changed in since', () => withMessages(async (store) => {
  const now = Date.now();
  const bin = (id: string, ageDays: number) => ({
    id, name: null, token: id, response: DEFAULT_BIN_RESPONSE, rules: DEFAULT_BIN_RULES,
    createdAt: now - ageDays * DAY, updatedAt: now - ageDays * DAY, lastRequestAt: null, requestSeq: 0,
  });
  const captured = (binId: string, ageDays: number): BinRequest => ({
    id: createIdGenerator({ now: () => now - ageDays * DAY }, systemRandom)('binRequest'), binId, seq: 0, method: 'POST', path: '', query: null,
    headers: [], secretHeaders: [], body: Buffer.from('x'), size: 1, ip: '127.0.0.1', responseStatus: 200, rule: 'configured', createdAt: now - ageDays * DAY,
  });
  await store.bins.create(bin('bin_idle', 40), 'd-idle');
  await store.bins.create(bin('bin_used', 40), 'd-used');
  await store.bins.create(bin('bin_new', 1), 'd-new');
  const old = await store.bins.capture(captured('bin_used', 35), 10);
  const recent = await store.bins.capture(captured('bin_used', 2), 10);
  await retain(store, 30 * DAY);
  assert.equal(await store.bins.get('bin_idle'), null, 'an idle bin expires');
  assert.ok(await store.bins.get('bin_used'), 'a bin sent to within the retention stays');
  assert.ok(await store.bins.get('bin_new'));
  assert.equal(await store.bins.getRequest('bin_used', old.id), null, 'its old request goes');
  assert.ok(await store.bins.getRequest('bin_used', recent.id));
}));
