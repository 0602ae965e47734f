import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { type Receiver, type Responder, startReceiver } from './support/receiver.ts';
import { postgresReachable, SKIPPED_POSTGRES, trackFailures } from './support/stores.ts';
import { settled, waitFor } from './support/wait.ts';

/**
 * Flow control end to end: real receivers on loopback that misbehave on purpose (429 with and
 * without Retry-After, dead, flapping, 410), on both stores. Assertions count requests; the only
 * ones about time are lower bounds (nothing arrived before a pause ended) or upper bounds on what
 * a second may hold, which a loaded machine can only make easier to meet.
 */
const STORES = [['sqlite', true], ['postgres', await postgresReachable()]] as const;

/**
 * The most requests that arrived within any one second. The rate is kept when deliveries are
 * claimed and they arrive a little later, so tests allow two requests over rate + burst.
 */
function busiestSecond(receiver: Receiver): number {
  const times = receiver.requests.map((r) => r.receivedAt).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1_000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

for (const [store, reachable] of STORES) {
  (reachable ? describe : describe.skip)(reachable ? `flow control (${store})` : SKIPPED_POSTGRES, () => {
    const failures = trackFailures();
    const running: Array<{ close(keep?: boolean): Promise<void> }> = [];
    after(async () => {
      for (const item of running.reverse()) await item.close(failures.any());
    });
    const herald = async (env: Record<string, string> = {}) => {
      const h = await startTestHerald({ store, env });
      running.push(h);
      return h;
    };
    const receiver = async (respond?: Responder) => {
      const r = await startReceiver(respond);
      running.push(r);
      return r;
    };
    const endpoint = async (h: TestHerald, url: string, fields: Record<string, unknown> = {}) => {
      const app = (await h.api('POST', '/api/v1/app', { name: 'flow' })).body;
      const ep = (await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url, ...fields })).body;
      return { appId: app.id as string, id: ep.id as string, path: `/api/v1/app/${app.id}/endpoint/${ep.id}` };
    };
    const send = async (h: TestHerald, appId: string, count: number) => {
      for (let i = 0; i < count; i++) {
        const answer = await h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'flow.test', payload: { i } });
        assert.equal(answer.status, 202);
      }
    };

    it('holds an endpoint to its throttleRate: no second sees more than the rate and its burst, and every message arrives', async () => {
      const h = await herald();
      const target = await receiver();
      const { appId, path } = await endpoint(h, target.url, { throttleRate: 5 });
      await send(h, appId, 25);
      await waitFor('every message at the receiver', () => target.requests.length >= 25, 30_000);
      assert.ok(busiestSecond(target) <= 12, `the busiest second held ${busiestSecond(target)} requests`);
      // Settled, nothing more is coming: a second copy of any would have arrived by then.
      await settled((read) => h.api('GET', read), [path]);
      assert.equal(new Set(target.requests.map((r) => r.headers['webhook-id'])).size, 25);
      assert.equal(target.requests.length, 25, 'none twice');
    });

    it('says RateLimited in rate-limit-status while the configured throttleRate, the endpoint\'s or its application\'s, holds deliveries back, since when the next to go was due, and Ok before and after', async () => {
      const h = await herald();
      const target = await receiver();
      const { appId, path } = await endpoint(h, target.url, { throttleRate: 5 });
      const idle = (await h.api('GET', `${path}/rate-limit-status`)).body;
      assert.deepEqual([idle.status, idle.throttledSince], ['Ok', null], 'a rate that holds nothing back limits nothing');
      const publishing = Date.now();
      await send(h, appId, 20);
      const held = await waitFor('deliveries held back by the rate', async () => {
        const body = (await h.api('GET', `${path}/rate-limit-status`)).body;
        return body.status === 'RateLimited' ? body : null;
      });
      assert.equal(held.throttleRate, 5);
      const since = Date.parse(held.throttledSince);
      assert.ok(since >= publishing - 1_000 && since <= Date.now(), `throttled since ${held.throttledSince}`);
      assert.ok(target.requests.length < 20, 'reported while deliveries were waiting');
      await waitFor('every message at the receiver', () => target.requests.length >= 20, 30_000);
      const after = (await h.api('GET', `${path}/rate-limit-status`)).body;
      assert.deepEqual([after.status, after.throttledSince], ['Ok', null]);

      // An application's rate holds back each of its endpoints.
      const shared = await receiver();
      const app = (await h.api('POST', '/api/v1/app', { name: 'flow', throttleRate: 3 })).body;
      const ep = (await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: shared.url })).body;
      await send(h, app.id, 10);
      const byApp = await waitFor('deliveries held back by the application\'s rate', async () => {
        const body = (await h.api('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/rate-limit-status`)).body;
        return body.status === 'RateLimited' ? body : null;
      });
      assert.deepEqual([byApp.applicationThrottleRate, byApp.throttleRate], [3, null]);
      assert.ok(shared.requests.length < 10);
      await waitFor('every message at the application\'s endpoint', () => shared.requests.length >= 10, 30_000);
    });

    it('spreads an application\'s throttleRate over all its endpoints', async () => {
      const h = await herald();
      const [a, b] = [await receiver(), await receiver()];
      const app = (await h.api('POST', '/api/v1/app', { name: 'flow', throttleRate: 4 })).body;
      for (const r of [a, b]) await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: r.url });
      await send(h, app.id, 10);
      await waitFor('every message at both', () => a.requests.length >= 10 && b.requests.length >= 10, 30_000);
      const merged = { requests: [...a.requests, ...b.requests] } as Receiver;
      assert.ok(busiestSecond(merged) <= 10, `the busiest second held ${busiestSecond(merged)} requests to the application`);
    });

    it('pauses an endpoint for as long as a 429\'s Retry-After asks, then sends what waited; rate-limit-status says RateLimited meanwhile', async () => {
      const h = await herald({ HERALD_RETRY_SCHEDULE: '100ms,100ms,100ms' });
      const target = await receiver((_, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 }));
      const { appId, path } = await endpoint(h, target.url);
      await send(h, appId, 1);
      await waitFor('the 429', () => target.requests.length === 1);
      const status = await waitFor('the pause to be recorded', async () => {
        const body = (await h.api('GET', `${path}/rate-limit-status`)).body;
        return body.status === 'RateLimited' ? body : null;
      });
      assert.equal(status.rateReason, 'retry_after');
      assert.ok(status.throttledSince);
      const answeredAt = target.requests[0]!.receivedAt;
      await send(h, appId, 3);
      await waitFor('the message that was refused and the three that waited', () => target.requests.length >= 5, 20_000);
      for (const request of target.requests.slice(1)) {
        assert.ok(request.receivedAt >= answeredAt + 1_900, `a request came ${request.receivedAt - answeredAt} ms after the 429 asked for 2 s`);
      }
    });

    it('stops a burst at a 429\'s Retry-After: a hundred messages sent at once, only those already in flight go before the pause ends', async () => {
      const h = await herald({ HERALD_RETRY_SCHEDULE: '500ms,500ms,500ms', HERALD_MAX_IN_FLIGHT_PER_ENDPOINT: '4' });
      let pausedAt = 0;
      const target = await receiver(() => {
        pausedAt ||= Date.now();
        return Date.now() - pausedAt < 3_000 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 };
      });
      const { appId, path } = await endpoint(h, target.url);
      await Promise.all(Array.from({ length: 100 }, (_, i) => h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'flow.test', payload: { i } })));
      // Every message arrives in the end, once the pause is over: the wait suffices for them all.
      await waitFor('every message delivered', async () => (await h.api('GET', `${path}/stats`)).body.success === 100, 30_000);
      const duringPause = target.requests.filter((r) => r.receivedAt < pausedAt + 2_900).length;
      // What the lane had in flight when the first 429 came (at most four), and nothing after.
      assert.ok(duringPause <= 4, `${duringPause} requests reached the endpoint during the 3 s it asked for`);
    });

    it('halves the effective rate on a 429 without Retry-After, says why in the stats, and still delivers everything', async () => {
      const h = await herald({ HERALD_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms,100ms' });
      const target = await receiver((_, index) => (index < 2 ? { status: 429 } : { status: 200 }));
      const { appId, path } = await endpoint(h, target.url, { throttleRate: 20 });
      await send(h, appId, 1);
      const stats = await waitFor('the lower rate in the stats', async () => {
        const body = (await h.api('GET', `${path}/stats`)).body;
        return body.effectiveRate !== null && body.effectiveRate < 20 ? body : null;
      });
      assert.equal(stats.rateReason, 'throttled');
      assert.equal(stats.throttleRate, 20);
      await send(h, appId, 9);
      await waitFor('every message delivered', async () => (await h.api('GET', `${path}/stats`)).body.success === 10, 30_000);
    });

    it('opens a dead endpoint\'s circuit: its deliveries wait instead of spending their attempts, a healthy endpoint beside it is untouched, and the first successful probe lets the backlog go', async () => {
      // Nine attempts 300 ms apart: without the circuit every delivery is exhausted in under 3 s, long
      // before the receiver recovers (after the first probe, 5 s after the circuit opens); with it,
      // none is, even when a loaded machine takes a second to record the failures that open it.
      const h = await herald({ HERALD_RETRY_SCHEDULE: Array.from({ length: 8 }, () => '300ms').join(','), HERALD_CIRCUIT_FAILURES: '3' });
      let dead = true;
      const target = await receiver(() => (dead ? { status: 500 } : { status: 200 }));
      const healthy = await receiver();
      const { appId, path } = await endpoint(h, target.url);
      await h.api('POST', `/api/v1/app/${appId}/endpoint`, { url: healthy.url });
      await send(h, appId, 10);
      await waitFor('the healthy endpoint to get every message', () => healthy.requests.length >= 10);
      const open = await waitFor('the circuit to open', async () => {
        const body = (await h.api('GET', `${path}/stats`)).body;
        return body.circuit === 'open' ? body : null;
      });
      assert.ok(open.consecutiveFailures >= 3);
      assert.ok(open.failingSince);
      assert.equal((await h.api('GET', `${path}/rate-limit-status`)).body.status, 'RateLimited');
      dead = false;
      await waitFor('every message delivered after the probe', async () => (await h.api('GET', `${path}/stats`)).body.success === 10, 30_000);
      const stats = (await h.api('GET', `${path}/stats`)).body;
      assert.equal(stats.fail, 0, 'no delivery used up its attempts while the circuit was open');
      assert.equal(stats.circuit, 'closed');
      assert.equal(healthy.requests.length, 10);
    });

    it('stops a burst at the circuit: a dead endpoint sent a hundred messages at once gets the attempts that open it and those already in flight, not a hundred', async () => {
      const h = await herald({ HERALD_RETRY_SCHEDULE: '1h', HERALD_CIRCUIT_FAILURES: '5', HERALD_MAX_IN_FLIGHT_PER_ENDPOINT: '4' });
      const target = await receiver(() => ({ status: 503 }));
      const { appId, path } = await endpoint(h, target.url);
      await Promise.all(Array.from({ length: 100 }, (_, i) => h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'flow.test', payload: { i } })));
      // Once it is open and nothing is in flight, what went out is all that will before the first
      // probe (5 s on): the rest wait, deferred, their attempts unspent.
      await waitFor('the circuit to open with nothing in flight', async () => {
        const stats = (await h.api('GET', `${path}/stats`)).body;
        return stats.circuit === 'open' && stats.sending === 0;
      });
      // Five failures open it; up to four more were in flight, and the lane held four more.
      assert.ok(target.requests.length <= 5 + 4 + 4, `${target.requests.length} attempts reached the dead endpoint`);
    });

    it('disables an endpoint that answers 410 with the reason shown, keeps its other deliveries waiting rather than failing them, and lets them go when PATCHed enabled', async () => {
      const h = await herald({ HERALD_RETRY_SCHEDULE: Array.from({ length: 20 }, () => '200ms').join(','), HERALD_CIRCUIT_FAILURES: '1000' });
      let broken = true;
      // Message 0 is answered 410; the others fail until the endpoint is enabled again.
      const target = await receiver((request) => (JSON.parse(request.body.toString()).i === 0 ? { status: 410 } : broken ? { status: 500 } : { status: 200 }));
      const { appId, path } = await endpoint(h, target.url);
      // A control beside it, failing on the same schedule: its retries show the wait below is long enough.
      const control = await receiver(() => ({ status: 500 }));
      await h.api('POST', `/api/v1/app/${appId}/endpoint`, { url: control.url });
      // The two that will wait are published first: fan-out gives a disabled endpoint no new message.
      for (const i of [1, 2]) assert.equal((await h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'flow.test', payload: { i } })).status, 202);
      await waitFor('both tried once', () => target.requests.length >= 2);
      assert.equal((await h.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'flow.test', payload: { i: 0 } })).status, 202);
      const disabled = await waitFor('the endpoint disabled', async () => {
        const body = (await h.api('GET', path)).body;
        return body.disabled ? body : null;
      });
      assert.equal(disabled.disabledReason, 'gone');
      assert.ok(disabled.disabledAt);
      // Five retry periods: before flow control, each retry claimed meanwhile failed with endpoint_disabled.
      const controlBefore = control.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.ok(control.requests.length - controlBefore >= 2, `retries went out beside it in the same wait (${control.requests.length - controlBefore})`);
      const waiting = (await h.api('GET', `${path}/stats`)).body;
      assert.equal(waiting.fail, 1, 'only the 410');
      assert.equal(waiting.pending + waiting.sending, 2);
      const attempts = (await h.api('GET', `/api/v1/app/${appId}/attempt/endpoint/${disabled.id}`)).body.data;
      assert.ok(attempts.every((a: { failureReason: string | null }) => a.failureReason !== 'endpoint_disabled'));
      broken = false;
      const enabled = (await h.api('PATCH', path, { disabled: false })).body;
      assert.equal(enabled.disabledReason, null);
      assert.equal(enabled.disabledAt, null);
      await waitFor('the waiting deliveries delivered', async () => (await h.api('GET', `${path}/stats`)).body.success === 2, 20_000);
    });

    it('disables an endpoint failing without a single success for HERALD_DISABLE_AFTER, saying why', async () => {
      const h = await herald({ HERALD_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms', HERALD_DISABLE_AFTER: '600ms', HERALD_CIRCUIT_FAILURES: '1000' });
      const target = await receiver(() => ({ status: 500 }));
      const { appId, path } = await endpoint(h, target.url);
      await send(h, appId, 1);
      const disabled = await waitFor('the endpoint disabled', async () => {
        const body = (await h.api('GET', path)).body;
        return body.disabled ? body : null;
      }, 20_000);
      assert.equal(disabled.disabledReason, 'failing');
      assert.ok(target.requests.length >= 2, 'it failed more than once first');
      const stats = (await h.api('GET', `${path}/stats`)).body;
      assert.equal(stats.disabledReason, 'failing');
      assert.ok(stats.failingSince);
    });
  });
}
