import { toPage } from '../paging.ts';
import { toApplication } from '../rows.ts';
import { keyset, NOT_A_SOURCE } from '../sql.ts';
import type { ApplicationStore } from '../store.ts';
import { CONFIG_CHANNEL, type PostgresDatabase } from './database.ts';

export function postgresApplications(db: PostgresDatabase): ApplicationStore {
  return {
    async create(app) {
      await db.run(
        'INSERT INTO applications (id, uid, name, metadata, throttle_rate, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [app.id, app.uid, app.name, JSON.stringify(app.metadata), app.throttleRate, app.createdAt, app.updatedAt],
      );
      return app;
    },

    async get(idOrUid) {
      const row = await db.one('SELECT * FROM applications WHERE id = ? OR uid = ? ORDER BY id = ? DESC LIMIT 1', [idOrUid, idOrUid, idOrUid]);
      return row ? toApplication(row) : null;
    },

    async list(page) {
      const { where, params, tail } = keyset('id', page);
      return toPage(await db.query(`SELECT * FROM applications WHERE ${where} AND ${NOT_A_SOURCE} ${tail}`, params), page.limit, toApplication);
    },

    async update(app) {
      await db.query(
        `WITH changed AS (
           UPDATE applications SET uid = ?, name = ?, metadata = ?, throttle_rate = ?, updated_at = ? WHERE id = ? RETURNING id
         )
         SELECT pg_notify('${CONFIG_CHANNEL}', id) FROM changed`,
        [app.uid, app.name, JSON.stringify(app.metadata), app.throttleRate, app.updatedAt, app.id],
      );
      return app;
    },

    async delete(id) {
      const rows = await db.query(
        `WITH deleted AS (DELETE FROM applications WHERE id = ? RETURNING id) SELECT pg_notify('${CONFIG_CHANNEL}', id) FROM deleted`,
        [id],
      );
      return rows.length > 0;
    },
  };
}
