import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LATENCY_ERROR } from '../src/core/attempt-stats.ts';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';
import { forEachStore, trackFailures } from './support/stores.ts';
import { settled } from './support/wait.ts';

const HOUR = 60 * 60_000;
const FIVE_MINUTES = 5 * 60_000;

/** The nearest-rank percentile of the durations, as the API reads it from its histogram. */
function exactPercentile(durations: number[], p: number): number | null {
  if (durations.length === 0) return null;
  const sorted = [...durations].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;
}

function assertWithinBound(estimate: number | null, exact: number | null, what: string) {
  if (exact === null || exact === 0) return assert.equal(estimate, exact, what);
  assert.ok(estimate !== null && Math.abs(estimate - exact) <= LATENCY_ERROR * exact + 1e-9, `${what}: ${estimate} for ${exact} ms`);
}

await forEachStore((store) => describe(`attempt statistics (${store})`, () => {
  const failures = trackFailures();
  let h: TestHerald;
  // Herald's clock runs with the system's, moved on by `shift`, so two batches land hours apart.
  let shift = 0;
  const clock = { now: () => Date.now() + shift };
  let good: Receiver;
  let bad: Receiver;
  let appId: string;
  let otherAppId: string;
  let okId: string;
  let failingId: string;
  let firstAt: number;
  /** Every attempt of the application, as the API lists them. */
  let attempts: Array<{ status: number; timestamp: string; responseDurationMs: number; endpointId: string }>;
  let messages: Array<{ timestamp: string }>;

  const get = (path: string) => h.api('GET', path);
  const all = async (path: string) => (await get(`${path}${path.includes('?') ? '&' : '?'}limit=250`)).body.data as any[];

  async function publish(count: number) {
    for (let i = 0; i < count; i++) await h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.paid', payload: { i } });
    await settled(get, [`/api/v1/app/${appId}/endpoint/${okId}`, `/api/v1/app/${appId}/endpoint/${failingId}`]);
  }

  before(async () => {
    h = await startTestHerald({ store, clock, env: { HERALD_RETRY_SCHEDULE: '50ms,50ms' } });
    // Answers after 0 to 60 ms, so the attempts' durations spread over many histogram bins.
    good = await startReceiver((_request, index) => ({ status: 200, body: 'ok', delayMs: [0, 8, 25, 60][index % 4] }));
    bad = await startReceiver(() => ({ status: 500, body: 'no' }));
    appId = (await h.api('POST', '/api/v1/app', { name: 'charts' })).body.id;
    otherAppId = (await h.api('POST', '/api/v1/app', { name: 'someone else' })).body.id;
    okId = (await h.api('POST', `/api/v1/app/${appId}/endpoint`, { url: `${good.url}/hook`, uid: 'ok-one' })).body.id;
    failingId = (await h.api('POST', `/api/v1/app/${appId}/endpoint`, { url: `${bad.url}/hook` })).body.id;
    firstAt = clock.now();
    await publish(8);
    shift += 2 * HOUR;
    await publish(4);
    attempts = [...(await all(`/api/v1/app/${appId}/attempt/endpoint/${okId}`)), ...(await all(`/api/v1/app/${appId}/attempt/endpoint/${failingId}`))];
    messages = await all(`/api/v1/app/${appId}/msg`);
  });
  after(async () => {
    await h.close(failures.any());
    await Promise.all([good?.close(), bad?.close()]);
  });

  it('counts successes, failures and messages per period bucket, with latency percentiles within the histogram\'s bound', async () => {
    // 12 messages, each delivered at once to one endpoint and tried three times at the other.
    assert.equal(messages.length, 12);
    assert.equal(attempts.length, 12 + 36);
    const startDate = new Date(firstAt - HOUR).toISOString();
    const endDate = new Date(clock.now()).toISOString();
    const { status, body } = await get(`/api/v1/stats/app/${appId}/attempt?startDate=${startDate}&endDate=${endDate}&period=OneHour`);
    assert.equal(status, 200);
    const first = Math.floor((firstAt - HOUR) / HOUR) * HOUR;
    const count = Math.ceil((clock.now() - first) / HOUR);
    assert.equal(body.startDate, new Date(first).toISOString());
    assert.equal(body.endDate, new Date(first + count * HOUR).toISOString());
    assert.equal(body.period, 'OneHour');
    const bucket = (timestamp: string) => Math.floor((Date.parse(timestamp) - first) / HOUR);
    const expected = Array.from({ length: count }, (_, i) => {
      const inBucket = attempts.filter((a) => bucket(a.timestamp) === i);
      return {
        success: inBucket.filter((a) => a.status === 0).length,
        failure: inBucket.filter((a) => a.status !== 0).length,
        messages: messages.filter((m) => bucket(m.timestamp) === i).length,
        durations: inBucket.map((a) => a.responseDurationMs),
      };
    });
    assert.deepEqual(body.data.successCount, expected.map((e) => e.success));
    assert.deepEqual(body.data.failureCount, expected.map((e) => e.failure));
    assert.deepEqual(body.data.canceledCount, expected.map(() => 0));
    assert.deepEqual(body.data.messageCount, expected.map((e) => e.messages));
    // The two batches, two hours apart, land in two different buckets.
    assert.equal(expected.filter((e) => e.messages > 0).length, 2);
    for (const [key, p] of [['latencyP50', 0.5], ['latencyP95', 0.95], ['latencyP99', 0.99]] as const) {
      assert.equal(body.data[key].length, count);
      expected.forEach((e, i) => assertWithinBound(body.data[key][i], exactPercentile(e.durations, p), `${key}[${i}]`));
    }
    assert.ok(body.data.latencyP99.some((ms: number | null) => ms !== null && ms >= 50), 'the slow answers show in p99');
  });

  it('limits the figures to one endpoint, named by id or uid', async () => {
    for (const ref of [okId, 'ok-one']) {
      const { status, body } = await get(`/api/v1/stats/app/${appId}/attempt?endpoint_id=${ref}&period=OneDay&startDate=${new Date(firstAt - HOUR).toISOString()}`);
      assert.equal(status, 200);
      const sum = (key: string) => body.data[key].reduce((a: number, b: number) => a + b, 0);
      assert.equal(sum('successCount'), 12);
      assert.equal(sum('failureCount'), 0);
      assert.equal(sum('messageCount'), 12);
      const durations = attempts.filter((a) => a.endpointId === okId).map((a) => a.responseDurationMs);
      if (body.data.successCount.length === 1) assertWithinBound(body.data.latencyP95[0], exactPercentile(durations, 0.95), 'p95');
    }
    const failing = (await get(`/api/v1/stats/app/${appId}/attempt?endpoint_id=${failingId}`)).body;
    assert.equal(failing.data.failureCount.reduce((a: number, b: number) => a + b, 0), 36);
    assert.equal(failing.data.successCount.reduce((a: number, b: number) => a + b, 0), 0);
    assert.equal((await get(`/api/v1/stats/app/${appId}/attempt?endpoint_id=ep_${'0'.repeat(22)}`)).status, 404);
  });

  it('covers the last 24 hours by the hour when no range or period is given', async () => {
    const { status, body } = await get(`/api/v1/stats/app/${appId}/attempt`);
    assert.equal(status, 200);
    assert.equal(body.period, 'OneHour');
    const now = clock.now();
    assert.ok(Date.parse(body.startDate) <= now - 24 * HOUR && Date.parse(body.startDate) > now - 25 * HOUR, body.startDate);
    assert.ok(Date.parse(body.endDate) >= now && Date.parse(body.endDate) <= now + HOUR, body.endDate);
    assert.equal(body.data.successCount.length, (Date.parse(body.endDate) - Date.parse(body.startDate)) / HOUR);
    const sum = (key: string) => body.data[key].reduce((a: number, b: number) => a + b, 0);
    assert.deepEqual([sum('successCount'), sum('failureCount'), sum('messageCount')], [12, 36, 12]);
    const fine = (await get(`/api/v1/stats/app/${appId}/attempt?period=FiveMinutes`)).body;
    assert.equal(fine.data.successCount.length, (Date.parse(fine.endDate) - Date.parse(fine.startDate)) / FIVE_MINUTES);
    assert.equal(fine.data.successCount.reduce((a: number, b: number) => a + b, 0), 12);
  });

  it('adds each endpoint\'s last 24 hours to the endpoint list with with_stats, and nothing without it', async () => {
    const { body } = await get(`/api/v1/app/${appId}/endpoint?with_stats=true`);
    const byId = new Map(body.data.map((e: any) => [e.id, e.stats]));
    const since = Date.parse((byId.get(okId) as any).since);
    assert.ok(since <= clock.now() - 24 * HOUR && since > clock.now() - 24 * HOUR - FIVE_MINUTES);
    assert.deepEqual(byId.get(okId), { since: new Date(since).toISOString(), success: 12, failure: 0 });
    assert.deepEqual(byId.get(failingId), { since: new Date(since).toISOString(), success: 0, failure: 36 });
    const plain = (await get(`/api/v1/app/${appId}/endpoint`)).body.data;
    assert.ok(plain.every((e: any) => !('stats' in e)));
  });

  it('refuses bad dates, a reversed range, an unknown period and too many buckets with 422 at the field', async () => {
    const cases: Array<[string, string[]]> = [
      ['startDate=yesterday', ['query', 'startDate']],
      ['endDate=2024-13-45T00:00:00Z', ['query', 'endDate']],
      ['startDate=2024-05-02T00:00:00Z&endDate=2024-05-01T00:00:00Z', ['query', 'endDate']],
      ['period=OneWeek', ['query', 'period']],
      ['period=FiveMinutes&startDate=2024-05-01T00:00:00Z&endDate=2024-05-08T00:05:00Z', ['query', 'period']],
      ['event_types=order.paid', ['query', 'event_types']],
    ];
    for (const [query, loc] of cases) {
      const { status, body } = await get(`/api/v1/stats/app/${appId}/attempt?${query}`);
      assert.equal(status, 422, query);
      assert.equal(body.code, 'validation');
      assert.deepEqual(body.detail.map((item: { loc: string[] }) => item.loc), [loc], query);
    }
    // Exactly a week of five-minute buckets is allowed.
    const week = await get(`/api/v1/stats/app/${appId}/attempt?period=FiveMinutes&startDate=2024-05-01T00:00:00Z&endDate=2024-05-08T00:00:00Z`);
    assert.equal(week.status, 200);
    assert.equal(week.body.data.successCount.length, 2016);
    assert.equal((await get('/api/v1/stats/app/app_nope/attempt')).status, 404);
  });

  it('lets an application\'s read-only portal token read its own statistics and no other application\'s', async () => {
    const token = (await h.api('POST', `/api/v1/auth/app-portal-access/${appId}`, { readOnly: true })).body.token as string;
    const as = (path: string) => fetch(h.url + path, { headers: { authorization: `Bearer ${token}` } });
    const own = await as(`/api/v1/stats/app/${appId}/attempt`);
    assert.equal(own.status, 200);
    assert.equal(((await own.json()) as any).data.successCount.reduce((a: number, b: number) => a + b, 0), 12);
    const withStats = await as(`/api/v1/app/${appId}/endpoint?with_stats=true`);
    assert.equal(withStats.status, 200);
    const other = await as(`/api/v1/stats/app/${otherAppId}/attempt`);
    assert.equal(other.status, 403);
    assert.equal(((await other.json()) as any).code, 'forbidden');
    assert.equal((await as(`/api/v1/app/${otherAppId}/endpoint?with_stats=true`)).status, 403);
  });

  // Last: Herald's clock only ever moves forward (rate limits and token caches count on it).
  it('stops counting attempts in with_stats once they are more than 24 hours old', async () => {
    shift += 27 * HOUR;
    const later = (await get(`/api/v1/app/${appId}/endpoint?with_stats=true`)).body.data;
    assert.deepEqual(later.map((e: any) => [e.stats.success, e.stats.failure]), [[0, 0], [0, 0]]);
  });
}));
