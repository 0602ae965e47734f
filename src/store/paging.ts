import type { Page } from './store.ts';

/** Stores fetch `limit + 1` rows; the extra row only tells whether another page exists. */
export function toPage<Row, Item>(rows: readonly Row[], limit: number, map: (row: Row) => Item): Page<Item> {
  return { items: rows.slice(0, limit).map(map), done: rows.length <= limit };
}
