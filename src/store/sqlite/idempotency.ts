import type { IdempotencyStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';

export function sqliteIdempotency(db: SqliteDatabase): IdempotencyStore {
  return {
    async get(scope, key, notBefore) {
      const row = db.get<{ status_code: number; body: string }>(
        'SELECT status_code, body FROM idempotency_keys WHERE scope = ? AND key = ? AND created_at >= ?', scope, key, notBefore,
      );
      return row ? { statusCode: row.status_code, body: row.body } : null;
    },
    async put(scope, key, response, now) {
      await db.write(() =>
        db.run(
          `INSERT INTO idempotency_keys (scope, key, status_code, body, created_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (scope, key) DO UPDATE SET status_code = excluded.status_code, body = excluded.body, created_at = excluded.created_at`,
          scope, key, response.statusCode, response.body, now,
        ),
      );
    },
    purge(olderThan, limit) {
      return db.write(() =>
        db.run(
          'DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT scope, key FROM idempotency_keys WHERE created_at < ? LIMIT ?)',
          olderThan, limit,
        ),
      );
    },
  };
}
