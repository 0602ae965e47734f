import { smallestIdAt } from '../../core/ids.ts';
import { Status, Trigger } from '../../core/model.ts';
import { toPage } from '../paging.ts';
import { nullableJson, toMessage } from '../rows.ts';
import { Conditions, keyset, MESSAGE_STATUS_CONDITIONS } from '../sql.ts';
import type { EnqueueLease, MessageFilter, MessageStore } from '../store.ts';
import { DUE_CHANNEL, type PostgresDatabase } from './database.ts';
import type { Message } from '../../core/model.ts';
import { Batcher } from '../batcher.ts';
import { StoreError } from '../errors.ts';

export function postgresMessages(db: PostgresDatabase): MessageStore {
  const batcher = new Batcher(enqueueBatch(db), { maxBatch: 500, maxConcurrent: 4 });
  return {
    enqueue: (message, endpointIds, lease) => batcher.add({ message, endpointIds, lease }),

    async get(appId, idOrEventId) {
      const row = await db.one(
        'SELECT * FROM messages WHERE app_id = ? AND (id = ? OR event_id = ?) ORDER BY id = ? DESC LIMIT 1',
        [appId, idOrEventId, idOrEventId, idOrEventId],
      );
      return row ? toMessage(row) : null;
    },

    async list(appId, filter, page) {
      const { where, params, tail } = keyset('m.id', page);
      const conditions = messageConditions(new Conditions().add('m.app_id = ?', appId), filter).add(where, ...params)
        .addIf(filter.status != null, MESSAGE_STATUS_CONDITIONS[filter.status ?? 0]!);
      return toPage(await db.query(`SELECT m.* FROM messages m WHERE ${conditions} ${tail}`, conditions.params), page.limit, toMessage);
    },

    // Ids sort by time, so "older than" is a primary-key range; SKIP LOCKED lets several
    // processes purge side by side without waiting on each other or on deliveries in progress.
    purge(olderThan, limit, inboundOlderThan = olderThan) {
      return db.run(
        `DELETE FROM messages WHERE id IN (
           SELECT m.id FROM messages m
           WHERE m.id < ? AND (m.inbound IS NULL OR m.id < ?)
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status IN (1, 3)
               AND NOT (d.status = 1 AND EXISTS (SELECT 1 FROM endpoints e WHERE e.id = d.endpoint_id AND e.disabled AND e.deleted_at IS NULL)))
           LIMIT ? FOR UPDATE SKIP LOCKED)`,
        [smallestIdAt('message', olderThan), smallestIdAt('message', inboundOlderThan), limit],
      );
    },

    // Two statements in one transaction, the messages first: their row locks order this against a
    // resend or recover of the same message (which lock it FOR SHARE), and the second statement's
    // fresh snapshot then sees any delivery such a request made due before it committed.
    erasePayloads(which, now) {
      return db.transaction(async (query) => {
        const erased = 'messageId' in which
          ? await query<{ id: string }>(
            `UPDATE messages SET payload = ''::bytea, payload_erased_at = ?, payload_expires_at = NULL
             WHERE id = ? AND payload_erased_at IS NULL RETURNING id`,
            [now, which.messageId],
          )
          // SKIP LOCKED: maintenance on several processes erases different batches side by side.
          : await query<{ id: string }>(
            `UPDATE messages SET payload = ''::bytea, payload_erased_at = ?, payload_expires_at = NULL
             WHERE id IN (SELECT id FROM messages WHERE payload_expires_at <= ? ORDER BY payload_expires_at LIMIT ? FOR UPDATE SKIP LOCKED)
             RETURNING id`,
            [now, which.expiredBy, which.limit],
          );
        if (erased.length === 0) return 0;
        await query(
          `UPDATE deliveries SET status = ${Status.fail}, lease = lease + 1, run_at = ?, next_attempt_at = NULL, updated_at = ?
           WHERE message_id = ANY(?::text[]) AND status IN (${Status.pending}, ${Status.sending})`,
          [now, now, erased.map((row) => row.id)],
        );
        // A transformed attempt's body is made from the payload: it goes with it.
        await query(
          `UPDATE attempts SET transformed = jsonb_set(transformed::jsonb, '{body}', 'null')::text
           WHERE message_id = ANY(?::text[]) AND transformed IS NOT NULL`,
          [erased.map((row) => row.id)],
        );
        return erased.length;
      });
    },
  };
}

/**
 * Enqueues a batch in one statement: the messages, their deliveries, and a notification that
 * wakes idle workers once it is committed (unless every delivery was leased to this process). A
 * message whose eventId is already taken in its application is skipped by ON CONFLICT, gets no
 * deliveries, and fails alone with a conflict.
 *
 * The payloads travel as one binary parameter that the statement slices: in a `bytea[]` each
 * would be spelled out in hex, doubling its size, and PostgreSQL spent a fifth of its time on a
 * message parsing it back.
 */
