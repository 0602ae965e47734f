import { smallestIdAt } from '../../core/ids.ts';
import { Status, Trigger } from '../../core/model.ts';
import { full } from '../claim-slots.ts';
import { type AppGate, DISABLED_RECHECK_MS, type EndpointGate, planClaim } from '../../core/flow-control.ts';
import { flowStateOf, HOLDS_BACK } from '../flow-rows.ts';
import { transformedToColumn } from '../rows.ts';
import { flowArrays, UPDATE_FLOWS } from './flow.ts';
import { deliveriesByEndpoint, deliveriesByMessage, type Reader } from '../delivery-listings.ts';
import { LATENCY_BINS, rollUp } from '../../core/attempt-stats.ts';
import { AHEAD_IN_ORDER, KEEP_PLACE_ON_SCHEDULE, statsConditions, toStats } from '../sql.ts';
import { heldUntil, ORDER_RECHECK_MS } from '../../core/ordering.ts';
import type { ClaimedDelivery, ClaimRequest, DeliveryQueue, DeliveryResult } from '../store.ts';
import { CONFIG_CHANNEL, type PostgresDatabase } from './database.ts';
import { messageConditions } from './messages.ts';

/** What each row of a claim's answer holds: a gated row names an endpoint flow control gates. */
const [DELIVERY_ROW, MESSAGE_ROW, ENDPOINT_ROW, GATED_ROW] = [0, 1, 2, 3];

/** A row of a claim's answer; bigints come as numbers (see PostgresDatabase). */
interface ClaimRow {
  kind: number;
  id: number | null;
  lease: number | null;
  attempt_count: number | null;
  trigger: number | null;
  resume_at: number | null;
  message_id: string | null;
  endpoint_id: string | null;
  alerted: boolean | null;
  app_id: string | null;
  event_id: string | null;
  event_type: string | null;
  payload: Uint8Array | null;
  inbound: ClaimedDelivery['message']['inbound'];
  url: string | null;
  headers: Record<string, string> | null;
  secrets: ClaimedDelivery['endpoint']['secrets'] | null;
  disabled: boolean | null;
  deleted: boolean | null;
  ordering_key: string | null;
  transformation: string | null;
}

/**
 * The endpoints flow control gates: a configured rate (theirs or their application's), or a state
 * that holds back. Few rows, each found through a partial index; the main claim leaves their
 * deliveries to the gated claim, which takes their flow rows' locks.
 */
const GATED = `SELECT id AS endpoint_id FROM endpoints WHERE throttle_rate IS NOT NULL AND deleted_at IS NULL
  UNION SELECT f.endpoint_id FROM endpoint_flow f WHERE ${HOLDS_BACK('f')}
  UNION SELECT e.id FROM applications a JOIN endpoints e ON e.app_id = a.id WHERE a.throttle_rate IS NOT NULL AND e.deleted_at IS NULL`;

/** What sending needs of leased deliveries (the CTE `leased`): the deliveries first, then each message and endpoint once. */
const LOAD_LEASED = `SELECT ${DELIVERY_ROW} AS kind, l.id, l.lease, l.attempt_count, l.trigger, l.resume_at, l.message_id, l.endpoint_id, l.alerted,
     NULL AS app_id, NULL AS event_id, NULL AS event_type, NULL::bytea AS payload, NULL::jsonb AS inbound,
     NULL AS url, NULL::jsonb AS headers, NULL::jsonb AS secrets, NULL::boolean AS disabled, NULL::boolean AS deleted, l.ordering_key, NULL AS transformation
   FROM leased l
   UNION ALL
   SELECT ${MESSAGE_ROW}, NULL, NULL, NULL, NULL, NULL, m.id, NULL, NULL, m.app_id, m.event_id, m.event_type, m.payload, m.inbound, NULL, NULL, NULL, NULL, NULL, NULL, NULL
   FROM messages m WHERE m.id IN (SELECT message_id FROM leased)
   UNION ALL
   SELECT ${ENDPOINT_ROW}, NULL, NULL, NULL, NULL, NULL, NULL, e.id, NULL, NULL, NULL, NULL, NULL, NULL, e.url, e.headers, e.secrets, e.disabled, e.deleted_at IS NOT NULL, NULL,
     CASE WHEN e.transformation_enabled THEN e.transformation_code END
   FROM endpoints e WHERE e.id IN (SELECT endpoint_id FROM leased)`;

