import type { PageRequest } from '../store/store.ts';
import { invalid } from './errors.ts';
import type { ListQuery } from './schemas.ts';

export const DEFAULT_LIMIT = 50;

export interface PagePlan {
  page: PageRequest;
  /** A `-`-prefixed iterator walks back: the store reads the other way and the API flips the page. */
  backwards: boolean;
}

export function planPage(query: ListQuery, defaultOrder: 'asc' | 'desc'): PagePlan {
  const order = query.order === 'ascending' ? 'asc' : query.order === 'descending' ? 'desc' : defaultOrder;
  const limit = query.limit ?? DEFAULT_LIMIT;
  const iterator = query.iterator || null;
  if (iterator?.startsWith('-')) {
    return { page: { limit, after: iterator.slice(1), order: order === 'asc' ? 'desc' : 'asc' }, backwards: true };
  }
  return { page: { limit, after: iterator, order }, backwards: false };
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
