import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import type { ClaimedDelivery } from '../store/store.ts';

/** The schedule a failed delivery retries on, when its endpoint or event type sets one; null for the default. */
export type RetrySchedules = (delivery: ClaimedDelivery) => Promise<readonly number[] | null>;

const MAX_ENTRIES = 10_000;

/**
 * An endpoint's own schedule (Herald's extension) wins over its event type's (Svix's
 * `retry-schedule`), which wins over `HERALD_RETRY_SCHEDULE`. Only a failed attempt asks, so the
 * path of a delivery that succeeds reads nothing more; the answers are kept for `ttlMs`, which is
 * how long a change takes to reach every worker (a schedule is configuration, not a queue state).
 */
export function retrySchedules(store: Pick<Store, 'endpoints' | 'eventTypes'>, clock: Clock, ttlMs = 5_000): RetrySchedules {
  const cache = new Map<string, { delays: readonly number[] | null; at: number }>();
  const cached = async (key: string, load: () => Promise<readonly number[] | null>) => {
    const hit = cache.get(key);
    if (hit && clock.now() - hit.at < ttlMs) return hit.delays;
    const delays = await load();
    if (cache.size >= MAX_ENTRIES) cache.clear();
    cache.set(key, { delays, at: clock.now() });
    return delays;
  };
  return async (delivery) =>
    (await cached(`endpoint:${delivery.endpoint.id}`, async () =>
      (await store.endpoints.get(delivery.message.appId, delivery.endpoint.id))?.retrySchedule ?? null))
    ?? cached(`event-type:${delivery.message.eventType}`, async () =>
      (await store.eventTypes.get(delivery.message.eventType))?.retrySchedule ?? null);
}