/** Leases the ids in the CTE `picked` and answers with what sending needs of them (LOAD_LEASED). */
const LEASE_AND_LOAD = `leased AS (
     UPDATE deliveries d SET status = ${Status.sending}, run_at = ?, lease = d.lease + 1, updated_at = ?
     FROM picked WHERE d.id = picked.id
     RETURNING d.id, d.lease, d.attempt_count, d.trigger, d.resume_at, d.message_id, d.endpoint_id, d.alerted, d.ordering_key
   )
   ${LOAD_LEASED}`;

/** How many due rows a claim looks at per slot it wants to fill, so busy endpoints can be skipped. */
const CANDIDATES_PER_SLOT = 4;
/** Deliveries one cancel-msgs statement ends at most. */
const CANCEL_BATCH = 5_000;

/** Claims, results and released leases: a crash that loses them only causes a resend. */
const BOOKKEEPING = { durable: false, prepared: true } as const;


/** Drops a listen session's unfinished deliveries beyond its bounds, and counts them on its endpoint. */
const TRIM = `WITH kept AS (
    SELECT id FROM deliveries WHERE endpoint_id = ? AND pulled AND status IN (1, 3) ORDER BY id DESC LIMIT 1 OFFSET ?
  ), dropped AS (
    UPDATE deliveries SET status = ${Status.fail}, lease = lease + 1, run_at = ?, next_attempt_at = NULL, updated_at = ?
    WHERE endpoint_id = ? AND pulled AND status IN (1, 3)
      AND (created_at < ? OR id <= coalesce((SELECT id FROM kept), -1))
    RETURNING 1
  ), counted AS (
    UPDATE endpoints SET listen_dropped = listen_dropped + (SELECT count(*) FROM dropped)
    WHERE id = ? AND EXISTS (SELECT 1 FROM dropped)
  )
  SELECT count(*)::int AS n FROM dropped`;
const trimParams = (endpointId: string, keep: number, olderThan: number, now: number) =>
  [endpointId, keep, now, now, endpointId, olderThan, endpointId];

