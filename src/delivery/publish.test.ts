import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { startReceiver } from '../../test/support/receiver.ts';
import { waitFor } from '../../test/support/wait.ts';
import { addressPolicy } from '../core/address-policy.ts';
import { systemClock, systemRandom } from '../core/clock.ts';
import { createIdGenerator } from '../core/ids.ts';
import { type Application, type Endpoint, Status } from '../core/model.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { Dispatcher } from './dispatcher.ts';
import { createHttpSender } from './http-sender.ts';
import { createPublisher } from './publish.ts';

const ids = createIdGenerator(systemClock, systemRandom);

/** A SQLite store, a dispatcher with room for 4 deliveries per endpoint, and a count of its claims. */
async function pipeline() {
  const dir = mkdtempSync(join(tmpdir(), 'herald-handoff-'));
  const store = openSqliteStore(join(dir, 'herald.db'));
  let claims = 0;
  const counted: Store = { ...store, queue: { ...store.queue, claim: (request) => (claims++, store.queue.claim(request)) } };
  const sender = createHttpSender({ timeoutMs: 2_000, addresses: addressPolicy(true) });
  const dispatcher = new Dispatcher({
    store: counted, sender, clock: systemClock, random: systemRandom, ids, retry: { delaysMs: [100], jitter: 0 },
    maxInFlight: 8, maxInFlightPerEndpoint: 2, maxInFlightPerApp: 8, leaseMs: 30_000, pollIntervalMs: 60_000,
    onError: (error) => assert.fail(error as Error),
  });
  dispatcher.start();
  const publisher = createPublisher(counted, ids, systemClock, () => dispatcher.wake(), dispatcher.handoff);
  const receiver = await startReceiver();
  const now = Date.now();
  const app: Application = { id: ids('application'), uid: null, name: 'a', metadata: {}, throttleRate: null, createdAt: now, updatedAt: now };
  const endpoint: Endpoint = {
    id: ids('endpoint'), appId: app.id, uid: null, url: receiver.url, description: '', eventTypes: null, channels: null, disabled: false,
    metadata: {}, throttleRate: null, headers: {}, secrets: [{ key: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', expiresAt: null }], createdAt: now, updatedAt: now,
  };
  await store.apps.create(app);
  await store.endpoints.create(endpoint);
  const publish = () => publisher.publish(app, { eventType: 'a.b', eventId: null, channels: null, payload: Buffer.from('{"n":1}') });
  // The dispatcher's first claim, at start, finds nothing.
  await waitFor('the first claim', () => claims === 1);
  return {
    store, receiver, publish, claims: () => claims,
    async close() {
      await dispatcher.stop(1_000);
      await sender.close();
      await receiver.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

it('hands a published delivery straight to the dispatcher in the same process, with no claim', async () => {
  const p = await pipeline();
  try {
    const message = await p.publish();
    await waitFor('the delivery', () => p.receiver.requests.length === 1);
    assert.equal(p.receiver.requests[0]!.headers['webhook-id'], message.id);
    assert.equal(p.claims(), 1);
    const row = await waitFor('the result', async () =>
      (await p.store.queue.listByMessage(message.id, { limit: 10, order: 'desc', after: null })).items.find((r) => r.delivery.status === Status.success));
    assert.equal(row.delivery.attemptCount, 1);
  } finally {
    await p.close();
  }
});

it('leaves what a lane has no room for to a claim, so every message still arrives once', async () => {
  const p = await pipeline();
  try {
    const messages = await Promise.all(Array.from({ length: 12 }, () => p.publish()));
    await waitFor('every delivery', () => p.receiver.requests.length === 12);
    assert.deepEqual(new Set(p.receiver.requests.map((request) => request.headers['webhook-id'])), new Set(messages.map((m) => m.id)));
    assert.ok(p.claims() > 1, 'the messages past the lane\'s half share were claimed');
  } finally {
    await p.close();
  }
});

it('matches messages against an index built once per endpoint list, never scanning the endpoints\' filters per message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-fanout-'));
  const store = openSqliteStore(join(dir, 'herald.db'));
  try {
    const now = Date.now();
    const app: Application = { id: ids('application'), uid: null, name: 'a', metadata: {}, throttleRate: null, createdAt: now, updatedAt: now };
    await store.apps.create(app);
    let reads = 0;
    const counted = (values: string[]) => new Proxy(values, { get: (target, key, receiver) => (reads++, Reflect.get(target, key, receiver)) });
    const endpoints: Endpoint[] = [];
    for (const eventTypes of [['a.b', 'c.d'], ['c.d'], null]) {
      const endpoint: Endpoint = {
        id: ids('endpoint'), appId: app.id, uid: null, url: 'http://127.0.0.1:9/', description: '', eventTypes, channels: null, disabled: false,
        metadata: {}, throttleRate: null, headers: {}, secrets: [{ key: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', expiresAt: null }], createdAt: now, updatedAt: now,
      };
      await store.endpoints.create(endpoint);
      endpoints.push({ ...endpoint, eventTypes: eventTypes && counted(eventTypes), channels: counted(['eu']) });
    }
    // As the config cache does: the same list, until something changes.
    const cached: Store = { ...store, endpoints: { ...store.endpoints, listEnabled: async () => endpoints } };
    const publisher = createPublisher(cached, ids, systemClock, () => {});
    const publish = (eventType: string) => publisher.publish(app, { eventType, eventId: null, channels: ['eu'], payload: Buffer.from('{}') });
    const first = await publish('a.b');
    const built = reads;
    assert.ok(built > 0);
    for (let i = 0; i < 20; i++) await publish(i % 2 ? 'a.b' : 'c.d');
    assert.equal(reads, built, 'no filter was read after the first message');
    const destinations = await store.queue.listByMessage(first.id, { limit: 10, order: 'asc', after: null });
    assert.deepEqual(destinations.items.map((row) => row.endpoint.id).sort(), [endpoints[0]!.id, endpoints[2]!.id].sort());
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
