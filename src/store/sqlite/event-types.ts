import { toPage } from '../paging.ts';
import type { EventTypeStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';
import { keyset } from '../sql.ts';
import { nullableJson, toEventType } from '../rows.ts';

export function sqliteEventTypes(db: SqliteDatabase): EventTypeStore {
  return {
    async create(eventType) {
      await db.write(() =>
        db.run(
          `INSERT INTO event_types (name, description, schemas, archived, deprecated, feature_flag, retry_schedule, schema_validation, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          eventType.name, eventType.description, nullableJson(eventType.schemas), Number(eventType.archived),
          Number(eventType.deprecated), eventType.featureFlag, nullableJson(eventType.retrySchedule), eventType.schemaValidation ?? null,
          eventType.createdAt, eventType.updatedAt,
        ),
      );
      return eventType;
    },

    async get(name) {
      const row = db.get('SELECT * FROM event_types WHERE name = ?', name);
      return row ? toEventType(row) : null;
    },

    async getMany(names) {
      if (names.length === 0) return [];
      return db.all('SELECT * FROM event_types WHERE name IN (SELECT value FROM json_each(?))', JSON.stringify(names)).map(toEventType);
    },

    async list(page, includeArchived) {
      const { where, params, tail } = keyset('name', page);
      const archived = includeArchived ? '' : 'AND archived = 0';
      return toPage(db.all(`SELECT * FROM event_types WHERE ${where} ${archived} ${tail}`, ...params), page.limit, toEventType);
    },

    async update(eventType) {
      await db.write(() =>
        db.run(
          'UPDATE event_types SET description = ?, schemas = ?, archived = ?, deprecated = ?, feature_flag = ?, retry_schedule = ?, schema_validation = ?, updated_at = ? WHERE name = ?',
          eventType.description, nullableJson(eventType.schemas), Number(eventType.archived), Number(eventType.deprecated),
          eventType.featureFlag, nullableJson(eventType.retrySchedule), eventType.schemaValidation ?? null, eventType.updatedAt, eventType.name,
        ),
      );
      return eventType;
    },

    async delete(name) {
      return (await db.write(() => db.run('DELETE FROM event_types WHERE name = ?', name))) > 0;
    },
  };
}
