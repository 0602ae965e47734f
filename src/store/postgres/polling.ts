import { Status } from '../../core/model.ts';
import { toMessage } from '../rows.ts';
import type { PolledPage, PollingStore } from '../store.ts';
import type { PostgresDatabase } from './database.ts';

// A polling endpoint's log: its done, pulled deliveries (the partial index deliveries_polled).
const LOG = `pulled AND status = ${Status.success}`;
const READ = `SELECT d.id AS poll_offset, m.* FROM deliveries d JOIN messages m ON m.id = d.message_id
  WHERE d.endpoint_id = ? AND d.pulled AND d.status = ${Status.success} AND d.id > ? ORDER BY d.id LIMIT ?`;
const LAST = `SELECT id FROM deliveries WHERE endpoint_id = ? AND ${LOG} ORDER BY id DESC LIMIT 1`;

type Query = <R = Record<string, unknown>>(sql: string, params?: readonly unknown[]) => Promise<R[]>;

function toPolled(rows: Array<Record<string, unknown>>, limit: number): PolledPage {
  return { items: rows.slice(0, limit).map((row) => ({ offset: Number(row.poll_offset), message: toMessage(row) })), done: rows.length <= limit };
}

export function postgresPolling(db: PostgresDatabase): PollingStore {
  const last = async (query: Query, endpointId: string) => Number((await query<{ id: string }>(LAST, [endpointId]))[0]?.id ?? 0);

  return {
    // The consumer's row is locked first, so two polls of one consumer take turns: the second
    // goes on after what the first leased.
    poll(request) {
      return db.transaction(async (query) => {
        const start = request.start === 'latest' ? await last(query, request.endpointId) : 0;
        await query(
          `INSERT INTO poll_consumers (endpoint_id, consumer_id, committed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (endpoint_id, consumer_id) DO NOTHING`,
          [request.endpointId, request.consumerId, start, request.now, request.now],
        );
        const [consumer] = await query<{ committed: string; leased_to: string; lease_until: string }>(
          'SELECT committed, leased_to, lease_until FROM poll_consumers WHERE endpoint_id = ? AND consumer_id = ? FOR UPDATE',
          [request.endpointId, request.consumerId],
        );
        const committed = Number(consumer!.committed);
        const leasedTo = Number(consumer!.leased_to);
        const leased = Number(consumer!.lease_until) > request.now && leasedTo > committed;
        const page = toPolled(await query(READ, [request.endpointId, leased ? leasedTo : committed, request.limit + 1]), request.limit);
        const end = page.items.at(-1)?.offset;
        if (end !== undefined && request.leaseMs > 0) {
          await query(
            'UPDATE poll_consumers SET leased_to = ?, lease_until = ?, updated_at = ? WHERE endpoint_id = ? AND consumer_id = ?',
            [end, request.now + request.leaseMs, request.now, request.endpointId, request.consumerId],
          );
        }
        return page;
      });
    },

    async commit(endpointId, consumerId, offset, now) {
      await db.run(
        `INSERT INTO poll_consumers AS c (endpoint_id, consumer_id, committed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (endpoint_id, consumer_id) DO UPDATE SET committed = excluded.committed, updated_at = excluded.updated_at,
           leased_to = CASE WHEN excluded.committed >= c.leased_to THEN 0 ELSE c.leased_to END,
           lease_until = CASE WHEN excluded.committed >= c.leased_to THEN 0 ELSE c.lease_until END`,
        [endpointId, consumerId, offset, now, now],
      );
    },

    async position(endpointId, consumerId) {
      const row = await db.one<{ committed: string }>('SELECT committed FROM poll_consumers WHERE endpoint_id = ? AND consumer_id = ?', [endpointId, consumerId]);
      return row ? Number(row.committed) : null;
    },

    async read(endpointId, offset, limit) {
      return toPolled(await db.query(READ, [endpointId, offset, limit + 1]), limit);
    },

    async offsetAt(endpointId, at) {
      if (at === null) return last((sql, params) => db.query(sql, params), endpointId);
      // Backwards from the newest: seeking is to a recent time, so few rows are passed.
      const row = await db.one<{ id: string }>(`SELECT id FROM deliveries WHERE endpoint_id = ? AND ${LOG} AND created_at <= ? ORDER BY id DESC LIMIT 1`, [endpointId, at]);
      return Number(row?.id ?? 0);
    },
  };
}