export function postgresQueue(db: PostgresDatabase): DeliveryQueue {
  const read: Reader = (sql, params) => db.query(sql, params);
  return {
    // One statement: lock due candidates (skipping rows other workers hold), keep at most each
    // endpoint's free slots, then at most each application's, in due order, lease them, and return
    // what sending needs. The leased deliveries come first, then each of their messages and
    // endpoints once (`kind` tells the rows apart), so a fan-out's payload crosses the wire, and
    // sits in memory, once.
    async claim(request) {
      const [limited, free] = [[...request.slots.keys()], [...request.slots.values()]];
      const [limitedApps, freeApps] = [[...request.appSlots.keys()], [...request.appSlots.values()]];
      const rows = await db.query<ClaimRow>(
        `WITH gated AS (${GATED}), candidates AS (
           SELECT id, endpoint_id, app_id, run_at, ${AHEAD_IN_ORDER('deliveries')} AS ahead_at FROM deliveries
           WHERE status IN (1, 3) AND NOT pulled AND run_at <= ? AND NOT (endpoint_id = ANY(?::text[])) AND NOT (app_id = ANY(?::text[]))
             AND endpoint_id NOT IN (SELECT endpoint_id FROM gated)
           ORDER BY run_at LIMIT ?
           FOR UPDATE SKIP LOCKED
         ), held AS (
           -- A keyed delivery with one of its key ahead waits for it, without taking a slot (core/ordering.ts).
           UPDATE deliveries d SET status = ${Status.pending}, run_at = greatest(c.ahead_at, ?::bigint + ${ORDER_RECHECK_MS}), updated_at = ?
           FROM candidates c WHERE d.id = c.id AND c.ahead_at IS NOT NULL
         ), by_endpoint AS (
           SELECT c.id, c.app_id, c.run_at, row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.run_at) AS n,
             coalesce(s.free, ?) AS free
           FROM candidates c LEFT JOIN unnest(?::text[], ?::int[]) AS s(endpoint_id, free) ON s.endpoint_id = c.endpoint_id
           WHERE c.ahead_at IS NULL
         ), by_app AS (
           SELECT b.id, b.run_at, row_number() OVER (PARTITION BY b.app_id ORDER BY b.run_at) AS n,
             coalesce(s.free, ?) AS free
           FROM by_endpoint b LEFT JOIN unnest(?::text[], ?::int[]) AS s(app_id, free) ON s.app_id = b.app_id
           WHERE b.n <= b.free
         ), picked AS (
           SELECT id FROM by_app WHERE n <= free ORDER BY run_at LIMIT ?
         ), ${LEASE_AND_LOAD}
         UNION ALL
         SELECT ${GATED_ROW}, NULL, NULL, NULL, NULL, NULL, NULL, g.endpoint_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM gated g
         WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.endpoint_id = g.endpoint_id AND d.status IN (1, 3) AND d.run_at <= ?)`,
        [request.now, full(request.slots), full(request.appSlots), request.limit * CANDIDATES_PER_SLOT, request.now, request.now,
          request.defaultSlots, limited, free, request.defaultAppSlots, limitedApps, freeApps,
          request.limit, request.now + request.leaseMs, request.now, request.now],
        // Not prepared: the best plan depends on how many endpoints are busy, and a prepared
        // statement may settle on one generic plan after its fifth run.
        { durable: false },
      );
      // Gated endpoints with due work: only then is the gated claim worth its transaction.
      const gated = rows.filter((row) => row.kind === GATED_ROW).map((row) => row.endpoint_id!);
      const all = gated.length === 0 ? rows : [...rows, ...(await claimGated(db, request, gated, rows))];
      return parkDisabled(db, toClaimed(all), all, request.now);
    },

    // One statement for a whole batch of results. An attempt whose message was deleted meanwhile
    // (with its application) is dropped rather than failing the batch on the foreign key. The
    // check locks the message as the foreign key's own check would, so a deletion still under way
    // is waited for and then seen, instead of passing the check and failing the key. The attempt
    // rollup is one upsert per endpoint and bucket of the batch, in the same statement; a row of an
    // application deleted meanwhile is dropped the same way.
    async complete(results) {
      if (results.length === 0) return { disabledEndpoints: [] };
      const column = <T>(pick: (result: (typeof results)[number]) => T) => results.map(pick);
      const attempt = (pick: (a: (typeof results)[number]['attempt']) => unknown) => column((r) => pick(r.attempt));
      const rollup = rollUp(results.map((r) => r.attempt));
      const disabled = await db.query<{ id: string }>(
        `WITH recorded AS (
           INSERT INTO attempts (id, app_id, message_id, endpoint_id, url, status, response_status_code, response,
             response_duration_ms, trigger, failure_reason, attempt_number, created_at, transformed)
           SELECT a.* FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::smallint[], ?::int[], ?::text[],
             ?::int[], ?::smallint[], ?::text[], ?::int[], ?::bigint[], ?::text[])
             AS a(id, app_id, message_id, endpoint_id, url, status, response_status_code, response, response_duration_ms,
               trigger, failure_reason, attempt_number, created_at, transformed)
           WHERE EXISTS (SELECT 1 FROM messages m WHERE m.id = a.message_id FOR KEY SHARE)
         ), moved AS (
           UPDATE deliveries d SET status = r.status, attempt_count = r.attempt_count, trigger = ${Trigger.scheduled}, resume_at = NULL,
             run_at = r.run_at, next_attempt_at = r.next_attempt_at, updated_at = r.updated_at, alerted = r.alerted
           FROM unnest(?::bigint[], ?::int[], ?::smallint[], ?::int[], ?::bigint[], ?::bigint[], ?::bigint[], ?::boolean[])
             AS r(id, lease, status, attempt_count, run_at, next_attempt_at, updated_at, alerted)
           WHERE d.id = r.id AND d.lease = r.lease
         ), woken AS (
           -- The next delivery of each key whose delivery finished here is due at once (core/ordering.ts).
           -- This statement's snapshot still sees the finished one in flight, so "next" is the first pending.
           UPDATE deliveries n SET run_at = k.at
           FROM unnest(?::text[], ?::text[], ?::bigint[]) AS k(endpoint_id, ordering_key, at)
           WHERE n.id = (SELECT p.id FROM deliveries p WHERE p.endpoint_id = k.endpoint_id AND p.ordering_key = k.ordering_key
                         AND p.status = ${Status.pending} ORDER BY p.id LIMIT 1)
             AND NOT n.pulled AND n.run_at > k.at
         )
         , disabled AS (
           UPDATE endpoints SET disabled = true, disabled_reason = 'gone', disabled_at = ?, updated_at = ? WHERE id = ANY(?::text[]) AND NOT disabled RETURNING id, app_id
         ), latency AS (SELECT ?::int[] AS flat)
         , rolled AS (
           INSERT INTO attempt_stats AS s (app_id, bucket_start, endpoint_id, success, failure, canceled, latency)
           SELECT r.app_id, r.bucket_start, r.endpoint_id, r.success, r.failure, r.canceled,
             l.flat[(r.i - 1) * ${LATENCY_BINS} + 1 : r.i * ${LATENCY_BINS}]
           FROM unnest(?::text[], ?::bigint[], ?::text[], ?::int[], ?::int[], ?::int[]) WITH ORDINALITY
             AS r(app_id, bucket_start, endpoint_id, success, failure, canceled, i), latency l
           WHERE EXISTS (SELECT 1 FROM applications a WHERE a.id = r.app_id FOR KEY SHARE)
           ORDER BY r.i
           ON CONFLICT (app_id, bucket_start, endpoint_id) DO UPDATE SET
             success = s.success + excluded.success, failure = s.failure + excluded.failure, canceled = s.canceled + excluded.canceled,
             latency = ARRAY(SELECT x + y FROM unnest(s.latency, excluded.latency) WITH ORDINALITY AS t(x, y, n) ORDER BY n)
         )
         SELECT id, pg_notify('${CONFIG_CHANNEL}', app_id) FROM disabled`,
        [
          attempt((a) => a.id), attempt((a) => a.appId), attempt((a) => a.messageId), attempt((a) => a.endpointId),
          attempt((a) => a.url), attempt((a) => a.status), attempt((a) => a.responseStatusCode), attempt((a) => a.response),
          attempt((a) => a.responseDurationMs), attempt((a) => a.trigger), attempt((a) => a.failureReason),
          attempt((a) => a.attemptNumber), attempt((a) => a.createdAt), attempt((a) => transformedToColumn(a.transformed)),
          column((r) => r.id), column((r) => r.lease), column((r) => r.next.status), column((r) => r.attemptCount),
          column((r) => (r.next.status === Status.pending ? r.next.runAt : r.attempt.createdAt)),
          column((r) => (r.next.status === Status.pending ? r.next.runAt : null)),
          column((r) => r.attempt.createdAt),
          column((r) => r.alerted ?? false),
          ...wakeArrays(results),
          Math.max(...column((r) => r.attempt.createdAt)), Math.max(...column((r) => r.attempt.createdAt)),
          column((r) => r).filter((r) => r.disableEndpoint).map((r) => r.attempt.endpointId),
          rollup.flatMap((row) => row.latency),
          rollup.map((row) => row.appId), rollup.map((row) => row.bucketStart), rollup.map((row) => row.endpointId),
          rollup.map((row) => row.success), rollup.map((row) => row.failure), rollup.map((row) => row.canceled),
        ],
        BOOKKEEPING,
      );
      return { disabledEndpoints: disabled.map((row) => row.id) };
    },

    // Through the backlog in batches: the endpoint's deliveries by message id (ids begin with their
    // time) on the (endpoint_id, message_id) index, pending ones only, so in-flight ones stay; a row
    // a claim holds is skipped (it is in flight by the time the claim commits).
    async cancel(endpointId, createdBefore, now) {
      const before = smallestIdAt('message', createdBefore);
      let total = 0;
      for (;;) {
        const [row] = await db.query<{ n: number }>(
          `WITH picked AS (
             SELECT id FROM deliveries WHERE endpoint_id = ? AND message_id < ? AND status = ${Status.pending}
             LIMIT ${CANCEL_BATCH} FOR UPDATE SKIP LOCKED
           ), canceled AS (
             UPDATE deliveries d SET status = ${Status.canceled}, lease = d.lease + 1, next_attempt_at = NULL, resume_at = NULL, updated_at = ?
             FROM picked WHERE d.id = picked.id AND d.status = ${Status.pending}
             RETURNING 1
           )
           SELECT count(*)::int AS n FROM canceled`,
          [endpointId, before, now],
        );
        total += row?.n ?? 0;
        if ((row?.n ?? 0) < CANCEL_BATCH) return total;
      }
    },

    async release(deliveries, now) {
      await db.run(
        `UPDATE deliveries d SET status = ${Status.pending}, run_at = ?, updated_at = ?
         FROM unnest(?::bigint[], ?::int[]) AS r(id, lease) WHERE d.id = r.id AND d.lease = r.lease`,
        [now, now, deliveries.map((d) => d.id), deliveries.map((d) => d.lease)],
        BOOKKEEPING,
      );
    },

    async nextDueAt() {
      const row = await db.one<{ at: number | null }>(`SELECT min(run_at) AS at FROM deliveries WHERE status IN (1, 3) AND NOT pulled`);
      return row?.at ?? null;
    },

    // The message is locked FOR SHARE, so an erasure of its payload either commits first (and the
    // message is skipped) or waits for this and then fails the delivery made due here. A delivery
    // created by a resend counts from its message's creation, as fan-out's do, so recover and the
    // stats find it where Svix would.
    async resend(messageId, endpointId, now) {
      await db.query(
        `WITH kept AS (
           SELECT id, app_id, created_at, ordering_key FROM messages WHERE id = ? AND payload_erased_at IS NULL FOR SHARE
         ), queued AS (
           INSERT INTO deliveries AS d (message_id, endpoint_id, app_id, status, attempt_count, trigger, run_at, lease, next_attempt_at, resume_at, created_at, updated_at, ordering_key)
           SELECT id, ?, app_id, ${Status.pending}, 0, ${Trigger.manual}, ?, 0, ?, NULL, created_at, ?, ordering_key FROM kept
           ON CONFLICT (message_id, endpoint_id) DO UPDATE SET
             status = excluded.status, trigger = excluded.trigger, run_at = excluded.run_at, lease = d.lease + 1,
             next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at,
             ${KEEP_PLACE_ON_SCHEDULE}
           RETURNING 1
         )
         SELECT pg_notify('herald_due', '') FROM queued`,
        [messageId, endpointId, now, now, now],
      );
    },

    // Locks the messages FOR SHARE against a concurrent erasure of their payloads, as resend does.
    async recover(endpointId, since, until, now) {
      const rows = await db.query(
        `WITH kept AS (
           SELECT d.id FROM deliveries d JOIN messages m ON m.id = d.message_id
           WHERE d.endpoint_id = ? AND d.status = ${Status.fail} AND d.created_at >= ? AND d.created_at < ? AND m.payload_erased_at IS NULL
           FOR SHARE OF m
         ), recovered AS (
           UPDATE deliveries SET status = ${Status.pending}, attempt_count = 0, trigger = ${Trigger.manual}, resume_at = NULL,
             run_at = ?, lease = lease + 1, next_attempt_at = ?, updated_at = ?
           WHERE id IN (SELECT id FROM kept) AND status = ${Status.fail}
           RETURNING 1
         )
         SELECT count(*)::int AS n, pg_notify('herald_due', '') FROM recovered`,
        [endpointId, since, until, now, now, now],
      );
      return Number(rows[0]?.n ?? 0);
    },

    // The session's rows are locked in order, so two pulls of one session (a consumer and the one
    // taking it over) take turns rather than both leasing the head.
    pull(request) {
      return db.transaction(async (query) => {
        await query(TRIM, trimParams(request.endpointId, request.keep, request.olderThan, request.now));
        const head = await query<{ id: number; run_at: number }>(
          `SELECT id, run_at FROM deliveries WHERE endpoint_id = ? AND pulled AND status IN (1, 3) ORDER BY id LIMIT ? FOR UPDATE`,
          [request.endpointId, request.limit],
        );
        const picked: number[] = [];
        for (const row of head) {
          if (Number(row.run_at) > request.now) break;
          picked.push(Number(row.id));
        }
        if (picked.length === 0) return [];
        const rows = await query<ClaimRow>(
          `WITH leased AS (
             UPDATE deliveries d SET status = ${Status.sending}, run_at = ?, lease = d.lease + 1, updated_at = ?
             WHERE d.id = ANY(?::bigint[])
             RETURNING d.id, d.lease, d.attempt_count, d.trigger, d.resume_at, d.message_id, d.endpoint_id, d.alerted, d.ordering_key
           )
           ${LOAD_LEASED}`,
          [request.now + request.leaseMs, request.now, picked],
        );
        const order = new Map(picked.map((id, i) => [id, i]));
        return toClaimed(rows).sort((a, b) => order.get(a.id)! - order.get(b.id)!);
      });
    },

    releasePulled(endpointId, now, waiting) {
      return db.run(
        `UPDATE deliveries SET status = ${Status.pending}, run_at = ?, next_attempt_at = ?, lease = lease + 1, updated_at = ?
         WHERE endpoint_id = ? AND pulled AND run_at > ? AND (status = ${Status.sending} OR (? AND status = ${Status.pending}))`,
        [now, now, now, endpointId, now, waiting],
        BOOKKEEPING,
      );
    },

    async getPulled(endpointId, messageId) {
      const row = await db.one<{ id: number; lease: number; status: number; attempt_count: number; trigger: number; resume_at: number | null }>(
        'SELECT id, lease, status, attempt_count, trigger, resume_at FROM deliveries WHERE endpoint_id = ? AND message_id = ? AND pulled',
        [endpointId, messageId],
      );
      return row
        ? { id: Number(row.id), lease: row.lease, status: row.status as Status, attemptCount: row.attempt_count, trigger: row.trigger as Trigger, resumeAt: row.resume_at === null ? null : Number(row.resume_at) }
        : null;
    },

    async trimPulled(keep, olderThan, now) {
      const sessions = await db.query<{ id: string }>('SELECT id FROM endpoints WHERE listen_name IS NOT NULL AND deleted_at IS NULL');
      let dropped = 0;
      for (const { id } of sessions) {
        const [row] = await db.query<{ n: number }>(TRIM, trimParams(id, keep, olderThan, now));
        dropped += row?.n ?? 0;
      }
      return dropped;
    },

    async stats(endpointId, range) {
      const conditions = statsConditions(endpointId, range);
      return toStats(await db.query(`SELECT status, count(*)::int AS n FROM deliveries WHERE ${conditions} GROUP BY status`, conditions.params));
    },

    listByMessage: (messageId, page) => deliveriesByMessage(read, messageId, page),
    listByEndpoint: (endpointId, filter, page) => deliveriesByEndpoint(read, messageConditions, endpointId, filter, page),
  };
}

