import { type CompiledFilter, compileFilter, type FilterDocument } from './payload-filter.ts';

/** What an endpoint listens to: null or empty means "everything". */
export interface Subscription {
  eventTypes: readonly string[] | null;
  channels: readonly string[] | null;
  disabled: boolean;
  /** Herald's payload filter (core/payload-filter.ts); null or absent: every payload. */
  filter?: Record<string, unknown> | null;
}

/** What a message is about. */
export interface Routing {
  eventType: string;
  channels: readonly string[] | null;
  /**
   * The parsed payload (undefined when it is not JSON), asked for only when an endpoint that
   * passed the other filters has a payload filter, and at most once per message.
   */
  parsedPayload?: () => unknown;
}

/**
 * An endpoint's payload filter, compiled. A stored filter passed the same check when it was saved;
 * one that no longer compiles (a limit lowered since) lets nothing through rather than everything.
 */
function compiledFilterOf(filter: Record<string, unknown> | null | undefined): CompiledFilter | null {
  if (!filter) return null;
  const compiled = compileFilter(filter);
  return 'filter' in compiled ? compiled.filter : () => false;
}

/** The document payload filters read, built once per message however many endpoints have one. */
function lazyDocument(message: Routing): () => FilterDocument {
  let document: FilterDocument | undefined;
  return () => (document ??= { eventType: message.eventType, channels: message.channels, payload: message.parsedPayload?.() });
}

/**
 * Svix's fan-out rule: an enabled endpoint receives a message when its event-type list is empty
 * or contains the type, and its channel list is empty or shares a channel with the message.
 */
export function endpointReceives(endpoint: Subscription, message: Routing): boolean {
  if (endpoint.disabled) return false;
  if (endpoint.eventTypes?.length && !endpoint.eventTypes.includes(message.eventType)) return false;
  if (endpoint.channels?.length && !(message.channels?.some((channel) => endpoint.channels!.includes(channel)) ?? false)) return false;
  const filter = compiledFilterOf(endpoint.filter);
  return filter === null || filter(lazyDocument(message)());
}

/** An application's endpoints, arranged once so that each message is matched without scanning their filters. */
export interface FanOutIndex<E> {
  /** The endpoints that receive the message (by `endpointReceives`), in the order they were given. */
  match(message: Routing): E[];
}

interface Entry<E> {
  endpoint: E;
  position: number;
  /** null: every channel. */
  channels: ReadonlySet<string> | null;
  /** null: every payload. */
  filter: CompiledFilter | null;
}

/**
 * Builds the fan-out index of an endpoint list: the endpoints that take every event type, the
 * others under each type they list, and each one's channels as a set. Building reads every filter
 * once; matching then costs one map lookup and, per candidate endpoint, a set lookup per channel
 * of the message (at most five), whatever the length of the endpoints' lists; payload filters are
 * compiled here too, and the payload is parsed only if a candidate has one. Build it once per
 * list (the config cache hands out the same list until it changes), not once per message.
 */
export function indexSubscriptions<E extends Subscription>(endpoints: readonly E[]): FanOutIndex<E> {
  const everyType: Array<Entry<E>> = [];
  const byType = new Map<string, Array<Entry<E>>>();
  endpoints.forEach((endpoint, position) => {
    if (endpoint.disabled) return;
    const entry: Entry<E> = {
      endpoint, position, channels: endpoint.channels?.length ? new Set(endpoint.channels) : null, filter: compiledFilterOf(endpoint.filter),
    };
    if (!endpoint.eventTypes?.length) {
      everyType.push(entry);
      return;
    }
    for (const type of endpoint.eventTypes) {
      let listeners = byType.get(type);
      if (!listeners) byType.set(type, (listeners = []));
      // A name listed twice must not give the endpoint two deliveries of one message.
      if (listeners.at(-1) !== entry) listeners.push(entry);
    }
  });

  const listens = (entry: Entry<E>, channels: readonly string[] | null) =>
    entry.channels === null || (channels?.some((channel) => entry.channels!.has(channel)) ?? false);

  return {
    match(message) {
      const typed = byType.get(message.eventType) ?? [];
      const matched: E[] = [];
      const document = lazyDocument(message);
      // Both lists are in endpoint order; merging them keeps it.
      let i = 0;
      let j = 0;
      while (i < everyType.length || j < typed.length) {
        const entry = j >= typed.length || (i < everyType.length && everyType[i]!.position < typed[j]!.position) ? everyType[i++]! : typed[j++]!;
        if (listens(entry, message.channels) && (entry.filter === null || entry.filter(document()))) matched.push(entry.endpoint);
      }
      return matched;
    },
  };
}
