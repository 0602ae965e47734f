import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMetrics } from '../src/metrics/metrics.ts';
import type { Store } from '../src/store/store.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { parseExposition, sampleValue, type Sample } from './support/exposition.ts';
import { type Receiver, startReceiver } from './support/receiver.ts';
import { storeKinds } from './support/stores.ts';
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
 * A store whose oldest-due read takes as long as the test says, as PostgreSQL's round trip on a
 * busy machine takes longer than a scrape waits for it; `gate` holds every read until `release`.
 */
function slowStore() {
  const state = { dueAt: null as number | null, delayMs: 0, gate: false, down: false, reads: 0 };
  const held: Array<() => void> = [];
  const store = {
    census: async () => ({ due: 0, delayed: 0, sending: 0, failed: 0, circuitsOpen: 0, endpointsDisabled: 0 }),
    queue: {
      nextDueAt: () => new Promise<number | null>((resolve, reject) => {
        state.reads++;
        if (state.down) return reject(new Error('the database is down'));
        // The answer is the state when the database reads it, not when it was asked.
        const answer = () => resolve(state.dueAt);
        if (state.gate) held.push(answer);
        else setTimeout(answer, state.delayMs);
      }),
    },
  } as unknown as Store;
  const release = () => held.splice(0).forEach((answer) => answer());
  return { store, state, release };
}

describe('the oldest due delivery\'s age', () => {
  it('is never an old reading reported as current: a scrape after a gap waits for the database rather than report a backlog that has gone', async () => {
    const { store, state, release } = slowStore();
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    const metrics = createMetrics({ store, clock, version: 'test' });
    try {
      state.dueAt = clock.now() - 5_000;
      const first = sampleValue(parseExposition(await metrics.render()), 'herald_queue_oldest_due_age_seconds');
      assert.ok(first >= 5 && first < 6, `first scrape ${first}`);
      // The delivery went, and the next scrape comes four minutes later, the database slow to answer.
      state.dueAt = null;
      state.gate = true;
      offset += 240_000;
      const scraping = metrics.render();
      await sleep(50);
      release();
      assert.equal(sampleValue(parseExposition(await scraping), 'herald_queue_oldest_due_age_seconds'), 0);
    } finally {
      metrics.close();
    }
  });

  it('is NaN, not the last reading, when the database fails to answer a scrape after a gap', async () => {
    const { store, state } = slowStore();
    let offset = 0;
    const metrics = createMetrics({ store, clock: { now: () => Date.now() + offset }, version: 'test' });
    try {
      state.dueAt = Date.now() - 5_000;
      await metrics.render();
      state.down = true;
      offset += 60_000;
      assert.ok(Number.isNaN(sampleValue(parseExposition(await metrics.render()), 'herald_queue_oldest_due_age_seconds')));
    } finally {
      metrics.close();
    }
  });

  it('is read again in the background while Herald is scraped, so a scrape answers at once with a recent reading however slow the database', async () => {
    const { store, state } = slowStore();
    const metrics = createMetrics({ store, clock: { now: () => Date.now() }, version: 'test' });
    try {
      state.delayMs = 300;
      await metrics.render();
      // A delivery has been due for 3 s; the next scrape comes 1.5 s later.
      state.dueAt = Date.now() - 3_000;
      await sleep(1_500);
      const asked = Date.now();
      const text = await metrics.render();
      const took = Date.now() - asked;
      const age = sampleValue(parseExposition(text), 'herald_queue_oldest_due_age_seconds');
      assert.ok(age >= 4 && age < 6, `oldest due age ${age}`);
      assert.ok(took < 250, `the scrape took ${took} ms, the database's answer 300`);
      assert.ok(state.reads >= 3, `${state.reads} reads`);
    } finally {
      metrics.close();
    }
  });
});
