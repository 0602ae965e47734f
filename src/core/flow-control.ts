/**
 * Flow control, pure: when an endpoint may be sent to (design invariant 10, "waiting is not
 * sending"). Three things decide it, all kept per endpoint in the store so they hold across
 * workers and restarts:
 * - a rate limit, as GCRA (the generic cell rate algorithm): one number, the theoretical arrival
 *   time `tat`, says when the next request would be on schedule; a request may come up to a
 *   second early, so a burst of one second's worth goes at once and then the rate holds;
 * - adaptive flow control (AIMD): a 429, a 503 or a timeout halves the effective rate, and each
 *   second's worth of successes adds a tenth of the target back; `Retry-After` pauses the endpoint;
 * - a circuit breaker: a run of failures opens it, then one probe goes out at growing intervals
 *   and the first success closes it.
 * Times are epoch milliseconds; rates are requests per second.
 */

/** How early a request may come: a burst of one second's worth. */
export const BURST_MS = 1_000;
/** The lowest rate adaptive flow control goes down to: one request every 5 s. */
export const FLOOR_RATE = 0.2;
/** The rate is halved at most once in this long. */
export const DECREASE_EVERY_MS = 1_000;
/** The first probe of an open circuit waits this long, then each waits twice the one before, up to PROBE_MAX_MS. */
export const PROBE_MIN_MS = 5_000;
export const PROBE_MAX_MS = 10 * 60_000;
/** The longest a `Retry-After` pauses an endpoint. */
export const MAX_PAUSE_MS = 60 * 60_000;
/**
 * How far past the next allowed time a claim spreads the deliveries it defers. Further out they
 * would keep the pace of the rate they were deferred at after the rate went up again; within it,
 * a claim defers at most its candidates again once the spread has passed.
 */
export const MAX_SPREAD_MS = 1_000;
/** How often the deliveries of a disabled endpoint are looked at again (re-enabling makes them due at once). */
export const DISABLED_RECHECK_MS = 60 * 60_000;

export interface FlowPolicy {
  /** Failures in a row that open the circuit. */
  circuitFailures: number;
  /** ...when they all fall within this long of the first of them. */
  circuitWindowMs: number;
  /** An endpoint failing without a success for this long is disabled. */
  disableAfterMs: number;
}

export const DEFAULT_FLOW_POLICY: FlowPolicy = { circuitFailures: 10, circuitWindowMs: 10 * 60_000, disableAfterMs: 5 * 24 * 3_600_000 };

/** Why the effective rate is below the configured one. */
export type RateReason = 'throttled' | 'unavailable' | 'timeout';

/** One endpoint's flow state, as stored. A new endpoint's is NEUTRAL_FLOW. */
export interface FlowState {
  /** GCRA's theoretical arrival time: when the next request would be exactly on schedule. */
  tat: number;
  /** The adaptive rate; null when nothing lowered it (the configured rate, or none, holds). */
  rate: number | null;
  rateReason: RateReason | null;
  /** The rate the last decrease started from: what the receiver could not take. */
  ceiling: number | null;
  /** When the rate was last halved: signals from requests sent before then are not counted again. */
  decreasedAt: number | null;
  /** Since when the endpoint has been slowed down (first decrease or pause, until back to full rate). */
  throttledSince: number | null;
  /** Until when `Retry-After` holds every delivery to the endpoint back. */
  pausedUntil: number | null;
  consecutiveFailures: number;
  /** When the counted run of failures started (the circuit window's start). */
  failuresSince: number | null;
  /** When the endpoint last started failing, with no success since (auto-disable counts from it). */
  failingSince: number | null;
  circuitOpenedAt: number | null;
  /** When the open circuit lets its next probe go. */
  probeAt: number | null;
  probeIntervalMs: number | null;
}

export const NEUTRAL_FLOW: Readonly<FlowState> = Object.freeze({
  tat: 0, rate: null, rateReason: null, ceiling: null, decreasedAt: null, throttledSince: null, pausedUntil: null,
  consecutiveFailures: 0, failuresSince: null, failingSince: null, circuitOpenedAt: null, probeAt: null, probeIntervalMs: null,
});

/** Whether a state holds deliveries back (the claim must look at it) rather than only counting failures. */
export function holdsBack(state: FlowState): boolean {
  return state.rate !== null || state.pausedUntil !== null || state.circuitOpenedAt !== null;
}

