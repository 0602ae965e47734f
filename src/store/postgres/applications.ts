import { toPage } from '../paging.ts';
import { toApplication } from '../rows.ts';
import { applicationSearch, applicationStatsSql, Conditions, keyset, NOT_A_SOURCE, toApplicationStats } from '../sql.ts';
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

    async list(page, filter) {
      const { where, params, tail } = keyset('id', page);
      const conditions = applicationSearch(new Conditions().add(where, ...params).add(NOT_A_SOURCE), filter, 'ILIKE');
      return toPage(await db.query(`SELECT * FROM applications WHERE ${conditions} ${tail}`, conditions.params), page.limit, toApplication);
    },

    async stats(appIds) {
      if (appIds.length === 0) return new Map();
      return toApplicationStats(await db.query(applicationStatsSql('SELECT unnest(?::text[])'), [appIds]));
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
