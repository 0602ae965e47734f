import type { Bin } from '../core/bins.ts';
import type { Clock } from '../core/clock.ts';
import type { Application, Endpoint, EventType, Source } from '../core/model.ts';
import type { Store } from './store.ts';

/**
 * Keeps what every message create reads (its application, the application's enabled endpoints
 * for fan-out, and its event type for the payload schema check, or that there is none) in memory, so publishing costs one write and no reads, and the sources
 * and bins found by their URL token, so a received or captured request costs none either.
 * Entries are dropped when this process changes them, when the store reports a change made by
 * another process, and after `ttlMs` in any case, so a missed notification costs at most that long.
 *
 * Its `onConfigChange` tells every subscriber about both kinds of change, this process's own and
 * the store's reports, so other caches (the API's token cache) drop entries at the same moments.
 */
/** A remembered answer and when it was read. */
interface Entry<V> {
  value: V;
  at: number;
}

/** The most entries one of the cache's maps holds; past it, the map starts over. */
const MAX_ENTRIES = 10_000;

export function withConfigCache(store: Store, clock: Clock, ttlMs = 10_000): Store {
  const apps = new Map<string, Entry<Application | null>>();
  const enabled = new Map<string, Entry<Endpoint[]>>();
  const sourcesByToken = new Map<string, Entry<Source | null>>();
  const binsByToken = new Map<string, Entry<Bin | null>>();
  const eventTypes = new Map<string, Entry<EventType | null>>();
  const subscribers = new Set<(appId: string | null) => void>();
  const fresh = (at: number) => clock.now() - at < ttlMs;
  // Bumped by every change: a read that started before one may have seen the old state, so it
  // is answered but not remembered (else a delete could be undone in the cache for a whole TTL).
  let generation = 0;
  const forget = (appId: string | null) => {
    generation++;
    if (appId === null) {
      apps.clear();
      enabled.clear();
      sourcesByToken.clear();
      binsByToken.clear();
      eventTypes.clear();
    } else {
      enabled.delete(appId);
      for (const map of [apps, sourcesByToken, binsByToken]) {
        for (const [key, entry] of map) if (entry.value?.id === appId) map.delete(key);
      }
    }
    for (const subscriber of subscribers) subscriber(appId);
  };
  const forgetEventTypes = () => {
    generation++;
    eventTypes.clear();
  };
  const stopListening = store.onConfigChange?.(forget);
  // A fresh entry answers; otherwise the store does, and its answer is kept unless a change came in
  // meanwhile (see `generation`) or `keep` refuses it. Each map holds at most MAX_ENTRIES.
  const readThrough = async <V>(map: Map<string, Entry<V>>, key: string, load: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> => {
    const cached = map.get(key);
    if (cached && fresh(cached.at)) return cached.value;
    const started = generation;
    const value = await load();
    if (started === generation && keep(value)) {
      if (map.size >= MAX_ENTRIES) map.clear();
      map.set(key, { value, at: clock.now() });
    }
    return value;
  };

  return {
    ...store,
    apps: {
      ...store.apps,
      // An application not found is not remembered: it may be created by this very request.
      get: (idOrUid) => readThrough(apps, idOrUid, () => store.apps.get(idOrUid), (app) => app !== null),
      update: (app) => store.apps.update(app).finally(() => forget(app.id)),
      delete: (id) => store.apps.delete(id).finally(() => forget(id)),
    },
    // Event types are few and rarely change: any change forgets them all here (and, on PostgreSQL,
    // every other process's whole cache, through the config channel). An unknown name is remembered too, as
    // messages may name event types nobody registered.
    eventTypes: {
      ...store.eventTypes,
      get: (name) => readThrough(eventTypes, name, () => store.eventTypes.get(name)),
      create: (eventType) => store.eventTypes.create(eventType).finally(forgetEventTypes),
      update: (eventType) => store.eventTypes.update(eventType).finally(forgetEventTypes),
      delete: (name) => store.eventTypes.delete(name).finally(forgetEventTypes),
    },
    // An endpoint flow control disabled leaves fan-out at once, as one disabled through the API does.
    flow: {
      ...store.flow,
      async record(signals, policy) {
        const outcome = await store.flow.record(signals, policy);
        for (const { appId } of outcome.disabled) forget(appId);
        return outcome;
      },
    },
    endpoints: {
      ...store.endpoints,
      listEnabled: (appId) => readThrough(enabled, appId, () => store.endpoints.listEnabled(appId)),
      create: (endpoint, maxPerApplication) => store.endpoints.create(endpoint, maxPerApplication).finally(() => forget(endpoint.appId)),
      update: (endpoint) => store.endpoints.update(endpoint).finally(() => forget(endpoint.appId)),
      setTransformation: (appId, id, transformation) => store.endpoints.setTransformation(appId, id, transformation).finally(() => forget(appId)),
      delete: (appId, id, now) => store.endpoints.delete(appId, id, now).finally(() => forget(appId)),
    },
    sources: {
      ...store.sources,
      // A rotated token is forgotten with its source, so the old URL stops working at once.
      getByTokenDigest: (digest) => readThrough(sourcesByToken, digest, () => store.sources.getByTokenDigest(digest)),
      update: (source, tokenDigest) => store.sources.update(source, tokenDigest).finally(() => forget(source.id)),
      delete: (id) => store.sources.delete(id).finally(() => forget(id)),
    },
    bins: {
      ...store.bins,
      // A bin's answer is configured on it: a change is seen by the next request, here and (on
      // PostgreSQL, through the config channel) in every other process.
      getByTokenDigest: (digest) => readThrough(binsByToken, digest, () => store.bins.getByTokenDigest(digest)),
      update: (bin, tokenDigest) => store.bins.update(bin, tokenDigest).finally(() => forget(bin.id)),
      delete: (id) => store.bins.delete(id).finally(() => forget(id)),
    },
    tokens: {
      ...store.tokens,
      expireForApp: (appId, at) => store.tokens.expireForApp(appId, at).finally(() => forget(appId)),
      async delete(id) {
        const deleted = await store.tokens.delete(id);
        if (deleted) forget(deleted.appId);
        return deleted;
      },
    },
    queue: {
      ...store.queue,
      // A 410 disables an endpoint here, so fan-out must stop offering it.
      complete: (results) => store.queue.complete(results).finally(() => {
        for (const result of results) if (result.disableEndpoint) forget(result.attempt.appId);
      }),
    },
    onConfigChange(changed) {
      subscribers.add(changed);
      return async () => void subscribers.delete(changed);
    },
    async close() {
      await stopListening?.();
      await store.close();
    },
  };
}
