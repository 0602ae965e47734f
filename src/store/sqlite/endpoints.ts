import type { Endpoint } from '../../core/model.ts';
import { Status } from '../../core/model.ts';
import { StoreError } from '../errors.ts';
import { toPage } from '../paging.ts';
import type { EndpointStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';
import { keyset } from '../sql.ts';
import { nullableJson, toEndpoint } from '../rows.ts';

/**
 * The endpoints this process deleted, which the enqueue of a message leaves out. This process is
 * the only one with the file, so every delete goes through here and a list of endpoints read
 * before one (the config cache's) can only be this process's: a set in memory is exact, and costs
 * the enqueue no query. Only the most recent deletes are kept; a list of endpoints is not older.
 */
export class DeletedEndpoints {
  readonly #ids = new Set<string>();

  add(id: string): void {
    if (this.#ids.size >= 10_000) for (const old of [...this.#ids].slice(0, 5_000)) this.#ids.delete(old);
    this.#ids.add(id);
  }

  has(id: string): boolean {
    return this.#ids.size > 0 && this.#ids.has(id);
  }
}

export function sqliteEndpoints(db: SqliteDatabase, deleted: DeletedEndpoints): EndpointStore {
  const columns = (endpoint: Endpoint) => [
    endpoint.uid, endpoint.url, endpoint.description, nullableJson(endpoint.eventTypes), nullableJson(endpoint.channels),
    Number(endpoint.disabled), JSON.stringify(endpoint.metadata), endpoint.throttleRate, JSON.stringify(endpoint.headers),
    JSON.stringify(endpoint.secrets), nullableJson(endpoint.retrySchedule), nullableJson(endpoint.filter), endpoint.disabledReason ?? null, endpoint.disabledAt ?? null, endpoint.updatedAt,
  ];

  return {
    async create(endpoint, maxPerApplication = Infinity) {
      await db.write(() => {
        // Writes are serialised, so the count cannot change between here and the insert.
        if (Number.isFinite(maxPerApplication)) {
          const live = db.get<{ n: number }>('SELECT count(*) AS n FROM endpoints WHERE app_id = ? AND deleted_at IS NULL', endpoint.appId)!.n;
          if (live >= maxPerApplication) throw new StoreError('limit', `The application already has ${live} endpoints.`);
        }
        db.run(
          `INSERT INTO endpoints (uid, url, description, event_types, channels, disabled, metadata, throttle_rate, headers, secrets, retry_schedule, payload_filter, disabled_reason, disabled_at,
             updated_at, id, app_id, created_at, listen_name, polling)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ...columns(endpoint), endpoint.id, endpoint.appId, endpoint.createdAt, endpoint.listen?.name ?? null, Number(endpoint.polling ?? false),
        );
      });
      return endpoint;
    },

    async get(appId, idOrUid) {
      const row = db.get('SELECT * FROM endpoints WHERE app_id = ? AND id = ? AND deleted_at IS NULL', appId, idOrUid)
        ?? db.get('SELECT * FROM endpoints WHERE app_id = ? AND uid = ?', appId, idOrUid);
      return row ? toEndpoint(row) : null;
    },

    async list(appId, page) {
      const { where, params, tail } = keyset('id', page);
      return toPage(db.all(`SELECT * FROM endpoints WHERE app_id = ? AND deleted_at IS NULL AND listen_name IS NULL AND polling = 0 AND ${where} ${tail}`, appId, ...params), page.limit, toEndpoint);
    },

    async listPolling(appId, page) {
      const { where, params, tail } = keyset('id', page);
      return toPage(db.all(`SELECT * FROM endpoints WHERE app_id = ? AND deleted_at IS NULL AND polling = 1 AND ${where} ${tail}`, appId, ...params), page.limit, toEndpoint);
    },

    async getListen(appId, name) {
      const row = db.get('SELECT * FROM endpoints WHERE app_id = ? AND listen_name = ? AND deleted_at IS NULL', appId, name);
      return row ? toEndpoint(row) : null;
    },

    async listEnabled(appId) {
      return db.all('SELECT * FROM endpoints WHERE app_id = ? AND disabled = 0 AND deleted_at IS NULL', appId).map(toEndpoint);
    },

    async update(endpoint) {
      await db.write(() =>
        db.run(
          `UPDATE endpoints SET uid = ?, url = ?, description = ?, event_types = ?, channels = ?, disabled = ?, metadata = ?,
             throttle_rate = ?, headers = ?, secrets = ?, retry_schedule = ?, payload_filter = ?, disabled_reason = ?, disabled_at = ?, updated_at = ?
           WHERE id = ? AND app_id = ? AND deleted_at IS NULL`,
          ...columns(endpoint), endpoint.id, endpoint.appId,
        ),
      );
      return endpoint;
    },

    async setListener(appId, id, listener) {
      const changed = await db.write(() => db.run(
        'UPDATE endpoints SET listen_listener = ? WHERE id = ? AND app_id = ? AND listen_name IS NOT NULL AND deleted_at IS NULL', listener, id, appId,
      ));
      return changed > 0;
    },

    async setTransformation(appId, id, transformation) {
      const changed = await db.write(() => db.run(
        `UPDATE endpoints SET transformation_code = ?, transformation_enabled = ?, transformation_updated_at = ?
         WHERE id = ? AND app_id = ? AND deleted_at IS NULL`,
        transformation.code, Number(transformation.enabled), transformation.updatedAt, id, appId,
      ));
      return changed > 0;
    },

    async delete(appId, id, now) {
      const gone = await db.write(() => {
        const changed = db.run(
          `UPDATE endpoints SET deleted_at = ?, uid = NULL, secrets = '[]', headers = '{}', disabled = 1, updated_at = ?
           WHERE app_id = ? AND id = ? AND deleted_at IS NULL`,
          now, now, appId, id,
        );
        if (changed === 0) return false;
        db.run(
          `UPDATE deliveries SET status = ${Status.fail}, lease = lease + 1, run_at = ?, next_attempt_at = NULL, updated_at = ?
           WHERE endpoint_id = ? AND status IN (${Status.pending}, ${Status.sending})`,
          now, now, id,
        );
        return true;
      });
      if (gone) deleted.add(id);
      return gone;
    },

    purge(olderThan, limit) {
      return db.write(() =>
        db.run(
          `DELETE FROM endpoints WHERE id IN (
             SELECT e.id FROM endpoints e
             WHERE e.deleted_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.endpoint_id = e.id)
             LIMIT ?)`,
          olderThan, limit,
        ),
      );
    },
  };
}