/** The endpoints, keys and times of the keyed deliveries these results finish (see complete's `woken`). */
function wakeArrays(results: readonly DeliveryResult[]): [string[], string[], number[]] {
  const finished = results.filter((r) => r.orderingKey && r.next.status !== Status.pending);
  return [finished.map((r) => r.attempt.endpointId), finished.map((r) => r.orderingKey!), finished.map((r) => r.attempt.createdAt)];
}

/** The claimed deliveries of a claim's answer rows, each with its message and endpoint. */
function toClaimed(rows: readonly ClaimRow[]): ClaimedDelivery[] {
  const messages = new Map<string, ClaimedDelivery['message']>();
  const endpoints = new Map<string, ClaimedDelivery['endpoint']>();
  for (const row of rows) {
    if (row.kind === MESSAGE_ROW) {
      messages.set(row.message_id!, { id: row.message_id!, appId: row.app_id!, eventId: row.event_id, eventType: row.event_type!, payload: row.payload!, inbound: row.inbound });
    } else if (row.kind === ENDPOINT_ROW) {
      endpoints.set(row.endpoint_id!, { id: row.endpoint_id!, url: row.url!, headers: row.headers!, secrets: row.secrets!, disabled: row.disabled!, ...(row.transformation === null ? {} : { transformation: row.transformation }) });
    }
  }
  return rows.filter((row) => row.kind === DELIVERY_ROW).map((row): ClaimedDelivery => ({
    id: row.id!,
    lease: row.lease!,
    attemptNumber: row.attempt_count! + 1,
    trigger: row.trigger as Trigger,
    resumeAt: row.resume_at,
    message: messages.get(row.message_id!)!,
    endpoint: endpoints.get(row.endpoint_id!)!,
    alerted: row.alerted === true,
    ...(row.ordering_key === null ? {} : { orderingKey: row.ordering_key }),
  }));
}

