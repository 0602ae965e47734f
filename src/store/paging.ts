import type { Page, PageRequest } from './store.ts';

/** Stores fetch `limit + 1` rows; the extra row only tells whether another page exists. */
export function toPage<Row, Item>(rows: readonly Row[], limit: number, map: (row: Row) => Item): Page<Item> {
  return { items: rows.slice(0, limit).map(map), done: rows.length <= limit };
}

/** Every item of a keyset-paged list, oldest first, a page of `size` at a time; `keyOf` names an item's cursor. */
export async function* everyItem<T>(list: (page: PageRequest) => Promise<Page<T>>, keyOf: (item: T) => string, size = 250): AsyncGenerator<T> {
  let after: string | null = null;
  for (;;) {
    const page: Page<T> = await list({ limit: size, after, order: 'asc' });
    yield* page.items;
    if (page.done || page.items.length === 0) return;
    after = keyOf(page.items.at(-1)!);
  }
}