function enqueueBatch(db: PostgresDatabase) {
  return async (batch: Array<{ message: Message; endpointIds: readonly string[]; lease: EnqueueLease | undefined }>): Promise<Array<Array<number | null> | Error>> => {
    const messages = batch.map((entry) => entry.message);
    const deliveries = batch.flatMap(({ message, endpointIds, lease }) =>
      endpointIds.map((endpointId) => [message.id, endpointId, lease?.endpointIds.has(endpointId) ? lease.until : null] as const));
    const inserted = await db.query<{ id: string; endpoint_ids: string[] | null; delivery_ids: string[] | null }>(
      `WITH inserted AS (
         INSERT INTO messages (id, app_id, event_type, event_id, channels, payload, inbound, payload_expires_at, schema_violations, ordering_key, created_at)
         SELECT id, app_id, event_type, event_id, channels::jsonb, substring(?::bytea FROM payload_at FOR payload_length), inbound::jsonb,
           payload_expires_at, schema_violations::jsonb, ordering_key, created_at
         FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[], ?::int[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::bigint[])
           AS m(id, app_id, event_type, event_id, channels, payload_at, payload_length, inbound, payload_expires_at, schema_violations, ordering_key, created_at)
         ON CONFLICT (app_id, event_id) DO NOTHING
         RETURNING id, app_id, ordering_key, created_at
       ), queued AS (
         INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempt_count, trigger, run_at, lease, next_attempt_at, created_at, updated_at, pulled, ordering_key)
         SELECT i.id, d.endpoint_id, i.app_id,
           -- A polling endpoint's delivery is stored done: it is in the endpoint's log, to be read.
           CASE WHEN e.polling THEN ${Status.success} WHEN d.leased_until IS NULL THEN ${Status.pending} ELSE ${Status.sending} END, 0, ${Trigger.scheduled},
           coalesce(d.leased_until, i.created_at), CASE WHEN d.leased_until IS NULL THEN 0 ELSE 1 END,
           CASE WHEN e.polling THEN NULL ELSE i.created_at END, i.created_at, i.created_at, e.listen_name IS NOT NULL OR e.polling, i.ordering_key
         FROM inserted i JOIN unnest(?::text[], ?::text[], ?::bigint[]) AS d(message_id, endpoint_id, leased_until) ON d.message_id = i.id
           -- A publisher's endpoint list may be older than a delete (another process's cache).
           JOIN endpoints e ON e.id = d.endpoint_id AND e.deleted_at IS NULL
         RETURNING id, message_id, endpoint_id, status
       ), notified AS (
         SELECT pg_notify('${DUE_CHANNEL}', '') FROM (SELECT 1 FROM queued WHERE status = ${Status.pending} LIMIT 1) AS any_queued
       )
       SELECT i.id, q.endpoint_ids, q.delivery_ids
       FROM inserted i
       LEFT JOIN (SELECT message_id, array_agg(endpoint_id) AS endpoint_ids, array_agg(id::text) AS delivery_ids FROM queued GROUP BY message_id) q
         ON q.message_id = i.id,
       (SELECT count(*) FROM notified) AS n`,
      [
        Buffer.concat(messages.map((m) => m.payload)),
        messages.map((m) => m.id), messages.map((m) => m.appId), messages.map((m) => m.eventType), messages.map((m) => m.eventId),
        messages.map((m) => nullableJson(m.channels)), payloadStarts(messages), messages.map((m) => m.payload.byteLength), messages.map((m) => nullableJson(m.inbound)),
        messages.map((m) => m.payloadExpiresAt ?? null), messages.map((m) => nullableJson(m.schemaViolations ?? null)), messages.map((m) => m.orderingKey ?? null), messages.map((m) => m.createdAt),
        deliveries.map(([messageId]) => messageId), deliveries.map(([, endpointId]) => endpointId), deliveries.map(([, , until]) => until),
      ],
      { prepared: true },
    );
    const stored = new Map(inserted.map((row) => {
      const ids = new Map((row.endpoint_ids ?? []).map((endpointId, i) => [endpointId, Number(row.delivery_ids![i])]));
      return [row.id, ids];
    }));
    return batch.map(({ message, endpointIds }) => {
      const ids = stored.get(message.id);
      if (!ids) return new StoreError('conflict', `A message with eventId ${message.eventId} already exists in ${message.appId}.`);
      return endpointIds.map((endpointId) => ids.get(endpointId) ?? null);
    });
  };
}

/** Where each message's payload starts in their concatenation, counted from 1 as SQL's substring does. */
function payloadStarts(messages: readonly Message[]): number[] {
  let at = 1;
  return messages.map((m) => {
    const start = at;
    at += m.payload.byteLength;
    return start;
  });
}

/** The message filters shared by message, delivery and attempt listings (`m` is the messages alias). */
export function messageConditions(conditions: Conditions, filter: MessageFilter, timeColumn = 'm.created_at'): Conditions {
  return conditions
    .addIf(filter.eventTypes?.length, 'm.event_type = ANY(?::text[])', filter.eventTypes)
    .addIf(filter.channel, 'm.channels @> jsonb_build_array(?::text)', filter.channel)
    .addIf(filter.channels?.length, 'jsonb_exists_any(m.channels, ?::text[])', filter.channels)
    .addIf(filter.before, `${timeColumn} < ?`, filter.before)
    .addIf(filter.after, `${timeColumn} > ?`, filter.after);
}
