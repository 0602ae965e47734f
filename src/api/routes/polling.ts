import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { smallestIdAt } from '../../core/ids.ts';
import { MAX_ENDPOINTS_PER_APPLICATION } from '../../core/limits.ts';
import type { Application, Endpoint } from '../../core/model.ts';
import { StoreError } from '../../store/errors.ts';
import type { PolledMessage } from '../../store/store.ts';
import { type ApiContext, APP_SCOPE } from '../context.ts';
import { invalid, notFound, orConflict } from '../errors.ts';
import { DEFAULT_LIMIT, listParam, planPage, timeParam } from '../pagination.ts';
import { checkUid } from '../uids.ts';
import { iso, listOut, messageOut } from '../views.ts';

const NAME_PATTERN = '^[a-zA-Z0-9\\-_.]+$';
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const EventTypeName = Type.String({ minLength: 1, maxLength: 256, pattern: NAME_PATTERN });
const Channel = Type.String({ minLength: 1, maxLength: 128, pattern: NAME_PATTERN });
const Limit = Type.Integer({ minimum: 1, maximum: 250 });
const DateTime = Type.String({ format: 'date-time' });
const StringList = Type.Array(Type.String());

/** Svix's `DestinationIn`, of which Herald has the one type that is not a push: `pollingEndpoint`. */
const DestinationIn = Type.Object({
  type: Type.String(),
  config: Type.Optional(Nullable(Type.Object({}))),
  uid: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 60, pattern: '^(?!sink_)[a-zA-Z0-9_-]+$' }))),
  status: Type.Optional(Type.Union([Type.Literal('enabled'), Type.Literal('disabled')])),
  batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  maxWaitSecs: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
  eventTypes: Type.Optional(Nullable(Type.Array(EventTypeName, { maxItems: 100, uniqueItems: true }))),
  channels: Type.Optional(Nullable(Type.Array(Channel, { maxItems: 10, uniqueItems: true }))),
  metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
});
const AppPath = Type.Object({ appId: Type.String() });
const DestinationPath = Type.Object({ appId: Type.String(), destinationId: Type.String() });
const SinkPath = Type.Object({ appId: Type.String(), sinkId: Type.String() });
const ConsumerPath = Type.Object({
  appId: Type.String(),
  sinkId: Type.String(),
  consumerId: Type.String({ minLength: 1, maxLength: 256, pattern: NAME_PATTERN }),
});
const ListQuery = Type.Object({
  limit: Type.Optional(Limit),
  iterator: Type.Optional(Type.String()),
  order: Type.Optional(Type.Union([Type.Literal('ascending'), Type.Literal('descending')])),
});
/** Svix's Pollerv2 Consumer Poll. */
const PollQuery = Type.Object({
  limit: Type.Optional(Limit),
  /** How long what is handed out stays the consumer's before a poll hands it out again (0: not at all). */
  lease_duration_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
  starting_position: Type.Optional(Type.Union([Type.Literal('earliest'), Type.Literal('latest')])),
});
const CommitIn = Type.Object({ offset: Type.Integer({ minimum: 0 }) });
/** Svix's Poller Poll (`svix.message.poller.poll`). */
const PollerQuery = Type.Object({
  limit: Type.Optional(Limit),
  iterator: Type.Optional(Type.String()),
  event_type: Type.Optional(EventTypeName),
  channel: Type.Optional(Channel),
  after: Type.Optional(DateTime),
});
const ConsumerPollQuery = Type.Object({ limit: Type.Optional(Limit), iterator: Type.Optional(Type.String()) });
const SeekIn = Type.Object({ after: DateTime });
/** Svix's Message Events. */
const EventsQuery = Type.Object({
  limit: Type.Optional(Limit),
  iterator: Type.Optional(Type.String()),
  event_types: Type.Optional(StringList),
  channels: Type.Optional(StringList),
  after: Type.Optional(DateTime),
});

const DEFAULT_LEASE_MS = 30_000;
const OFFSET = /^[0-9]{1,15}$/;

/**
 * Polling, for consumers Herald cannot reach (behind a firewall) and for reconciliation, in
 * Svix's shapes. A polling endpoint ("sink", Svix's `pollingEndpoint` destination) is an endpoint
 * of the application that nothing is sent to: fan-out gives it a delivery for every message its
 * filters take, stored done, whose id is the message's offset in the endpoint's log. Consumers
 * read the log from their own committed offsets (Pollerv2: leased polls and commits; Poller: a
 * server-kept iterator). `GET …/events` is the application's whole message feed after a cursor.
 */
