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
export const ATTEMPT_STATUS: Record<number, string> = { 0: 'Succeeded', 1: 'Pending', 2: 'Failed', 3: 'Sending' };

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
