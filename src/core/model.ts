/*
 * Terminology (the words every module uses, in the sense given here):
 * - application: one tenant of the sending service, usually one of its customers.
 * - endpoint: a URL an application registered, with its event-type and channel filters,
 *   signing secrets and custom headers.
 * - event type: a named kind of event (`invoice.paid`); endpoints filter on it.
 * - message: one event posted once; its payload is stored once, as the bytes that are sent.
 * - delivery: the queue row for one message to one endpoint: its state, when it is next due,
 *   who holds its lease and how many attempts it has used. There is no other queue.
 * - attempt: one HTTP request made for a delivery, appended and never overwritten.
 * - token: a credential for the API, kept only as a digest; admin, or limited to one application.
 * Times are epoch milliseconds; the API turns them into ISO strings.
 */

import type { SchemaCheck, SchemaValidation } from './payload-schemas.ts';

export interface Application {
  id: string;
  uid: string | null;
  name: string;
  metadata: Record<string, string>;
  throttleRate: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface EventType {
  name: string;
  description: string;
  schemas: Record<string, unknown> | null;
  archived: boolean;
  deprecated: boolean;
  featureFlag: string | null;
  /** Delays between attempts (ms) for this type's deliveries; null to use the endpoint's or the default. */
  retrySchedule?: number[] | null;
  /** How payloads are checked against `schemas` (Herald's extension); absent or null follows HERALD_SCHEMA_VALIDATION. */
  schemaValidation?: SchemaValidation | null;
  createdAt: number;
  updatedAt: number;
}

export interface EndpointSecret {
  /** `whsec_` + base64 of the key bytes. */
  key: string;
  /** When a rotated-out secret stops signing; null for the current secret. */
  expiresAt: number | null;
}

export type DisabledReason = 'manual' | 'gone' | 'failing';

export interface Endpoint {
  id: string;
  appId: string;
  uid: string | null;
  url: string;
  description: string;
  eventTypes: string[] | null;
  channels: string[] | null;
  disabled: boolean;
  /** Why it was disabled (Herald's extension): `manual`, `gone` (the receiver answered 410) or `failing` (auto-disable). */
  disabledReason?: DisabledReason | null;
  disabledAt?: number | null;
  metadata: Record<string, string>;
  throttleRate: number | null;
  /** Delays between attempts (ms) for deliveries to this endpoint (Herald's extension); null for the event type's or the default. */
  retrySchedule?: number[] | null;
  /**
   * Herald's payload filter: a MongoDB-style query over the message (core/payload-filter.ts),
   * checked at fan-out; a message it does not match gets no delivery to this endpoint. null: all.
   */
  filter?: Record<string, unknown> | null;
  /** Custom headers sent with every delivery. */
  headers: Record<string, string>;
  /** The current secret first, then rotated-out secrets still inside their grace period. */
  secrets: EndpointSecret[];
  createdAt: number;
  updatedAt: number;
  /**
   * Set on a listen session's endpoint (`herald listen`): its deliveries are not sent but wait
   * for the session's consumer to pull them through the API. `dropped` counts those the session's
   * bounds (count and age) dropped unread; `listener`, the consumer that opened it last, when it
   * said who it is.
   */
  listen?: { name: string; dropped: number; listener?: string };
  /**
   * Set on a polling endpoint (Svix's `pollingEndpoint` destination): nothing is sent to it; its
   * consumers read its messages through the API, each from its own committed offset.
   */
  polling?: true;
  /** Svix's endpoint transformation: code run on each delivery before it is sent; absent until set. */
  transformation?: EndpointTransformation;
  /**
   * Set (saying why) on an endpoint read for delivery or listing whose secrets or header values
   * could not be opened, having been sealed under another encryption key: `secrets` and `headers`
   * are then empty, and its deliveries fail with `secret_unavailable` instead of being sent.
   */
  unavailable?: string;
}

/**
 * An endpoint's transformation (Svix's `EndpointTransformationOut`): JavaScript defining
 * `function handler(webhook)`, run in a sandbox on each delivery while `enabled`. Kept in plain
 * text: it is configuration the portal shows back, not a secret.
 */
export interface EndpointTransformation {
  code: string | null;
  enabled: boolean;
  updatedAt: number | null;
}

export interface Message {
  id: string;
  appId: string;
  eventType: string;
  eventId: string | null;
  channels: string[] | null;
  /** The payload exactly as it is sent: JSON for published messages, the received body for inbound ones. */
  payload: Uint8Array;
  /** For a request received by a source: the rest of it, and what verification found. */
  inbound?: InboundEnvelope | null;
  /** When the payload is erased (`payloadRetentionPeriod`); null when the message goes first. */
  payloadExpiresAt?: number | null;
  /**
   * When the payload was erased (it expired, or was deleted through the API); null while it is
   * kept. An erased payload is zero bytes, and the message is never sent again.
   */
  payloadErasedAt?: number | null;
  /** What the schema check found wrong with a payload accepted under `warn` (Herald's extension); absent when nothing. */
  schemaViolations?: SchemaCheck | null;
  /** Herald's extension: deliveries of one key to one endpoint go one at a time, in order (core/ordering.ts). */
  orderingKey?: string | null;
  createdAt: number;
}

/** What Herald keeps of a request a provider sent to a source, besides its body. */
export interface InboundEnvelope {
  method: string;
  /** The URL as the provider called it, query included. */
  url: string;
  /** The provider's headers, names in lower case. */
  headers: Record<string, string>;
  /**
   * The headers whose values carry the source's secret (GitLab's token, or a header holding the
   * secret itself): sealed at rest like endpoint secrets, opened only to be forwarded, and left out
   * when the API shows the request.
   */
  secretHeaders?: string[];
  /** Whether the provider's signature checked out; null when the source verifies nothing. */
  verified: boolean | null;
  /** Why verification failed, in words meant for the person fixing it. */
  diagnosis: string | null;
  /** The first message with the same provider event id, when this one is a duplicate. */
  duplicateOf: string | null;
}

/** A source: an application that receives webhooks from a provider and forwards them. */
export interface Source {
  /** Also the id of the application that holds its endpoints, messages and deliveries. */
  id: string;
  uid: string | null;
  name: string;
  type: string;
  /** The provider's settings: its signing secret, and for `hmac` the scheme. */
  config: Record<string, unknown>;
  metadata: Record<string, string>;
  /** The secret last segment of the source's URL. */
  token: string;
  createdAt: number;
  updatedAt: number;
}

/** The application behind a source, which holds the source's endpoints, messages and attempts. */
export function applicationOf(source: Source): Application {
  return { id: source.id, uid: source.uid, name: source.name, metadata: source.metadata, throttleRate: null, createdAt: source.createdAt, updatedAt: source.updatedAt };
}

/**
 * Svix's `MessageStatus` numbers, used for deliveries and attempts alike. `canceled` (4) is a
 * delivery's that cancel-msgs ended (no attempt made) or an endpoint's transformation canceled,
 * and that attempt's; as in Svix, the API shows it as success (0) unless the caller asks for
 * `expanded_statuses`.
 */
export const Status = { success: 0, pending: 1, fail: 2, sending: 3, canceled: 4 } as const;
export type Status = (typeof Status)[keyof typeof Status];
export const STATUS_TEXT = ['success', 'pending', 'fail', 'sending', 'canceled'] as const;

/** Svix's `MessageAttemptTriggerType`. */
export const Trigger = { scheduled: 0, manual: 1 } as const;
export type Trigger = (typeof Trigger)[keyof typeof Trigger];

export interface Delivery {
  messageId: string;
  endpointId: string;
  status: Status;
  /**
   * Attempts used since the delivery was created or last resent; a manual attempt made while it
   * was still on its retry schedule, and failed, uses none.
   */
  attemptCount: number;
  /**
   * When a pending delivery is next due (its retry schedule's time, or later where flow control
   * defers it); null once it succeeded or failed.
   */
  nextAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * Why an attempt failed without an HTTP response. Stable codes: the API and the dashboard show
 * them, and docs/errors.md lists them.
 */
export const FAILURE_REASONS = [
  'timeout',
  'connection_refused',
  'connection_reset',
  'dns',
  'blocked_address',
  'tls',
  'endpoint_disabled',
  'secret_unavailable',
  'network',
  // The endpoint's transformation threw, ran out of time or memory, or returned what Herald will
  // not send (the attempt's response says which); nothing was sent.
  'transformation_failed',
  // The endpoint's transformation set `cancel`: nothing was sent, and the delivery ends canceled.
  'transformation_canceled',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Reasons an attempt ended before any request was made: it has no headers, and says nothing about the receiver. */
export const sentNothing = (reason: FailureReason | null): boolean =>
  reason === 'endpoint_disabled' || reason === 'secret_unavailable' || reason === 'transformation_failed' || reason === 'transformation_canceled';

/** What an attempt's response body reads once it is erased (Svix's word). */
export const ERASED_RESPONSE = 'EXPUNGED';

export interface Attempt {
  id: string;
  messageId: string;
  endpointId: string;
  appId: string;
  url: string;
  /** Canceled when the endpoint's transformation canceled the delivery: nothing was sent. */
  status: typeof Status.success | typeof Status.fail | typeof Status.canceled;
  /** 0 when no response arrived. */
  responseStatusCode: number;
  /** The first 64 KiB of the response body, or a description of the failure. */
  response: string;
  responseDurationMs: number;
  trigger: Trigger;
  failureReason: FailureReason | null;
  /** 1-based, counted from the delivery's creation or last resend. */
  attemptNumber: number;
  createdAt: number;
  /** The request an endpoint's transformation made, absent when there was none. */
  transformed?: TransformedRequest;
}

/**
 * What a transformation made of a request: kept with the attempt, because unlike an ordinary
 * request it cannot be rebuilt from the message and the endpoint (the code may have changed
 * since, or not be deterministic). The headers are the code's, before Herald's own; the body is
 * the bytes sent, and null once the message's payload is erased.
 */
export interface TransformedRequest {
  method: string;
  headers: Record<string, string>;
  /** Null for a request without a body (a GET). */
  contentType: string | null;
  body: Uint8Array | null;
}

/**
 * What an application's (portal) token may do: Svix's `AppPortalCapability`. Every token has
 * ViewBase (reading); the others open the routes that change things or show secrets.
 */
export const APP_PORTAL_CAPABILITIES = ['ViewBase', 'ViewEndpointSecret', 'ManageEndpointSecret', 'ManageTransformations', 'CreateAttempts', 'ManageEndpoint'] as const;
export type AppPortalCapability = (typeof APP_PORTAL_CAPABILITIES)[number];

export interface ApiToken {
  id: string;
  /** SHA-256 of the token, hex. */
  digest: string;
  /** Null for an admin token; otherwise the one application the token may touch. */
  appId: string | null;
  /** What an application's token may do, as it was issued; null for an admin token. */
  capabilities: AppPortalCapability[] | null;
  createdAt: number;
  expiresAt: number | null;
}
