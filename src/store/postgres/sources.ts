import { toPage } from '../paging.ts';
import { toSource } from '../rows.ts';
import { keyset } from '../sql.ts';
import type { SourceStore } from '../store.ts';
import { CONFIG_CHANNEL, type PostgresDatabase } from './database.ts';

const SELECT = 'SELECT a.*, s.type, s.config, s.token FROM sources s JOIN applications a ON a.id = s.app_id';

/** A changed or deleted source is announced on the config channel, so other processes drop its cached URL token. */
export function postgresSources(db: PostgresDatabase): SourceStore {
  return {
    async create(source, tokenDigest) {
      await db.query(
        `WITH app AS (
           INSERT INTO applications (id, uid, name, metadata, throttle_rate, created_at, updated_at)
           VALUES (?, ?, ?, ?, NULL, ?, ?) RETURNING id
         )
         INSERT INTO sources (app_id, type, config, token, token_digest) SELECT id, ?, ?, ?, ? FROM app`,
        [source.id, source.uid, source.name, JSON.stringify(source.metadata), source.createdAt, source.updatedAt,
          source.type, JSON.stringify(source.config), source.token, tokenDigest],
      );
      return source;
    },
    async get(idOrUid) {
      const row = await db.one(`${SELECT} WHERE a.id = ? OR a.uid = ? ORDER BY a.id = ? DESC LIMIT 1`, [idOrUid, idOrUid, idOrUid]);
      return row ? toSource(row) : null;
    },
    async getByTokenDigest(digest) {
      const row = await db.one(`${SELECT} WHERE s.token_digest = ?`, [digest]);
      return row ? toSource(row) : null;
    },
    async list(page) {
      const { where, params, tail } = keyset('a.id', page);
      return toPage(await db.query(`${SELECT} WHERE ${where} ${tail}`, params), page.limit, toSource);
    },
    async update(source, tokenDigest) {
      await db.query(
        `WITH app AS (
           UPDATE applications SET uid = ?, name = ?, metadata = ?, updated_at = ? WHERE id = ? RETURNING id
         ),
         changed AS (
           UPDATE sources SET type = ?, config = ?, token = ?, token_digest = ? WHERE app_id IN (SELECT id FROM app) RETURNING app_id
         )
         SELECT pg_notify('${CONFIG_CHANNEL}', app_id) FROM changed`,
        [source.uid, source.name, JSON.stringify(source.metadata), source.updatedAt, source.id,
          source.type, JSON.stringify(source.config), source.token, tokenDigest],
      );
      // A rotated URL must be refused everywhere once this answers (see `fence`).
      await db.fence(CONFIG_CHANNEL);
      return source;
    },
    async delete(id) {
      const rows = await db.query(
        `WITH deleted AS (DELETE FROM applications WHERE id = ? AND id IN (SELECT app_id FROM sources) RETURNING id)
         SELECT pg_notify('${CONFIG_CHANNEL}', id) FROM deleted`,
        [id],
      );
      return rows.length > 0;
    },
  };
}
