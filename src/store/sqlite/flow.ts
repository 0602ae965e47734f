import { applySignals, holdsBack } from '../../core/flow-control.ts';
import { smallestIdAt } from '../../core/ids.ts';
import { DEFERRED, FLOW_COLUMNS, HELD_BACK_SINCE, OBSERVED, FRESH_START, flowStateOf, flowValues, signalsByEndpoint, toFlowState, WATCHED } from '../flow-rows.ts';
import type { FlowOutcome, FlowStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';

const UPSERT = `INSERT INTO endpoint_flow (endpoint_id, ${FLOW_COLUMNS.join(', ')}) VALUES (?, ${FLOW_COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT (endpoint_id) DO UPDATE SET ${FLOW_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`;

/** Writes an endpoint's flow state (inside a write job). */
export function saveFlow(db: SqliteDatabase, endpointId: string, state: Parameters<typeof flowValues>[0]): void {
  db.run(UPSERT, endpointId, ...flowValues(state));
}

/** Makes the deliveries flow control deferred for an endpoint due at `now` (inside a write job). */
export function undefer(db: SqliteDatabase, endpointId: string, now: number): number {
  return db.run(`UPDATE deliveries SET run_at = max(coalesce(next_attempt_at, ?), ?), updated_at = ? WHERE endpoint_id = ? AND ${DEFERRED}`,
    now, now, now, endpointId, now);
}

/**
 * One process owns the file, and every write is a job of the group commit, so a record is one
 * transaction whose reads and writes no other worker interleaves with.
 */
export function sqliteFlow(db: SqliteDatabase): FlowStore {
  return {
    async get(endpointId) {
      const row = db.get('SELECT * FROM endpoint_flow WHERE endpoint_id = ?', endpointId);
      return row ? toFlowState(row) : null;
    },

    async watched() {
      return db.all<{ endpoint_id: string }>(`SELECT endpoint_id FROM endpoint_flow f WHERE ${WATCHED('f')}`).map((row) => row.endpoint_id);
    },

    record(signals, policy) {
      return db.write(() => {
        const outcome: FlowOutcome = { opened: [], closed: [], disabled: [], holding: [] };
        for (const [endpointId, list] of signalsByEndpoint(signals)) {
          const row = db.get(
            `SELECT e.app_id, e.throttle_rate, e.disabled, f.* FROM endpoints e LEFT JOIN endpoint_flow f ON f.endpoint_id = e.id
             WHERE e.id = ? AND e.deleted_at IS NULL`,
            endpointId,
          );
          if (!row) continue;
          const last = list.at(-1)!.at;
          const change = applySignals(flowStateOf(row), row.throttle_rate as number | null, list, policy, () => db.get<{ n: number }>(OBSERVED, endpointId, smallestIdAt('attempt', last - 1_000), endpointId)!.n);
          saveFlow(db, endpointId, change.state);
          if (change.opened) outcome.opened.push(endpointId);
          if (change.closed) {
            outcome.closed.push(endpointId);
            undefer(db, endpointId, last);
          }
          if (change.disable && !row.disabled) {
            db.run(`UPDATE endpoints SET disabled = 1, disabled_reason = 'failing', disabled_at = ?, updated_at = ? WHERE id = ?`, last, last, endpointId);
            outcome.disabled.push({ endpointId, appId: row.app_id as string });
          }
          if (holdsBack(change.state)) outcome.holding.push(endpointId);
        }
        return outcome;
      }, { durable: false });
    },

    resume(endpointId, now) {
      return db.write(() => {
        db.run(`UPDATE endpoint_flow SET ${FRESH_START} WHERE endpoint_id = ?`, endpointId);
        return undefer(db, endpointId, now);
      });
    },

    async heldBackSince(endpointId, now) {
      return db.get<{ since: number }>(HELD_BACK_SINCE, endpointId, now)?.since ?? null;
    },
  };
}
