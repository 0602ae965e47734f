import { smallestIdAt } from '../../core/ids.ts';
import { Status, Trigger } from '../../core/model.ts';
import { full } from '../claim-slots.ts';
import { type AppGate, DISABLED_RECHECK_MS, type EndpointGate, planClaim } from '../../core/flow-control.ts';
import { flowStateOf, HOLDS_BACK } from '../flow-rows.ts';
import { transformedToColumn } from '../rows.ts';
import { saveFlow } from './flow.ts';
import type { ClaimedDelivery, DeliveryQueue } from '../store.ts';
import type { SqliteDatabase } from './database.ts';
import { messageConditions } from './messages.ts';
import { AHEAD_IN_ORDER, KEEP_PLACE_ON_SCHEDULE, statsConditions, toStats } from '../sql.ts';
import { heldUntil } from '../../core/ordering.ts';
import { deliveriesByEndpoint, deliveriesByMessage, type Reader } from '../delivery-listings.ts';
import { rollUp } from '../../core/attempt-stats.ts';
import { upsertAttemptStats } from './stats.ts';

interface MessageRow {
  id: string;
  app_id: string;
  event_id: string | null;
  event_type: string;
  payload: Uint8Array;
  inbound: string | null;
}

interface EndpointRow {
  id: string;
  url: string;
  headers: string;
  secrets: string;
  disabled: number;
  deleted_at: number | null;
  transformation: string | null;
}

/**
 * Makes the next delivery of an ordering key due once the one ahead of it finished (`?`: the time,
 * the endpoint, the key, the time again). Pulled deliveries keep their own order and are left out.
 */
const WAKE_NEXT_IN_ORDER = `UPDATE deliveries SET run_at = ?
  WHERE id = (SELECT n.id FROM deliveries n WHERE n.endpoint_id = ? AND n.ordering_key = ? AND n.status = ${Status.pending} ORDER BY n.id LIMIT 1)
    AND pulled = 0 AND run_at > ?`;

/** How many due rows a claim looks at per slot it wants to fill, so busy endpoints can be skipped. */
const CANDIDATES_PER_SLOT = 4;
/** Deliveries one cancel-msgs write ends at most. */
const CANCEL_BATCH = 5_000;

