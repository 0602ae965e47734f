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
export function withConfigCache(store: Store, clock: Clock, ttlMs = 10_000): Store {
  const apps = new Map<string, { app: Application; at: number }>();
  const enabled = new Map<string, { endpoints: Endpoint[]; at: number }>();
  const sourcesByToken = new Map<string, { source: Source | null; at: number }>();
  const binsByToken = new Map<string, { bin: Bin | null; at: number }>();
  const eventTypes = new Map<string, { eventType: EventType | null; at: number }>();
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
      for (const [key, entry] of apps) if (entry.app.id === appId) apps.delete(key);
      for (const [key, entry] of sourcesByToken) if (entry.source?.id === appId) sourcesByToken.delete(key);
      for (const [key, entry] of binsByToken) if (entry.bin?.id === appId) binsByToken.delete(key);
    }
    for (const subscriber of subscribers) subscriber(appId);
  };
  const forgetEventTypes = () => {
    generation++;
    eventTypes.clear();
  };
  const stopListening = store.onConfigChange?.(forget);

  return {
    ...store,
    apps: {
      ...store.apps,
      async get(idOrUid) {
        const cached = apps.get(idOrUid);
        if (cached && fresh(cached.at)) return cached.app;
        const started = generation;
        const app = await store.apps.get(idOrUid);
        if (app && started === generation) apps.set(idOrUid, { app, at: clock.now() });
        return app;
      },
      update: (app) => store.apps.update(app).finally(() => forget(app.id)),
      delete: (id) => store.apps.delete(id).finally(() => forget(id)),
    },
    // Event types are few and rarely change: any change forgets them all here (and, on PostgreSQL,
    // every other process's whole cache, through the config channel). An unknown name is remembered too, as
    // messages may name event types nobody registered.
    eventTypes: {
      ...store.eventTypes,
      async get(name) {
        const cached = eventTypes.get(name);
        if (cached && fresh(cached.at)) return cached.eventType;
        const started = generation;
        const eventType = await store.eventTypes.get(name);
        if (started === generation) {
          if (eventTypes.size >= 10_000) eventTypes.clear();
          eventTypes.set(name, { eventType, at: clock.now() });
        }
        return eventType;
      },
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
      async listEnabled(appId) {
        const cached = enabled.get(appId);
        if (cached && fresh(cached.at)) return cached.endpoints;
        const started = generation;
        const endpoints = await store.endpoints.listEnabled(appId);
        if (started === generation) enabled.set(appId, { endpoints, at: clock.now() });
        return endpoints;
      },
      create: (endpoint, maxPerApplication) => store.endpoints.create(endpoint, maxPerApplication).finally(() => forget(endpoint.appId)),
      update: (endpoint) => store.endpoints.update(endpoint).finally(() => forget(endpoint.appId)),
      setTransformation: (appId, id, transformation) => store.endpoints.setTransformation(appId, id, transformation).finally(() => forget(appId)),
      delete: (appId, id, now) => store.endpoints.delete(appId, id, now).finally(() => forget(appId)),
    },
    sources: {
      ...store.sources,
      // A rotated token is forgotten with its source, so the old URL stops working at once.
      async getByTokenDigest(digest) {
        const cached = sourcesByToken.get(digest);
        if (cached && fresh(cached.at)) return cached.source;
        const source = await store.sources.getByTokenDigest(digest);
        if (sourcesByToken.size >= 10_000) sourcesByToken.clear();
        sourcesByToken.set(digest, { source, at: clock.now() });
        return source;
      },
      update: (source, tokenDigest) => store.sources.update(source, tokenDigest).finally(() => forget(source.id)),
      delete: (id) => store.sources.delete(id).finally(() => forget(id)),
    },
    bins: {
      ...store.bins,
      // A bin's answer is configured on it: a change is seen by the next request, here and (on
      // PostgreSQL, through the config channel) in every other process.
      async getByTokenDigest(digest) {
        const cached = binsByToken.get(digest);
        if (cached && fresh(cached.at)) return cached.bin;
        const started = generation;
        const bin = await store.bins.getByTokenDigest(digest);
        if (started === generation) {
          if (binsByToken.size >= 10_000) binsByToken.clear();
          binsByToken.set(digest, { bin, at: clock.now() });
        }
        return bin;
      },
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
