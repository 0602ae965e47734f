import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  afterTaking, allowance, applySignals, DEFAULT_FLOW_POLICY, DISABLED_RECHECK_MS, type EndpointGate, FLOOR_RATE, type FlowSignal,
  type FlowState, NEUTRAL_FLOW, nextAllowedAt, planClaim, PROBE_MAX_MS, PROBE_MIN_MS, signalKind,
} from './flow-control.ts';

const T0 = 1_700_000_000_000;
const state = (changes: Partial<FlowState> = {}): FlowState => ({ ...NEUTRAL_FLOW, ...changes });
const signal = (kind: FlowSignal['kind'], at: number, changes: Partial<FlowSignal> = {}): FlowSignal =>
  ({ endpointId: 'ep', appId: 'app', kind, sentAt: at - 10, at, retryAfterMs: null, ...changes });
const slots = (limit = 1_000) => ({ limit, slots: new Map(), defaultSlots: 1_000, appSlots: new Map(), defaultAppSlots: 1_000 });
const rows = (n: number, endpointId = 'ep', appId = 'app') => Array.from({ length: n }, (_, i) => [i, endpointId, appId] as const);
const gate = (changes: Partial<EndpointGate> = {}): Map<string, EndpointGate> => new Map([['ep', { configuredRate: null, disabled: false, state: state(), ...changes }]]);

describe('GCRA', () => {
  it('lets a burst of one second\'s worth go at once, then one request per period', () => {
    assert.equal(allowance(0, 10, T0), 10);
    const tat = afterTaking(0, 10, T0, 10);
    assert.equal(allowance(tat, 10, T0), 0);
    assert.equal(nextAllowedAt(tat, 10, T0), T0 + 100);
    assert.equal(allowance(tat, 10, T0 + 100), 1);
    assert.equal(allowance(tat, 10, T0 + 99), 0);
  });

  it('never lets more than rate + burst through in any second, however the claims fall', () => {
    for (const rate of [1, 3, 7, 50, 333]) {
      let tat = 0;
      const sent: number[] = [];
      // Claims at uneven moments over 5 s, each taking all it may.
      for (let now = T0; now < T0 + 5_000; now += 1 + ((now * 7) % 37)) {
        const n = allowance(tat, rate, now);
        for (let i = 0; i < n; i++) sent.push(now);
        tat = afterTaking(tat, rate, now, n);
      }
      for (const start of sent) {
        const inWindow = sent.filter((t) => t >= start && t < start + 1_000).length;
        assert.ok(inWindow <= 2 * rate, `rate ${rate}: ${inWindow} in a second`);
      }
      // And over the whole run, no more than the rate allows after the first burst.
      assert.ok(sent.length <= rate * 5 + rate, `rate ${rate}: ${sent.length}`);
      assert.ok(sent.length >= rate * 4, `rate ${rate}: only ${sent.length}`);
    }
  });

  it('lets a rate below one a second send one request, then wait a whole period', () => {
    assert.equal(allowance(0, 0.2, T0), 1);
    const tat = afterTaking(0, 0.2, T0, 1);
    assert.equal(allowance(tat, 0.2, T0 + 4_999), 0);
    assert.equal(allowance(tat, 0.2, T0 + 5_000), 1);
  });
});

describe('planning a claim', () => {
  it('leases what the rate allows and defers the rest, spread a period apart, without touching other endpoints', () => {
    const candidates = [...rows(5), ...rows(3, 'other')];
    const plan = planClaim(candidates, slots(), gate({ configuredRate: 2 }), new Map(), T0);
    assert.deepEqual(plan.picked.map((r) => r[1]), ['ep', 'ep', 'other', 'other', 'other']);
    assert.deepEqual(plan.deferred.map((d) => d.runAt), [T0 + 500, T0 + 1_000, T0 + 1_500]);
    assert.equal(plan.endpoints.get('ep')!.tat, T0 + 1_000);
  });

  it('applies an application\'s rate over all its endpoints', () => {
    const candidates = [...rows(3, 'a'), ...rows(3, 'b')];
    const apps = new Map([['app', { configuredRate: 4, tat: 0 }]]);
    const plan = planClaim(candidates, slots(), new Map(), apps, T0);
    assert.equal(plan.picked.length, 4);
    assert.equal(plan.deferred.length, 2);
    assert.equal(plan.apps.get('app'), T0 + 1_000);
  });

  it('leaves candidates beyond the free slots alone rather than deferring them', () => {
    const plan = planClaim(rows(5), { ...slots(), slots: new Map([['ep', 2]]) }, gate({ configuredRate: 100 }), new Map(), T0);
    assert.equal(plan.picked.length, 2);
    assert.equal(plan.deferred.length, 0);
  });

  it('sends one probe through an open circuit when it is due, and defers the rest to the probe after', () => {
    const open = state({ circuitOpenedAt: T0 - 10_000, probeAt: T0, probeIntervalMs: PROBE_MIN_MS });
    const plan = planClaim(rows(4), slots(), gate({ state: open }), new Map(), T0);
    assert.equal(plan.picked.length, 1);
    const next = plan.endpoints.get('ep')!;
    assert.equal(next.probeAt, T0 + PROBE_MIN_MS);
    assert.equal(next.probeIntervalMs, PROBE_MIN_MS * 2);
    assert.deepEqual(plan.deferred.map((d) => d.runAt), [T0, T0, T0].map(() => T0 + PROBE_MIN_MS));
    // Before the probe is due, nothing goes.
    const early = planClaim(rows(2), slots(), gate({ state: { ...open, probeAt: T0 + 1 } }), new Map(), T0);
    assert.equal(early.picked.length, 0);
  });

  it('doubles the probe interval up to ten minutes', () => {
    const open = state({ circuitOpenedAt: T0, probeAt: T0, probeIntervalMs: PROBE_MAX_MS });
    const plan = planClaim(rows(1), slots(), gate({ state: open }), new Map(), T0);
    assert.equal(plan.endpoints.get('ep')!.probeIntervalMs, PROBE_MAX_MS);
  });

  it('holds deliveries back until a Retry-After pause ends, then forgets the pause', () => {
    const paused = state({ pausedUntil: T0 + 30_000 });
    const plan = planClaim(rows(2), slots(), gate({ state: paused }), new Map(), T0);
    assert.equal(plan.picked.length, 0);
    assert.deepEqual(plan.deferred.map((d) => d.runAt), [T0 + 30_000, T0 + 30_000]);
    const after = planClaim(rows(2), slots(), gate({ state: paused }), new Map(), T0 + 30_000);
    assert.equal(after.picked.length, 2);
    assert.equal(after.endpoints.get('ep')!.pausedUntil, null);
  });

  it('parks a disabled endpoint\'s deliveries for an hour', () => {
    const plan = planClaim(rows(1), slots(), gate({ disabled: true }), new Map(), T0);
    assert.deepEqual(plan.deferred.map((d) => d.runAt), [T0 + DISABLED_RECHECK_MS]);
  });
});

