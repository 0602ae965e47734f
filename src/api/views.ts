import { isUtf8 } from 'node:buffer';
import type { Bin, BinRequest } from '../core/bins.ts';
import { nestsDeeperThan } from '../core/json-depth.ts';
import { Status, STATUS_TEXT, type Application, type Attempt, type Delivery, type Endpoint, type EventType, type InboundEnvelope, type Message } from '../core/model.ts';
import type { ApplicationStats, Page } from '../store/store.ts';
import { effectiveRate, type FlowState, NEUTRAL_FLOW } from '../core/flow-control.ts';
import type { PagePlan } from './pagination.ts';
import { violationItem } from './payload-check.ts';
import { RawJson } from './raw-json.ts';
import { type SchemaCheck, versionsNewestFirst } from '../core/payload-schemas.ts';
import { exampleFor } from '../core/schema-example.ts';

/** The Svix `*Out` shapes: what the SDKs parse. Herald-only fields are additions, never changes. */

let lastIso = { ms: Number.NaN, text: '' };
/** RFC 3339 in UTC. Remembers its last answer: messages accepted together share their millisecond. */
export function iso(ms: number): string {
  if (ms !== lastIso.ms) lastIso = { ms, text: new Date(ms).toISOString() };
  return lastIso.text;
}
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function applicationOut(app: Application) {
  return {
    id: app.id,
    uid: app.uid,
    name: app.name,
    metadata: app.metadata,
    throttleRate: app.throttleRate,
    createdAt: iso(app.createdAt),
    updatedAt: iso(app.updatedAt),
  };
}

/** Herald's addition to a listed application; an application deleted since its page was read counts nothing. */
export function applicationWithStatsOut(app: Application, stats: ApplicationStats | undefined) {
  return { ...applicationOut(app), endpointCount: stats?.endpointCount ?? 0, lastMessageAt: isoOrNull(stats?.lastMessageAt ?? null) };
}

/**
 * Herald's extension to the catalogue: an example payload per schema version, the schema's own
 * example or one made from it; null when the event type has no schemas.
 */
function examplesOf(schemas: EventType['schemas']): Record<string, unknown> | null {
  if (!schemas || Object.keys(schemas).length === 0) return null;
  return Object.fromEntries(versionsNewestFirst(schemas).map((version) => [version, exampleFor(schemas[version])]));
}

export function eventTypeOut(eventType: EventType, withContent = true) {
  return {
    name: eventType.name,
    description: eventType.description,
    archived: eventType.archived,
    deprecated: eventType.deprecated,
    featureFlag: eventType.featureFlag,
    schemas: withContent ? eventType.schemas : null,
    schemaValidation: eventType.schemaValidation ?? null,
    examples: withContent ? examplesOf(eventType.schemas) : null,
    createdAt: iso(eventType.createdAt),
    updatedAt: iso(eventType.updatedAt),
  };
}

/**
 * Herald's additions to an endpoint's stats: the circuit, the rate deliveries go at and why it is
 * lower than configured, the failure run, and why the endpoint is disabled.
 */
export function flowStatsOut(endpoint: Endpoint, flow: FlowState | null, now: number) {
  const state = flow ?? NEUTRAL_FLOW;
  const circuit = state.circuitOpenedAt === null ? 'closed' : 'open';
  const paused = state.pausedUntil !== null && state.pausedUntil > now;
  return {
    circuit,
    circuitOpenedAt: isoOrNull(state.circuitOpenedAt),
    nextProbeAt: isoOrNull(state.probeAt),
    throttleRate: endpoint.throttleRate,
    effectiveRate: effectiveRate(endpoint.throttleRate, state),
    rateReason: paused ? 'retry_after' : state.rateReason,
    pausedUntil: paused ? iso(state.pausedUntil!) : null,
    consecutiveFailures: state.consecutiveFailures,
    failingSince: isoOrNull(state.failingSince),
    disabledReason: endpoint.disabledReason ?? null,
    disabledAt: isoOrNull(endpoint.disabledAt ?? null),
  };
}

/**
 * Svix's `EndpointThrottleRateStatusOut` (`status`, `throttledSince`): RateLimited while the rate
 * limit is "impacting delivery", as Svix puts it: while anything holds the endpoint below what it
 * may take (a lowered rate, a pause, an open circuit), or while the configured rate, the
 * endpoint's or its application's, holds deliveries back (`heldBackSince`: some are deferred and
 * waiting, from `FlowStore.heldBackSince`). A configured rate that nothing exceeds limits nothing:
 * Ok. Herald adds the configured limits and the state behind the answer.
 */
