import type { IdempotencyClaim } from './store.ts';

/**
 * The claim, in the SQL both engines share: insert a pending record, or take over one whose lock
 * lapsed or whose answer is older than the window. It returns a row only when the caller now holds
 * the key. Parameters: digest, claim, locked_until, now (twice), notBefore.
 */
export const CLAIM_SQL = `INSERT INTO idempotency_keys (digest, claim, locked_until, status_code, body, created_at)
  VALUES (?, ?, ?, NULL, NULL, ?)
  ON CONFLICT (digest) DO UPDATE SET claim = excluded.claim, locked_until = excluded.locked_until,
    status_code = NULL, body = NULL, created_at = excluded.created_at
  WHERE (idempotency_keys.status_code IS NULL AND idempotency_keys.locked_until <= ?)
     OR (idempotency_keys.status_code IS NOT NULL AND idempotency_keys.created_at < ?)
  RETURNING 1 AS taken`;

export const FIND_SQL = 'SELECT status_code, body, locked_until FROM idempotency_keys WHERE digest = ?';

export const COMPLETE_SQL = `UPDATE idempotency_keys SET claim = NULL, locked_until = NULL, status_code = ?, body = ?, created_at = ?
  WHERE digest = ? AND claim = ?`;

export const RELEASE_SQL = 'DELETE FROM idempotency_keys WHERE digest = ? AND claim = ?';

export interface FoundRow {
  status_code: number | null;
  body: string | null;
  locked_until: number | null;
}

/** What a record found after a failed claim means; null when it was freed meanwhile. */
export function foundState(row: FoundRow | undefined): IdempotencyClaim | null {
  if (!row) return null;
  if (row.status_code === null) return { state: 'pending', lockedUntil: Number(row.locked_until) };
  return { state: 'done', response: { statusCode: row.status_code, body: row.body ?? '' } };
}
