import { smallestIdAt } from '../../core/ids.ts';
import { Status, Trigger } from '../../core/model.ts';
import { toPage } from '../paging.ts';
import { nullableJson, toMessage } from '../rows.ts';
import { Conditions, keyset } from '../sql.ts';
import type { MessageFilter, MessageStore } from '../store.ts';
import { DUE_CHANNEL, type PostgresDatabase } from './database.ts';

export function postgresMessages(db: PostgresDatabase): MessageStore {
  return {
    // One statement, so one round trip and an implicit transaction: the message, its deliveries,
    // and a notification that wakes idle workers once the whole thing is committed.
    async enqueue(message, endpointIds) {
      await db.query(
        `WITH message AS (
           INSERT INTO messages (id, app_id, event_type, event_id, channels, payload, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id, created_at
         ), queued AS (
           INSERT INTO deliveries (message_id, endpoint_id, status, attempt_count, trigger, run_at, lease, next_attempt_at, created_at, updated_at)
           SELECT message.id, endpoint_id, ${Status.pending}, 0, ${Trigger.scheduled}, message.created_at, 0, message.created_at,
             message.created_at, message.created_at
           FROM message, unnest(?::text[]) AS endpoint_id
           RETURNING 1
         )
         SELECT pg_notify('${DUE_CHANNEL}', '') FROM (SELECT 1 FROM queued LIMIT 1) AS any_queued`,
        [message.id, message.appId, message.eventType, message.eventId, nullableJson(message.channels), message.payload,
          message.createdAt, endpointIds],
      );
    },

    async get(appId, idOrEventId) {
      const row = await db.one(
        'SELECT * FROM messages WHERE app_id = ? AND (id = ? OR event_id = ?) ORDER BY id = ? DESC LIMIT 1',
        [appId, idOrEventId, idOrEventId, idOrEventId],
      );
      return row ? toMessage(row) : null;
    },

    async list(appId, filter, page) {
      const { where, params, tail } = keyset('m.id', page);
      const conditions = messageConditions(new Conditions().add('m.app_id = ?', appId), filter).add(where, ...params);
      return toPage(await db.query(`SELECT m.* FROM messages m WHERE ${conditions} ${tail}`, conditions.params), page.limit, toMessage);
    },

    // Ids sort by time, so "older than" is a primary-key range; SKIP LOCKED lets several
    // processes purge side by side without waiting on each other or on deliveries in progress.
    purge(olderThan, limit) {
      return db.run(
        `DELETE FROM messages WHERE id IN (
           SELECT m.id FROM messages m
           WHERE m.id < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status IN (1, 3))
           LIMIT ? FOR UPDATE SKIP LOCKED)`,
        [smallestIdAt('message', olderThan), limit],
      );
    },
  };
}

/** The message filters shared by message, delivery and attempt listings (`m` is the messages alias). */
export function messageConditions(conditions: Conditions, filter: MessageFilter, timeColumn = 'm.created_at'): Conditions {
  return conditions
    .addIf(filter.eventTypes?.length, 'm.event_type = ANY(?::text[])', filter.eventTypes)
    .addIf(filter.channel, 'm.channels @> jsonb_build_array(?::text)', filter.channel)
    .addIf(filter.before, `${timeColumn} < ?`, filter.before)
    .addIf(filter.after, `${timeColumn} > ?`, filter.after);
}