/** The rate deliveries go at: the lower of the configured and the adaptive one; null for no limit. */
export function effectiveRate(configured: number | null, state: Pick<FlowState, 'rate'>): number | null {
  if (configured === null) return state.rate;
  return state.rate === null ? configured : Math.min(configured, state.rate);
}

// ---- GCRA ----

const emission = (rate: number) => 1_000 / rate;
const tolerance = (rate: number) => Math.max(0, BURST_MS - emission(rate));

/** How many requests may go at `now`. */
export function allowance(tat: number, rate: number, now: number): number {
  const start = Math.max(tat, now);
  const slack = now + tolerance(rate) - start;
  // The epsilon keeps 1000/50 * 49 from counting as a hair short of 980.
  return slack < 0 ? 0 : Math.floor(slack / emission(rate) + 1e-9) + 1;
}

/** The tat once `n` requests went at `now`. */
export function afterTaking(tat: number, rate: number, now: number, n: number): number {
  return Math.max(tat, now) + n * emission(rate);
}

/** When the next request may go (at `now` or later); the one after it, a period later. */
export function nextAllowedAt(tat: number, rate: number, now: number): number {
  return Math.max(now, tat - tolerance(rate));
}

// ---- Claim planning ----

export interface EndpointGate {
  configuredRate: number | null;
  disabled: boolean;
  state: FlowState;
}

export interface AppGate {
  configuredRate: number | null;
  tat: number;
}

export interface ClaimSlots {
  limit: number;
  slots: ReadonlyMap<string, number>;
  defaultSlots: number;
  appSlots: ReadonlyMap<string, number>;
  defaultAppSlots: number;
}

export interface ClaimPlan<Row> {
  /** The candidates to lease now, in due order. */
  picked: Row[];
  /** Candidates that must wait, and until when: they hold no slot and spend no attempt meanwhile. */
  deferred: Array<{ row: Row; runAt: number }>;
  /** The states that changed (tat, probe time, a pause that ran out), to write back. */
  endpoints: Map<string, FlowState>;
  /** The applications' new tat. */
  apps: Map<string, number>;
}

/**
 * Decides which due candidates (`[id, endpointId, appId]`, in due order) a claim leases: each must
 * fit the free slots of its endpoint and application (else it is left for a later claim, as it
 * is), and the gates of both (else it is deferred to when it may go). Endpoints and applications
 * without a gate pass freely.
 */
export function planClaim<Row extends readonly [id: unknown, endpointId: string, appId: string, ...rest: unknown[]]>(
  candidates: readonly Row[],
  request: ClaimSlots,
  endpoints: ReadonlyMap<string, EndpointGate>,
  apps: ReadonlyMap<string, AppGate>,
  now: number,
): ClaimPlan<Row> {
  const plan: ClaimPlan<Row> = { picked: [], deferred: [], endpoints: new Map(), apps: new Map() };
  const byEndpoint = new Map<string, number>();
  const byApp = new Map<string, number>();
  const waitingByEndpoint = new Map<string, number>();
  const waitingByApp = new Map<string, number>();
  const stateOf = (endpointId: string, gate: EndpointGate) => plan.endpoints.get(endpointId) ?? gate.state;
  for (const row of candidates) {
    if (plan.picked.length >= request.limit) break;
    const [, endpointId, appId] = row;
    const endpointCount = byEndpoint.get(endpointId) ?? 0;
    if (endpointCount >= (request.slots.get(endpointId) ?? request.defaultSlots)) continue;
    const appCount = byApp.get(appId) ?? 0;
    if (appCount >= (request.appSlots.get(appId) ?? request.defaultAppSlots)) continue;

    const gate = endpoints.get(endpointId);
    const endpointWait = gate ? endpointWaitsUntil(stateOf(endpointId, gate), gate, now, waitingByEndpoint.get(endpointId) ?? 0) : null;
    const appGate = apps.get(appId);
    const appTat = plan.apps.get(appId) ?? appGate?.tat ?? 0;
    const appRate = appGate?.configuredRate ?? null;
    const appWait = appRate !== null && allowance(appTat, appRate, now) === 0
      ? nextAllowedAt(appTat, appRate, now) + Math.min(MAX_SPREAD_MS, (waitingByApp.get(appId) ?? 0) * emission(appRate))
      : null;
    if (endpointWait !== null || appWait !== null) {
      plan.deferred.push({ row, runAt: Math.ceil(Math.max(endpointWait ?? 0, appWait ?? 0)) });
      if (endpointWait !== null) waitingByEndpoint.set(endpointId, (waitingByEndpoint.get(endpointId) ?? 0) + 1);
      if (appWait !== null) waitingByApp.set(appId, (waitingByApp.get(appId) ?? 0) + 1);
      continue;
    }
    if (gate) {
      const taken = take(stateOf(endpointId, gate), gate, now);
      if (taken) plan.endpoints.set(endpointId, taken);
    }
    if (appRate !== null) plan.apps.set(appId, afterTaking(appTat, appRate, now, 1));
    byEndpoint.set(endpointId, endpointCount + 1);
    byApp.set(appId, appCount + 1);
    plan.picked.push(row);
  }
  // A pause that ran out is forgotten, so the endpoint stops being looked at.
  for (const [endpointId, gate] of endpoints) {
    const state = stateOf(endpointId, gate);
    if (state.pausedUntil !== null && state.pausedUntil <= now) plan.endpoints.set(endpointId, settle({ ...state, pausedUntil: null }, gate.configuredRate));
  }
  return plan;
}

