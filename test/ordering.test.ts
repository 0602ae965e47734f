import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { keyedLog } from './support/ordering.ts';
import { startReceiver } from './support/receiver.ts';
import { postgresReachable, SKIPPED_POSTGRES, trackFailures } from './support/stores.ts';
import { waitFor } from './support/wait.ts';

/**
 * Ordering keys end to end (Herald's `orderingKey` on a message): a real receiver on loopback logs
 * which message of which key arrived, and whether one came while the one before it was still
 * unanswered. Several workers on PostgreSQL: test/scale-out.test.ts.
 */
const STORES = [['sqlite', true], ['postgres', await postgresReachable()]] as const;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

for (const [store, reachable] of STORES) {
  (reachable ? describe : describe.skip)(reachable ? `ordering keys (${store})` : SKIPPED_POSTGRES, () => {
    const failures = trackFailures();
    const running: Array<{ close(keep?: boolean): Promise<void> }> = [];
    after(async () => {
      for (const item of running.reverse()) await item.close(failures.any());
    });
    // Retries 100 ms apart for long enough that a key failing on purpose is never exhausted.
    const herald = async () => {
      const h = await startTestHerald({ store, env: { HERALD_RETRY_SCHEDULE: range(600).map(() => '100ms').join(',') } });
      running.push(h);
      return h;
    };
    const endpointFor = async (h: TestHerald, respond: Parameters<typeof startReceiver>[0]) => {
      const receiver = await startReceiver(respond);
      running.push(receiver);
      const app = (await h.api('POST', '/api/v1/app', { name: 'ordered' })).body;
      await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: receiver.url });
      return { appId: app.id as string, receiver };
    };
    /** Publishes `count` messages of each key, one key after another in turns, each after the last one's 202. */
    const publish = async (h: TestHerald, appId: string, keys: string[], count: number) => {
      for (const i of range(count)) {
        for (const key of keys) {
          const answer = await h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.updated', payload: { key, i }, orderingKey: key });
          assert.equal(answer.status, 202);
          assert.equal(answer.body.orderingKey, key);
        }
      }
    };

    it('delivers each key\'s messages in publish order, one at a time, keys side by side', async () => {
      const h = await herald();
      // Each answer takes longer than publishing the next message of the key, so without ordering
      // several of a key would be in flight at once.
      const log = keyedLog(() => 200, 100);
      const { appId } = await endpointFor(h, log.responder);
      await publish(h, appId, ['a', 'b', 'c'], 8);
      await waitFor('every message accepted', () => [...log.accepted.values()].flat().length >= 24, 30_000);
      for (const key of ['a', 'b', 'c']) assert.deepEqual(log.accepted.get(key), range(8), `key ${key} in order`);
      assert.deepEqual(log.overlaps, [], 'no request of a key came before the one ahead of it was answered');
    });

    it('holds back only the failing key: it retries its first until it succeeds, while the other key flows, then goes on in order', async () => {
      const h = await herald();
      // The first message of `stuck` fails until every message of `free` has arrived: were `free`
      // held behind `stuck`, neither would ever finish.
      const log = keyedLog((key, i, seen) => (key === 'stuck' && i === 0 && (seen.accepted.get('free')?.length ?? 0) < 6 ? 500 : 200));
      const { appId } = await endpointFor(h, log.responder);
      await publish(h, appId, ['stuck', 'free'], 6);
      await waitFor('every message accepted', () => [...log.accepted.values()].flat().length >= 12, 30_000);
      assert.deepEqual(log.accepted.get('free'), range(6));
      assert.deepEqual(log.accepted.get('stuck'), range(6));
      const stuck = log.arrived.get('stuck')!;
      assert.ok(stuck.filter((i) => i === 0).length > 1, 'the first of the stuck key was retried');
      assert.deepEqual(stuck.slice(stuck.lastIndexOf(0)), range(6), 'and nothing after it arrived before it succeeded');
      assert.deepEqual(log.overlaps, []);
    });

    it('answers 422 to an ordering key that is empty or too long, and leaves a message without one unordered', async () => {
      const h = await herald();
      const { appId } = await endpointFor(h, () => ({ status: 200 }));
      for (const orderingKey of ['', 'k'.repeat(257), 7]) {
        const answer = await h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.updated', payload: {}, orderingKey });
        assert.equal(answer.status, 422, JSON.stringify(orderingKey));
        assert.deepEqual(answer.body.detail[0].loc, ['body', 'orderingKey']);
      }
      const plain = await h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.updated', payload: {} });
      assert.equal(plain.status, 202);
      assert.equal('orderingKey' in plain.body, false, 'a message without a key reads as Svix\'s');
      const keyed = await h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.updated', payload: {}, orderingKey: 'order-1' });
      assert.equal((await h.api('GET', `/api/v1/app/${appId}/msg/${keyed.body.id}`)).body.orderingKey, 'order-1');
    });
  });
}
