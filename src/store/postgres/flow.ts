import { applySignals, type FlowState, holdsBack } from '../../core/flow-control.ts';
import { smallestIdAt } from '../../core/ids.ts';
import { DEFERRED, HELD_BACK_SINCE, OBSERVED, FLOW_COLUMNS, FRESH_START, flowStateOf, flowValues, signalsByEndpoint, toFlowState, WATCHED } from '../flow-rows.ts';
import type { FlowOutcome, FlowStore } from '../store.ts';
import { CONFIG_CHANNEL, DUE_CHANNEL, type PostgresDatabase } from './database.ts';

const FLOW_TYPES = ['float8', 'float8', 'text', 'float8', 'bigint', 'bigint', 'bigint', 'int', 'bigint', 'bigint', 'bigint', 'bigint', 'int'];

/** An UPDATE of endpoint_flow from arrays (endpoint ids, then each state column), for a CTE; its parameters come from `flowArrays`. */
export const UPDATE_FLOWS = `UPDATE endpoint_flow f SET ${FLOW_COLUMNS.map((c) => `${c} = r.${c}`).join(', ')}
  FROM unnest(?::text[], ${FLOW_TYPES.map((t) => `?::${t}[]`).join(', ')}) AS r(endpoint_id, ${FLOW_COLUMNS.join(', ')})
  WHERE f.endpoint_id = r.endpoint_id`;

export function flowArrays(states: ReadonlyMap<string, FlowState>): unknown[][] {
  const rows = [...states].map(([id, state]) => [id, ...flowValues(state)]);
  return Array.from({ length: FLOW_COLUMNS.length + 1 }, (_, i) => rows.map((row) => row[i]));
}

/** Makes the deliveries flow control deferred for these endpoints due at `now`, and wakes the workers. */
const UNDEFER = `WITH due AS (
    UPDATE deliveries SET run_at = greatest(coalesce(next_attempt_at, ?), ?), updated_at = ?
    WHERE endpoint_id = ANY(?::text[]) AND ${DEFERRED} RETURNING 1
  )
  SELECT count(*)::int AS n, pg_notify('${DUE_CHANNEL}', '') FROM due`;

/**
 * Several workers record results at once: each locks the flow rows of its batch's endpoints (in id
 * order, so two batches never wait on each other in a circle) and writes them back in the same
 * transaction, so no update is lost. Claims take the same rows with SKIP LOCKED and never wait.
 */
export function postgresFlow(db: PostgresDatabase): FlowStore {
  return {
    async get(endpointId) {
      const row = await db.one('SELECT * FROM endpoint_flow WHERE endpoint_id = ?', [endpointId]);
      return row ? toFlowState(row) : null;
    },

    async watched() {
      return (await db.query<{ endpoint_id: string }>(`SELECT endpoint_id FROM endpoint_flow f WHERE ${WATCHED('f')}`)).map((row) => row.endpoint_id);
    },

    record(signals, policy) {
      const grouped = signalsByEndpoint(signals);
      const ids = grouped.map(([id]) => id);
      return db.transaction(async (query) => {
        const outcome: FlowOutcome = { opened: [], closed: [], disabled: [], holding: [] };
        await query('INSERT INTO endpoint_flow (endpoint_id) SELECT id FROM endpoints WHERE id = ANY(?::text[]) AND deleted_at IS NULL ORDER BY id ON CONFLICT DO NOTHING', [ids]);
        const rows = new Map((await query(
          `SELECT e.app_id, e.throttle_rate, e.disabled, f.* FROM endpoint_flow f JOIN endpoints e ON e.id = f.endpoint_id
           WHERE f.endpoint_id = ANY(?::text[]) AND e.deleted_at IS NULL ORDER BY f.endpoint_id FOR UPDATE OF f`,
          [ids],
        )).map((row) => [row.endpoint_id as string, row]));
        const states = new Map<string, FlowState>();
        const disable: string[] = [];
        for (const [endpointId, list] of grouped) {
          const row = rows.get(endpointId);
          if (!row) continue;
          const last = list.at(-1)!.at;
          let observed = 1;
          // Asked for only when an unlimited endpoint is first throttled: how fast it was being sent to.
          const firstThrottled = list.some((s) => s.kind !== 'success' && s.kind !== 'failure') && row.rate === null && row.throttle_rate === null;
          if (firstThrottled) {
            observed = Number((await query<{ n: number }>(OBSERVED, [endpointId, smallestIdAt('attempt', last - 1_000), endpointId]))[0]?.n ?? 1);
          }
          const change = applySignals(flowStateOf(row), row.throttle_rate as number | null, list, policy, () => observed);
          states.set(endpointId, change.state);
          if (change.opened) outcome.opened.push(endpointId);
          if (change.closed) outcome.closed.push(endpointId);
          if (change.disable && !row.disabled) {
            disable.push(endpointId);
            outcome.disabled.push({ endpointId, appId: row.app_id as string });
          }
          if (holdsBack(change.state)) outcome.holding.push(endpointId);
        }
        if (states.size > 0) await query(UPDATE_FLOWS, flowArrays(states));
        const now = Math.max(...signals.map((s) => s.at));
        if (outcome.closed.length > 0) await query(UNDEFER, [now, now, now, outcome.closed, now]);
        if (disable.length > 0) {
          await query(
            `WITH disabled AS (
               UPDATE endpoints SET disabled = true, disabled_reason = 'failing', disabled_at = ?, updated_at = ?
               WHERE id = ANY(?::text[]) AND NOT disabled RETURNING app_id
             )
             SELECT pg_notify('${CONFIG_CHANNEL}', app_id) FROM disabled`,
            [now, now, disable],
          );
        }
        return outcome;
      });
    },

    async resume(endpointId, now) {
      await db.run(`UPDATE endpoint_flow SET ${FRESH_START} WHERE endpoint_id = ?`, [endpointId]);
      const [row] = await db.query<{ n: number }>(UNDEFER, [now, now, now, [endpointId], now]);
      return Number(row?.n ?? 0);
    },

    async heldBackSince(endpointId, now) {
      const row = await db.one(HELD_BACK_SINCE, [endpointId, now]);
      return row ? Number(row.since) : null;
    },
  };
}
