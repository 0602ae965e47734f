import type { Bin, BinRequest } from '../core/bins.ts';
import type { SecretBox } from '../core/secret-box.ts';
import type { Endpoint, EndpointSecret, InboundEnvelope, Message, Source } from '../core/model.ts';
import { SECRET_FIELDS } from '../inbound/source-config.ts';
import { StoreError } from './errors.ts';
import type { ClaimedDelivery, Store } from './store.ts';

const SEALED_ELSEWHERE = 'cannot be opened with this process\'s encryption key (HERALD_ENCRYPTION_KEY): it was sealed with another key';

/**
 * Keeps endpoint secrets, custom header values, sources' secrets and URL tokens, the headers of
 * received requests that carry a source's secret, bins' URL tokens and the secret-looking headers
 * bins capture sealed in the database (AES-256-GCM, see SecretBox) and open only in memory:
 * whatever reaches the store is sealed on the way in and opened on the way out, so neither store
 * implementation ever sees a secret in clear.
 *
 * A value sealed under another key than this process's cannot be opened. An endpoint read with
 * one is marked `unavailable` (its secrets and headers left empty), so one such row fails alone
 * and never takes a claim, the fan-out or a list down with it, and the endpoint can still be
 * shown and deleted; writing it back fails with StoreError('secret_unavailable') rather than
 * store the empty values in place of the sealed ones (see `withSecrets`). A source or bin read
 * with one fails with that error.
 */
/**
 * The endpoint, for a use that needs its secrets or header values (showing, signing with or
 * changing them, or writing the endpoint back): fails with StoreError('secret_unavailable') if
 * they could not be opened.
 */
export function withSecrets<E extends Pick<Endpoint, 'id' | 'unavailable'>>(endpoint: E): E {
  if (endpoint.unavailable) throw new StoreError('secret_unavailable', endpoint.unavailable);
  return endpoint;
}

