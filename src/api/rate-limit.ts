import type { Clock } from '../core/clock.ts';

/**
 * A token bucket per API token: `perSecond` requests a second on average, and bursts of as many.
 * Returns 0 when a request may go ahead, or how many milliseconds until it could.
 */
export function rateLimiter(perSecond: number, clock: Clock): (key: string) => number {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (key) => {
    const now = clock.now();
    const bucket = buckets.get(key) ?? { tokens: perSecond, at: now };
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.at) * perSecond) / 1000);
    bucket.at = now;
    if (buckets.size > 100_000) buckets.clear();
    buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / perSecond);
  };
}
