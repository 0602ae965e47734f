import { toPage } from '../paging.ts';
import { nullableJson, toEventType } from '../rows.ts';
import { keyset } from '../sql.ts';
import type { EventTypeStore } from '../store.ts';
import { CONFIG_CHANNEL, type PostgresDatabase } from './database.ts';

export function postgresEventTypes(db: PostgresDatabase): EventTypeStore {
  return {
    async create(eventType) {
      await db.run(
        `WITH created AS (
           INSERT INTO event_types (name, description, schemas, archived, deprecated, feature_flag, retry_schedule, schema_validation, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING name
         ) SELECT pg_notify('${CONFIG_CHANNEL}', '') FROM created`,
        [eventType.name, eventType.description, nullableJson(eventType.schemas), eventType.archived, eventType.deprecated,
          eventType.featureFlag, nullableJson(eventType.retrySchedule), eventType.schemaValidation ?? null, eventType.createdAt, eventType.updatedAt],
      );
      return eventType;
    },

    async get(name) {
      const row = await db.one('SELECT * FROM event_types WHERE name = ?', [name]);
      return row ? toEventType(row) : null;
    },

    async getMany(names) {
      if (names.length === 0) return [];
      return (await db.query('SELECT * FROM event_types WHERE name = ANY(?::text[])', [names])).map(toEventType);
    },

    async list(page, includeArchived) {
      const { where, params, tail } = keyset('name', page);
      const archived = includeArchived ? '' : 'AND NOT archived';
      return toPage(await db.query(`SELECT * FROM event_types WHERE ${where} ${archived} ${tail}`, params), page.limit, toEventType);
    },

    async update(eventType) {
      await db.run(
        `WITH changed AS (
           UPDATE event_types SET description = ?, schemas = ?, archived = ?, deprecated = ?, feature_flag = ?, retry_schedule = ?, schema_validation = ?, updated_at = ?
           WHERE name = ? RETURNING name
         ) SELECT pg_notify('${CONFIG_CHANNEL}', '') FROM changed`,
        [eventType.description, nullableJson(eventType.schemas), eventType.archived, eventType.deprecated, eventType.featureFlag,
          nullableJson(eventType.retrySchedule), eventType.schemaValidation ?? null, eventType.updatedAt, eventType.name],
      );
      return eventType;
    },

    async delete(name) {
      const deleted = await db.query(
        `WITH deleted AS (DELETE FROM event_types WHERE name = ? RETURNING name) SELECT pg_notify('${CONFIG_CHANNEL}', '') FROM deleted`, [name]);
      return deleted.length > 0;
    },
  };
}