export function rateLimitStatusOut(endpoint: Endpoint, app: Application, flow: FlowState | null, heldBackSince: number | null, now: number) {
  const state = flow ?? NEUTRAL_FLOW;
  const adapted = state.rate !== null || (state.pausedUntil !== null && state.pausedUntil > now) || state.circuitOpenedAt !== null;
  const limited = adapted || heldBackSince !== null;
  const since = [adapted ? state.throttledSince ?? state.circuitOpenedAt : null, heldBackSince].filter((at) => at !== null);
  return {
    status: limited ? 'RateLimited' : 'Ok',
    throttledSince: since.length > 0 ? iso(Math.min(...since)) : null,
    applicationThrottleRate: app.throttleRate,
    ...flowStatsOut(endpoint, flow, now),
  };
}

export function endpointOut(endpoint: Endpoint) {
  return {
    id: endpoint.id,
    uid: endpoint.uid,
    url: endpoint.url,
    description: endpoint.description,
    eventTypes: endpoint.eventTypes,
    filterTypes: endpoint.eventTypes,
    channels: endpoint.channels,
    disabled: endpoint.disabled,
    metadata: endpoint.metadata,
    throttleRate: endpoint.throttleRate,
    retrySchedule: durationsOut(endpoint.retrySchedule ?? null),
    filter: endpoint.filter ?? null,
    disabledReason: endpoint.disabledReason ?? null,
    disabledAt: isoOrNull(endpoint.disabledAt ?? null),
    createdAt: iso(endpoint.createdAt),
    updatedAt: iso(endpoint.updatedAt),
  };
}

/**
 * The payload is written as its bytes (RawJson), never parsed and written again, so a client reads
 * back what was published. A received
 * request's body need not be JSON: then the payload is its text, and `inbound` (Herald's addition)
 * tells how it came and what verification found. An erased payload reads `{"expired": true}`, as
 * in Svix.
 */
export function messageOut(message: Message, withContent = true) {
  return {
    id: message.id,
    eventType: message.eventType,
    eventId: message.eventId,
    channels: message.channels,
    payload: withContent ? decodePayload(message) : {},
    timestamp: iso(message.createdAt),
    ...(message.inbound ? { inbound: inboundOut(message.inbound) } : {}),
    ...(message.schemaViolations ? schemaViolationsOut(message.schemaViolations) : {}),
    ...(message.orderingKey ? { orderingKey: message.orderingKey } : {}),
  };
}

/**
 * Herald's extension: what the schema check found wrong with a payload accepted under `warn`, in
 * the shape `enforce` would have refused it with (its `loc` inside the message, not the request),
 * and the schema version it was checked against.
 */
function schemaViolationsOut(check: SchemaCheck) {
  return { schemaVersion: check.version, schemaViolations: check.violations.map((violation) => violationItem(['payload'], violation)) };
}

/** A received request as shown: the headers that carry the source's secret are named, not shown. */
function inboundOut(inbound: InboundEnvelope) {
  const { secretHeaders = [], ...shown } = inbound;
  if (secretHeaders.length === 0) return { ...shown, secretHeaders };
  return { ...shown, headers: Object.fromEntries(Object.entries(inbound.headers).filter(([name]) => !secretHeaders.includes(name))), secretHeaders };
}

function decodePayload(message: Message): unknown {
  if (message.payloadErasedAt != null) return { expired: true };
  const text = Buffer.from(message.payload).toString('utf8');
  // Published payloads were parsed as JSON objects on the way in.
  if (!message.inbound) return new RawJson(text);
  // A received body is anyone's bytes: too deep for a client to read back as JSON, it is shown as text.
  if (nestsDeeperThan(message.payload)) return text;
  try {
    JSON.parse(text);
    return new RawJson(text);
  } catch {
    return text;
  }
}

/**
 * A delivery's or an attempt's status. A canceled one (4) shows as success (0) unless `expanded`
 * (Svix's `expanded_statuses`), as Svix keeps its older clients, which know 0 to 3, working.
 */
function shownStatus(stored: Status, expanded: boolean) {
  const status = stored === Status.canceled && !expanded ? Status.success : stored;
  return { status, statusText: STATUS_TEXT[status] };
}

