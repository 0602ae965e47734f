import type { SQLInputValue } from 'node:sqlite';
import type { PageRequest } from '../store.ts';

/** The ORDER BY / LIMIT tail and the cursor condition of a keyset-paginated query. */
export function keyset(column: string, page: PageRequest): { where: string; params: SQLInputValue[]; tail: string } {
  const direction = page.order === 'asc' ? 'ASC' : 'DESC';
  const tail = `ORDER BY ${column} ${direction} LIMIT ${Math.trunc(page.limit) + 1}`;
  if (page.after === null) return { where: '1 = 1', params: [], tail };
  return { where: `${column} ${page.order === 'asc' ? '>' : '<'} ?`, params: [page.after], tail };
}

/** SQL conditions joined by AND, with their parameters in order. */
export class Conditions {
  readonly #parts: string[] = [];
  readonly params: SQLInputValue[] = [];

  add(sql: string, ...params: SQLInputValue[]): this {
    this.#parts.push(sql);
    this.params.push(...params);
    return this;
  }

  addIf(condition: unknown, sql: string, ...params: SQLInputValue[]): this {
    return condition === null || condition === undefined || condition === false ? this : this.add(sql, ...params);
  }

  toString(): string {
    return this.#parts.length ? this.#parts.join(' AND ') : '1 = 1';
  }
}
