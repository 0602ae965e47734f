/**
 * How far one application's fan-out may grow. Every message is stored with one delivery per
 * matching endpoint in the commit that accepts it, and matching runs on the event loop, so these
 * bound the work one publish can cause. docs/architecture.md ("Limits") says why these numbers.
 */

/** Live endpoints per application (deleted ones do not count). */
export const MAX_ENDPOINTS_PER_APPLICATION = 500;
/** Names in an endpoint's `eventTypes` (or `filterTypes`). */
export const MAX_EVENT_TYPES_PER_ENDPOINT = 100;
/** Names in an endpoint's `channels`: Svix's own limit. */
export const MAX_CHANNELS_PER_ENDPOINT = 10;
