import type { Endpoint } from '../../core/model.ts';
import { toPage } from '../paging.ts';
import { nullableJson, toEndpoint } from '../rows.ts';
import { keyset } from '../sql.ts';
import type { EndpointStore } from '../store.ts';
import { CONFIG_CHANNEL, type PostgresDatabase } from './database.ts';

export function postgresEndpoints(db: PostgresDatabase): EndpointStore {
  const columns = (endpoint: Endpoint) => [
    endpoint.uid, endpoint.url, endpoint.description, nullableJson(endpoint.eventTypes), nullableJson(endpoint.channels),
    endpoint.disabled, JSON.stringify(endpoint.metadata), endpoint.throttleRate, JSON.stringify(endpoint.headers),
    JSON.stringify(endpoint.secrets), endpoint.updatedAt,
  ];

  return {
    async create(endpoint) {
      await db.query(
        `WITH created AS (
           INSERT INTO endpoints (uid, url, description, event_types, channels, disabled, metadata, throttle_rate, headers, secrets,
             updated_at, id, app_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING app_id
         )
         SELECT pg_notify('${CONFIG_CHANNEL}', app_id) FROM created`,
        [...columns(endpoint), endpoint.id, endpoint.appId, endpoint.createdAt],
      );
      return endpoint;
    },

    async get(appId, idOrUid) {
      const row = await db.one(
        'SELECT * FROM endpoints WHERE app_id = ? AND (id = ? OR uid = ?) ORDER BY id = ? DESC LIMIT 1',
        [appId, idOrUid, idOrUid, idOrUid],
      );
      return row ? toEndpoint(row) : null;
    },

    async list(appId, page) {
      const { where, params, tail } = keyset('id', page);
      return toPage(await db.query(`SELECT * FROM endpoints WHERE app_id = ? AND ${where} ${tail}`, [appId, ...params]), page.limit, toEndpoint);
    },

    async listEnabled(appId) {
      return (await db.query('SELECT * FROM endpoints WHERE app_id = ? AND NOT disabled', [appId])).map(toEndpoint);
    },

    async update(endpoint) {
      await db.query(
        `WITH changed AS (
           UPDATE endpoints SET uid = ?, url = ?, description = ?, event_types = ?, channels = ?, disabled = ?, metadata = ?,
             throttle_rate = ?, headers = ?, secrets = ?, updated_at = ?
           WHERE id = ? AND app_id = ? RETURNING app_id
         )
         SELECT pg_notify('${CONFIG_CHANNEL}', app_id) FROM changed`,
        [...columns(endpoint), endpoint.id, endpoint.appId],
      );
      return endpoint;
    },

    async delete(appId, id) {
      const rows = await db.query(
        `WITH deleted AS (DELETE FROM endpoints WHERE app_id = ? AND id = ? RETURNING app_id)
         SELECT pg_notify('${CONFIG_CHANNEL}', app_id) FROM deleted`,
        [appId, id],
      );
      return rows.length > 0;
    },
  };
}
