import { ID_PREFIX, smallestIdAt } from './ids.ts';
import { type FailureReason, Trigger } from './model.ts';

/*
 * Operational webhooks (Svix's): events about Herald's own state (endpoints created, changed,
 * disabled; deliveries failing, exhausted, recovered) sent to the operator's endpoints. They are
 * messages of one internal application, whose endpoints are the operational endpoints, so they
 * are stored, signed, retried and logged by the one pipeline (design invariant 5). This module
 * holds what is pure about them: the application's id, the event names, when a delivery's result
 * calls for one, and the payloads in Svix's shapes.
 */

/**
 * The internal application holding the operational endpoints and their messages. Its prefix is
 * its own, so the application routes, lists and token scopes never reach it (as `src_` keeps
 * sources apart), and the id is fixed, so every process on a database finds the same one.
 */
export const OPERATIONAL_APP_ID = smallestIdAt('operational', 0);

export const isOperationalApp = (appId: string) => appId.startsWith(`${ID_PREFIX.operational}_`);
export const isSourceApp = (appId: string) => appId.startsWith(`${ID_PREFIX.source}_`);

/** Every event type an operational endpoint may filter on (Svix's webhook names). */
export const OPERATIONAL_EVENT_TYPES = [
  'endpoint.created',
  'endpoint.updated',
  'endpoint.deleted',
  'endpoint.enabled',
  'endpoint.disabled',
  'message.attempt.failing',
  'message.attempt.exhausted',
  'message.attempt.recovered',
  'ingest.endpoint.disabled',
  'ingest.message.attempt.failing',
  'ingest.message.attempt.exhausted',
  'ingest.message.attempt.recovered',
] as const;
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];

/** Svix sends `message.attempt.failing` on a delivery's fourth failure. */
export const FAILING_AT_ATTEMPT = 4;

export type AttemptNotice = 'failing' | 'exhausted' | 'recovered';

/** What a delivery's result says about it, as far as operational events care. */
export interface AttemptOutcome {
  trigger: Trigger;
  attemptNumber: number;
  succeeded: boolean;
  /** The delivery fails for good with this result (no retry follows). */
  final: boolean;
  failureReason: FailureReason | null;
  /** A failing or exhausted event was already sent for this delivery. */
  alerted: boolean;
}

/**
 * The events a result calls for, and whether the delivery counts as alerted after it. Failing is
 * the fourth failure of a scheduled attempt, exhausted the last one (a 410 included); recovered is
 * a success, scheduled or manual, after either was sent, as Svix describes it. Deliveries that
 * failed without a request (their endpoint disabled, a secret this process cannot open) are what
 * Svix calls canceled: they raise nothing, or disabling an endpoint with a backlog would send one
 * event per queued message. A failed manual attempt (resend, recover) raises nothing either: it
 * is not a retry schedule running out.
 */
export function attemptNotices(outcome: AttemptOutcome): { notices: AttemptNotice[] | null; alerted: boolean } {
  if (outcome.succeeded) return { notices: outcome.alerted ? ['recovered'] : null, alerted: false };
  if (outcome.trigger !== Trigger.scheduled || outcome.failureReason === 'endpoint_disabled' || outcome.failureReason === 'secret_unavailable' || outcome.failureReason === 'transformation_canceled') {
    return { notices: null, alerted: outcome.alerted };
  }
  const notices: AttemptNotice[] = [];
  if (outcome.attemptNumber === FAILING_AT_ATTEMPT) notices.push('failing');
  if (outcome.final) notices.push('exhausted');
  return notices.length > 0 ? { notices, alerted: true } : { notices: null, alerted: outcome.alerted };
}

/** Whose endpoint an event is about: an application's, or a source's (Svix's ingest events). */
export interface EndpointRef {
  appId: string;
  appUid: string | null;
  endpointId: string;
  endpointUid: string | null;
}

export type EndpointEventKind = 'created' | 'updated' | 'deleted' | 'enabled' | 'disabled';

export interface DisabledDetail {
  trigger: 'automatic' | 'manual';
  /** Since when the endpoint had been failing (epoch ms); null when unknown or manual. */
  failSince: number | null;
}

export interface OperationalEvent {
  type: OperationalEventType;
  data: Record<string, unknown>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * An endpoint event in Svix's shape (`EndpointCreatedEvent`... `EndpointDisabledEvent`), or for a
 * source's endpoint its `ingest.` equivalent; null where Svix has none (a source's endpoint
 * created, updated, deleted or enabled).
 */
export function endpointEvent(kind: EndpointEventKind, ref: EndpointRef, disabled?: DisabledDetail): OperationalEvent | null {
  const detail = kind === 'disabled' ? { failSince: iso(disabled?.failSince ?? null), trigger: disabled?.trigger ?? 'manual' } : {};
  if (isSourceApp(ref.appId)) {
    if (kind !== 'disabled') return null;
    return { type: 'ingest.endpoint.disabled', data: { sourceId: ref.appId, endpointId: ref.endpointId, endpointUid: ref.endpointUid, ...detail } };
  }
  return { type: `endpoint.${kind}`, data: { appId: ref.appId, appUid: ref.appUid, endpointId: ref.endpointId, endpointUid: ref.endpointUid, ...detail } };
}

export interface AttemptRef {
  appId: string;
  appUid: string | null;
  msgId: string;
  msgEventId: string | null;
  endpointId: string;
  attempt: { id: string; responseStatusCode: number; createdAt: number };
}

/** `MessageAttemptFailingEvent` and its siblings (`ingest.` ones for a source's deliveries). */
export function attemptEvent(notice: AttemptNotice, ref: AttemptRef): OperationalEvent {
  const lastAttempt = { id: ref.attempt.id, responseStatusCode: ref.attempt.responseStatusCode, timestamp: iso(ref.attempt.createdAt) };
  const common = { msgId: ref.msgId, msgEventId: ref.msgEventId, endpointId: ref.endpointId, lastAttempt };
  return isSourceApp(ref.appId)
    ? { type: `ingest.message.attempt.${notice}`, data: { sourceId: ref.appId, ...common } }
    : { type: `message.attempt.${notice}`, data: { appId: ref.appId, appUid: ref.appUid, ...common } };
}
