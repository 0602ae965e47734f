import type { BackgroundTask } from '../core/replay.ts';
import type { Bin, BinRequest, BinRule } from '../core/bins.ts';
import { type ApiToken, type Application, type Attempt, type Delivery, type Endpoint, type EventType, type FailureReason, type Message, type Source, Status, type TransformedRequest, type Trigger } from '../core/model.ts';

/**
 * Rows as both databases return them, and their mapping to the domain model. Column names are the
 * same in both schemas; the decoders accept SQLite's forms (JSON as text, booleans as 0/1) and
 * PostgreSQL's (jsonb already parsed, real booleans) alike.
 */

const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;
const jsonOrNull = <T>(value: unknown): T | null => (value === null || value === undefined ? null : json<T>(value));
const bool = (value: unknown): boolean => value === true || value === 1;
const numberOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

export type Row = Record<string, unknown>;

export const toApplication = (row: Row): Application => ({
  id: row.id as string,
  uid: row.uid as string | null,
  name: row.name as string,
  metadata: json(row.metadata),
  throttleRate: row.throttle_rate as number | null,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

export const toEventType = (row: Row): EventType => ({
  name: row.name as string,
  description: row.description as string,
  schemas: jsonOrNull(row.schemas),
  archived: bool(row.archived),
  deprecated: bool(row.deprecated),
  featureFlag: row.feature_flag as string | null,
  retrySchedule: jsonOrNull(row.retry_schedule),
  ...(row.schema_validation == null ? {} : { schemaValidation: row.schema_validation as EventType['schemaValidation'] }),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

export const toEndpoint = (row: Row): Endpoint => ({
  id: row.id as string,
  appId: row.app_id as string,
  uid: row.uid as string | null,
  url: row.url as string,
  description: row.description as string,
  eventTypes: jsonOrNull(row.event_types),
  channels: jsonOrNull(row.channels),
  disabled: bool(row.disabled),
  disabledReason: (row.disabled_reason ?? null) as Endpoint['disabledReason'],
  disabledAt: numberOrNull(row.disabled_at ?? null),
  metadata: json(row.metadata),
  throttleRate: row.throttle_rate as number | null,
  retrySchedule: jsonOrNull(row.retry_schedule),
  filter: jsonOrNull(row.payload_filter),
  headers: json(row.headers),
  secrets: json(row.secrets),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  ...(row.listen_name === null || row.listen_name === undefined ? {} : { listen: { name: row.listen_name as string, dropped: Number(row.listen_dropped), ...(row.listen_listener ? { listener: row.listen_listener as string } : {}) } }),
  ...(bool(row.polling) ? { polling: true as const } : {}),
  ...(row.transformation_updated_at === null || row.transformation_updated_at === undefined ? {} : {
    transformation: { code: (row.transformation_code ?? null) as string | null, enabled: bool(row.transformation_enabled), updatedAt: Number(row.transformation_updated_at) },
  }),
});

export const toMessage = (row: Row): Message => ({
  id: row.id as string,
  appId: row.app_id as string,
  eventType: row.event_type as string,
  eventId: row.event_id as string | null,
  channels: jsonOrNull(row.channels),
  payload: row.payload as Uint8Array,
  inbound: jsonOrNull(row.inbound),
  payloadExpiresAt: numberOrNull(row.payload_expires_at),
  payloadErasedAt: numberOrNull(row.payload_erased_at),
  ...(row.schema_violations == null ? {} : { schemaViolations: json<Message['schemaViolations']>(row.schema_violations) }),
  ...(row.ordering_key == null ? {} : { orderingKey: row.ordering_key as string }),
  createdAt: Number(row.created_at),
});

export const toSource = (row: Row): Source => ({
  id: row.id as string,
  uid: row.uid as string | null,
  name: row.name as string,
  type: row.type as string,
  config: json(row.config),
  metadata: json(row.metadata),
  token: row.token as string,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

export const toBin = (row: Row): Bin => ({
  id: row.id as string,
  name: row.name as string | null,
  token: row.token as string,
  response: json(row.response),
  rules: json(row.rules),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  lastRequestAt: numberOrNull(row.last_request_at),
  requestSeq: Number(row.request_seq),
});

export const toBinRequest = (row: Row): BinRequest => ({
  id: row.id as string,
  binId: row.bin_id as string,
  seq: Number(row.seq),
  method: row.method as string,
  path: row.path as string,
  query: row.query as string | null,
  headers: json(row.headers),
  secretHeaders: json(row.secret_headers),
  body: row.body as Uint8Array,
  size: Number(row.size),
  ip: row.ip as string,
  responseStatus: numberOrNull(row.response_status),
  rule: row.rule as BinRule,
  createdAt: Number(row.created_at),
});

/** A bin request's columns, the body last, so a listing without content can leave it out. */
export const BIN_REQUEST_COLUMNS = ['id', 'bin_id', 'seq', 'method', 'path', 'query', 'headers', 'secret_headers', 'size', 'ip',
  'response_status', 'rule', 'created_at'];

export const toDelivery = (row: Row): Delivery => ({
  messageId: row.message_id as string,
  endpointId: row.endpoint_id as string,
  status: Number(row.status) as Status,
  attemptCount: Number(row.attempt_count),
  nextAttemptAt: nextAttemptOf(row),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

/**
 * When a delivery is next due. Flow control (a rate, a 429's pause, an open circuit) defers a
 * pending delivery by moving `run_at` past the retry schedule's `next_attempt_at`, so for a
 * pending one the later of the two is when it really goes; shown as the schedule alone, a
 * throttled backlog would look overdue.
 */
function nextAttemptOf(row: Row): number | null {
  if (row.next_attempt_at === null) return null;
  const scheduled = Number(row.next_attempt_at);
  return Number(row.status) === Status.pending ? Math.max(scheduled, Number(row.run_at)) : scheduled;
}

export const toAttempt = (row: Row): Attempt => ({
  id: row.id as string,
  appId: row.app_id as string,
  messageId: row.message_id as string,
  endpointId: row.endpoint_id as string,
  url: row.url as string,
  status: Number(row.status) as Attempt['status'],
  responseStatusCode: Number(row.response_status_code),
  response: row.response as string,
  responseDurationMs: Number(row.response_duration_ms),
  trigger: Number(row.trigger) as Trigger,
  failureReason: row.failure_reason as FailureReason | null,
  attemptNumber: Number(row.attempt_number),
  createdAt: Number(row.created_at),
  ...(row.transformed == null ? {} : { transformed: transformedFromColumn(row.transformed as string) }),
});

/** A transformed request as the attempts table keeps it: JSON, the body in base64. */
export function transformedToColumn(transformed: TransformedRequest | undefined): string | null {
  if (!transformed) return null;
  return JSON.stringify({ ...transformed, body: transformed.body === null ? null : Buffer.from(transformed.body).toString('base64') });
}

function transformedFromColumn(column: string): TransformedRequest {
  const stored = JSON.parse(column) as Omit<TransformedRequest, 'body'> & { body: string | null };
  return { ...stored, body: stored.body === null ? null : Buffer.from(stored.body, 'base64') };
}

export const toToken = (row: Row): ApiToken => ({
  id: row.id as string,
  digest: row.digest as string,
  appId: row.app_id as string | null,
  capabilities: jsonOrNull(row.capabilities),
  createdAt: Number(row.created_at),
  expiresAt: row.expires_at === null ? null : Number(row.expires_at),
});

/** JSON text for a nullable JSON column (null stays SQL NULL). */
export const nullableJson = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

export const DELIVERY_COLUMNS = ['message_id', 'endpoint_id', 'status', 'attempt_count', 'next_attempt_at', 'run_at', 'created_at', 'updated_at'];
export const ENDPOINT_COLUMNS = ['id', 'app_id', 'uid', 'url', 'description', 'event_types', 'channels', 'disabled', 'metadata',
  'throttle_rate', 'headers', 'secrets', 'created_at', 'updated_at'];
export const MESSAGE_COLUMNS = ['id', 'app_id', 'event_type', 'event_id', 'channels', 'payload', 'inbound', 'payload_expires_at',
  'payload_erased_at', 'created_at'];

/** `d.a, d.b` for a joined table's own columns. */
export const columnsOf = (alias: string, columns: readonly string[]) => columns.map((c) => `${alias}.${c}`).join(', ');

/** `e.a AS e_a, …` for a joined table whose columns would clash, and the way back. */
export const prefixedColumnsOf = (alias: string, columns: readonly string[]) => columns.map((c) => `${alias}.${c} AS ${alias}_${c}`).join(', ');

export function unprefix(row: Row, alias: string): Row {
  const prefix = `${alias}_`;
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
  return out;
}

export const toTask = (row: Row): BackgroundTask => ({
  id: row.id as string,
  kind: row.kind as BackgroundTask['kind'],
  status: row.status as BackgroundTask['status'],
  appId: row.app_id as string,
  endpointId: row.endpoint_id as string,
  params: json(row.params),
  progress: json(row.progress),
  cursor: row.cursor as string | null,
  paceAt: Number(row.pace_at),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});
