import { type Static, type TSchema, Type } from 'typebox';
import { MAX_RETRY_DELAY_MS } from '../core/durations.ts';
import { MAX_CHANNELS_PER_ENDPOINT, MAX_EVENT_TYPES_PER_ENDPOINT } from '../core/limits.ts';
import { MAX_ORDERING_KEY_LENGTH } from '../core/ordering.ts';

/**
 * Request shapes, after Svix's OpenAPI document (names, limits, patterns). Unknown fields are
 * ignored everywhere, as the Svix server does, so newer SDKs that send extra fields still work.
 */

const NAME_PATTERN = '^[a-zA-Z0-9\\-_.]+$';
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Uid = Type.String({ minLength: 1, maxLength: 256, pattern: NAME_PATTERN });
const Metadata = Type.Record(Type.String(), Type.String());
const EventTypeName = Type.String({ minLength: 1, maxLength: 256, pattern: NAME_PATTERN });
const Channel = Type.String({ minLength: 1, maxLength: 128, pattern: NAME_PATTERN });
const ThrottleRate = Type.Integer({ minimum: 1, maximum: 65535 });
const Secret = Type.String({ pattern: '^(whsec_|whsk_)?[a-zA-Z0-9+/=]{32,100}$' });
/** Herald's addition: which kind of secret to generate when none is given (ed25519 signs `v1a`). */
const KeyType = Type.Union([Type.Literal('hmac'), Type.Literal('ed25519')]);
const Url = Type.String({ minLength: 1, maxLength: 65536 });
const EventTypeList = Type.Array(EventTypeName, { minItems: 1, maxItems: MAX_EVENT_TYPES_PER_ENDPOINT, uniqueItems: true });
const ChannelList = (maxItems: number) => Type.Array(Channel, { minItems: 1, maxItems, uniqueItems: true });
const Headers = Type.Record(Type.String({ minLength: 1 }), Type.String());
const DateTime = Type.String({ format: 'date-time' });
/** Svix's `Duration`; a retry schedule waits at most 30 days between two attempts, and has at most 50 steps. */
const MAX_RETRY_DELAY_SECONDS = MAX_RETRY_DELAY_MS / 1000;
const Duration = Type.Object({
  secs: Type.Integer({ minimum: 0, maximum: MAX_RETRY_DELAY_SECONDS }),
  nanos: Type.Integer({ minimum: 0, maximum: 999_999_999 }),
});
const RetrySchedule = Type.Array(Duration, { maxItems: 50 });
/** Herald's payload filter: a MongoDB-style query, checked by core/payload-filter.ts (which names the failing part). */
const PayloadFilter = Type.Record(Type.String(), Type.Unknown());
export type RetrySchedule = Static<typeof RetrySchedule>;

export const AppPath = Type.Object({ appId: Type.String() });
export const EndpointPath = Type.Object({ appId: Type.String(), endpointId: Type.String() });
export const MessagePath = Type.Object({ appId: Type.String(), msgId: Type.String() });
export const EventTypePath = Type.Object({ eventTypeName: EventTypeName });

export const ApplicationIn = Type.Object({
  name: Type.String({ minLength: 1 }),
  uid: Type.Optional(Nullable(Uid)),
  metadata: Type.Optional(Metadata),
  throttleRate: Type.Optional(Nullable(ThrottleRate)),
});
export type ApplicationIn = Static<typeof ApplicationIn>;
export const ApplicationPatch = Type.Partial(ApplicationIn);
export type ApplicationPatch = Static<typeof ApplicationPatch>;