export function pollingRoutes(server: FastifyInstance, ctx: ApiContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const scope = APP_SCOPE;

  const findSink = async (appId: string, sinkId: string) => {
    const application = await scope.find(ctx, appId);
    const endpoint = await ctx.store.endpoints.get(application.id, sinkId);
    if (!endpoint?.polling) throw notFound('Polling endpoint');
    return { application, endpoint };
  };
  const destinationOut = async (endpoint: Endpoint) => ({
    id: endpoint.id,
    uid: endpoint.uid,
    type: 'pollingEndpoint' as const,
    config: {},
    status: endpoint.disabled ? 'disabled' : 'enabled',
    /** The offset of the endpoint's last message: a consumer seeking here reads only newer ones. */
    currentIterator: String(await ctx.store.polling.offsetAt(endpoint.id, null)),
    failureReason: null,
    batchSize: 100,
    maxWaitSecs: 0,
    eventTypes: endpoint.eventTypes ?? [],
    channels: endpoint.channels ?? [],
    metadata: endpoint.metadata,
    nextRetryAt: null,
    createdAt: iso(endpoint.createdAt),
    updatedAt: iso(endpoint.updatedAt),
  });

  app.post(`${scope.base}/destination`, { config: { access: scope.access('ManageEndpoint') }, schema: { params: AppPath, body: DestinationIn } }, async (request, reply) => {
    const body = request.body;
    if (body.type !== 'pollingEndpoint') {
      throw invalid(['body', 'type'], 'must be "pollingEndpoint": Herald sends to HTTP endpoints (POST …/endpoint), and polling endpoints are its one other destination');
    }
    checkUid('endpoint', body.uid, ['body', 'uid']);
    const application = await scope.find(ctx, request.params.appId);
    const endpoint = await createSink(ctx, application, body);
    return reply.code(201).send(await destinationOut(endpoint));
  });

  app.get(`${scope.base}/destination`, { config: { access: scope.access('ViewBase') }, schema: { params: AppPath, querystring: ListQuery } }, async (request) => {
    const application = await scope.find(ctx, request.params.appId);
    const plan = planPage(request.query, 'desc', 'endpoint');
    const page = await ctx.store.endpoints.listPolling(application.id, plan.page);
    const out = await Promise.all(page.items.map(destinationOut));
    const byId = new Map(page.items.map((endpoint, i) => [endpoint.id, out[i]!]));
    return listOut(page, plan, (e) => e.id, (e) => byId.get(e.id)!);
  });

  app.get(`${scope.base}/destination/:destinationId`, { config: { access: scope.access('ViewBase') }, schema: { params: DestinationPath } }, async (request) => {
    const { endpoint } = await findSink(request.params.appId, request.params.destinationId);
    return destinationOut(endpoint);
  });

  app.delete(`${scope.base}/destination/:destinationId`, { config: { access: scope.access('ManageEndpoint') }, schema: { params: DestinationPath } }, async (request, reply) => {
    const { application, endpoint } = await findSink(request.params.appId, request.params.destinationId);
    await ctx.store.endpoints.delete(application.id, endpoint.id, ctx.clock.now());
    return reply.code(204).send();
  });

  // Pollerv2: a poll leases what it hands out; a commit moves the consumer's position.
  app.get(`${scope.base}/polling-endpoint/:sinkId/consumer/:consumerId`, { config: { access: scope.access('ViewBase') }, schema: { params: ConsumerPath, querystring: PollQuery } }, async (request) => {
    const { endpoint } = await findSink(request.params.appId, request.params.sinkId);
    const query = request.query;
    const page = await ctx.store.polling.poll({
      endpointId: endpoint.id,
      consumerId: request.params.consumerId,
      now: ctx.clock.now(),
      limit: query.limit ?? DEFAULT_LIMIT,
      leaseMs: query.lease_duration_ms ?? DEFAULT_LEASE_MS,
      start: query.starting_position ?? 'earliest',
    });
    return { data: page.items.map((item) => ({ ...polledOut(item), offset: item.offset })), done: page.done };
  });

  app.post(`${scope.base}/polling-endpoint/:sinkId/consumer/:consumerId/commit`, { config: { access: scope.access('ViewBase') }, schema: { params: ConsumerPath, body: CommitIn } }, async (request, reply) => {
    const { endpoint } = await findSink(request.params.appId, request.params.sinkId);
    const offset = request.body.offset;
    // Past the end would skip messages not made yet.
    if (offset > (await ctx.store.polling.offsetAt(endpoint.id, null))) {
      throw invalid(['body', 'offset'], 'is past the last message of this polling endpoint: commit an offset a poll handed out');
    }
    await ctx.store.polling.commit(endpoint.id, request.params.consumerId, offset, ctx.clock.now());
    return reply.code(204).send();
  });

  // Poller (v1, in Svix's SDKs): an iterator is an offset, as text.
  app.get(`${scope.base}/poller/:sinkId`, { config: { access: scope.access('ViewBase') }, schema: { params: SinkPath, querystring: PollerQuery } }, async (request) => {
    const { endpoint } = await findSink(request.params.appId, request.params.sinkId);
    const query = request.query;
    const after = timeParam(query.after, ['query', 'after']);
    const from = query.iterator ? offsetParam(query.iterator) : after !== null ? await ctx.store.polling.offsetAt(endpoint.id, after) : 0;
    const page = await ctx.store.polling.read(endpoint.id, from, query.limit ?? DEFAULT_LIMIT);
    // The filters narrow each page, which may come out shorter than `limit`; the iterator still moves past it.
    const items = page.items.filter(({ message }) =>
      (!query.event_type || message.eventType === query.event_type) && (!query.channel || (message.channels ?? []).includes(query.channel)));
    return { data: items.map(polledOut), iterator: String(page.items.at(-1)?.offset ?? from), done: page.done };
  });

  // A consumer's iterator is kept by Herald: each poll goes on after the last, and commits it.
  app.get(`${scope.base}/poller/:sinkId/consumer/:consumerId`, { config: { access: scope.access('ViewBase') }, schema: { params: ConsumerPath, querystring: ConsumerPollQuery } }, async (request) => {
    const { endpoint } = await findSink(request.params.appId, request.params.sinkId);
    const consumerId = request.params.consumerId;
    const from = request.query.iterator ? offsetParam(request.query.iterator) : (await ctx.store.polling.position(endpoint.id, consumerId)) ?? 0;
    const page = await ctx.store.polling.read(endpoint.id, from, request.query.limit ?? DEFAULT_LIMIT);
    const to = page.items.at(-1)?.offset ?? from;
    await ctx.store.polling.commit(endpoint.id, consumerId, to, ctx.clock.now());
    return { data: page.items.map(polledOut), iterator: String(to), done: page.done };
  });

  app.post(`${scope.base}/poller/:sinkId/consumer/:consumerId/seek`, { config: { access: scope.access('ViewBase') }, schema: { params: ConsumerPath, body: SeekIn } }, async (request) => {
    const { endpoint } = await findSink(request.params.appId, request.params.sinkId);
    const offset = await ctx.store.polling.offsetAt(endpoint.id, timeParam(request.body.after, ['body', 'after']));
    await ctx.store.polling.commit(endpoint.id, request.params.consumerId, offset, ctx.clock.now());
    return { iterator: String(offset) };
  });

  // The application's messages after a cursor, oldest first: a keyset walk of messages_by_app.
  app.get(`${scope.base}/events`, { config: { access: scope.access('ViewBase') }, schema: { params: AppPath, querystring: EventsQuery } }, async (request) => {
    const application = await scope.find(ctx, request.params.appId);
    const query = request.query;
    const after = timeParam(query.after, ['query', 'after']);
    const plan = planPage({ limit: query.limit, iterator: query.iterator, order: 'ascending' }, 'asc', 'message');
    if (plan.backwards) throw invalid(['query', 'iterator'], 'must be a message id: the feed only goes forward');
    // Without an iterator, `after` starts the walk at its millisecond rather than at the first message.
    const start = plan.page.after ?? (after !== null ? smallestIdAt('message', after) : null);
    const page = await ctx.store.messages.list(
      application.id,
      { eventTypes: checkNames(listParam(query.event_types), ['query', 'event_types'], /^[a-zA-Z0-9\-_.]{1,256}$/), channel: null, channels: checkNames(listParam(query.channels), ['query', 'channels'], /^[a-zA-Z0-9\-_.:+]{1,128}$/), before: null, after, status: null },
      { ...plan.page, after: start },
    );
    return {
      data: page.items.map((message) => messageOut(message)),
      iterator: page.items.at(-1)?.id ?? start ?? smallestIdAt('message', 0),
      done: page.done,
    };
  });
}

