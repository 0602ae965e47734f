import { nullableJson, toToken } from '../rows.ts';
import type { TokenStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';

export function sqliteTokens(db: SqliteDatabase): TokenStore {
  return {
    async create(token) {
      await db.write(() =>
        db.run(
          'INSERT INTO api_tokens (id, digest, app_id, capabilities, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
          token.id, token.digest, token.appId, nullableJson(token.capabilities), token.createdAt, token.expiresAt,
        ),
      );
      return token;
    },
    async find(digest, now) {
      const row = db.get('SELECT * FROM api_tokens WHERE digest = ? AND (expires_at IS NULL OR expires_at > ?)', digest, now);
      return row ? toToken(row) : null;
    },
    async hasAdmin() {
      return db.get('SELECT 1 FROM api_tokens WHERE app_id IS NULL LIMIT 1') !== undefined;
    },
    expireForApp(appId, at) {
      return db.write(() =>
        db.run('UPDATE api_tokens SET expires_at = ? WHERE app_id = ? AND (expires_at IS NULL OR expires_at > ?)', at, appId, at),
      );
    },
    async delete(id) {
      const row = await db.write(() => db.get('DELETE FROM api_tokens WHERE id = ? RETURNING *', id));
      return row ? toToken(row) : null;
    },
  };
}