const SchemaValidationMode = Type.Union([Type.Literal('off'), Type.Literal('warn'), Type.Literal('enforce')]);
/** A key of an event type's `schemas`: "1", "2"… */
const SchemaVersion = Type.String({ minLength: 1, maxLength: 64 });
export const EventTypeIn = Type.Object({
  name: EventTypeName,
  description: Type.String(),
  schemas: Type.Optional(Nullable(Type.Record(Type.String(), Type.Object({})))),
  archived: Type.Optional(Type.Boolean()),
  deprecated: Type.Optional(Type.Boolean()),
  featureFlag: Type.Optional(Nullable(Uid)),
  /** Herald's extension: how payloads are checked against `schemas`; null follows HERALD_SCHEMA_VALIDATION. */
  schemaValidation: Type.Optional(Nullable(SchemaValidationMode)),
});
export type EventTypeIn = Static<typeof EventTypeIn>;
export const EventTypeUpdate = Type.Omit(EventTypeIn, ['name']);
export const RetryScheduleInOut = Type.Object({ retrySchedule: Type.Optional(Nullable(RetrySchedule)) });
export const EventTypePatch = Type.Partial(EventTypeUpdate);
export type EventTypePatch = Static<typeof EventTypePatch>;

const endpointFields = {
  url: Url,
  description: Type.Optional(Type.String()),
  uid: Type.Optional(Nullable(Uid)),
  disabled: Type.Optional(Type.Boolean()),
  eventTypes: Type.Optional(Nullable(EventTypeList)),
  /** What older Svix clients call `eventTypes`. */
  filterTypes: Type.Optional(Nullable(EventTypeList)),
  channels: Type.Optional(Nullable(ChannelList(MAX_CHANNELS_PER_ENDPOINT))),
  metadata: Type.Optional(Metadata),
  throttleRate: Type.Optional(Nullable(ThrottleRate)),
  /** Herald's extension: this endpoint's delays between attempts, over its event types' and the default. */
  retrySchedule: Type.Optional(Nullable(RetrySchedule)),
  /**
   * Herald's extension: a MongoDB-style query over `eventType`, `channels` and `payload`; a message
   * it does not match gets no delivery. Absent in a PUT keeps it (Svix's SDKs do not send it).
   */
  filter: Type.Optional(Nullable(PayloadFilter)),
};
export const EndpointIn = Type.Object({
  ...endpointFields,
  secret: Type.Optional(Nullable(Secret)),
  keyType: Type.Optional(KeyType),
  headers: Type.Optional(Nullable(Headers)),
});
export type EndpointIn = Static<typeof EndpointIn>;
export const EndpointUpdate = Type.Object(endpointFields);
/** In a patch, null clears a field: to its default for `description` and `metadata`, which are never null. */
export const EndpointPatch = Type.Partial(Type.Object({
  ...endpointFields,
  description: Nullable(Type.String()),
  metadata: Nullable(Metadata),
}));
export type EndpointPatch = Static<typeof EndpointPatch>;

export const EndpointSecretRotateIn = Type.Object({
  key: Type.Optional(Nullable(Secret)),
  keyType: Type.Optional(KeyType),
  gracePeriodSeconds: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 604_800 }))),
});
export const EndpointHeadersIn = Type.Object({ headers: Headers });

