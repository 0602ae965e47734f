import { Status, STATUS_TEXT, Trigger } from '../core/model.ts';
import type { ApplicationFilter, AttemptFilter, DeliveryStats, PageRequest } from './store.ts';

/**
 * SQL text is written with `?` placeholders for both databases; PostgreSQL gets them numbered by
 * `numbered()`. (So PostgreSQL SQL here never uses jsonb's `?` operator: `@>` or functions instead.)
 */

/** The cursor condition and ORDER BY / LIMIT tail of a keyset-paginated query (one extra row tells `done`). */
export function keyset(column: string, page: PageRequest): { where: string; params: unknown[]; tail: string } {
  const tail = `ORDER BY ${column} ${page.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ${Math.trunc(page.limit) + 1}`;
  if (page.after === null) return { where: '1 = 1', params: [], tail };
  return { where: `${column} ${page.order === 'asc' ? '>' : '<'} ?`, params: [page.after], tail };
}

/** SQL conditions joined by AND, with their parameters in order. */
export class Conditions {
  readonly #parts: string[] = [];
  readonly params: unknown[] = [];

  add(sql: string, ...params: unknown[]): this {
    this.#parts.push(sql);
    this.params.push(...params);
    return this;
  }

  /** Adds the condition unless `when` is null, undefined, false, 0 or empty. */
  addIf(when: unknown, sql: string, ...params: unknown[]): this {
    return when === null || when === undefined || when === false || when === 0 || when === '' ? this : this.add(sql, ...params);
  }

  toString(): string {
    return this.#parts.length ? this.#parts.join(' AND ') : '1 = 1';
  }
}

/** Rewrites `?` placeholders as `$1, $2, …` for PostgreSQL. */
export function numbered(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
}

/** The attempt filters beyond the message ones, on the attempts alias `a`. */
export function attemptConditions(conditions: Conditions, filter: AttemptFilter): Conditions {
  const codeClass = filter.statusCodeClass;
  return conditions
    .addIf(filter.status !== null, 'a.status = ?', filter.status)
    .addIf(codeClass === 0, 'a.response_status_code = 0')
    .addIf(codeClass !== null && codeClass > 0, 'a.response_status_code >= ? AND a.response_status_code < ?', codeClass, (codeClass ?? 0) + 100)
    .addIf(filter.endpointId, 'a.endpoint_id = ?', filter.endpointId);
}

/** `SELECT status, count(*) AS n … GROUP BY status` rows as DeliveryStats. */
export function toStats(rows: ReadonlyArray<{ status: number; n: number }>): DeliveryStats {
  const stats: DeliveryStats = { success: 0, pending: 0, sending: 0, fail: 0, canceled: 0 };
  for (const row of rows) {
    const key = STATUS_TEXT[Number(row.status)];
    if (key) stats[key] = Number(row.n);
  }
  return stats;
}

/** The time-range conditions of a stats query. */
export function statsConditions(endpointId: string, range: { before: number | null; after: number | null }): Conditions {
  return new Conditions()
    .add('endpoint_id = ?', endpointId)
    .addIf(range.after, 'created_at > ?', range.after)
    .addIf(range.before, 'created_at < ?', range.before);
}

/**
 * What a resend's upsert sets besides making the delivery due (`d` is the delivery as it was,
 * `excluded` the row the resend proposed). A delivery still on its retry schedule, pending or in
 * flight, keeps its attempt count and remembers when its next scheduled attempt was due (now, for
 * one in flight, whose result the resend supersedes); one resent again keeps what it remembered.
 * A finished delivery starts counting again and has nothing to go back to.
 */
export const KEEP_PLACE_ON_SCHEDULE = `
  resume_at = CASE
    WHEN d.status NOT IN (${Status.pending}, ${Status.sending}) THEN NULL
    WHEN d.trigger = ${Trigger.manual} THEN d.resume_at
    WHEN d.status = ${Status.pending} THEN d.run_at
    ELSE excluded.run_at END,
  attempt_count = CASE WHEN d.status IN (${Status.pending}, ${Status.sending}) THEN d.attempt_count ELSE 0 END`;

/**
 * Sources are applications too, with `src_` ids, and so is the internal one holding the
 * operational webhook endpoints (`ops_`); application listings leave them out.
 */
export const NOT_A_SOURCE = "id NOT LIKE 'src\\_%' ESCAPE '\\' AND id NOT LIKE 'ops\\_%' ESCAPE '\\'";

