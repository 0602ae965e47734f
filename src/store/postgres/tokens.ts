import { toToken } from '../rows.ts';
import type { TokenStore } from '../store.ts';
import type { PostgresDatabase } from './database.ts';

export function postgresTokens(db: PostgresDatabase): TokenStore {
  return {
    async create(token) {
      await db.run(
        'INSERT INTO api_tokens (id, digest, app_id, read_only, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
        [token.id, token.digest, token.appId, token.readOnly, token.createdAt, token.expiresAt],
      );
      return token;
    },
    async find(digest, now) {
      const row = await db.one('SELECT * FROM api_tokens WHERE digest = ? AND (expires_at IS NULL OR expires_at > ?)', [digest, now]);
      return row ? toToken(row) : null;
    },
    async hasAdmin() {
      return (await db.one('SELECT 1 AS one FROM api_tokens WHERE app_id IS NULL LIMIT 1')) !== undefined;
    },
    expireForApp(appId, at) {
      return db.run('UPDATE api_tokens SET expires_at = ? WHERE app_id = ? AND (expires_at IS NULL OR expires_at > ?)', [at, appId, at]);
    },
  };
}