export function withEncryptedSecrets(store: Store, box: SecretBox): Store {
  // Opening is cheap but claims open the same endpoint's secrets over and over.
  const opened = new Map<string, string>();
  const open = (sealed: string) => {
    let plain = opened.get(sealed);
    if (plain === undefined) {
      try {
        plain = box.open(sealed);
      } catch (error) {
        throw new StoreError('secret_unavailable', `A secret ${SEALED_ELSEWHERE}.`, { cause: error });
      }
      if (opened.size > 10_000) opened.clear();
      opened.set(sealed, plain);
    }
    return plain;
  };
  const mapValues = (headers: Record<string, string>, f: (value: string) => string, only?: readonly string[]) =>
    Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, !only || only.includes(name) ? f(value) : value]));
  const mapSecrets = (secrets: EndpointSecret[], f: (value: string) => string) => secrets.map((secret) => ({ ...secret, key: f(secret.key) }));
  const sealEndpoint = (endpoint: Endpoint): Endpoint =>
    ({ ...endpoint, secrets: mapSecrets(endpoint.secrets, box.seal), headers: mapValues(endpoint.headers, box.seal) });
  const openEndpoint = <E extends Pick<Endpoint, 'secrets' | 'headers'>>(endpoint: E): E =>
    ({ ...endpoint, secrets: mapSecrets(endpoint.secrets, open), headers: mapValues(endpoint.headers, open) });
  const openEndpointOrMark = <E extends Pick<Endpoint, 'secrets' | 'headers' | 'id'>>(endpoint: E): E & { unavailable?: string } => {
    try {
      return openEndpoint(endpoint);
    } catch {
      return { ...endpoint, secrets: [], headers: {}, unavailable: `A secret of endpoint ${endpoint.id} ${SEALED_ELSEWHERE}.` };
    }
  };

  // A received request's headers that carry the source's secret (see InboundEnvelope.secretHeaders).
  const mapInbound = (inbound: InboundEnvelope, f: (value: string) => string): InboundEnvelope =>
    ({ ...inbound, headers: mapValues(inbound.headers, f, inbound.secretHeaders) });
  const sealMessage = (message: Message): Message =>
    (message.inbound?.secretHeaders?.length ? { ...message, inbound: mapInbound(message.inbound, box.seal) } : message);

  /**
   * Opens what a claim's deliveries need. The deliveries of one endpoint share its details, and go
   * on sharing them opened; one whose secrets (or its forwarded request's sealed headers) cannot
   * be opened is marked `unavailable` and fails alone, never the whole claim.
   */
  const openClaimed = (claimed: ClaimedDelivery[]): ClaimedDelivery[] => {
    const endpoints = new Map<ClaimedDelivery['endpoint'], ReturnType<typeof openEndpointOrMark<ClaimedDelivery['endpoint']>>>();
    return claimed.map((delivery) => {
      let endpoint = endpoints.get(delivery.endpoint);
      if (!endpoint) {
        endpoint = openEndpointOrMark(delivery.endpoint);
        endpoints.set(delivery.endpoint, endpoint);
      }
      const { unavailable, ...opened } = endpoint;
      if (unavailable) return { ...delivery, endpoint: opened, unavailable };
      const inbound = delivery.message.inbound;
      if (!inbound?.secretHeaders?.length) return { ...delivery, endpoint: opened };
      try {
        return { ...delivery, endpoint: opened, message: { ...delivery.message, inbound: mapInbound(inbound, open) } };
      } catch {
        return { ...delivery, endpoint: opened, unavailable: `A header of the request message ${delivery.message.id} forwards ${SEALED_ELSEWHERE}.` };
      }
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

  // A bin's URL token lets anyone post to it; what a bin captured may carry its senders' secrets.
  const openBin = (bin: Bin | null) => bin && { ...bin, token: open(bin.token) };
  const sealCaptured = (request: BinRequest): BinRequest => (request.secretHeaders.length === 0 ? request : {
    ...request,
    headers: request.headers.map(([name, value], i) => [name, request.secretHeaders.includes(i) ? box.seal(value) : value]),
  });
  /**
   * A header sealed under another key is left empty and marked, never shown: the rest of the
   * request still is. Opened without the cache that claims use: each captured value is read rarely.
   */
  const openCaptured = (request: BinRequest): BinRequest => {
    if (request.secretHeaders.length === 0) return request;
    const unopened: number[] = [];
    const headers = request.headers.map(([name, value], i): [string, string] => {
      if (!request.secretHeaders.includes(i)) return [name, value];
      try {
        return [name, box.open(value)];
      } catch {
        unopened.push(i);
        return [name, ''];
      }
    });
    return unopened.length > 0 ? { ...request, headers, unopenedHeaders: unopened } : { ...request, headers };
  };

  return {
    ...store,
    endpoints: {
      ...store.endpoints,
      create: async (endpoint, maxPerApplication) => (await store.endpoints.create(sealEndpoint(endpoint), maxPerApplication), endpoint),
      update: async (endpoint) => (await store.endpoints.update(sealEndpoint(withSecrets(endpoint))), endpoint),
      get: async (appId, idOrUid) => {
        const endpoint = await store.endpoints.get(appId, idOrUid);
        return endpoint && openEndpointOrMark(endpoint);
      },
      list: async (appId, page) => {
        const result = await store.endpoints.list(appId, page);
        return { ...result, items: result.items.map(openEndpointOrMark) };
      },
      listPolling: async (appId, page) => {
        const result = await store.endpoints.listPolling(appId, page);
        return { ...result, items: result.items.map(openEndpointOrMark) };
      },
      getListen: async (appId, name) => {
        const endpoint = await store.endpoints.getListen(appId, name);
        return endpoint && openEndpointOrMark(endpoint);
      },
      listEnabled: async (appId) => (await store.endpoints.listEnabled(appId)).map(openEndpointOrMark),
    },
    messages: {
      ...store.messages,
      // Only in claims are a request's secret headers opened: they are for forwarding, not showing.
      enqueue: (message, endpointIds, lease) => store.messages.enqueue(sealMessage(message), endpointIds, lease),
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
    bins: {
      ...store.bins,
      create: async (bin, tokenDigest) => (await store.bins.create({ ...bin, token: box.seal(bin.token) }, tokenDigest), bin),
      update: async (bin, tokenDigest) => (await store.bins.update({ ...bin, token: box.seal(bin.token) }, tokenDigest), bin),
      get: async (id) => openBin(await store.bins.get(id)),
      getByTokenDigest: async (digest) => openBin(await store.bins.getByTokenDigest(digest)),
      list: async (page) => {
        const result = await store.bins.list(page);
        return { ...result, items: result.items.map((bin) => ({ ...bin, token: open(bin.token) })) };
      },
      capture: async (request, keep) => ({ ...(await store.bins.capture(sealCaptured(request), keep)), headers: request.headers }),
      getRequest: async (binId, requestId) => {
        const request = await store.bins.getRequest(binId, requestId);
        return request && openCaptured(request);
      },
      listRequests: async (binId, page, withContent) => {
        const result = await store.bins.listRequests(binId, page, withContent);
        return { ...result, items: result.items.map(openCaptured) };
      },
      requestsAfter: async (binId, seq, limit) => (await store.bins.requestsAfter(binId, seq, limit)).map(openCaptured),
    },
    queue: {
      ...store.queue,
      claim: async (request) => openClaimed(await store.queue.claim(request)),
      pull: async (request) => openClaimed(await store.queue.pull(request)),
      listByMessage: async (messageId, page) => {
        const result = await store.queue.listByMessage(messageId, page);
        return { ...result, items: result.items.map((row) => ({ ...row, endpoint: openEndpointOrMark(row.endpoint) })) };
      },
    },
  };
}
