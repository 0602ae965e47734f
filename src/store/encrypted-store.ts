import type { SecretBox } from '../core/secret-box.ts';
import type { Endpoint, EndpointSecret } from '../core/model.ts';
import type { ClaimedDelivery, Store } from './store.ts';

/**
 * Keeps endpoint secrets and custom header values sealed in the database (AES-256-GCM, see
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
  const openClaimed = (delivery: ClaimedDelivery): ClaimedDelivery => ({ ...delivery, endpoint: openEndpoint(delivery.endpoint) });

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
    queue: {
      ...store.queue,
      claim: async (request) => (await store.queue.claim(request)).map(openClaimed),
      listByMessage: async (messageId, page) => {
        const result = await store.queue.listByMessage(messageId, page);
        return { ...result, items: result.items.map((row) => ({ ...row, endpoint: openEndpoint(row.endpoint) })) };
      },
    },
  };
}
