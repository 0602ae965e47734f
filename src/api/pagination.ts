import { type IdKind, isId } from '../core/ids.ts';
import type { PageRequest } from '../store/store.ts';
import { invalid } from './errors.ts';
import type { ListQuery } from './schemas.ts';

export const DEFAULT_LIMIT = 50;

export interface PagePlan {
  page: PageRequest;
  /** A `-`-prefixed iterator walks back: the store reads the other way and the API flips the page. */
  backwards: boolean;
}

/** What a list is keyed by: ids of one kind, or event type names. */
export type ListKey = IdKind | 'event-type';

const NAME = /^[a-zA-Z0-9\-_.]{1,256}$/;
const KEY_NAMES: Record<ListKey, string> = {
  application: 'an application id',
  endpoint: 'an endpoint id',
  message: 'a message id',
  attempt: 'an attempt id',
  task: 'a task id',
  token: 'a token id',
  source: 'a source id',
  bin: 'a bin id',
  binRequest: 'a bin request id',
  operational: 'an application id',
  'event-type': 'an event type name',
};

/**
 * The page a list query asks for. An iterator is the key of the item the walk continues after,
 * `-`-prefixed to walk back (prevIterator); it must be a key of the listed kind, as in Svix,
 * since anything else would only ever page through nothing, or through a range no one meant.
 */
export function planPage(query: ListQuery, defaultOrder: 'asc' | 'desc', key: ListKey): PagePlan {
  const order = query.order === 'ascending' ? 'asc' : query.order === 'descending' ? 'desc' : defaultOrder;
  const limit = query.limit ?? DEFAULT_LIMIT;
  // An empty iterator is none: what `?iterator=$next` sends before the first page.
  if (!query.iterator) return { page: { limit, after: null, order }, backwards: false };
  const backwards = query.iterator.startsWith('-');
  const after = backwards ? query.iterator.slice(1) : query.iterator;
  if (!(key === 'event-type' ? NAME.test(after) : isId(key, after))) {
    throw invalid(['query', 'iterator'], `must be ${KEY_NAMES[key]}, with or without a leading -, as a page's iterator or prevIterator is`);
  }
  return backwards ? { page: { limit, after, order: order === 'asc' ? 'desc' : 'asc' }, backwards } : { page: { limit, after, order }, backwards };
}

/** Splits `a,b` and repeated parameters into one list, or null when there is none. */
export function listParam(values: readonly string[] | undefined): string[] | null {
  const list = (values ?? []).flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
  return list.length ? list : null;
}

/** A date-time parameter as epoch milliseconds; 422 for a valid-looking one no clock has (a leap second). */
export function timeParam(value: string | null | undefined, loc: string[]): number | null {
  if (value === undefined || value === null) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid(loc, 'is not a date-time this server can represent');
  return ms;
}