/**
 * Null when a delivery to the endpoint may go now; otherwise when it should be due again. The
 * `waiting`-th delivery deferred in this claim goes a period after the one before it, so a
 * backlog comes due at the rate rather than all at once.
 */
function endpointWaitsUntil(state: FlowState, gate: EndpointGate, now: number, waiting: number): number | null {
  if (gate.disabled) return now + DISABLED_RECHECK_MS;
  const rate = effectiveRate(gate.configuredRate, state);
  const spread = rate === null ? 0 : Math.min(MAX_SPREAD_MS, waiting * emission(rate));
  if (state.circuitOpenedAt !== null) {
    // One probe when it is due; the backlog waits for the probe after.
    return state.probeAt !== null && state.probeAt <= now ? null : (state.probeAt ?? now + PROBE_MIN_MS);
  }
  if (state.pausedUntil !== null && state.pausedUntil > now) return Math.max(state.pausedUntil, nextAllowedAt(state.tat, rate ?? Infinity, now)) + spread;
  if (rate === null) return null;
  return allowance(state.tat, rate, now) > 0 ? null : nextAllowedAt(state.tat, rate, now) + spread;
}

/** The state once one delivery went through the gate: the rate spent, or the probe sent. */
function take(state: FlowState, gate: EndpointGate, now: number): FlowState | null {
  if (state.circuitOpenedAt !== null) {
    const interval = state.probeIntervalMs ?? PROBE_MIN_MS;
    return { ...state, probeAt: now + interval, probeIntervalMs: Math.min(PROBE_MAX_MS, interval * 2) };
  }
  const rate = effectiveRate(gate.configuredRate, state);
  return rate === null ? null : { ...state, tat: afterTaking(state.tat, rate, now, 1) };
}

// ---- What results teach ----

/** What one attempt's result says about its endpoint. */
export type FlowSignalKind =
  | 'success'
  /** 429: slow down (adaptive), but the endpoint is alive. */
  | 'throttled'
  /** 503 or a timeout: slow down, and it counts as a failure. */
  | 'unavailable'
  | 'timeout'
  /** Any other failure of a request that was made. */
  | 'failure';

export interface FlowSignal {
  endpointId: string;
  appId: string;
  kind: FlowSignalKind;
  /** When the request started. */
  sentAt: number;
  /** When its answer (or failure) came. */
  at: number;
  /** The pause `Retry-After` asked for, in ms from `at`; null without one. */
  retryAfterMs: number | null;
}

/** What applying a batch's signals changed, beyond the state itself. */
export interface FlowChange {
  state: FlowState;
  opened: boolean;
  closed: boolean;
  /** Failing without a success for `disableAfterMs`: the endpoint is to be disabled. */
  disable: boolean;
}

/**
 * Applies one endpoint's signals (in the order their answers came) to its state. `observedRate`
 * is how fast the endpoint was being sent to, asked for only when a throttling signal finds
 * neither a configured nor an adaptive rate to halve.
 */
