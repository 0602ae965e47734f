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