/**
 * A disabled (not deleted) endpoint's deliveries wait for it to be enabled again, which makes them
 * due; meanwhile they are looked at hourly. Rare: fan-out skips disabled endpoints, so only retries
 * scheduled before the endpoint was disabled come here.
 */
async function parkDisabled(db: PostgresDatabase, claimed: ClaimedDelivery[], rows: readonly ClaimRow[], now: number): Promise<ClaimedDelivery[]> {
  const parked = new Set(rows.filter((row) => row.kind === ENDPOINT_ROW && row.disabled && !row.deleted).map((row) => row.endpoint_id!));
  if (parked.size === 0) return claimed;
  const waiting = claimed.filter((delivery) => parked.has(delivery.endpoint.id));
  await db.run(
    `UPDATE deliveries d SET status = ${Status.pending}, run_at = ?, updated_at = ?
     FROM unnest(?::bigint[], ?::int[]) AS r(id, lease) WHERE d.id = r.id AND d.lease = r.lease`,
    [now + DISABLED_RECHECK_MS, now, waiting.map((d) => d.id), waiting.map((d) => d.lease)],
    BOOKKEEPING,
  );
  return claimed.filter((delivery) => !parked.has(delivery.endpoint.id));
}

/**
 * The claim of gated endpoints' deliveries, in one transaction: lock their flow rows (and their
 * applications'), skipping those another worker holds, which is claiming them right now; take
 * their due deliveries; let planClaim decide which go now and which wait until when; lease the
 * first, defer the others and write the new flow state, all before the locks are released, so
 * two workers never spend one rate twice.
 */