export function sqliteQueue(db: SqliteDatabase): DeliveryQueue {
  /** Claims, results and released leases: a power cut that loses them only causes a resend. */
  const bookkeeping = <T>(work: () => T) => db.write(work, { durable: false });

  /**
   * Leases the picked rows, then loads what sending needs: each message and endpoint once, however
   * many of the deliveries share it (a fan-out's payload is read, and held, once). In the order
   * picked. With `park`, a disabled (not deleted) endpoint's deliveries are not handed out: they
   * wait for it to be enabled again (which makes them due), looked at hourly meanwhile.
   */
  function lease(picked: number[], now: number, leaseMs: number, park = false): ClaimedDelivery[] {
    const leased = db.tuples<[id: number, lease: number, attemptCount: number, trigger: number, resumeAt: number | null, messageId: string, endpointId: string, alerted: number, orderingKey: string | null]>(
      `UPDATE deliveries SET status = ${Status.sending}, run_at = ?, lease = lease + 1, updated_at = ?
       WHERE id IN (SELECT value FROM json_each(?))
       RETURNING id, lease, attempt_count, trigger, resume_at, message_id, endpoint_id, alerted, ordering_key`,
      now + leaseMs, now, JSON.stringify(picked),
    );
    const messages = new Map(db.all<MessageRow>(
      'SELECT id, app_id, event_id, event_type, payload, inbound FROM messages WHERE id IN (SELECT value FROM json_each(?))',
      JSON.stringify([...new Set(leased.map((row) => row[5]))]),
    ).map((row): [string, ClaimedDelivery['message']] =>
      [row.id, { id: row.id, appId: row.app_id, eventId: row.event_id, eventType: row.event_type, payload: row.payload, inbound: row.inbound === null ? null : JSON.parse(row.inbound) }]));
    const endpointRows = db.all<EndpointRow>(
      `SELECT id, url, headers, secrets, disabled, deleted_at, CASE WHEN transformation_enabled = 1 THEN transformation_code END AS transformation
       FROM endpoints WHERE id IN (SELECT value FROM json_each(?))`,
      JSON.stringify([...new Set(leased.map((row) => row[6]))]),
    );
    const endpoints = new Map(endpointRows.map((row): [string, ClaimedDelivery['endpoint']] =>
      [row.id, { id: row.id, url: row.url, headers: JSON.parse(row.headers), secrets: JSON.parse(row.secrets), disabled: row.disabled === 1, ...(row.transformation === null ? {} : { transformation: row.transformation }) }]));
    const parked = new Set(park ? endpointRows.filter((row) => row.disabled === 1 && row.deleted_at === null).map((row) => row.id) : []);
    for (const row of leased) {
      if (parked.has(row[6])) db.run(`UPDATE deliveries SET status = ${Status.pending}, run_at = ? WHERE id = ?`, now + DISABLED_RECHECK_MS, row[0]);
    }
    const order = new Map(picked.map((id, i) => [id, i]));
    return leased
      .filter((row) => !parked.has(row[6]))
      .sort((a, b) => order.get(a[0])! - order.get(b[0])!)
      .map(([id, lease, attemptCount, trigger, resumeAt, messageId, endpointId, alerted, orderingKey]): ClaimedDelivery => ({
        id,
        lease,
        attemptNumber: attemptCount + 1,
        trigger: trigger as Trigger,
        resumeAt,
        message: messages.get(messageId)!,
        endpoint: endpoints.get(endpointId)!,
        alerted: alerted === 1,
        ...(orderingKey === null ? {} : { orderingKey }),
      }));
  }

  /** Drops a listen session's unfinished deliveries beyond its bounds, and counts them on its endpoint. */
  function trim(endpointId: string, keep: number, olderThan: number, now: number): number {
    const dropped = db.run(
      `UPDATE deliveries SET status = ${Status.fail}, lease = lease + 1, run_at = ?, next_attempt_at = NULL, updated_at = ?
       WHERE endpoint_id = ? AND pulled = 1 AND status IN (1, 3)
         AND (created_at < ? OR id <= coalesce((SELECT id FROM deliveries WHERE endpoint_id = ? AND pulled = 1 AND status IN (1, 3)
                                                ORDER BY id DESC LIMIT 1 OFFSET ?), -1))`,
      now, now, endpointId, olderThan, endpointId, keep,
    );
    if (dropped > 0) db.run('UPDATE endpoints SET listen_dropped = listen_dropped + ? WHERE id = ?', dropped, endpointId);
    return dropped;
  }

  const read: Reader = (sql, params) => Promise.resolve(db.all(sql, ...params));
  // The gates of the candidates' endpoints and applications: only those with a configured rate or
  // a flow state that holds back (a few primary-key reads; most endpoints have neither).
  const endpointGates = (candidates: ReadonlyArray<readonly [number, string, string, ...unknown[]]>) => new Map(db.all(
    `SELECT e.id, e.throttle_rate, f.* FROM endpoints e LEFT JOIN endpoint_flow f ON f.endpoint_id = e.id
     WHERE e.id IN (SELECT value FROM json_each(?)) AND e.deleted_at IS NULL AND (e.throttle_rate IS NOT NULL OR ${HOLDS_BACK('f')})`,
    JSON.stringify([...new Set(candidates.map((row) => row[1]))]),
  ).map((row): [string, EndpointGate] => [row.id as string, { configuredRate: row.throttle_rate as number | null, disabled: false, state: flowStateOf(row) }]));
  const appGates = (candidates: ReadonlyArray<readonly [number, string, string, ...unknown[]]>) => new Map(db.all<{ id: string; throttle_rate: number; tat: number }>(
    `SELECT a.id, a.throttle_rate, coalesce(f.tat, 0) AS tat FROM applications a LEFT JOIN application_flow f ON f.app_id = a.id
     WHERE a.id IN (SELECT value FROM json_each(?)) AND a.throttle_rate IS NOT NULL`,
    JSON.stringify([...new Set(candidates.map((row) => row[2]))]),
  ).map((row): [string, AppGate] => [row.id, { configuredRate: row.throttle_rate, tat: row.tat }]));
  return {
    claim(request) {
      return bookkeeping(() => {
        const due = db.tuples<[id: number, endpointId: string, appId: string, aheadAt: number | null]>(
          `SELECT id, endpoint_id, app_id, ${AHEAD_IN_ORDER('deliveries')} FROM deliveries
           WHERE status IN (1, 3) AND pulled = 0 AND run_at <= ?
             AND endpoint_id NOT IN (SELECT value FROM json_each(?)) AND app_id NOT IN (SELECT value FROM json_each(?))
           ORDER BY run_at LIMIT ?`,
          request.now, JSON.stringify(full(request.slots)), JSON.stringify(full(request.appSlots)), request.limit * CANDIDATES_PER_SLOT,
        );
        // A keyed delivery with one of its key ahead waits for it, without taking a slot.
        const held = due.filter((row) => row[3] !== null);
        const candidates = held.length === 0 ? due : due.filter((row) => row[3] === null);
        for (const [id, , , aheadAt] of held) {
          db.run(`UPDATE deliveries SET status = ${Status.pending}, run_at = ?, updated_at = ? WHERE id = ?`, heldUntil(aheadAt!, request.now), request.now, id);
        }
        const plan = planClaim(candidates, request, endpointGates(candidates), appGates(candidates), request.now);
        for (const { row, runAt } of plan.deferred) {
          db.run(`UPDATE deliveries SET status = ${Status.pending}, run_at = ?, updated_at = ? WHERE id = ?`, runAt, request.now, row[0]);
        }
        for (const [endpointId, state] of plan.endpoints) saveFlow(db, endpointId, state);
        for (const [appId, tat] of plan.apps) {
          db.run('INSERT INTO application_flow (app_id, tat) VALUES (?, ?) ON CONFLICT (app_id) DO UPDATE SET tat = excluded.tat', appId, tat);
        }
        const picked = plan.picked.map(([id]) => id);
        if (picked.length === 0) return [];
        return lease(picked, request.now, request.leaseMs, true);
      });
    },

    // Each result is its own write, so one that fails undoes only itself (see SqliteDatabase.write);
    // they still share one transaction. An attempt whose message was deleted meanwhile (with its
    // application) is dropped rather than failing on the foreign key. The batch's attempt rollup is
    // one more job queued in the same turn, so it commits in the same transaction, one upsert per
    // endpoint and bucket.
    async complete(results) {
      const rollup = rollUp(results.map((result) => result.attempt));
      const disabledEndpoints: string[] = [];
      await Promise.all([...(rollup.length > 0 ? [bookkeeping(() => upsertAttemptStats(db, rollup))] : []), ...results.map(({ id, lease, attempt, next, attemptCount, disableEndpoint, alerted, orderingKey }) => bookkeeping(() => {
        db.run(
          `INSERT INTO attempts (id, app_id, message_id, endpoint_id, url, status, response_status_code, response,
             response_duration_ms, trigger, failure_reason, attempt_number, created_at, transformed)
           SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?)`,
          attempt.id, attempt.appId, attempt.messageId, attempt.endpointId, attempt.url, attempt.status,
          attempt.responseStatusCode, attempt.response, attempt.responseDurationMs, attempt.trigger,
          attempt.failureReason, attempt.attemptNumber, attempt.createdAt, transformedToColumn(attempt.transformed), attempt.messageId,
        );
        const runAt = next.status === Status.pending ? next.runAt : attempt.createdAt;
        db.run(
          `UPDATE deliveries SET status = ?, attempt_count = ?, trigger = ${Trigger.scheduled}, resume_at = NULL,
             run_at = ?, next_attempt_at = ?, updated_at = ?, alerted = ?
           WHERE id = ? AND lease = ?`,
          next.status, attemptCount, runAt, next.status === Status.pending ? runAt : null, attempt.createdAt, Number(alerted ?? false), id, lease,
        );
        if (orderingKey && next.status !== Status.pending) db.run(WAKE_NEXT_IN_ORDER, attempt.createdAt, attempt.endpointId, orderingKey, attempt.createdAt);
        if (disableEndpoint && db.run(`UPDATE endpoints SET disabled = 1, disabled_reason = 'gone', disabled_at = ?, updated_at = ? WHERE id = ? AND disabled = 0`, attempt.createdAt, attempt.createdAt, attempt.endpointId) > 0) {
          disabledEndpoints.push(attempt.endpointId);
        }
      }))]);
      return { disabledEndpoints };
    },

    // Through the backlog in batches: the endpoint's deliveries by message id (ids begin with their
    // time) on the (endpoint_id, message_id) index, pending ones only, so in-flight ones stay.
    async cancel(endpointId, createdBefore, now) {
      const before = smallestIdAt('message', createdBefore);
      let total = 0;
      for (;;) {
        const canceled = await db.write(() => db.run(
          `UPDATE deliveries SET status = ${Status.canceled}, lease = lease + 1, next_attempt_at = NULL, resume_at = NULL, updated_at = ?
           WHERE id IN (SELECT id FROM deliveries WHERE endpoint_id = ? AND message_id < ? AND status = ${Status.pending} LIMIT ${CANCEL_BATCH})`,
          now, endpointId, before,
        ));
        total += canceled;
        if (canceled < CANCEL_BATCH) return total;
      }
    },

    async release(deliveries, now) {
      await bookkeeping(() => {
        for (const { id, lease } of deliveries) {
          db.run(`UPDATE deliveries SET status = ${Status.pending}, run_at = ?, updated_at = ? WHERE id = ? AND lease = ?`, now, now, id, lease);
        }
      });
    },

    async nextDueAt() {
      return db.get<{ at: number | null }>('SELECT min(run_at) AS at FROM deliveries WHERE status IN (1, 3) AND pulled = 0')?.at ?? null;
    },

    // A delivery created by a resend counts from its message's creation, as fan-out's do, so
    // recover and the stats find it where Svix would.
    async resend(messageId, endpointId, now) {
      await db.write(() =>
        db.run(
          `INSERT INTO deliveries AS d (message_id, endpoint_id, app_id, status, attempt_count, trigger, run_at, lease, next_attempt_at, resume_at, created_at, updated_at, ordering_key)
           SELECT id, ?, app_id, ${Status.pending}, 0, ${Trigger.manual}, ?, 0, ?, NULL, created_at, ?, ordering_key FROM messages WHERE id = ? AND payload_erased_at IS NULL
           ON CONFLICT (message_id, endpoint_id) DO UPDATE SET
             status = excluded.status, trigger = excluded.trigger, run_at = excluded.run_at, lease = d.lease + 1,
             next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at,
             ${KEEP_PLACE_ON_SCHEDULE}`,
          endpointId, now, now, now, messageId,
        ),
      );
    },

    recover(endpointId, since, until, now) {
      return db.write(() =>
        db.run(
          `UPDATE deliveries SET status = ${Status.pending}, attempt_count = 0, trigger = ${Trigger.manual}, resume_at = NULL,
             run_at = ?, lease = lease + 1, next_attempt_at = ?, updated_at = ?
           WHERE endpoint_id = ? AND status = ${Status.fail} AND created_at >= ? AND created_at < ?
             AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = deliveries.message_id AND m.payload_erased_at IS NOT NULL)`,
          now, now, now, endpointId, since, until,
        ),
      );
    },

    pull(request) {
      return bookkeeping(() => {
        trim(request.endpointId, request.keep, request.olderThan, request.now);
        const head = db.tuples<[id: number, runAt: number]>(
          `SELECT id, run_at FROM deliveries WHERE endpoint_id = ? AND pulled = 1 AND status IN (1, 3) ORDER BY id LIMIT ?`,
          request.endpointId, request.limit,
        );
        const picked: number[] = [];
        for (const [id, runAt] of head) {
          if (runAt > request.now) break;
          picked.push(id);
        }
        return picked.length === 0 ? [] : lease(picked, request.now, request.leaseMs);
      });
    },

    releasePulled(endpointId, now, waiting) {
      return bookkeeping(() => db.run(
        `UPDATE deliveries SET status = ${Status.pending}, run_at = ?, next_attempt_at = ?, lease = lease + 1, updated_at = ?
         WHERE endpoint_id = ? AND pulled = 1 AND run_at > ? AND (status = ${Status.sending} OR (? AND status = ${Status.pending}))`,
        now, now, now, endpointId, now, Number(waiting),
      ));
    },

    async getPulled(endpointId, messageId) {
      const row = db.get<{ id: number; lease: number; status: number; attempt_count: number; trigger: number; resume_at: number | null }>(
        'SELECT id, lease, status, attempt_count, trigger, resume_at FROM deliveries WHERE endpoint_id = ? AND message_id = ? AND pulled = 1',
        endpointId, messageId,
      );
      return row ? { id: row.id, lease: row.lease, status: row.status as Status, attemptCount: row.attempt_count, trigger: row.trigger as Trigger, resumeAt: row.resume_at } : null;
    },

    trimPulled(keep, olderThan, now) {
      return bookkeeping(() => db.all<{ id: string }>('SELECT id FROM endpoints WHERE listen_name IS NOT NULL AND deleted_at IS NULL')
        .reduce((sum, { id }) => sum + trim(id, keep, olderThan, now), 0));
    },

    async stats(endpointId, range) {
      const conditions = statsConditions(endpointId, range);
      return toStats(db.all(`SELECT status, count(*) AS n FROM deliveries WHERE ${conditions} GROUP BY status`, ...conditions.params));
    },

    listByMessage: (messageId, page) => deliveriesByMessage(read, messageId, page),
    listByEndpoint: (endpointId, filter, page) => deliveriesByEndpoint(read, messageConditions, endpointId, filter, page),
  };
}
