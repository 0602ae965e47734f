import type { Random } from './clock.ts';

/**
 * When to try again. `delaysMs[i]` is the wait after attempt i+1 fails, so a schedule of
 * n delays allows n+1 attempts. The default is Svix's: 8 attempts over about 27.6 hours.
 */
export interface RetryPolicy {
  readonly delaysMs: readonly number[];
  /** Each delay is moved by up to this fraction either way, so retries of one outage spread out. */
  readonly jitter: number;
}

export const DEFAULT_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';
export const DEFAULT_JITTER = 0.2;

/** What one HTTP attempt came back with, as far as the retry decision cares. */
export type AttemptOutcome =
  | { kind: 'response'; statusCode: number; retryAfter: string | null }
  | { kind: 'no-response' };

export type NextStep =
  | { kind: 'delivered' }
  | { kind: 'retry'; delayMs: number }
  /** The schedule is used up: the delivery fails until someone recovers or resends it. */
  | { kind: 'exhausted' }
  /** 410 Gone: the receiver says the endpoint no longer exists (Standard Webhooks: disable it). */
  | { kind: 'gone' };

const THROTTLING_STATUS = new Set([429, 503]);

export function isSuccess(statusCode: number): boolean {
  return statusCode >= 200 && statusCode < 300;
}

/** Decides what follows attempt number `attempt` (1-based) of a delivery. */
export function nextStep(
  policy: RetryPolicy,
  attempt: number,
  outcome: AttemptOutcome,
  nowMs: number,
  random: Random,
): NextStep {
  if (outcome.kind === 'response') {
    if (isSuccess(outcome.statusCode)) return { kind: 'delivered' };
    if (outcome.statusCode === 410) return { kind: 'gone' };
  }
  const scheduled = policy.delaysMs[attempt - 1];
  if (scheduled === undefined) return { kind: 'exhausted' };

  if (outcome.kind === 'response' && THROTTLING_STATUS.has(outcome.statusCode) && outcome.retryAfter) {
    const hinted = parseRetryAfter(outcome.retryAfter, nowMs);
    if (hinted !== null) return { kind: 'retry', delayMs: clampToSchedule(policy, hinted) };
  }
  return { kind: 'retry', delayMs: withJitter(scheduled, policy.jitter, random) };
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string, nowMs: number): number | null {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

function clampToSchedule(policy: RetryPolicy, delayMs: number): number {
  const min = Math.min(...policy.delaysMs);
  const max = Math.max(...policy.delaysMs);
  return Math.min(max, Math.max(min, delayMs));
}

function withJitter(delayMs: number, jitter: number, random: Random): number {
  return Math.round(delayMs * (1 + jitter * (2 * random.fraction() - 1)));
}
