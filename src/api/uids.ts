import { type IdKind, looksLikeId } from '../core/ids.ts';
import { invalid, notFound } from './errors.ts';

const UID = /^[a-zA-Z0-9\-_.]{1,256}$/;

/** A uid (or a message's eventId) chosen by the user may not have the exact form of an id of its kind: lookups take either. */
export function checkUid(kind: IdKind, uid: string | null | undefined, loc: string[]): void {
  if (uid && looksLikeId(kind, uid)) throw invalid(loc, `must not have the form of ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} id`);
}

/**
 * The uid an upsert gives a new item named by its path segment: the segment itself when it is a
 * valid uid. A segment with the form of an id names an item that does not exist, since only
 * Herald hands ids out: that is a 404, not a new item under another id.
 */
export function uidFromPath(kind: IdKind, segment: string, loc: string[]): string {
  if (looksLikeId(kind, segment)) throw notFound(`${kind[0]!.toUpperCase()}${kind.slice(1)}`);
  if (!UID.test(segment)) throw invalid(loc, 'must be an id, or a uid of 1 to 256 letters, digits, -, _ and .');
  return segment;
}

/**
 * The uid a PUT leaves on the object it replaces: the body's, or where the body names none and
 * the path reached the object by its uid, that uid. A PUT by uid is Svix's upsert, so sending the
 * same one again changes nothing, rather than dropping the uid the first one created it under.
 */
export function uidAfterPut(bodyUid: string | null | undefined, existingUid: string | null, segment: string): string | null {
  return bodyUid ?? (existingUid === segment ? segment : null);
}