function deliveryStatus(delivery: Delivery, expanded: boolean) {
  return { ...shownStatus(delivery.status, expanded), nextAttempt: isoOrNull(delivery.nextAttemptAt) };
}

export function messageEndpointOut(delivery: Delivery, endpoint: Endpoint, expanded = false) {
  return { ...endpointOut(endpoint), ...deliveryStatus(delivery, expanded) };
}

export function endpointMessageOut(delivery: Delivery, message: Message, withContent: boolean, expanded = false) {
  return { ...messageOut(message, withContent), ...deliveryStatus(delivery, expanded) };
}

export function attemptOut(attempt: Attempt, { withContent = true, expanded = false, message }: { withContent?: boolean; expanded?: boolean; message?: Message } = {}) {
  return {
    id: attempt.id,
    msgId: attempt.messageId,
    endpointId: attempt.endpointId,
    url: attempt.url,
    ...shownStatus(attempt.status, expanded),
    triggerType: attempt.trigger,
    response: withContent ? attempt.response : '',
    responseStatusCode: attempt.responseStatusCode,
    responseDurationMs: attempt.responseDurationMs,
    timestamp: iso(attempt.createdAt),
    attemptNumber: attempt.attemptNumber,
    failureReason: attempt.failureReason,
    ...(message ? { msg: messageOut(message) } : {}),
  };
}

/** A request bin; `url` is where to send requests, and holds the bin's secret token. */
export function binOut(bin: Bin, url: string) {
  return {
    id: bin.id,
    name: bin.name,
    url,
    response: bin.response,
    rules: bin.rules,
    createdAt: iso(bin.createdAt),
    updatedAt: iso(bin.updatedAt),
    lastRequestAt: isoOrNull(bin.lastRequestAt),
  };
}

/**
 * A captured request. Headers are listed in the order they came, as `{name, value}`; a
 * secret-looking one (see `isSecretLookingHeader`) reads `{name, value: null, masked: true}` unless
 * `reveal`, and so does one sealed under another encryption key, which cannot be shown at all. The
 * body is text when it is valid UTF-8 (else null) and base64 always; without content, both are null.
 */
export function binRequestOut(request: BinRequest, { reveal = false, withContent = true }: { reveal?: boolean; withContent?: boolean } = {}) {
  const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  return {
    id: request.id,
    binId: request.binId,
    method: request.method,
    path: request.path,
    query: request.query,
    headers: request.headers.map(([name, value], i) =>
      request.secretHeaders.includes(i) && (!reveal || request.unopenedHeaders?.includes(i)) ? { name, value: null, masked: true } : { name, value }),
    body: withContent && isUtf8(body) ? body.toString('utf8') : null,
    bodyBase64: withContent ? body.toString('base64') : null,
    size: request.size,
    ip: request.ip,
    responseStatusCode: request.responseStatus,
    rule: request.rule,
    createdAt: iso(request.createdAt),
  };
}

/**
 * Svix's `ListResponse*`: `iterator` continues forward from the page's last item, `prevIterator`
 * goes back from its first, and `done` says, as in Svix, that the walk in the direction asked for
 * reached its end. An empty page keeps the cursor it was asked with, so polling for new items
 * goes on from it; an empty page before the first has nothing to go back to, and goes forward
 * from the start.
 */
export function listOut<T, Out>(page: Page<T>, plan: PagePlan, key: (item: T) => string, toOut: (item: T) => Out) {
  const items = plan.backwards ? [...page.items].reverse() : page.items;
  const first = items[0];
  const last = items.at(-1);
  return {
    data: items.map(toOut),
    iterator: last ? key(last) : plan.backwards ? null : plan.page.after,
    prevIterator: first ? `-${key(first)}` : null,
    done: page.done,
  };
}

/** Delays in milliseconds as Svix's `Duration`s. */
export function durationsOut(delaysMs: readonly number[] | null): Array<{ secs: number; nanos: number }> | null {
  return delaysMs?.map((ms) => ({ secs: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 })) ?? null;
}

/** Svix's `Duration`s as delays in milliseconds (nanoseconds below a millisecond are dropped). */
export function durationsIn(durations: ReadonlyArray<{ secs: number; nanos: number }> | null | undefined): number[] | null | undefined {
  if (durations === null || durations === undefined) return durations;
  return durations.map(({ secs, nanos }) => secs * 1000 + Math.floor(nanos / 1_000_000));
}