/**
 * A message's status from its deliveries (`m` is the messages alias), one status per message:
 * Fail when any delivery failed, else Sending when any is in flight, else Pending when any waits,
 * else Success when any succeeded (canceled ones aside), else Canceled (4) when cancel-msgs ended
 * them all. A message that went to no endpoint has none. Each is an EXISTS on deliveries by message id, which the (message_id, endpoint_id) unique
 * index answers: a seek per message the list walks, never a scan of deliveries.
 */
const anyDelivery = (statuses: string) => `EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status IN (${statuses}))`;
export const MESSAGE_STATUS_CONDITIONS: Record<number, string> = {
  [Status.fail]: anyDelivery(`${Status.fail}`),
  [Status.sending]: `NOT ${anyDelivery(`${Status.fail}`)} AND ${anyDelivery(`${Status.sending}`)}`,
  [Status.pending]: `NOT ${anyDelivery(`${Status.fail}, ${Status.sending}`)} AND ${anyDelivery(`${Status.pending}`)}`,
  [Status.success]: `NOT ${anyDelivery(`${Status.fail}, ${Status.sending}, ${Status.pending}`)} AND ${anyDelivery(`${Status.success}`)}`,
  [Status.canceled]: `NOT ${anyDelivery(`${Status.fail}, ${Status.sending}, ${Status.pending}, ${Status.success}`)} AND ${anyDelivery(`${Status.canceled}`)}`,
};

/** `LIKE` pattern text matching `value` literally (escape character `\`). */
export const likeLiteral = (value: string) => `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The application list's search, on `applications` unaliased: `op` is SQLite's LIKE (which folds
 * ASCII letters) or PostgreSQL's ILIKE. A substring search cannot use an index; it walks the
 * primary key in page order like the unfiltered list and stops at the page's end.
 */
export function applicationSearch(conditions: Conditions, filter: ApplicationFilter | undefined, op: 'LIKE' | 'ILIKE'): Conditions {
  const search = filter?.search;
  return conditions.addIf(search, `(name ${op} ? ESCAPE '\\' OR uid ${op} ? ESCAPE '\\')`, likeLiteral(search ?? ''), likeLiteral(search ?? ''));
}

/**
 * The stats of a page of applications: one statement, an index seek per application (`ids` is the
 * IN list's SQL). The endpoint count is of the endpoints the endpoint list shows: `herald listen`
 * sessions and polling sinks are endpoints underneath, but not listed, so not counted. `NOT
 * e.polling` reads SQLite's 0/1 and PostgreSQL's boolean alike.
 */
export const applicationStatsSql = (ids: string) => `
  SELECT a.id,
    (SELECT count(*) FROM endpoints e
     WHERE e.app_id = a.id AND e.deleted_at IS NULL AND e.listen_name IS NULL AND NOT e.polling) AS endpoint_count,
    (SELECT m.created_at FROM messages m WHERE m.app_id = a.id ORDER BY m.id DESC LIMIT 1) AS last_message_at
  FROM applications a WHERE a.id IN (${ids})`;

export function toApplicationStats(rows: ReadonlyArray<Record<string, unknown>>): Map<string, { endpointCount: number; lastMessageAt: number | null }> {
  return new Map(rows.map((row) => [row.id as string, {
    endpointCount: Number(row.endpoint_count),
    lastMessageAt: row.last_message_at === null || row.last_message_at === undefined ? null : Number(row.last_message_at),
  }]));
}

/**
 * For the delivery `d` in a claim: when the delivery ahead of it in its ordering key (same
 * endpoint, same key) is next due, or NULL when none is ahead (always, for a delivery without a
 * key; see core/ordering.ts). Ahead means unfinished and stored earlier, or in flight: so one of a
 * key is sent at a time even when two were published at the same moment. One probe of the
 * `deliveries_ordered` partial index, made only for keyed deliveries.
 */
export const AHEAD_IN_ORDER = (d: string) => `CASE WHEN ${d}.ordering_key IS NULL THEN NULL ELSE (
  SELECT p.run_at FROM deliveries p
  WHERE p.endpoint_id = ${d}.endpoint_id AND p.ordering_key = ${d}.ordering_key AND p.status IN (${Status.pending}, ${Status.sending})
    AND p.id <> ${d}.id AND (p.id < ${d}.id OR p.status = ${Status.sending})
  ORDER BY p.id LIMIT 1) END`;
