import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMetrics } from '../src/metrics/metrics.ts';
import { systemClock, systemRandom } from '../src/core/clock.ts';
import { createIdGenerator } from '../src/core/ids.ts';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { parseExposition, sampleValue, type Sample } from './support/exposition.ts';
import { type Receiver, startReceiver } from './support/receiver.ts';
import { dropSchema, postgresReachable, SKIPPED_POSTGRES, storeKinds, TEST_DATABASE_URL, uniqueSchema } from './support/stores.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';
import { waitFor } from './support/wait.ts';

const METRICS_TOKEN = 'metrics-only-token-0123456789';

for (const store of await storeKinds()) {
  describe(`metrics on ${store}`, () => {
    let h: TestHerald;
    let receiver: Receiver;
    before(async () => {
      // Succeeds unless the path says otherwise; retries come 100 ms and 200 ms apart.
      receiver = await startReceiver((request) => ({ status: request.path === '/fail' ? 500 : 200 }));
      h = await startTestHerald({ store, env: { HERALD_METRICS_TOKEN: METRICS_TOKEN } });
    });
    after(async () => {
      await h.close();
      await receiver.close();
    });

    const scrape = async (token = h.token): Promise<Sample[]> => {
      const response = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return parseExposition(await response.text());
    };

    it('answers 401 without a token, and takes the metrics token there and nowhere else', async () => {
      assert.equal((await fetch(`${h.url}/metrics`)).status, 401);
      assert.equal((await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401);
      await scrape(METRICS_TOKEN);
      assert.equal((await fetch(`${h.url}/api/v1/app`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status, 401);
    });

    it('is Prometheus text with the process\'s own metrics: memory, event-loop lag, version', async () => {
      const samples = await scrape();
      assert.ok(sampleValue(samples, 'process_resident_memory_bytes') > 0);
      assert.ok(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds'));
      assert.equal(sampleValue(samples, 'herald_info'), 1);
      if (store === 'postgres') assert.ok(sampleValue(samples, 'herald_db_pool_connections', { pool: 'api', state: 'max' }) > 0);
    });

    it('declares every metric the Grafana dashboard in docs/ queries', async () => {
      const text = await (await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${h.token}` } })).text();
      const declared = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
      const dashboard = readFileSync(new URL('../docs/grafana-dashboard.json', import.meta.url), 'utf8');
      const queried = new Set([...dashboard.matchAll(/\b((?:herald|nodejs|process)_[a-z0-9_]+)\{/g)].map((m) => m[1]!.replace(/_bucket$/, '')));
      assert.ok(queried.size >= 10);
      for (const name of queried) assert.ok(declared.has(name), `${name} is queried by the dashboard but not served`);
    });

    it('counts messages accepted, attempts by outcome with their latency, and API requests by route pattern', async () => {
      const app = await h.api('POST', '/api/v1/app', { name: 'metrics' });
      await h.api('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: `${receiver.url}/ok` });
      const failing = await h.api('POST', '/api/v1/app', { name: 'metrics failing' });
      await h.api('POST', `/api/v1/app/${failing.body.id}/endpoint`, { url: `${receiver.url}/fail` });
      const before = await scrape();
      const at = (samples: Sample[], name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels) - sampleValue(before, name, labels);

      await h.api('POST', `/api/v1/app/${app.body.id}/msg`, { eventType: 'metrics.test', payload: {} });
      await h.api('POST', `/api/v1/app/${failing.body.id}/msg`, { eventType: 'metrics.test', payload: {} });
      // The failing delivery: attempts at 0, 100 and 200 ms, then failed for good.
      const samples = await waitFor('the attempts to be counted', async () => {
        const now = await scrape();
        return at(now, 'herald_delivery_attempts_total', { outcome: 'failed' }) === 1 && at(now, 'herald_delivery_attempts_total', { outcome: 'success' }) === 1 ? now : null;
      });
      assert.equal(at(samples, 'herald_messages_accepted_total', { app: app.body.id }), 1);
      assert.equal(at(samples, 'herald_messages_accepted_total', { app: failing.body.id }), 1);
      assert.equal(at(samples, 'herald_delivery_attempts_total', { outcome: 'retry_scheduled' }), 2);
      assert.equal(at(samples, 'herald_delivery_attempt_duration_seconds_count', { result: 'success' }), 1);
      assert.equal(at(samples, 'herald_delivery_attempt_duration_seconds_count', { result: 'failure' }), 3);
      assert.equal(at(samples, 'herald_delivery_attempt_duration_seconds_bucket', { result: 'failure', le: '+Inf' }), 3);
      assert.equal(at(samples, 'herald_http_requests_total', { method: 'POST', route: '/api/v1/app/:appId/msg', status: '202' }), 2);
      assert.ok(!samples.some((s) => s.labels.route?.includes(app.body.id)), 'no series is labelled with an id');
    });

    it('counts requests to sources by provider type and verification result', async () => {
      const source = await h.api('POST', '/ingest/api/v1/source', { name: 'metrics github', type: 'github', config: { secret: 'github-secret' } });
      const url = source.body.ingestUrl as string;
      const before = await scrape();
      const body = JSON.stringify({ action: 'opened' });
      const post = (headers: Record<string, string>) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      assert.equal((await post({ 'x-hub-signature-256': await githubSign('github-secret', body), 'x-github-delivery': 'm-1' })).status, 200);
      assert.equal((await post({ 'x-hub-signature-256': 'sha256=00' })).status, 401);
      const samples = await scrape();
      const at = (result: string) => sampleValue(samples, 'herald_inbound_requests_total', { source_type: 'github', result }) - sampleValue(before, 'herald_inbound_requests_total', { source_type: 'github', result });
      assert.equal(at('verified'), 1);
      assert.equal(at('rejected'), 1);
    });
  });

  describe(`queue metrics on ${store}`, () => {
    it('reports the queue by state, the oldest due delivery\'s age and disabled endpoints', async () => {
      const receiver = await startReceiver(() => ({ status: 500 }));
      // Retries an hour apart: a failed first attempt leaves its delivery delayed.
      const h = await startTestHerald({ store, env: { HERALD_RETRY_SCHEDULE: '1h' } });
      try {
        const app = await h.api('POST', '/api/v1/app', { name: 'queue' });
        await h.api('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: receiver.url });
        const off = await h.api('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: `${receiver.url}/off` });
        await h.api('PATCH', `/api/v1/app/${app.body.id}/endpoint/${off.body.id}`, { disabled: true });
        for (let i = 0; i < 3; i++) await h.api('POST', `/api/v1/app/${app.body.id}/msg`, { eventType: 'queue.test', payload: { i } });
        await waitFor('three failed first attempts', () => receiver.requests.length === 3);
        await waitFor('their results to be recorded', async () => {
          const attempts = await h.api('GET', `/api/v1/app/${app.body.id}/attempt/endpoint/${(await h.api('GET', `/api/v1/app/${app.body.id}/endpoint`)).body.data.find((e: { id: string }) => e.id !== off.body.id).id}`);
          return attempts.body.data.length === 3;
        });
        // The first scrape waits for the counts; later ones answer with what they have.
        const response = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${h.token}` } });
        const samples = parseExposition(await response.text());
        assert.equal(sampleValue(samples, 'herald_queue_deliveries', { state: 'delayed' }), 3);
        assert.equal(sampleValue(samples, 'herald_queue_deliveries', { state: 'due' }), 0);
        assert.equal(sampleValue(samples, 'herald_queue_deliveries', { state: 'in_flight' }), 0);
        assert.equal(sampleValue(samples, 'herald_queue_deliveries', { state: 'failed' }), 0);
        assert.equal(sampleValue(samples, 'herald_endpoints_disabled'), 1);
        assert.equal(sampleValue(samples, 'herald_circuits_open'), 0);
        assert.equal(sampleValue(samples, 'herald_queue_oldest_due_age_seconds'), 0);
        assert.ok(sampleValue(samples, 'herald_queue_census_age_seconds') < 5);
      } finally {
        await h.close();
        await receiver.close();
      }
    });

    it('reports deliveries nobody sends as due, with the oldest one\'s age', async () => {
      // An API-only process sends nothing: what it accepts stays due.
      const h = await startTestHerald({ store, env: { HERALD_ROLE: 'api' } });
      try {
        const app = await h.api('POST', '/api/v1/app', { name: 'due' });
        await h.api('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: 'http://127.0.0.1:9/due' });
        const publishing = Date.now();
        for (let i = 0; i < 2; i++) await h.api('POST', `/api/v1/app/${app.body.id}/msg`, { eventType: 'due.test', payload: { i } });
        const published = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 300));
        const asked = Date.now();
        const samples = parseExposition(await (await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${h.token}` } })).text());
        const answered = Date.now();
        assert.equal(sampleValue(samples, 'herald_queue_deliveries', { state: 'due' }), 2);
        const age = sampleValue(samples, 'herald_queue_oldest_due_age_seconds');
        // The oldest is the first message: due since it was published, between these two times.
        assert.ok(age >= (asked - published) / 1000 - 0.01 && age <= (answered - publishing) / 1000 + 0.01, `oldest due age ${age}`);
      } finally {
        await h.close();
      }
    });
  });
}

/**
 * A real PostgreSQL store reached through a relay on loopback that can slow its answers down or
 * cut them off, as a database across a busy network is and does: the scrape waits 2 ms for the
 * oldest due time, and a round trip then takes longer. `due(at)` queues one delivery due at `at`;
 * `drain()` takes it away, as a delivery that went.
 */
async function storeBehindRelay() {
  const relay = await startTcpProxy(Number(new URL(TEST_DATABASE_URL).port || 5432));
  const schema = uniqueSchema();
  const url = new URL(TEST_DATABASE_URL);
  url.port = String(relay.port);
  const store = await openPostgresStore({ url: url.toString(), schema });
  const ids = createIdGenerator(systemClock, systemRandom);
  let appId: string | null = null;
  return {
    store,
    relay,
    async due(at: number) {
      appId = ids('application');
      await store.apps.create({ id: appId, uid: null, name: 'metrics', metadata: {}, throttleRate: null, createdAt: at, updatedAt: at });
      const endpoint = await store.endpoints.create({
        id: ids('endpoint'), appId, uid: null, url: 'http://127.0.0.1:9/hook', description: '', eventTypes: null, channels: null, disabled: false,
        metadata: {}, throttleRate: null, retrySchedule: null, filter: null, headers: {}, secrets: [{ key: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', expiresAt: null }],
        createdAt: at, updatedAt: at,
      });
      await store.messages.enqueue({ id: ids('message'), appId, eventType: 'metrics.test', eventId: null, channels: null, payload: Buffer.from('{}'), inbound: null, createdAt: at }, [endpoint.id]);
    },
    async drain() {
      if (appId) await store.apps.delete(appId);
    },
    async close() {
      relay.delayMs = 0;
      await relay.start().catch(() => {});
      await store.close();
      await relay.close();
      await dropSchema(schema);
    },
  };
}

describe('the oldest due delivery\'s age', { skip: !(await postgresReachable()) && SKIPPED_POSTGRES }, () => {
  it('is never an old reading reported as current: a scrape after a gap waits for the database rather than report a backlog that has gone', async () => {
    const db = await storeBehindRelay();
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    const metrics = createMetrics({ store: db.store, clock, version: 'test' });
    try {
      await db.due(Date.now() - 5_000);
      const first = sampleValue(parseExposition(await metrics.render()), 'herald_queue_oldest_due_age_seconds');
      assert.ok(first >= 5 && first < 7, `first scrape ${first}`);
      // The delivery went, and the next scrape comes four minutes later, the database slow to answer.
      await db.drain();
      db.relay.delayMs = 100;
      offset += 240_000;
      assert.equal(sampleValue(parseExposition(await metrics.render()), 'herald_queue_oldest_due_age_seconds'), 0);
    } finally {
      metrics.close();
      await db.close();
    }
  });

  it('is NaN, not the last reading, when the database fails to answer a scrape after a gap', async () => {
    const db = await storeBehindRelay();
    let offset = 0;
    const metrics = createMetrics({ store: db.store, clock: { now: () => Date.now() + offset }, version: 'test' });
    try {
      await db.due(Date.now() - 5_000);
      await metrics.render();
      await db.relay.stop();
      offset += 60_000;
      assert.ok(Number.isNaN(sampleValue(parseExposition(await metrics.render()), 'herald_queue_oldest_due_age_seconds')));
    } finally {
      metrics.close();
      await db.close();
    }
  });

  it('is read again in the background while Herald is scraped, so a scrape answers at once with a recent reading however slow the database', async () => {
    const db = await storeBehindRelay();
    const metrics = createMetrics({ store: db.store, clock: { now: () => Date.now() }, version: 'test' });
    try {
      await metrics.render();
      // A delivery has been due for 3 s; the next scrape comes 1.5 s later, each answer 300 ms away.
      await db.due(Date.now() - 3_000);
      db.relay.delayMs = 300;
      const before = db.relay.sent;
      await sleep(1_500);
      const asked = Date.now();
      const text = await metrics.render();
      const took = Date.now() - asked;
      const age = sampleValue(parseExposition(text), 'herald_queue_oldest_due_age_seconds');
      assert.ok(age >= 4 && age < 6, `oldest due age ${age}`);
      assert.ok(took < 250, `the scrape took ${took} ms, the database's answer 300`);
      assert.ok(db.relay.sent - before >= 2, `${db.relay.sent - before} reads`);
    } finally {
      metrics.close();
      await db.close();
    }
  });
});
