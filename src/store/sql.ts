import type { PageRequest } from './store.ts';

/**
 * SQL text is written with `?` placeholders for both databases; PostgreSQL gets them numbered by
 * `numbered()`. (So PostgreSQL SQL here never uses jsonb's `?` operator: `@>` or functions instead.)
 */

/** The cursor condition and ORDER BY / LIMIT tail of a keyset-paginated query (one extra row tells `done`). */
export function keyset(column: string, page: PageRequest): { where: string; params: unknown[]; tail: string } {
  const tail = `ORDER BY ${column} ${page.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ${Math.trunc(page.limit) + 1}`;
  if (page.after === null) return { where: '1 = 1', params: [], tail };
  return { where: `${column} ${page.order === 'asc' ? '>' : '<'} ?`, params: [page.after], tail };
}

/** SQL conditions joined by AND, with their parameters in order. */
export class Conditions {
  readonly #parts: string[] = [];
  readonly params: unknown[] = [];

  add(sql: string, ...params: unknown[]): this {
    this.#parts.push(sql);
    this.params.push(...params);
    return this;
  }

  /** Adds the condition unless `when` is null, undefined, false, 0 or empty. */
  addIf(when: unknown, sql: string, ...params: unknown[]): this {
    return when === null || when === undefined || when === false || when === 0 || when === '' ? this : this.add(sql, ...params);
  }

  toString(): string {
    return this.#parts.length ? this.#parts.join(' AND ') : '1 = 1';
  }
}

/** Rewrites `?` placeholders as `$1, $2, …` for PostgreSQL. */
export function numbered(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
}