export function applySignals(
  initial: FlowState,
  configuredRate: number | null,
  signals: readonly FlowSignal[],
  policy: FlowPolicy,
  observedRate: () => number,
): FlowChange {
  let state = { ...initial };
  let opened = false;
  let closed = false;
  let disable = false;
  for (const signal of signals) {
    if (asksForLess(signal.kind)) {
      // Answers to requests sent before the last decrease were sent too fast for it, and those of
      // the second after it still meet the overload it answered: neither says anything new, so one
      // overload halves the rate once.
      if (state.decreasedAt === null || (signal.sentAt >= state.decreasedAt && signal.at - state.decreasedAt >= DECREASE_EVERY_MS)) {
        const base = effectiveRate(configuredRate, state) ?? Math.max(1, observedRate());
        state.rate = Math.max(FLOOR_RATE, base / 2);
        state.ceiling = base;
        state.rateReason = signal.kind;
        state.decreasedAt = signal.at;
        state.throttledSince ??= signal.at;
      }
      if (signal.retryAfterMs !== null) {
        state.pausedUntil = Math.max(state.pausedUntil ?? 0, signal.at + Math.min(MAX_PAUSE_MS, signal.retryAfterMs));
        state.throttledSince ??= signal.at;
      }
    }
    if (signal.kind === 'success') {
      if (state.circuitOpenedAt !== null) closed = true;
      state = { ...state, consecutiveFailures: 0, failuresSince: null, failingSince: null, circuitOpenedAt: null, probeAt: null, probeIntervalMs: null };
      state = increase(state, configuredRate);
    } else if (signal.kind !== 'throttled') {
      if (state.failuresSince === null || signal.at - state.failuresSince > policy.circuitWindowMs) {
        state.consecutiveFailures = 1;
        state.failuresSince = signal.at;
      } else {
        state.consecutiveFailures++;
      }
      state.failingSince ??= signal.sentAt;
      if (state.circuitOpenedAt === null && state.consecutiveFailures >= policy.circuitFailures) {
        state.circuitOpenedAt = signal.at;
        state.probeIntervalMs = PROBE_MIN_MS;
        state.probeAt = signal.at + PROBE_MIN_MS;
        opened = true;
      } else if (state.circuitOpenedAt !== null && (state.probeAt ?? 0) < signal.at) {
        // A probe that was not the claim's (one in flight when the circuit opened): wait anyway.
        state.probeAt = signal.at + (state.probeIntervalMs ?? PROBE_MIN_MS);
      }
      if (signal.at - state.failingSince >= policy.disableAfterMs) disable = true;
    }
  }
  return { state: settle(state, configuredRate), opened: opened && state.circuitOpenedAt !== null, closed, disable };
}

/**
 * Additive increase: each success adds a tenth of the target divided by the rate, so a second's
 * worth of successes adds a tenth of the target (at least one request a second). The target is
 * the configured rate; without one, twice the rate that last proved too fast, past which the
 * endpoint is no longer limited at all.
 */
function increase(state: FlowState, configuredRate: number | null): FlowState {
  if (state.rate === null) return state;
  const target = configuredRate ?? 2 * (state.ceiling ?? state.rate);
  const step = Math.max(1, (configuredRate ?? state.ceiling ?? state.rate) / 10);
  const rate = state.rate + Math.min(step, step / state.rate);
  return rate >= target ? { ...state, rate: null, rateReason: null, ceiling: null, decreasedAt: null } : { ...state, rate };
}

/** Clears what no longer applies: the throttled-since time once nothing slows the endpoint. */
function settle(state: FlowState, configuredRate: number | null): FlowState {
  if (configuredRate !== null && state.rate !== null && state.rate >= configuredRate) {
    state = { ...state, rate: null, rateReason: null, ceiling: null, decreasedAt: null };
  }
  if (state.rate === null && state.pausedUntil === null) state = { ...state, throttledSince: null };
  return state;
}

/**
 * Whether a signal asks Herald to send the endpoint less (a 429, a 503, a timeout): it lowers the
 * endpoint's rate here, holds its lane until recorded (FlowWatch), sends back what waits in the
 * lane (the dispatcher), and narrows how many the lane sends at once (Lanes).
 */
export function asksForLess(kind: FlowSignalKind): kind is RateReason {
  return kind === 'throttled' || kind === 'unavailable' || kind === 'timeout';
}

/** What an attempt's outcome tells flow control; null for one that made no request. */
export function signalKind(statusCode: number, failure: string | null): FlowSignalKind | null {
  if (failure === 'endpoint_disabled' || failure === 'secret_unavailable' || failure === 'transformation_failed' || failure === 'transformation_canceled') return null;
  if (failure === 'timeout') return 'timeout';
  if (failure !== null) return 'failure';
  if (statusCode >= 200 && statusCode < 300) return 'success';
  if (statusCode === 429) return 'throttled';
  if (statusCode === 503) return 'unavailable';
  return 'failure';
}
