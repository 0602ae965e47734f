import { nullableJson, toToken } from '../rows.ts';
import type { TokenStore } from '../store.ts';
import { CONFIG_CHANNEL, type PostgresDatabase } from './database.ts';

/**
 * Revoking tokens is announced on the config channel with the token's application (empty for an
 * admin token, which drops every cache), so every process forgets the revoked tokens at once; the
 * revocation returns once the announcement was heard (`fence`), so it has been everywhere.
 */
export function postgresTokens(db: PostgresDatabase): TokenStore {
  return {
    async create(token) {
      await db.run(
        'INSERT INTO api_tokens (id, digest, app_id, capabilities, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
        [token.id, token.digest, token.appId, nullableJson(token.capabilities), token.createdAt, token.expiresAt],
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
    async expireForApp(appId, at) {
      const row = await db.one<{ n: number }>(
        `WITH expired AS (
           UPDATE api_tokens SET expires_at = ? WHERE app_id = ? AND (expires_at IS NULL OR expires_at > ?) RETURNING 1
         )
         SELECT count(*)::int AS n, pg_notify('${CONFIG_CHANNEL}', ?) FROM expired`,
        [at, appId, at, appId],
      );
      await db.fence(CONFIG_CHANNEL);
      return row?.n ?? 0;
    },
    async delete(id) {
      const row = await db.one(
        `WITH deleted AS (DELETE FROM api_tokens WHERE id = ? RETURNING *)
         SELECT deleted.*, pg_notify('${CONFIG_CHANNEL}', coalesce(app_id, '')) FROM deleted`,
        [id],
      );
      if (row) await db.fence(CONFIG_CHANNEL);
      return row ? toToken(row) : null;
    },
  };
}
