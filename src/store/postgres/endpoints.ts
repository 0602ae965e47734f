import { type Endpoint, Status } from '../../core/model.ts';
import { StoreError } from '../errors.ts';
import { toPage } from '../paging.ts';
import { nullableJson, toEndpoint } from '../rows.ts';
import { keyset } from '../sql.ts';
import type { EndpointStore } from '../store.ts';
import { CONFIG_CHANNEL, type PostgresDatabase } from './database.ts';

export function postgresEndpoints(db: PostgresDatabase): EndpointStore {
  const columns = (endpoint: Endpoint) => [
    endpoint.uid, endpoint.url, endpoint.description, nullableJson(endpoint.eventTypes), nullableJson(endpoint.channels),
    endpoint.disabled, JSON.stringify(endpoint.metadata), endpoint.throttleRate, JSON.stringify(endpoint.headers),
    JSON.stringify(endpoint.secrets), nullableJson(endpoint.retrySchedule), nullableJson(endpoint.filter), endpoint.disabledReason ?? null, endpoint.disabledAt ?? null, endpoint.updatedAt,
  ];
  const INSERT = `WITH created AS (
      INSERT INTO endpoints (uid, url, description, event_types, channels, disabled, metadata, throttle_rate, headers, secrets, retry_schedule, payload_filter, disabled_reason, disabled_at,
        updated_at, id, app_id, created_at, listen_name, polling)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING app_id
    )
    SELECT pg_notify('${CONFIG_CHANNEL}', app_id) FROM created`;

  return {
    async create(endpoint, maxPerApplication = Infinity) {
      const values = [...columns(endpoint), endpoint.id, endpoint.appId, endpoint.createdAt, endpoint.listen?.name ?? null, endpoint.polling ?? false];
      if (!Number.isFinite(maxPerApplication)) {
        await db.query(INSERT, values);
        return endpoint;
      }
      await db.transaction(async (query) => {
        // Creates in one application wait here for each other, so each one counts what the one
        // before it committed. (NO KEY UPDATE leaves the messages that reference the row alone.)
        await query('SELECT 1 FROM applications WHERE id = ? FOR NO KEY UPDATE', [endpoint.appId]);
        const [{ n }] = (await query<{ n: number }>('SELECT count(*)::int AS n FROM endpoints WHERE app_id = ? AND deleted_at IS NULL', [endpoint.appId])) as [{ n: number }];
        if (n >= maxPerApplication) throw new StoreError('limit', `The application already has ${n} endpoints.`);
        await query(INSERT, values);
      });
      return endpoint;
    },

    async get(appId, idOrUid) {
      const row = await db.one(
        'SELECT * FROM endpoints WHERE app_id = ? AND deleted_at IS NULL AND (id = ? OR uid = ?) ORDER BY id = ? DESC LIMIT 1',
        [appId, idOrUid, idOrUid, idOrUid],
      );
      return row ? toEndpoint(row) : null;
    },

    async list(appId, page) {
      const { where, params, tail } = keyset('id', page);
      return toPage(await db.query(`SELECT * FROM endpoints WHERE app_id = ? AND deleted_at IS NULL AND listen_name IS NULL AND NOT polling AND ${where} ${tail}`, [appId, ...params]), page.limit, toEndpoint);
    },

    async listPolling(appId, page) {
      const { where, params, tail } = keyset('id', page);
      return toPage(await db.query(`SELECT * FROM endpoints WHERE app_id = ? AND deleted_at IS NULL AND polling AND ${where} ${tail}`, [appId, ...params]), page.limit, toEndpoint);
    },

    async getListen(appId, name) {
      const row = await db.one('SELECT * FROM endpoints WHERE app_id = ? AND listen_name = ? AND deleted_at IS NULL', [appId, name]);
      return row ? toEndpoint(row) : null;
    },

    async listEnabled(appId) {
      return (await db.query('SELECT * FROM endpoints WHERE app_id = ? AND NOT disabled AND deleted_at IS NULL', [appId])).map(toEndpoint);
    },

    async update(endpoint) {
      await db.query(
        `WITH changed AS (
           UPDATE endpoints SET uid = ?, url = ?, description = ?, event_types = ?, channels = ?, disabled = ?, metadata = ?,
             throttle_rate = ?, headers = ?, secrets = ?, retry_schedule = ?, payload_filter = ?, disabled_reason = ?, disabled_at = ?, updated_at = ?
           WHERE id = ? AND app_id = ? AND deleted_at IS NULL RETURNING app_id
         )
         SELECT pg_notify('${CONFIG_CHANNEL}', app_id) FROM changed`,
        [...columns(endpoint), endpoint.id, endpoint.appId],
      );
      return endpoint;
    },

    async setListener(appId, id, listener) {
      const rows = await db.query(
        'UPDATE endpoints SET listen_listener = ? WHERE id = ? AND app_id = ? AND listen_name IS NOT NULL AND deleted_at IS NULL RETURNING id',
        [listener, id, appId],
      );
      return rows.length > 0;
    },

    async setTransformation(appId, id, transformation) {
      const rows = await db.query(
        `WITH changed AS (
           UPDATE endpoints SET transformation_code = ?, transformation_enabled = ?, transformation_updated_at = ?
           WHERE id = ? AND app_id = ? AND deleted_at IS NULL RETURNING app_id
         )
         SELECT pg_notify('${CONFIG_CHANNEL}', app_id) FROM changed`,
        [transformation.code, transformation.enabled, transformation.updatedAt, id, appId],
      );
      return rows.length > 0;
    },

    async delete(appId, id, now) {
      const rows = await db.query(
        `WITH deleted AS (
           UPDATE endpoints SET deleted_at = ?, uid = NULL, secrets = '[]', headers = '{}', disabled = true, updated_at = ?
           WHERE app_id = ? AND id = ? AND deleted_at IS NULL
           RETURNING id, app_id
         ), ended AS (
           UPDATE deliveries d SET status = ${Status.fail}, lease = d.lease + 1, run_at = ?, next_attempt_at = NULL, updated_at = ?
           FROM deleted WHERE d.endpoint_id = deleted.id AND d.status IN (${Status.pending}, ${Status.sending})
         )
         SELECT pg_notify('${CONFIG_CHANNEL}', app_id) FROM deleted`,
        [now, now, appId, id, now, now],
      );
      return rows.length > 0;
    },

    purge(olderThan, limit) {
      return db.run(
        `DELETE FROM endpoints WHERE id IN (
           SELECT e.id FROM endpoints e
           WHERE e.deleted_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.endpoint_id = e.id)
           LIMIT ? FOR UPDATE SKIP LOCKED)`,
        [olderThan, limit],
      );
    },
  };
}
