import { Status } from '../../core/model.ts';
import { toMessage } from '../rows.ts';
import type { PolledPage, PollingStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';

// A polling endpoint's log: its done, pulled deliveries (the partial index deliveries_polled).
const LOG = `pulled = 1 AND status = ${Status.success}`;

export function sqlitePolling(db: SqliteDatabase): PollingStore {
  const read = (endpointId: string, offset: number, limit: number): PolledPage => {
    const rows = db.all(
      `SELECT d.id AS poll_offset, m.* FROM deliveries d JOIN messages m ON m.id = d.message_id
       WHERE d.endpoint_id = ? AND d.pulled = 1 AND d.status = ${Status.success} AND d.id > ? ORDER BY d.id LIMIT ?`,
      endpointId, offset, limit + 1,
    );
    return { items: rows.slice(0, limit).map((row) => ({ offset: Number(row.poll_offset), message: toMessage(row) })), done: rows.length <= limit };
  };
  const last = (endpointId: string): number =>
    db.get<{ id: number }>(`SELECT id FROM deliveries WHERE endpoint_id = ? AND ${LOG} ORDER BY id DESC LIMIT 1`, endpointId)?.id ?? 0;

  return {
    // One write: the position read, the log read and the lease taken cannot interleave with
    // another poll of the same consumer.
    poll(request) {
      return db.write(() => {
        let consumer = db.get<{ committed: number; leased_to: number; lease_until: number }>(
          'SELECT committed, leased_to, lease_until FROM poll_consumers WHERE endpoint_id = ? AND consumer_id = ?',
          request.endpointId, request.consumerId,
        );
        if (!consumer) {
          consumer = { committed: request.start === 'latest' ? last(request.endpointId) : 0, leased_to: 0, lease_until: 0 };
          db.run(
            'INSERT INTO poll_consumers (endpoint_id, consumer_id, committed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
            request.endpointId, request.consumerId, consumer.committed, request.now, request.now,
          );
        }
        const leased = consumer.lease_until > request.now && consumer.leased_to > consumer.committed;
        const page = read(request.endpointId, leased ? consumer.leased_to : consumer.committed, request.limit);
        const end = page.items.at(-1)?.offset;
        if (end !== undefined && request.leaseMs > 0) {
          db.run(
            'UPDATE poll_consumers SET leased_to = ?, lease_until = ?, updated_at = ? WHERE endpoint_id = ? AND consumer_id = ?',
            end, request.now + request.leaseMs, request.now, request.endpointId, request.consumerId,
          );
        }
        return page;
      }, { durable: false });
    },

    commit(endpointId, consumerId, offset, now) {
      return db.write(() => {
        db.run(
          `INSERT INTO poll_consumers (endpoint_id, consumer_id, committed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (endpoint_id, consumer_id) DO UPDATE SET committed = excluded.committed, updated_at = excluded.updated_at,
             leased_to = CASE WHEN excluded.committed >= leased_to THEN 0 ELSE leased_to END,
             lease_until = CASE WHEN excluded.committed >= leased_to THEN 0 ELSE lease_until END`,
          endpointId, consumerId, offset, now, now,
        );
      });
    },

    async position(endpointId, consumerId) {
      return db.get<{ committed: number }>('SELECT committed FROM poll_consumers WHERE endpoint_id = ? AND consumer_id = ?', endpointId, consumerId)?.committed ?? null;
    },

    async read(endpointId, offset, limit) {
      return read(endpointId, offset, limit);
    },

    async offsetAt(endpointId, at) {
      if (at === null) return last(endpointId);
      // Backwards from the newest: seeking is to a recent time, so few rows are passed.
      return db.get<{ id: number }>(
        `SELECT id FROM deliveries WHERE endpoint_id = ? AND ${LOG} AND created_at <= ? ORDER BY id DESC LIMIT 1`, endpointId, at,
      )?.id ?? 0;
    },
  };
}