/** Svix's operational webhook endpoints: an endpoint's fields, filtered on the operational event types. */
const { url, description, uid, disabled, eventTypes, filterTypes, metadata, throttleRate } = endpointFields;
const operationalEndpointFields = { url, description, uid, disabled, eventTypes, filterTypes, metadata, throttleRate };
export const OperationalEndpointIn = Type.Object({ ...operationalEndpointFields, secret: Type.Optional(Nullable(Secret)), headers: Type.Optional(Nullable(Headers)) });
export type OperationalEndpointIn = Static<typeof OperationalEndpointIn>;
export const OperationalEndpointUpsertIn = Type.Object(operationalEndpointFields);
export const OperationalEndpointPath = Type.Object({ endpointId: Type.String() });
export const OperationalSecretRotateIn = Type.Object({
  key: Type.Optional(Nullable(Secret)),
  gracePeriodSeconds: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 604_800 }))),
});
export const EndpointHeadersPatchIn = Type.Object({ headers: Type.Record(Type.String({ minLength: 1 }), Nullable(Type.String())) });
/** Herald's extensions to the replays' bodies: count without queueing, and queue at most `pace` a second. */
const replayExtensions = {
  dryRun: Type.Optional(Type.Boolean()),
  pace: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 100_000 }))),
};
export const RecoverIn = Type.Object({ since: DateTime, until: Type.Optional(Nullable(DateTime)), ...replayExtensions });
export type RecoverIn = Static<typeof RecoverIn>;
export const BulkReplayIn = Type.Object({
  since: DateTime,
  until: Type.Optional(Nullable(DateTime)),
  eventTypes: Type.Optional(Nullable(Type.Array(EventTypeName, { uniqueItems: true }))),
  channel: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 128 }))),
  /** Svix's `MessageStatus` of the endpoint's delivery: 0 success, 2 fail (1 and 3 are under way, never replayed). */
  status: Type.Optional(Nullable(Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2), Type.Literal(3)]))),
  /** Svix's; declared so that a client setting them is told Herald does not filter by them (bulk-replay's route), not ignored. */
  tag: Type.Optional(Nullable(Type.String({ maxLength: 128, pattern: '^[a-zA-Z0-9\\-_./\\\\#]+$' }))),
  statusCodeClass: Type.Optional(Nullable(Type.Union([0, 100, 200, 300, 400, 500].map((code) => Type.Literal(code))))),
  ...replayExtensions,
});
export type BulkReplayIn = Static<typeof BulkReplayIn>;
const TaskStatus = Type.Union([Type.Literal('running'), Type.Literal('finished'), Type.Literal('failed')]);
const TaskKind = Type.Union(['endpoint.replay', 'endpoint.recover', 'application.stats', 'message.broadcast', 'sdk.generate',
  'event-type.aggregate', 'application.purge_content', 'endpoint.bulk-replay'].map((kind) => Type.Literal(kind)));
export const TaskPath = Type.Object({ taskId: Type.String() });
export const EventExampleIn = Type.Object({ eventType: EventTypeName });

export const MessageIn = Type.Object({
  eventType: EventTypeName,
  payload: Type.Object({}),
  eventId: Type.Optional(Nullable(Uid)),
  channels: Type.Optional(Nullable(ChannelList(5))),
  application: Type.Optional(Nullable(ApplicationIn)),
  payloadRetentionPeriod: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 90 }))),
  payloadRetentionHours: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 90 * 24 }))),
  /** Herald's extension: the version of the event type's schema the payload follows; absent or null, the newest. */
  schemaVersion: Type.Optional(Nullable(SchemaVersion)),
  /** Herald's extension: deliveries of one key to one endpoint go one at a time, in publish order. */
  orderingKey: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: MAX_ORDERING_KEY_LENGTH }))),
});
export type MessageIn = Static<typeof MessageIn>;
/** Svix's `EventTypeImportOpenApiIn`: the document as JSON (`spec`) or as JSON or YAML text (`specRaw`). */
export const EventTypeImportOpenApiIn = Type.Object({
  dryRun: Type.Optional(Type.Boolean()),
  replaceAll: Type.Optional(Type.Boolean()),
  spec: Type.Optional(Nullable(Type.Object({}))),
  specRaw: Type.Optional(Nullable(Type.String())),
});
export type EventTypeImportOpenApiIn = Static<typeof EventTypeImportOpenApiIn>;
export const EventTypeExportQuery = Type.Object({ include_archived: Type.Optional(Type.Boolean()) });
/** Herald's extension: a payload checked against an event type's schema without publishing it. */
export const PayloadValidateIn = Type.Object({
  payload: Type.Object({}),
  schemaVersion: Type.Optional(Nullable(SchemaVersion)),
});

