import type { Application, Attempt, Delivery, Endpoint, EventType, FailureReason, Message, Status, Trigger } from '../../core/model.ts';

/** Column names as SQLite returns them, and the mapping to and from the domain model. */

export interface ApplicationRow {
  id: string;
  uid: string | null;
  name: string;
  metadata: string;
  throttle_rate: number | null;
  created_at: number;
  updated_at: number;
}

export const toApplication = (row: ApplicationRow): Application => ({
  id: row.id,
  uid: row.uid,
  name: row.name,
  metadata: JSON.parse(row.metadata),
  throttleRate: row.throttle_rate,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export interface EventTypeRow {
  name: string;
  description: string;
  schemas: string | null;
  archived: number;
  deprecated: number;
  feature_flag: string | null;
  created_at: number;
  updated_at: number;
}

export const toEventType = (row: EventTypeRow): EventType => ({
  name: row.name,
  description: row.description,
  schemas: row.schemas === null ? null : JSON.parse(row.schemas),
  archived: row.archived === 1,
  deprecated: row.deprecated === 1,
  featureFlag: row.feature_flag,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export interface EndpointRow {
  id: string;
  app_id: string;
  uid: string | null;
  url: string;
  description: string;
  event_types: string | null;
  channels: string | null;
  disabled: number;
  metadata: string;
  throttle_rate: number | null;
  headers: string;
  secrets: string;
  created_at: number;
  updated_at: number;
}

export const toEndpoint = (row: EndpointRow): Endpoint => ({
  id: row.id,
  appId: row.app_id,
  uid: row.uid,
  url: row.url,
  description: row.description,
  eventTypes: jsonOrNull(row.event_types),
  channels: jsonOrNull(row.channels),
  disabled: row.disabled === 1,
  metadata: JSON.parse(row.metadata),
  throttleRate: row.throttle_rate,
  headers: JSON.parse(row.headers),
  secrets: JSON.parse(row.secrets),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export interface MessageRow {
  id: string;
  app_id: string;
  event_type: string;
  event_id: string | null;
  channels: string | null;
  payload: Uint8Array;
  created_at: number;
}

export const toMessage = (row: MessageRow): Message => ({
  id: row.id,
  appId: row.app_id,
  eventType: row.event_type,
  eventId: row.event_id,
  channels: jsonOrNull(row.channels),
  payload: row.payload,
  createdAt: row.created_at,
});

export interface DeliveryRow {
  message_id: string;
  endpoint_id: string;
  status: number;
  attempt_count: number;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

export const toDelivery = (row: DeliveryRow): Delivery => ({
  messageId: row.message_id,
  endpointId: row.endpoint_id,
  status: row.status as Status,
  attemptCount: row.attempt_count,
  nextAttemptAt: row.next_attempt_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export interface AttemptRow {
  id: string;
  app_id: string;
  message_id: string;
  endpoint_id: string;
  url: string;
  status: number;
  response_status_code: number;
  response: string;
  response_duration_ms: number;
  trigger: number;
  failure_reason: string | null;
  attempt_number: number;
  created_at: number;
}

export const toAttempt = (row: AttemptRow): Attempt => ({
  id: row.id,
  appId: row.app_id,
  messageId: row.message_id,
  endpointId: row.endpoint_id,
  url: row.url,
  status: row.status as Attempt['status'],
  responseStatusCode: row.response_status_code,
  response: row.response,
  responseDurationMs: row.response_duration_ms,
  trigger: row.trigger as Trigger,
  failureReason: row.failure_reason as FailureReason | null,
  attemptNumber: row.attempt_number,
  createdAt: row.created_at,
});

export const jsonOrNull = <T>(text: string | null): T | null => (text === null ? null : JSON.parse(text));
export const nullableJson = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));
export const flag = (value: boolean): number => (value ? 1 : 0);

/** Prefixes every column of `columns` with a table alias and gives it back its own name. */
export function aliased(alias: string, columns: readonly string[]): string {
  return columns.map((column) => `${alias}.${column}`).join(', ');
}
