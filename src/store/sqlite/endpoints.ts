import type { Endpoint } from '../../core/model.ts';
import { toPage } from '../paging.ts';
import type { EndpointStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';
import { keyset } from '../sql.ts';
import { nullableJson, toEndpoint } from '../rows.ts';

export function sqliteEndpoints(db: SqliteDatabase): EndpointStore {
  const columns = (endpoint: Endpoint) => [
    endpoint.uid, endpoint.url, endpoint.description, nullableJson(endpoint.eventTypes), nullableJson(endpoint.channels),
    Number(endpoint.disabled), JSON.stringify(endpoint.metadata), endpoint.throttleRate, JSON.stringify(endpoint.headers),
    JSON.stringify(endpoint.secrets), endpoint.updatedAt,
  ];

  return {
    async create(endpoint) {
      await db.write(() =>
        db.run(
          `INSERT INTO endpoints (uid, url, description, event_types, channels, disabled, metadata, throttle_rate, headers, secrets,
             updated_at, id, app_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ...columns(endpoint), endpoint.id, endpoint.appId, endpoint.createdAt,
        ),
      );
      return endpoint;
    },

    async get(appId, idOrUid) {
      const row = db.get('SELECT * FROM endpoints WHERE app_id = ? AND id = ?', appId, idOrUid)
        ?? db.get('SELECT * FROM endpoints WHERE app_id = ? AND uid = ?', appId, idOrUid);
      return row ? toEndpoint(row) : null;
    },

    async list(appId, page) {
      const { where, params, tail } = keyset('id', page);
      return toPage(db.all(`SELECT * FROM endpoints WHERE app_id = ? AND ${where} ${tail}`, appId, ...params), page.limit, toEndpoint);
    },

    async listEnabled(appId) {
      return db.all('SELECT * FROM endpoints WHERE app_id = ? AND disabled = 0', appId).map(toEndpoint);
    },

    async update(endpoint) {
      await db.write(() =>
        db.run(
          `UPDATE endpoints SET uid = ?, url = ?, description = ?, event_types = ?, channels = ?, disabled = ?, metadata = ?,
             throttle_rate = ?, headers = ?, secrets = ?, updated_at = ?
           WHERE id = ? AND app_id = ?`,
          ...columns(endpoint), endpoint.id, endpoint.appId,
        ),
      );
      return endpoint;
    },

    async delete(appId, id) {
      return (await db.write(() => db.run('DELETE FROM endpoints WHERE app_id = ? AND id = ?', appId, id))) > 0;
    },
  };
}
