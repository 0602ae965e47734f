/** The API's shapes as the UI reads them (Svix's *Out types, with Herald's additions optional). */

export interface ListResponse<T> {
  data: T[];
  iterator: string | null;
  prevIterator: string | null;
  done: boolean;
}

export type Metadata = Record<string, string>;

export interface Application {
  id: string;
  uid: string | null;
  name: string;
  metadata: Metadata;
  throttleRate: number | null;
  createdAt: string;
  updatedAt: string;
  /** With `with_stats=true`, where the server supports it. */
  endpointCount?: number;
  lastMessageAt?: string | null;
}

export interface EndpointStats {
  since?: string;
  success: number;
  failure: number;
}

export interface Endpoint {
  id: string;
  uid: string | null;
  url: string;
  description: string;
  eventTypes: string[] | null;
  channels: string[] | null;
  disabled: boolean;
  /** Why Herald disabled it (repeated failures), where the server says. */
  disabledReason?: string | null;
  metadata: Metadata;
  throttleRate: number | null;
  /** Herald's payload filter: a MongoDB-style query over eventType, channels and payload. */
  filter?: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
  stats?: EndpointStats | null;
}

export interface EventType {
  name: string;
  description: string;
  archived: boolean;
  deprecated: boolean;
  featureFlag: string | null;
  schemas: Record<string, unknown> | null;
  /** Herald's extension: an example payload per schema version (the schema's own, or one made from it). */
  examples?: Record<string, unknown> | null;
  /** Herald's extension: how payloads are checked against `schemas`; null follows the server's setting. */
  schemaValidation?: 'off' | 'warn' | 'enforce' | null;
  createdAt: string;
  updatedAt: string;
}

export interface Message {
  id: string;
  eventType: string;
  eventId: string | null;
  channels: string[] | null;
  payload: unknown;
  timestamp: string;
  /** Herald's extension: what the schema check found wrong with a payload accepted under `warn`. */
  schemaViolations?: Array<{ loc: string[]; msg: string; type: string }>;
  schemaVersion?: string;
}

export interface Attempt {
  id: string;
  msgId: string;
  endpointId: string;
  url: string;
  status: number;
  statusText?: string;
  triggerType: number;
  response: string;
  responseStatusCode: number;
  responseDurationMs: number;
  timestamp: string;
  attemptNumber?: number;
  failureReason?: string | null;
}

/** Svix's MessageStatus: 0 success, 1 pending, 2 fail, 3 sending. */
/** Svix's `MessageStatus`; 4 (canceled: cancel-msgs or a transformation) comes only with `expanded_statuses`, which the UI always asks for. */
export const ATTEMPT_STATUS: Record<number, string> = { 0: 'Succeeded', 1: 'Pending', 2: 'Failed', 3: 'Sending', 4: 'Canceled' };

export interface Whoami {
  appId: string | null;
  capabilities: string[];
  kind: 'admin' | 'app';
  expiresAt: string | null;
}

export interface AttemptStats {
  startDate: string;
  endDate: string;
  period: string;
  data: {
    successCount: number[];
    failureCount: number[];
    canceledCount?: number[];
    messageCount?: number[];
    latencyP50?: Array<number | null>;
    latencyP95?: Array<number | null>;
    latencyP99?: Array<number | null>;
  };
}

/** A message's destination (`GET .../msg/{msg}/endpoint`): the endpoint and its delivery's state. */
export interface MessageDestination extends Endpoint {
  status: number;
  statusText?: string;
  nextAttempt: string | null;
}

/** Svix's MessageAttemptHeadersOut: the request's headers as sent, sensitive ones masked unless allowed. */
export interface AttemptHeaders {
  sentHeaders: Record<string, string>;
  responseHeaders: Array<[string, string]> | null;
  sensitive: string[];
  /** Herald's: the request's method; the body sent, as text (null once erased or when nothing was sent). */
  method?: string;
  body?: string | null;
  /** Herald's: the endpoint changed after the attempt, so the rebuilt headers may differ from those sent. */
  endpointChanged?: boolean;
  transformedBody?: string | null;
}

/** Svix's MessageAttemptTriggerType. */
export const TRIGGER: Record<number, string> = { 0: 'Scheduled', 1: 'Manual' };

export interface Duration {
  secs: number;
  nanos: number;
}

export interface Source {
  id: string;
  uid: string | null;
  name: string;
  type: string;
  config: Record<string, unknown>;
  ingestUrl: string;
  metadata: Metadata;
  createdAt: string;
  updatedAt: string;
}

export interface SourceRequest {
  id: string;
  receivedAt: string;
  method: string | null;
  url: string | null;
  /** Null when the source's type verifies nothing. */
  verified: boolean | null;
  diagnosis: string | null;
  duplicateOf: string | null;
  eventType: string;
  eventId: string | null;
  size: number;
  payloadErased: boolean;
}

/** A header as request bins and sources show it: a masked one has no value until revealed. */
export interface ShownHeader {
  name: string;
  value: string | null;
  masked?: boolean;
}

export interface SourceRequestDetail extends SourceRequest {
  headers: ShownHeader[];
  body: string | null;
  bodyBase64: string | null;
}

export interface BinResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  delayMs: number;
}

export interface Bin {
  id: string;
  name: string | null;
  url: string;
  response: BinResponse;
  rules: Record<string, number>;
  createdAt: string;
  updatedAt: string;
  lastRequestAt: string | null;
}

export interface BinRequest {
  id: string;
  binId: string;
  method: string;
  path: string;
  query: string | null;
  headers: ShownHeader[];
  body: string | null;
  bodyBase64: string | null;
  size: number;
  ip: string | null;
  responseStatusCode: number | null;
  rule: string | null;
  createdAt: string;
}