async function createSink(ctx: ApiContext, application: Application, body: Static<typeof DestinationIn>): Promise<Endpoint> {
  const now = ctx.clock.now();
  const endpoint: Endpoint = {
    id: ctx.ids('endpoint'),
    appId: application.id,
    uid: body.uid ?? null,
    url: 'polling://',
    description: '',
    // An empty list filters nothing, as in Svix.
    eventTypes: body.eventTypes?.length ? body.eventTypes : null,
    channels: body.channels?.length ? body.channels : null,
    disabled: body.status === 'disabled',
    metadata: body.metadata ?? {},
    throttleRate: null,
    headers: {},
    // Nothing is signed for a polling endpoint: its consumers read through the API, with a token.
    secrets: [],
    createdAt: now,
    updatedAt: now,
    polling: true,
  };
  try {
    return await orConflict(ctx.store.endpoints.create(endpoint, MAX_ENDPOINTS_PER_APPLICATION), 'An endpoint with this uid already exists in this application.');
  } catch (error) {
    if (!(error instanceof StoreError && error.code === 'limit')) throw error;
    throw invalid(['path', 'appId'], `already has ${MAX_ENDPOINTS_PER_APPLICATION} endpoints, the most an application may have; delete one before creating another`);
  }
}

/** Svix's `PollingEndpointMessageOut`: a message as its feed shows it. */
function polledOut({ message }: PolledMessage) {
  return { ...messageOut(message), tags: null, deliverAt: null, headers: null };
}

function offsetParam(iterator: string): number {
  if (!OFFSET.test(iterator)) throw invalid(['query', 'iterator'], 'must be an iterator a poll returned');
  return Number(iterator);
}

function checkNames(names: string[] | null, loc: string[], pattern: RegExp): string[] | null {
  const bad = names?.find((name) => !pattern.test(name));
  if (bad !== undefined) throw invalid(loc, `holds "${bad.slice(0, 40)}", which is not a valid name`);
  return names;
}
