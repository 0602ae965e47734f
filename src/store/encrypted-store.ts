import type { SecretBox } from '../core/secret-box.ts';
import type { Endpoint, EndpointSecret, Source } from '../core/model.ts';
import { SECRET_FIELDS } from '../inbound/source-config.ts';
import type { ClaimedDelivery, Store } from './store.ts';

/**
 * Keeps endpoint secrets, custom header values, and sources' secrets and URL tokens sealed in the database (AES-256-GCM, see
 * SecretBox) and open only in memory: whatever reaches the store is sealed on the way in and
 * opened on the way out, so neither store implementation ever sees a secret in clear.
 */
export function withEncryptedSecrets(store: Store, box: SecretBox): Store {
  // Opening is cheap but claims open the same endpoint's secrets over and over.
  const opened = new Map<string, string>();
  const open = (sealed: string) => {
    let plain = opened.get(sealed);
    if (plain === undefined) {
      if (opened.size > 10_000) opened.clear();
      plain = box.open(sealed);
      opened.set(sealed, plain);
    }
    return plain;
  };
  const mapValues = (headers: Record<string, string>, f: (value: string) => string) =>
    Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, f(value)]));
  const mapSecrets = (secrets: EndpointSecret[], f: (value: string) => string) => secrets.map((secret) => ({ ...secret, key: f(secret.key) }));
  const sealEndpoint = (endpoint: Endpoint): Endpoint =>
    ({ ...endpoint, secrets: mapSecrets(endpoint.secrets, box.seal), headers: mapValues(endpoint.headers, box.seal) });
  const openEndpoint = <E extends Pick<Endpoint, 'secrets' | 'headers'>>(endpoint: E): E =>
    ({ ...endpoint, secrets: mapSecrets(endpoint.secrets, open), headers: mapValues(endpoint.headers, open) });
  // The deliveries of one endpoint in a claim share its details; they go on sharing them opened.
  const openClaimed = (claimed: ClaimedDelivery[]): ClaimedDelivery[] => {
    const endpoints = new Map<ClaimedDelivery['endpoint'], ClaimedDelivery['endpoint']>();
    return claimed.map((delivery) => {
      let endpoint = endpoints.get(delivery.endpoint);
      if (!endpoint) {
        endpoint = openEndpoint(delivery.endpoint);
        endpoints.set(delivery.endpoint, endpoint);
      }
      return { ...delivery, endpoint };
    });
  };
  // A source's signing secret and URL token are credentials too.
  const mapSource = (source: Source, f: (value: string) => string): Source => ({
    ...source,
    token: f(source.token),
    config: Object.fromEntries(Object.entries(source.config).map(([field, value]) =>
      [field, SECRET_FIELDS.includes(field) && typeof value === 'string' ? f(value) : value])),
  });
  const openSource = (source: Source | null) => source && mapSource(source, open);

  return {
    ...store,
    endpoints: {
      ...store.endpoints,
      create: async (endpoint) => (await store.endpoints.create(sealEndpoint(endpoint)), endpoint),
      update: async (endpoint) => (await store.endpoints.update(sealEndpoint(endpoint)), endpoint),
      get: async (appId, idOrUid) => {
        const endpoint = await store.endpoints.get(appId, idOrUid);
        return endpoint && openEndpoint(endpoint);
      },
      list: async (appId, page) => {
        const result = await store.endpoints.list(appId, page);
        return { ...result, items: result.items.map(openEndpoint) };
      },
      listEnabled: async (appId) => (await store.endpoints.listEnabled(appId)).map(openEndpoint),
    },
    sources: {
      ...store.sources,
      create: async (source, tokenDigest) => (await store.sources.create(mapSource(source, box.seal), tokenDigest), source),
      update: async (source, tokenDigest) => (await store.sources.update(mapSource(source, box.seal), tokenDigest), source),
      get: async (idOrUid) => openSource(await store.sources.get(idOrUid)),
      getByTokenDigest: async (digest) => openSource(await store.sources.getByTokenDigest(digest)),
      list: async (page) => {
        const result = await store.sources.list(page);
        return { ...result, items: result.items.map((source) => mapSource(source, open)) };
      },
    },
    queue: {
      ...store.queue,
      claim: async (request) => openClaimed(await store.queue.claim(request)),
      listByMessage: async (messageId, page) => {
        const result = await store.queue.listByMessage(messageId, page);
        return { ...result, items: result.items.map((row) => ({ ...row, endpoint: openEndpoint(row.endpoint) })) };
      },
    },
  };
}