describe('what results teach', () => {
  const policy = { ...DEFAULT_FLOW_POLICY, circuitFailures: 3, circuitWindowMs: 60_000, disableAfterMs: 3_600_000 };

  it('halves the configured rate on a 429, once per overload, down to the floor', () => {
    let change = applySignals(state(), 40, [signal('throttled', T0)], policy, () => 0);
    assert.equal(change.state.rate, 20);
    assert.equal(change.state.rateReason, 'throttled');
    assert.equal(change.state.throttledSince, T0);
    // Requests sent before the decrease do not halve it again.
    change = applySignals(change.state, 40, [signal('throttled', T0 + 5, { sentAt: T0 - 1 })], policy, () => 0);
    assert.equal(change.state.rate, 20);
    let current = change.state;
    for (let i = 1; i < 20; i++) current = applySignals(current, 40, [signal('timeout', T0 + i * 1_000)], policy, () => 0).state;
    assert.equal(current.rate, FLOOR_RATE);
  });

  it('starts an unlimited endpoint at half the rate it was being sent at', () => {
    const change = applySignals(state(), null, [signal('unavailable', T0)], policy, () => 300);
    assert.equal(change.state.rate, 150);
    assert.equal(change.state.ceiling, 300);
  });

  it('adds a tenth of the configured rate back per second\'s worth of successes, and returns to it', () => {
    let current = applySignals(state(), 40, [signal('throttled', T0)], policy, () => 0).state;
    const successes = Array.from({ length: 20 }, (_, i) => signal('success', T0 + 100 + i));
    current = applySignals(current, 40, successes, policy, () => 0).state;
    assert.ok(current.rate! > 23.5 && current.rate! <= 24, String(current.rate));
    for (let round = 0; round < 10 && current.rate !== null; round++) current = applySignals(current, 40, successes, policy, () => 0).state;
    assert.equal(current.rate, null);
    assert.equal(current.throttledSince, null);
  });

  it('pauses the endpoint as long as Retry-After asks', () => {
    const change = applySignals(state(), null, [signal('throttled', T0, { retryAfterMs: 30_000 })], policy, () => 10);
    assert.equal(change.state.pausedUntil, T0 + 30_000);
  });

  it('opens the circuit after the configured failures in a row within the window, not when spread wider', () => {
    const failures = [1, 2, 3].map((i) => signal('failure', T0 + i));
    const opened = applySignals(state(), null, failures, policy, () => 0);
    assert.equal(opened.opened, true);
    assert.equal(opened.state.probeAt, T0 + 3 + PROBE_MIN_MS);
    const spread = [0, 1, 2].map((i) => signal('failure', T0 + i * 61_000));
    assert.equal(applySignals(state(), null, spread, policy, () => 0).state.circuitOpenedAt, null);
    // A success in between starts the count again; a 429 neither counts nor resets.
    const broken = [signal('failure', T0), signal('failure', T0 + 1), signal('success', T0 + 2), signal('failure', T0 + 3), signal('throttled', T0 + 4)];
    assert.equal(applySignals(state(), null, broken, policy, () => 1).state.consecutiveFailures, 1);
  });

  it('closes the circuit on the first success', () => {
    const open = state({ circuitOpenedAt: T0, probeAt: T0 + 5_000, probeIntervalMs: 10_000, consecutiveFailures: 12, failingSince: T0 - 1 });
    const change = applySignals(open, null, [signal('success', T0 + 6_000)], policy, () => 0);
    assert.equal(change.closed, true);
    assert.equal(change.state.circuitOpenedAt, null);
    assert.equal(change.state.failingSince, null);
  });

  it('disables an endpoint failing without a success for the configured time', () => {
    const failing = state({ failingSince: T0 });
    assert.equal(applySignals(failing, null, [signal('failure', T0 + 3_599_999, { sentAt: T0 + 3_599_000 })], policy, () => 0).disable, false);
    assert.equal(applySignals(failing, null, [signal('failure', T0 + 3_600_000)], policy, () => 0).disable, true);
  });

  it('reads attempts\' outcomes as signals, and requests never made as none', () => {
    assert.equal(signalKind(200, null), 'success');
    assert.equal(signalKind(429, null), 'throttled');
    assert.equal(signalKind(503, null), 'unavailable');
    assert.equal(signalKind(0, 'timeout'), 'timeout');
    assert.equal(signalKind(500, null), 'failure');
    assert.equal(signalKind(0, 'connection_refused'), 'failure');
    assert.equal(signalKind(0, 'endpoint_disabled'), null);
  });
});
