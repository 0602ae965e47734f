import { type FlowSignal, type FlowState, NEUTRAL_FLOW, type RateReason } from '../core/flow-control.ts';

/** endpoint_flow's state columns, in FlowState's order (`flowValues`). */
export const FLOW_COLUMNS = [
  'tat', 'rate', 'rate_reason', 'ceiling', 'decreased_at', 'throttled_since', 'paused_until',
  'consecutive_failures', 'failures_since', 'failing_since', 'circuit_opened_at', 'probe_at', 'probe_interval_ms',
] as const;

/** The rows a claim must gate and a worker watches; the same test as the partial index `endpoint_flow_watched`. */
export const HOLDS_BACK = (f: string) => `(${f}.rate IS NOT NULL OR ${f}.paused_until IS NOT NULL OR ${f}.circuit_opened_at IS NOT NULL)`;
export const WATCHED = (f: string) => `(${f}.rate IS NOT NULL OR ${f}.paused_until IS NOT NULL OR ${f}.circuit_opened_at IS NOT NULL OR ${f}.consecutive_failures > 0)`;

/** What `resume` and a closing circuit reset: everything but the tat, which keeps the rate honest. */
export const FRESH_START = `rate = NULL, rate_reason = NULL, ceiling = NULL, decreased_at = NULL, throttled_since = NULL, paused_until = NULL,
  consecutive_failures = 0, failures_since = NULL, failing_since = NULL, circuit_opened_at = NULL, probe_at = NULL, probe_interval_ms = NULL`;

/**
 * A delivery flow control deferred is pending with `run_at` past its `next_attempt_at` (a deferral
 * moves only `run_at`; the retry schedule sets both), so making them due again touches no other.
 */
export const DEFERRED = `status = 1 AND run_at > ? AND run_at > coalesce(next_attempt_at, 0)`;

/**
 * The scheduled time of an endpoint's deferred delivery that goes next (`?`: the endpoint, now).
 * Deferrals keep the claim's due order, so it is the one held back longest; and it stops at the
 * first, where the earliest schedule time would read every waiting row.
 */
export const HELD_BACK_SINCE = `SELECT coalesce(next_attempt_at, created_at) AS since FROM deliveries
  WHERE endpoint_id = ? AND ${DEFERRED} ORDER BY run_at LIMIT 1`;

/**
 * How fast an endpoint was being sent to, when it is first throttled with no rate to halve: its
 * attempts in the last second, and the requests still in flight (a burst's answers come in over
 * several result batches, and the first 429 may arrive with few of them recorded).
 */
export const OBSERVED = `SELECT (SELECT count(*) FROM attempts WHERE endpoint_id = ? AND id >= ?)
  + (SELECT count(*) FROM deliveries WHERE endpoint_id = ? AND status = 3) AS n`;

type Row = Record<string, unknown>;
const numberOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));

export function toFlowState(row: Row): FlowState {
  return {
    tat: Number(row.tat ?? 0),
    rate: numberOrNull(row.rate),
    rateReason: (row.rate_reason ?? null) as RateReason | null,
    ceiling: numberOrNull(row.ceiling),
    decreasedAt: numberOrNull(row.decreased_at),
    throttledSince: numberOrNull(row.throttled_since),
    pausedUntil: numberOrNull(row.paused_until),
    consecutiveFailures: Number(row.consecutive_failures ?? 0),
    failuresSince: numberOrNull(row.failures_since),
    failingSince: numberOrNull(row.failing_since),
    circuitOpenedAt: numberOrNull(row.circuit_opened_at),
    probeAt: numberOrNull(row.probe_at),
    probeIntervalMs: numberOrNull(row.probe_interval_ms),
  };
}

/** A joined row's flow state: neutral when the endpoint has no flow row yet. */
export function flowStateOf(row: Row): FlowState {
  return row.tat === null || row.tat === undefined ? { ...NEUTRAL_FLOW } : toFlowState(row);
}

export function flowValues(state: FlowState): unknown[] {
  return [
    state.tat, state.rate, state.rateReason, state.ceiling, state.decreasedAt, state.throttledSince, state.pausedUntil,
    state.consecutiveFailures, state.failuresSince, state.failingSince, state.circuitOpenedAt, state.probeAt, state.probeIntervalMs,
  ];
}

/** Signals by endpoint, each endpoint's in the order their answers came; endpoints sorted, so locks are always taken in one order. */
export function signalsByEndpoint(signals: readonly FlowSignal[]): Array<[string, FlowSignal[]]> {
  const grouped = new Map<string, FlowSignal[]>();
  for (const signal of signals) {
    const list = grouped.get(signal.endpointId);
    if (list) list.push(signal);
    else grouped.set(signal.endpointId, [signal]);
  }
  for (const list of grouped.values()) list.sort((a, b) => a.at - b.at);
  return [...grouped].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