/** Query parameters. Lists accept `a,b` (what the SDKs send) and repeated parameters alike. */
const MAX_LIMIT = 250;
const StringList = Type.Array(Type.String());
export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
  iterator: Type.Optional(Type.String()),
  order: Type.Optional(Type.Union([Type.Literal('ascending'), Type.Literal('descending')])),
});
export type ListQuery = Static<typeof ListQuery>;
const filterFields = {
  event_types: Type.Optional(StringList),
  channel: Type.Optional(Type.String()),
  before: Type.Optional(DateTime),
  after: Type.Optional(DateTime),
  with_content: Type.Optional(Type.Boolean()),
};
export const EventTypeListQuery = Type.Object({ ...ListQuery.properties, include_archived: Type.Optional(Type.Boolean()), with_content: Type.Optional(Type.Boolean()) });
/** `status` (Herald's addition) is the message's, from its deliveries: see MessageListFilter. */
export const MessageListQuery = Type.Object({ ...ListQuery.properties, ...filterFields, status: Type.Optional(Type.Integer({ minimum: 0, maximum: 4 })) });
export type MessageListQuery = Static<typeof MessageListQuery>;
export const TaskListQuery = Type.Object({ ...ListQuery.properties, status: Type.Optional(TaskStatus), task: Type.Optional(TaskKind) });
/** Svix's `MessageStatus`: 4 is Canceled (cancel-msgs), shown only with `expanded_statuses`. */
const Status = Type.Integer({ minimum: 0, maximum: 4 });
export const AttemptListQuery = Type.Object({
  ...ListQuery.properties,
  ...filterFields,
  status: Type.Optional(Status),
  status_code_class: Type.Optional(Type.Union([0, 100, 200, 300, 400, 500].map((value) => Type.Literal(value)))),
  endpoint_id: Type.Optional(Type.String()),
  with_msg: Type.Optional(Type.Boolean()),
  with_content: Type.Optional(Type.Boolean()),
  // An attempt a transformation canceled shows as canceled (4) with it, else as success (0).
  expanded_statuses: Type.Optional(Type.Boolean()),
});
export type AttemptListQuery = Static<typeof AttemptListQuery>;
export const AttemptedMessagesQuery = Type.Object({ ...ListQuery.properties, ...filterFields, status: Type.Optional(Status), expanded_statuses: Type.Optional(Type.Boolean()) });
export const DestinationsQuery = Type.Object({ ...ListQuery.properties, expanded_statuses: Type.Optional(Type.Boolean()) });
export const CancelMsgsIn = Type.Object({ createdBefore: DateTime });
export type AttemptedMessagesQuery = Static<typeof AttemptedMessagesQuery>;
export const StatsQuery = Type.Object({ since: Type.Optional(DateTime), until: Type.Optional(DateTime) });
/** Herald's addition to Svix's endpoint list: `with_stats` adds each endpoint's last 24 hours of attempts. */
export const EndpointListQuery = Type.Object({ ...ListQuery.properties, with_stats: Type.Optional(Type.Boolean()) });
/** Svix's `StatisticsPeriod`. */
export const StatisticsPeriod = Type.Union([Type.Literal('FiveMinutes'), Type.Literal('OneHour'), Type.Literal('OneDay')]);
export type StatisticsPeriod = Static<typeof StatisticsPeriod>;
/** Svix's attempt statistics query, and Herald's `endpoint_id` (an endpoint's id or uid). */
export const AttemptStatsQuery = Type.Object({
  startDate: Type.Optional(DateTime),
  endDate: Type.Optional(DateTime),
  period: Type.Optional(StatisticsPeriod),
  endpoint_id: Type.Optional(Type.String({ minLength: 1 })),
  event_types: Type.Optional(StringList),
});
export const WithContentQuery = Type.Object({ with_content: Type.Optional(Type.Boolean()) });
/** `search` and `with_stats` are Herald's additions, for the dashboard. */
export const AppListQuery = Type.Object({
  ...ListQuery.properties,
  search: Type.Optional(Type.String({ maxLength: 256 })),
  with_stats: Type.Optional(Type.Boolean()),
});
export const CreateAppQuery = Type.Object({ get_if_exists: Type.Optional(Type.Boolean()) });
export const DeleteEventTypeQuery = Type.Object({ expunge: Type.Optional(Type.Boolean()) });
