import { type Attempt, Status } from './model.ts';

/**
 * Attempt statistics, rolled up as attempts are recorded: per application, endpoint and
 * five-minute bucket, how many attempts succeeded, failed or were canceled, and a histogram of how
 * long they took. The dashboard's charts read these rows instead of the attempts themselves, so
 * their cost follows the number of buckets shown, not the number of attempts made.
 */

/** The rollup's grain: every statistic is kept per five minutes (epoch-aligned, so UTC-aligned). */
export const ROLLUP_MS = 5 * 60_000;

export const bucketOf = (ms: number) => Math.floor(ms / ROLLUP_MS) * ROLLUP_MS;

/**
 * Latency histogram bins: bin 0 holds [0, 1) ms, bin k (1 ≤ k < LATENCY_BINS - 1) holds
 * [1.1^(k-1), 1.1^k) ms, and the last bin everything from 1.1^158 ms (about 57 minutes) up. Each
 * bin is 10% wide, so a percentile read as its bin's geometric middle is within
 * LATENCY_ERROR (√1.1 − 1, under 4.9%) of the true value (exact for 0 ms).
 *
 * The lower bounds are computed once here and used as they are by both databases (PostgreSQL never
 * takes a logarithm of its own), so a duration always lands in the same bin.
 */
export const LATENCY_BINS = 160;
export const LATENCY_RATIO = 1.1;
export const LATENCY_ERROR = Math.sqrt(LATENCY_RATIO) - 1;
/** LATENCY_BOUNDS[i] is the lower bound of bin i + 1. */
export const LATENCY_BOUNDS: readonly number[] = Array.from({ length: LATENCY_BINS - 1 }, (_, i) => LATENCY_RATIO ** i);

/** The bin a duration falls in: how many lower bounds it reaches (a binary search). */
export function latencyBin(ms: number): number {
  let [lo, hi] = [0, LATENCY_BOUNDS.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (LATENCY_BOUNDS[mid]! <= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What a bin stands for when read back: its geometric middle (0 for bin 0, the lower bound for the last). */
export function binValue(bin: number): number {
  if (bin <= 0) return 0;
  if (bin >= LATENCY_BINS - 1) return LATENCY_BOUNDS[LATENCY_BINS - 2]!;
  return LATENCY_RATIO ** (bin - 0.5);
}

/**
 * The `p`-th percentile (0 < p ≤ 1) by nearest rank: the value of the ⌈p·n⌉-th smallest duration,
 * read as its bin's middle. Null for an empty histogram.
 */
export function percentile(histogram: ArrayLike<number>, p: number): number | null {
  let total = 0;
  for (let i = 0; i < histogram.length; i++) total += histogram[i]!;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i]!;
    if (seen >= rank) return binValue(i);
  }
  return null;
}

/** Adds `more` into `into`, bin by bin. */
export function addHistogram(into: number[], more: ArrayLike<number>): void {
  for (let i = 0; i < LATENCY_BINS; i++) into[i] = (into[i] ?? 0) + (more[i] ?? 0);
}

/** A histogram as SQLite keeps it: LATENCY_BINS unsigned 32-bit counts, little-endian. */
export function histogramBytes(histogram: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(LATENCY_BINS * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < LATENCY_BINS; i++) view.setUint32(i * 4, histogram[i] ?? 0, true);
  return bytes;
}

export function histogramFromBytes(bytes: Uint8Array | null): number[] {
  const counts = new Array<number>(LATENCY_BINS).fill(0);
  if (!bytes) return counts;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < LATENCY_BINS && i * 4 + 4 <= bytes.byteLength; i++) counts[i] = view.getUint32(i * 4, true);
  return counts;
}

/**
 * Attempts that ended without a request being made, because Herald would not send it (a disabled
 * endpoint, a secret this process cannot open, a transformation that canceled it): Svix's
 * "canceled". They take no latency.
 */
export const isCanceled = (attempt: Pick<Attempt, 'failureReason'>) =>
  attempt.failureReason === 'endpoint_disabled' || attempt.failureReason === 'secret_unavailable' || attempt.failureReason === 'transformation_canceled';

/** One row of the rollup: what a batch adds to, or what the store holds for, one endpoint and bucket. */
export interface AttemptStatsRow {
  appId: string;
  endpointId: string;
  bucketStart: number;
  success: number;
  failure: number;
  canceled: number;
  latency: number[];
}

/** A batch of attempts as one row per (application, bucket, endpoint), so a batch does one upsert per row. */
export function rollUp(attempts: Iterable<Attempt>): AttemptStatsRow[] {
  const rows = new Map<string, AttemptStatsRow>();
  for (const attempt of attempts) {
    const bucketStart = bucketOf(attempt.createdAt);
    const key = `${attempt.appId} ${attempt.endpointId} ${bucketStart}`;
    let row = rows.get(key);
    if (!row) {
      row = { appId: attempt.appId, endpointId: attempt.endpointId, bucketStart, success: 0, failure: 0, canceled: 0, latency: new Array<number>(LATENCY_BINS).fill(0) };
      rows.set(key, row);
    }
    if (attempt.status === Status.success) row.success++;
    else if (isCanceled(attempt)) row.canceled++;
    else row.failure++;
    if (!isCanceled(attempt) && attempt.failureReason !== 'transformation_failed') row.latency[latencyBin(attempt.responseDurationMs)]!++;
  }
  // In key order, so two writers adding to the same rows lock them in the same order.
  return [...rows.values()].sort((a, b) =>
    a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : a.bucketStart - b.bucketStart || (a.endpointId < b.endpointId ? -1 : a.endpointId > b.endpointId ? 1 : 0));
}
