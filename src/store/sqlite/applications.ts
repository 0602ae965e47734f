import type { Application } from '../../core/model.ts';
import { toPage } from '../paging.ts';
import type { ApplicationStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';
import { applicationSearch, applicationStatsSql, Conditions, keyset, NOT_A_SOURCE, toApplicationStats } from '../sql.ts';
import { toApplication } from '../rows.ts';

export function sqliteApplications(db: SqliteDatabase): ApplicationStore {
  return {
    async create(app) {
      await db.write(() =>
        db.run(
          'INSERT INTO applications (id, uid, name, metadata, throttle_rate, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
          app.id, app.uid, app.name, JSON.stringify(app.metadata), app.throttleRate, app.createdAt, app.updatedAt,
        ),
      );
      return app;
    },

    async get(idOrUid) {
      const row = db.get('SELECT * FROM applications WHERE id = ?', idOrUid)
        ?? db.get('SELECT * FROM applications WHERE uid = ?', idOrUid);
      return row ? toApplication(row) : null;
    },

    async list(page, filter) {
      const { where, params, tail } = keyset('id', page);
      const conditions = applicationSearch(new Conditions().add(where, ...params).add(NOT_A_SOURCE), filter, 'LIKE');
      return toPage(db.all(`SELECT * FROM applications WHERE ${conditions} ${tail}`, ...conditions.params), page.limit, toApplication);
    },

    async stats(appIds) {
      if (appIds.length === 0) return new Map();
      return toApplicationStats(db.all(applicationStatsSql('SELECT value FROM json_each(?)'), JSON.stringify(appIds)));
    },

    async update(app: Application) {
      await db.write(() =>
        db.run(
          'UPDATE applications SET uid = ?, name = ?, metadata = ?, throttle_rate = ?, updated_at = ? WHERE id = ?',
          app.uid, app.name, JSON.stringify(app.metadata), app.throttleRate, app.updatedAt, app.id,
        ),
      );
      return app;
    },

    async delete(id) {
      return (await db.write(() => db.run('DELETE FROM applications WHERE id = ?', id))) > 0;
    },
  };
}
