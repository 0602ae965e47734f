/**
 * Ordering keys (Herald's extension to Svix's message body, `orderingKey`): the deliveries of one
 * key to one endpoint are made one at a time, in publish order. The next waits until the one ahead
 * of it succeeded or was exhausted (or canceled); a failing key holds back only itself.
 *
 * "Publish order" is the order in which the messages were stored: the delivery ids, which a store
 * hands out increasing. A message published after another's 202 always comes after it. Two
 * published at the same moment (no 202 between them) are in the order their writes landed, and
 * still go one at a time: a delivery waits for any of its key in flight, whichever was first.
 *
 * The claim looks, for each keyed candidate, for the delivery ahead of it; when there is one, the
 * candidate is deferred to when that one is next due (its retry, or its lease's end) and does not
 * take a slot. The result that finishes a keyed delivery makes the next of its key due at once, so
 * a healthy key flows at the speed of its endpoint; the deferral is only the fallback.
 */

/** The least a blocked delivery waits before it is looked at again. */
export const ORDER_RECHECK_MS = 1_000;

/** When a delivery held back by the one ahead of it (next due at `aheadAt`) is looked at again. */
export function heldUntil(aheadAt: number, now: number): number {
  return Math.max(aheadAt, now + ORDER_RECHECK_MS);
}

/** The longest ordering key, as for other identifiers Herald stores (uids, event ids). */
export const MAX_ORDERING_KEY_LENGTH = 256;
