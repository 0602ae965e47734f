import { smallestIdAt } from '../../core/ids.ts';
import { Status, Trigger } from '../../core/model.ts';
import { toPage } from '../paging.ts';
import { toTask } from '../rows.ts';
import { Conditions, keyset } from '../sql.ts';
import type { TaskStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';

export function sqliteTasks(db: SqliteDatabase): TaskStore {
  return {
    async create(task) {
      await db.write(() =>
        db.run(
          `INSERT INTO background_tasks (id, kind, status, app_id, endpoint_id, params, progress, cursor, pace_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          task.id, task.kind, task.status, task.appId, task.endpointId, JSON.stringify(task.params), JSON.stringify(task.progress),
          task.cursor, task.paceAt, task.createdAt, task.updatedAt,
        ),
      );
      return task;
    },

    async get(id) {
      const row = db.get('SELECT * FROM background_tasks WHERE id = ?', id);
      return row ? toTask(row) : null;
    },

    async list(filter, page) {
      const { where, params, tail } = keyset('id', page);
      const conditions = new Conditions().add(where, ...params).addIf(filter.status, 'status = ?', filter.status).addIf(filter.kind, 'kind = ?', filter.kind);
      return toPage(db.all(`SELECT * FROM background_tasks WHERE ${conditions} ${tail}`, ...conditions.params), page.limit, toTask);
    },

    claim(now, leaseMs) {
      return db.write(() => {
        const row = db.get(
          `UPDATE background_tasks SET lease = lease + 1, lease_until = ?
           WHERE id = (SELECT id FROM background_tasks WHERE status = 'running' AND lease_until <= ? ORDER BY id LIMIT 1)
           RETURNING *`,
          now + leaseMs, now,
        );
        return row ? { task: toTask(row), lease: Number(row.lease) } : null;
      }, { durable: false });
    },

    async save(task, lease, leaseUntil) {
      const changed = await db.write(() =>
        db.run(
          `UPDATE background_tasks SET status = ?, progress = ?, cursor = ?, pace_at = ?, lease_until = ?, updated_at = ?
           WHERE id = ? AND lease = ? AND status = 'running'`,
          task.status, JSON.stringify(task.progress), task.cursor, task.paceAt, leaseUntil, task.updatedAt, task.id, lease,
        ),
      );
      return changed > 0;
    },

    async cancel(id, now) {
      await db.write(() =>
        db.run(
          `UPDATE background_tasks SET status = 'failed', progress = json_set(progress, '$.canceled', json('true')), updated_at = ?
           WHERE id = ? AND status = 'running'`,
          now, id,
        ),
      );
      return this.get(id);
    },

    async candidates(appId, endpointId, window, after, limit) {
      const rows = db.all<{ id: string; event_type: string; channels: string | null; erased: number; status: number | null }>(
        `SELECT m.id, m.event_type, m.channels, m.payload_erased_at IS NOT NULL AS erased, d.status
         FROM messages m LEFT JOIN deliveries d ON d.message_id = m.id AND d.endpoint_id = ?
         WHERE m.app_id = ? AND m.id >= ? AND m.id > ? AND m.id < ?
         ORDER BY m.id LIMIT ?`,
        endpointId, appId, smallestIdAt('message', window.since), after ?? '', smallestIdAt('message', window.until), limit,
      );
      return rows.map((row) => ({
        messageId: row.id,
        eventType: row.event_type,
        channels: row.channels === null ? null : JSON.parse(row.channels),
        payloadErased: row.erased === 1,
        deliveryStatus: row.status as Status | null,
      }));
    },

    requeue(taskId, endpointId, items, now) {
      return db.write(() => {
        let queued = 0;
        for (const item of items) {
          queued += db.run(
            `INSERT INTO deliveries AS d (message_id, endpoint_id, app_id, status, attempt_count, trigger, run_at, lease, next_attempt_at,
               resume_at, task_id, created_at, updated_at)
             SELECT id, ?, app_id, ${Status.pending}, 0, ${Trigger.manual}, ?, 0, ?, NULL, ?, created_at, ?
             FROM messages WHERE id = ? AND payload_erased_at IS NULL
             ON CONFLICT (message_id, endpoint_id) DO UPDATE SET
               status = excluded.status, attempt_count = 0, trigger = excluded.trigger, run_at = excluded.run_at, lease = d.lease + 1,
               next_attempt_at = excluded.next_attempt_at, resume_at = NULL, task_id = excluded.task_id, updated_at = excluded.updated_at
             WHERE d.status IN (${Status.success}, ${Status.fail})`,
            endpointId, item.runAt, item.runAt, taskId, now, item.messageId,
          );
        }
        return queued;
      });
    },

    async finished(taskId) {
      return db.get<{ n: number }>(
        `SELECT count(*) AS n FROM deliveries WHERE task_id = ? AND status IN (${Status.success}, ${Status.fail})`, taskId,
      )!.n;
    },
  };
}
