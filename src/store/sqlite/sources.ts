import { toPage } from '../paging.ts';
import { toSource } from '../rows.ts';
import { keyset } from '../sql.ts';
import type { SourceStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';

const SELECT = 'SELECT a.*, s.type, s.config, s.token FROM sources s JOIN applications a ON a.id = s.app_id';

export function sqliteSources(db: SqliteDatabase): SourceStore {
  return {
    async create(source, tokenDigest) {
      await db.write(() => {
        db.run(
          'INSERT INTO applications (id, uid, name, metadata, throttle_rate, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?)',
          source.id, source.uid, source.name, JSON.stringify(source.metadata), source.createdAt, source.updatedAt,
        );
        db.run('INSERT INTO sources (app_id, type, config, token, token_digest) VALUES (?, ?, ?, ?, ?)',
          source.id, source.type, JSON.stringify(source.config), source.token, tokenDigest);
      });
      return source;
    },
    async get(idOrUid) {
      const row = db.get(`${SELECT} WHERE a.id = ?`, idOrUid) ?? db.get(`${SELECT} WHERE a.uid = ?`, idOrUid);
      return row ? toSource(row) : null;
    },
    async getByTokenDigest(digest) {
      const row = db.get(`${SELECT} WHERE s.token_digest = ?`, digest);
      return row ? toSource(row) : null;
    },
    async list(page) {
      const { where, params, tail } = keyset('a.id', page);
      return toPage(db.all(`${SELECT} WHERE ${where} ${tail}`, ...params), page.limit, toSource);
    },
    async update(source, tokenDigest) {
      await db.write(() => {
        db.run('UPDATE applications SET uid = ?, name = ?, metadata = ?, updated_at = ? WHERE id = ?',
          source.uid, source.name, JSON.stringify(source.metadata), source.updatedAt, source.id);
        db.run('UPDATE sources SET type = ?, config = ?, token = ?, token_digest = ? WHERE app_id = ?',
          source.type, JSON.stringify(source.config), source.token, tokenDigest, source.id);
      });
      return source;
    },
    async delete(id) {
      return (await db.write(() => db.run('DELETE FROM applications WHERE id = ? AND id IN (SELECT app_id FROM sources)', id))) > 0;
    },
  };
}
