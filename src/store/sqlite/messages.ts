import { smallestIdAt } from '../../core/ids.ts';
import { Status, Trigger } from '../../core/model.ts';
import { toPage } from '../paging.ts';
import type { MessageFilter, MessageStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';
import type { DeletedEndpoints } from './endpoints.ts';
import { Conditions, keyset, MESSAGE_STATUS_CONDITIONS } from '../sql.ts';
import { nullableJson, toMessage } from '../rows.ts';

export function sqliteMessages(db: SqliteDatabase, deleted: DeletedEndpoints): MessageStore {
  return {
    enqueue(message, endpointIds, lease) {
      return db.write(() => {
        db.run(
          `INSERT INTO messages (id, app_id, event_type, event_id, channels, payload, inbound, payload_expires_at, schema_violations, ordering_key, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          message.id, message.appId, message.eventType, message.eventId, nullableJson(message.channels), message.payload,
          nullableJson(message.inbound), message.payloadExpiresAt ?? null, nullableJson(message.schemaViolations ?? null), message.orderingKey ?? null, message.createdAt,
        );
        // Listen sessions' and polling endpoints, whose deliveries are pulled rather than sent: one
        // look-up in an index that holds only them, and none when the application has neither.
        // A polling endpoint's delivery is stored done: it is in the endpoint's log, to be read.
        const pulled = new Map(endpointIds.length === 0 ? [] : db.tuples<[id: string, polling: number]>(
          'SELECT id, polling FROM endpoints WHERE app_id = ? AND (listen_name IS NOT NULL OR polling = 1) AND deleted_at IS NULL', message.appId,
        ));
        return endpointIds.map((endpointId) => {
          if (deleted.has(endpointId)) return null;
          const leased = lease?.endpointIds.has(endpointId) ?? false;
          const polling = pulled.get(endpointId) === 1;
          return db.insert(
            `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempt_count, trigger, run_at, lease, next_attempt_at, created_at, updated_at, pulled, ordering_key)
             VALUES (?, ?, ?, ?, 0, ${Trigger.scheduled}, ?, ?, ?, ?, ?, ?, ?)`,
            message.id, endpointId, message.appId, polling ? Status.success : leased ? Status.sending : Status.pending,
            leased ? lease!.until : message.createdAt, leased ? 1 : 0,
            polling ? null : message.createdAt, message.createdAt, message.createdAt, Number(pulled.has(endpointId)), message.orderingKey ?? null,
          );
        });
      });
    },

    async get(appId, idOrEventId) {
      const row = db.get('SELECT * FROM messages WHERE app_id = ? AND id = ?', appId, idOrEventId)
        ?? db.get('SELECT * FROM messages WHERE app_id = ? AND event_id = ?', appId, idOrEventId);
      return row ? toMessage(row) : null;
    },

    async list(appId, filter, page) {
      const { where, params, tail } = keyset('m.id', page);
      const conditions = messageConditions(new Conditions().add('m.app_id = ?', appId), filter).add(where, ...params)
        .addIf(filter.status != null, MESSAGE_STATUS_CONDITIONS[filter.status ?? 0]!);
      return toPage(db.all(`SELECT m.* FROM messages m WHERE ${conditions} ${tail}`, ...conditions.params), page.limit, toMessage);
    },

    // Ids sort by time, so "older than" is a primary-key range and needs no index of its own.
    purge(olderThan, limit, inboundOlderThan = olderThan) {
      return db.write(() =>
        db.run(
          `DELETE FROM messages WHERE id IN (
             SELECT m.id FROM messages m
             WHERE m.id < ? AND (m.inbound IS NULL OR m.id < ?)
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status IN (1, 3)
               AND NOT (d.status = 1 AND EXISTS (SELECT 1 FROM endpoints e WHERE e.id = d.endpoint_id AND e.disabled = 1 AND e.deleted_at IS NULL)))
             LIMIT ?)`,
          smallestIdAt('message', olderThan), smallestIdAt('message', inboundOlderThan), limit,
        ),
      );
    },

    erasePayloads(which, now) {
      return db.write(() => {
        const ids = 'messageId' in which
          ? db.all<{ id: string }>('SELECT id FROM messages WHERE id = ? AND payload_erased_at IS NULL', which.messageId)
          : db.all<{ id: string }>('SELECT id FROM messages WHERE payload_expires_at <= ? ORDER BY payload_expires_at LIMIT ?', which.expiredBy, which.limit);
        if (ids.length === 0) return 0;
        const list = JSON.stringify(ids.map((row) => row.id));
        db.run(
          `UPDATE messages SET payload = x'', payload_erased_at = ?, payload_expires_at = NULL WHERE id IN (SELECT value FROM json_each(?))`,
          now, list,
        );
        db.run(
          `UPDATE deliveries SET status = ${Status.fail}, lease = lease + 1, run_at = ?, next_attempt_at = NULL, updated_at = ?
           WHERE message_id IN (SELECT value FROM json_each(?)) AND status IN (${Status.pending}, ${Status.sending})`,
          now, now, list,
        );
        // A transformed attempt's body is made from the payload: it goes with it.
        db.run(
          `UPDATE attempts SET transformed = json_set(transformed, '$.body', NULL)
           WHERE message_id IN (SELECT value FROM json_each(?)) AND transformed IS NOT NULL`,
          list,
        );
        return ids.length;
      });
    },
  };
}

/** The message filters shared by message, delivery and attempt listings (`m` is the messages alias). */
export function messageConditions(conditions: Conditions, filter: MessageFilter, timeColumn = 'm.created_at'): Conditions {
  return conditions
    .addIf(filter.eventTypes?.length, 'm.event_type IN (SELECT value FROM json_each(?))', JSON.stringify(filter.eventTypes))
    .addIf(filter.channel, 'EXISTS (SELECT 1 FROM json_each(m.channels) WHERE value = ?)', filter.channel)
    .addIf(filter.channels?.length, 'EXISTS (SELECT 1 FROM json_each(m.channels) WHERE value IN (SELECT value FROM json_each(?)))', JSON.stringify(filter.channels))
    .addIf(filter.before, `${timeColumn} < ?`, filter.before)
    .addIf(filter.after, `${timeColumn} > ?`, filter.after);
}
