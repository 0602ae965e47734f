import { type IdKind, looksLikeId } from '../core/ids.ts';
import { invalid } from './errors.ts';

const UID = /^[a-zA-Z0-9\-_.]{1,256}$/;

/** A uid chosen by the user may not have the exact form of an id of its kind: lookups take either. */
export function checkUid(kind: IdKind, uid: string | null | undefined, loc: string[]): void {
  if (uid && looksLikeId(kind, uid)) throw invalid(loc, `must not have the form of ${kind === 'application' ? 'an application' : `an ${kind}`} id`);
}

/**
 * The uid an upsert gives a new item named by its path segment: none when the segment is an id,
 * the segment itself when it is a valid uid, and a 422 otherwise.
 */
export function uidFromPath(kind: IdKind, segment: string, loc: string[]): string | null {
  if (looksLikeId(kind, segment)) return null;
  if (!UID.test(segment)) throw invalid(loc, 'must be an id, or a uid of 1 to 256 letters, digits, -, _ and .');
  return segment;
}
