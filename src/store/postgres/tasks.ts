import { smallestIdAt } from '../../core/ids.ts';
import { Status, Trigger } from '../../core/model.ts';
import { toPage } from '../paging.ts';
import { toTask } from '../rows.ts';
import { Conditions, keyset } from '../sql.ts';
import type { TaskStore } from '../store.ts';
import type { PostgresDatabase } from './database.ts';

export function postgresTasks(db: PostgresDatabase): TaskStore {
  return {
    async create(task) {
      await db.run(
        `INSERT INTO background_tasks (id, kind, status, app_id, endpoint_id, params, progress, cursor, pace_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [task.id, task.kind, task.status, task.appId, task.endpointId, JSON.stringify(task.params), JSON.stringify(task.progress),
          task.cursor, task.paceAt, task.createdAt, task.updatedAt],
      );
      return task;
    },

    async get(id) {
      const row = await db.one('SELECT * FROM background_tasks WHERE id = ?', [id]);
      return row ? toTask(row) : null;
    },

    async list(filter, page) {
      const { where, params, tail } = keyset('id', page);
      const conditions = new Conditions().add(where, ...params).addIf(filter.status, 'status = ?', filter.status).addIf(filter.kind, 'kind = ?', filter.kind);
      return toPage(await db.query(`SELECT * FROM background_tasks WHERE ${conditions} ${tail}`, conditions.params), page.limit, toTask);
    },

    // SKIP LOCKED: two workers claiming at once take different tasks rather than waiting on one.
    async claim(now, leaseMs) {
      const row = await db.one(
        `UPDATE background_tasks SET lease = lease + 1, lease_until = ?
         WHERE id = (SELECT id FROM background_tasks WHERE status = 'running' AND lease_until <= ? ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [now + leaseMs, now],
      );
      return row ? { task: toTask(row), lease: Number(row.lease) } : null;
    },

    async save(task, lease, leaseUntil) {
      const changed = await db.run(
        `UPDATE background_tasks SET status = ?, progress = ?, cursor = ?, pace_at = ?, lease_until = ?, updated_at = ?
         WHERE id = ? AND lease = ? AND status = 'running'`,
        [task.status, JSON.stringify(task.progress), task.cursor, task.paceAt, leaseUntil, task.updatedAt, task.id, lease],
      );
      return changed > 0;
    },

    async cancel(id, now) {
      await db.run(
        `UPDATE background_tasks SET status = 'failed', progress = progress || '{"canceled": true}', updated_at = ?
         WHERE id = ? AND status = 'running'`,
        [now, id],
      );
      return this.get(id);
    },

    async candidates(appId, endpointId, window, after, limit) {
      const rows = await db.query<{ id: string; event_type: string; channels: string[] | null; erased: boolean; status: number | null }>(
        `SELECT m.id, m.event_type, m.channels, m.payload_erased_at IS NOT NULL AS erased, d.status
         FROM messages m LEFT JOIN deliveries d ON d.message_id = m.id AND d.endpoint_id = ?
         WHERE m.app_id = ? AND m.id >= ? AND m.id > ? AND m.id < ?
         ORDER BY m.id LIMIT ?`,
        [endpointId, appId, smallestIdAt('message', window.since), after ?? '', smallestIdAt('message', window.until), limit],
      );
      return rows.map((row) => ({
        messageId: row.id,
        eventType: row.event_type,
        channels: row.channels,
        payloadErased: row.erased,
        deliveryStatus: row.status as Status | null,
      }));
    },

    async requeue(taskId, endpointId, items, now) {
      if (items.length === 0) return 0;
      return db.run(
        `INSERT INTO deliveries AS d (message_id, endpoint_id, app_id, status, attempt_count, trigger, run_at, lease, next_attempt_at,
           resume_at, task_id, created_at, updated_at)
         SELECT m.id, ?, m.app_id, ${Status.pending}, 0, ${Trigger.manual}, i.run_at, 0, i.run_at, NULL, ?, m.created_at, ?
         FROM unnest(?::text[], ?::bigint[]) AS i(message_id, run_at) JOIN messages m ON m.id = i.message_id AND m.payload_erased_at IS NULL
         ON CONFLICT (message_id, endpoint_id) DO UPDATE SET
           status = excluded.status, attempt_count = 0, trigger = excluded.trigger, run_at = excluded.run_at, lease = d.lease + 1,
           next_attempt_at = excluded.next_attempt_at, resume_at = NULL, task_id = excluded.task_id, updated_at = excluded.updated_at
         WHERE d.status IN (${Status.success}, ${Status.fail})`,
        [endpointId, taskId, now, items.map((item) => item.messageId), items.map((item) => item.runAt)],
      );
    },

    async finished(taskId) {
      const row = await db.one<{ n: number }>(
        `SELECT count(*)::int AS n FROM deliveries WHERE task_id = ? AND status IN (${Status.success}, ${Status.fail})`, [taskId],
      );
      return row?.n ?? 0;
    },
  };
}
