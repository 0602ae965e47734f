/** A table name for SQL, quoted: one identifier or, where allowed, `schema.table`. Refuses anything else. */
export function quotedTableName(name: string, allowSchema: boolean): string {
  const parts = name.split('.');
  if (parts.length > (allowSchema ? 2 : 1) || !parts.every((part) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(part))) {
    throw new TypeError(`table must be an identifier (letters, digits, _)${allowSchema ? ' or schema.table' : ''}, not ${JSON.stringify(name)}.`);
  }
  return parts.map((part) => `"${part}"`).join('.');
}

/** The name of a table's expiry index, in the table's schema (where PostgreSQL puts it). */
export function expiryIndexName(name: string): string {
  return `"${name.split('.').pop()}_expires_at"`;
}

/** How often the SQL stores delete forgotten ids, at most; and how many in one statement. */
export const PRUNE_EVERY_MS = 60_000;
export const PRUNE_BATCH = 1_000;