async function claimGated(db: PostgresDatabase, request: ClaimRequest, gated: string[], mainRows: readonly ClaimRow[]): Promise<ClaimRow[]> {
  // What the main claim took already uses up slots.
  const slots = new Map(request.slots);
  const appSlots = new Map(request.appSlots);
  let taken = 0;
  for (const row of mainRows) {
    if (row.kind !== DELIVERY_ROW) continue;
    taken++;
    slots.set(row.endpoint_id!, (slots.get(row.endpoint_id!) ?? request.defaultSlots) - 1);
  }
  const appOf = new Map(mainRows.filter((row) => row.kind === MESSAGE_ROW).map((row) => [row.message_id!, row.app_id!]));
  for (const row of mainRows) {
    if (row.kind !== DELIVERY_ROW) continue;
    const appId = appOf.get(row.message_id!)!;
    appSlots.set(appId, (appSlots.get(appId) ?? request.defaultAppSlots) - 1);
  }
  const limit = request.limit - taken;
  if (limit <= 0) return [];
  await db.run(
    `WITH endpoints_flow AS (
       INSERT INTO endpoint_flow (endpoint_id) SELECT id FROM unnest(?::text[]) AS g(id) ORDER BY id ON CONFLICT DO NOTHING RETURNING 1
     )
     INSERT INTO application_flow (app_id)
     SELECT a.id FROM applications a WHERE a.throttle_rate IS NOT NULL AND a.id IN (SELECT app_id FROM endpoints WHERE id = ANY(?::text[]))
     ORDER BY a.id ON CONFLICT DO NOTHING`,
    [gated, gated],
    BOOKKEEPING,
  );
  return db.transaction(async (query) => {
    const flows = await query(
      `SELECT e.app_id, e.throttle_rate, a.throttle_rate AS app_rate, f.*
       FROM endpoint_flow f JOIN endpoints e ON e.id = f.endpoint_id JOIN applications a ON a.id = e.app_id
       WHERE f.endpoint_id = ANY(?::text[]) FOR UPDATE OF f SKIP LOCKED`,
      [gated],
    );
    const apps = await query<{ id: string; throttle_rate: number; tat: number }>(
      `SELECT a.id, a.throttle_rate, f.tat FROM application_flow f JOIN applications a ON a.id = f.app_id
       WHERE a.throttle_rate IS NOT NULL AND f.app_id = ANY(?::text[]) FOR UPDATE OF f SKIP LOCKED`,
      [[...new Set(flows.map((row) => row.app_id as string))]],
    );
    const appGates = new Map(apps.map((row): [string, AppGate] => [row.id, { configuredRate: row.throttle_rate, tat: Number(row.tat) }]));
    // An endpoint whose application another worker holds waits for that worker's claim.
    const lockedApps = new Set(appGates.keys());
    const endpointGates = new Map(flows.filter((row) => row.app_rate === null || lockedApps.has(row.app_id as string)).map((row): [string, EndpointGate] =>
      [row.endpoint_id as string, { configuredRate: row.throttle_rate as number | null, disabled: false, state: flowStateOf(row) }]));
    if (endpointGates.size === 0) return [];
    const due = await query<{ id: number; endpoint_id: string; app_id: string; ahead_at: number | null }>(
      `SELECT id, endpoint_id, app_id, ${AHEAD_IN_ORDER('deliveries')} AS ahead_at FROM deliveries
       WHERE endpoint_id = ANY(?::text[]) AND status IN (1, 3) AND NOT pulled AND run_at <= ?
       ORDER BY run_at LIMIT ? FOR UPDATE SKIP LOCKED`,
      [[...endpointGates.keys()], request.now, limit * CANDIDATES_PER_SLOT],
    );
    const candidates = due.filter((c) => c.ahead_at === null).map((c) => [Number(c.id), c.endpoint_id, c.app_id] as const);
    const plan = planClaim(candidates, { ...request, limit, slots, appSlots }, endpointGates, appGates, request.now);
    // A keyed delivery with one of its key ahead waits for it, without taking a slot (core/ordering.ts).
    for (const c of due) if (c.ahead_at !== null) plan.deferred.push({ row: [Number(c.id), c.endpoint_id, c.app_id], runAt: heldUntil(Number(c.ahead_at), request.now) });
    const flowParams = flowArrays(plan.endpoints);
    return query<ClaimRow>(
      `WITH deferred AS (
         UPDATE deliveries d SET status = ${Status.pending}, run_at = r.run_at, updated_at = ?
         FROM unnest(?::bigint[], ?::bigint[]) AS r(id, run_at) WHERE d.id = r.id
       ), flows AS (${UPDATE_FLOWS}), apps AS (
         UPDATE application_flow f SET tat = r.tat FROM unnest(?::text[], ?::float8[]) AS r(app_id, tat) WHERE f.app_id = r.app_id
       ), picked AS (SELECT unnest(?::bigint[]) AS id), ${LEASE_AND_LOAD}`,
      [request.now, plan.deferred.map((d) => d.row[0]), plan.deferred.map((d) => d.runAt), ...flowParams,
        [...plan.apps.keys()], [...plan.apps.values()], plan.picked.map((row) => row[0]), request.now + request.leaseMs, request.now],
    );
  });
}
