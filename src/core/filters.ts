/** What an endpoint listens to: null or empty means "everything". */
export interface Subscription {
  eventTypes: readonly string[] | null;
  channels: readonly string[] | null;
  disabled: boolean;
}

/** What a message is about. */
export interface Routing {
  eventType: string;
  channels: readonly string[] | null;
}

/**
 * Svix's fan-out rule: an enabled endpoint receives a message when its event-type list is empty
 * or contains the type, and its channel list is empty or shares a channel with the message.
 */
export function endpointReceives(endpoint: Subscription, message: Routing): boolean {
  if (endpoint.disabled) return false;
  if (endpoint.eventTypes?.length && !endpoint.eventTypes.includes(message.eventType)) return false;
  if (endpoint.channels?.length) {
    return message.channels?.some((channel) => endpoint.channels!.includes(channel)) ?? false;
  }
  return true;
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
}

/**
 * Builds the fan-out index of an endpoint list: the endpoints that take every event type, the
 * others under each type they list, and each one's channels as a set. Building reads every filter
 * once; matching then costs one map lookup and, per candidate endpoint, a set lookup per channel
 * of the message (at most five), whatever the length of the endpoints' lists. Build it once per
 * list (the config cache hands out the same list until it changes), not once per message.
 */
export function indexSubscriptions<E extends Subscription>(endpoints: readonly E[]): FanOutIndex<E> {
  const everyType: Array<Entry<E>> = [];
  const byType = new Map<string, Array<Entry<E>>>();
  endpoints.forEach((endpoint, position) => {
    if (endpoint.disabled) return;
    const entry: Entry<E> = { endpoint, position, channels: endpoint.channels?.length ? new Set(endpoint.channels) : null };
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
      // Both lists are in endpoint order; merging them keeps it.
      let i = 0;
      let j = 0;
      while (i < everyType.length || j < typed.length) {
        const entry = j >= typed.length || (i < everyType.length && everyType[i]!.position < typed[j]!.position) ? everyType[i++]! : typed[j++]!;
        if (listens(entry, message.channels)) matched.push(entry.endpoint);
      }
      return matched;
    },
  };
}
