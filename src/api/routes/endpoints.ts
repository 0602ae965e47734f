import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { bucketOf } from '../../core/attempt-stats.ts';
import { versionsNewestFirst } from '../../core/payload-schemas.ts';
import { exampleFor } from '../../core/schema-example.ts';
import { MAX_ENDPOINTS_PER_APPLICATION } from '../../core/limits.ts';
import type { Application, Endpoint } from '../../core/model.ts';
import { generateSecret, publicKeyOf } from '../../core/signing.ts';
import { withSecrets } from '../../store/encrypted-store.ts';
import { StoreError } from '../../store/errors.ts';
import { type ApiContext, APP_SCOPE, findEndpoint, type OwnerScope } from '../context.ts';
import { replayParams, startTask } from './background-tasks.ts';
import { checkEndpointUrl, checkEventTypes, checkHeaders, checkPayloadFilter, checkSecret, type Filter, headersOut, rotatedSecrets } from '../endpoint-input.ts';
import { invalid, notFound, orConflict } from '../errors.ts';
import { checkPublished } from '../payload-check.ts';
import { planPage, timeParam } from '../pagination.ts';
import { sentFields } from '../patch.ts';
import {
  AppPath,
  BulkReplayIn,
  CancelMsgsIn,
  EndpointHeadersIn,
  EndpointHeadersPatchIn,
  EndpointIn,
  EndpointListQuery,
  EndpointPatch,
  EndpointPath,
  EndpointSecretRotateIn,
  EndpointUpdate,
  EventExampleIn,
  RecoverIn,
  StatsQuery,
} from '../schemas.ts';
import { checkUid, uidAfterPut, uidFromPath } from '../uids.ts';
import { durationsIn, endpointOut, flowStatsOut, iso, listOut, messageOut, rateLimitStatusOut } from '../views.ts';

const UID_TAKEN = 'An endpoint with this uid already exists in this application.';
/** The test event Svix's dashboard sends, with the body Svix sends for it. */
const PING_EVENT_TYPE = 'svix.ping';
const PING_PAYLOAD = { success: true };
export const DEFAULT_GRACE_SECONDS = 24 * 60 * 60;
/** What `with_stats` sums: the last 24 hours, from the start of the rollup bucket they begin in. */
const STATS_WINDOW_MS = 24 * 60 * 60_000;

/** What an update may change: every field the API shows, none of the secrets or headers. */
type EndpointFields = Partial<Pick<Endpoint, 'url' | 'description' | 'uid' | 'disabled' | 'eventTypes' | 'channels' | 'metadata' | 'throttleRate' | 'retrySchedule' | 'filter'>>;

/** The event-type filter a body sets, under whichever name it used (`filterTypes` is the older one). */
function filterOf(body: { eventTypes?: string[] | null; filterTypes?: string[] | null }): Filter {
  return body.eventTypes !== undefined && body.eventTypes !== null
    ? { field: 'eventTypes', names: body.eventTypes }
    : { field: 'filterTypes', names: body.filterTypes ?? null };
}

export function endpointRoutes(server: FastifyInstance, ctx: ApiContext, scope: OwnerScope = APP_SCOPE): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const base = `${scope.base}/endpoint`;
  const load = async (params: { appId: string; endpointId: string }) => {
    const application = await scope.find(ctx, params.appId);
    return { application, endpoint: await findEndpoint(ctx, application, params.endpointId) };
  };

  // Newest first unless `order=ascending`, as Svix lists endpoints (applications go oldest first).
  // `with_stats` (Herald's) adds each endpoint's attempts over the last 24 hours, from the attempt
  // rollup, in one query for the page, so a dashboard's success-rate column costs no request per row.
  // `failure` counts every attempt that did not succeed, canceled ones included.
  app.get(base, { config: { access: scope.access('ViewBase') }, schema: { params: AppPath, querystring: EndpointListQuery } }, async (request) => {
    const application = await scope.find(ctx, request.params.appId);
    const plan = planPage(request.query, 'desc', 'endpoint');
    const page = await ctx.store.endpoints.list(application.id, plan.page);
    if (!request.query.with_stats) return listOut(page, plan, (e) => e.id, endpointOut);
    const since = bucketOf(ctx.clock.now() - STATS_WINDOW_MS);
    const totals = await ctx.store.stats.endpointTotals(application.id, page.items.map((e) => e.id), since);
    return listOut(page, plan, (e) => e.id, (e) => {
      const total = totals.get(e.id);
      return { ...endpointOut(e), stats: { since: iso(since), success: total?.success ?? 0, failure: (total?.failure ?? 0) + (total?.canceled ?? 0) } };
    });
  });

  app.post(base, { config: { access: scope.access('ManageEndpoint') }, schema: { params: AppPath, body: EndpointIn } }, async (request, reply) => {
    const application = await scope.find(ctx, request.params.appId);
    const endpoint = await createEndpoint(ctx, application, request.body);
    ctx.operational.endpointChanged('created', application, endpoint);
    return reply.code(201).send(endpointOut(endpoint));
  });

  app.get(`${base}/:endpointId`, { config: { access: scope.access('ViewBase') }, schema: { params: EndpointPath } }, async (request) =>
    endpointOut((await load(request.params)).endpoint));

  app.put(`${base}/:endpointId`, { config: { access: scope.access('ManageEndpoint') }, schema: { params: EndpointPath, body: EndpointUpdate } }, async (request, reply) => {
    const application = await scope.find(ctx, request.params.appId);
    const existing = await ctx.store.endpoints.get(application.id, request.params.endpointId);
    const body = request.body;
    if (!existing) {
      const pathUid = uidFromPath('endpoint', request.params.endpointId, ['path', 'endpointId']);
      const created = await createEndpoint(ctx, application, { ...body, uid: body.uid ?? pathUid });
      ctx.operational.endpointChanged('created', application, created);
      return reply.code(201).send(endpointOut(created));
    }
    const filter = filterOf(body);
    return endpointOut(await saveEndpoint(ctx, application, existing, {
      url: body.url,
      description: body.description ?? '',
      uid: uidAfterPut(body.uid, existing.uid, request.params.endpointId),
      disabled: body.disabled ?? false,
      eventTypes: filter.names,
      channels: body.channels ?? null,
      metadata: body.metadata ?? {},
      throttleRate: body.throttleRate ?? null,
      retrySchedule: durationsIn(body.retrySchedule) ?? null,
      // Absent keeps the payload filter: Svix's SDKs drop fields they do not know, and an update
      // through one must not quietly widen what the endpoint receives. null clears it.
      ...(body.filter === undefined ? {} : { filter: checkPayloadFilter(body.filter) }),
    }, filter.field));
  });

  app.patch(`${base}/:endpointId`, { config: { access: scope.access('ManageEndpoint') }, schema: { params: EndpointPath, body: EndpointPatch } }, async (request) => {
    const { application, endpoint } = await load(request.params);
    const { filterTypes, description, metadata, retrySchedule, ...fields } = request.body;
    // Absent leaves a field as it is; null clears it, to its default where it has one.
    const eventTypesSent = fields.eventTypes !== undefined;
    return endpointOut(await saveEndpoint(ctx, application, endpoint, sentFields({
      ...fields,
      eventTypes: eventTypesSent ? fields.eventTypes : filterTypes,
      description: description === null ? '' : description,
      metadata: metadata === null ? {} : metadata,
      retrySchedule: durationsIn(retrySchedule),
      filter: checkPayloadFilter(fields.filter),
    }), eventTypesSent ? 'eventTypes' : 'filterTypes'));
  });

  app.delete(`${base}/:endpointId`, { config: { access: scope.access('ManageEndpoint') }, schema: { params: EndpointPath } }, async (request, reply) => {
    const { application, endpoint } = await load(request.params);
    if (await ctx.store.endpoints.delete(application.id, endpoint.id, ctx.clock.now())) ctx.operational.endpointChanged('deleted', application, endpoint);
    return reply.code(204).send();
  });

  // An ed25519 endpoint shows its public key: the signing key never leaves Herald.
  app.get(`${base}/:endpointId/secret`, { config: { access: scope.access('ViewEndpointSecret') }, schema: { params: EndpointPath } }, async (request) => {
    const current = withSecrets((await load(request.params)).endpoint).secrets[0]!.key;
    return { key: publicKeyOf(current) ?? current };
  });

  // The old secret keeps signing beside the new one for the grace period, so receivers can roll over.
  app.post(`${base}/:endpointId/secret/rotate`, { config: { access: scope.access('ManageEndpointSecret') }, schema: { params: EndpointPath, body: EndpointSecretRotateIn } }, async (request, reply) => {
    const { endpoint } = await load(request.params);
    const now = ctx.clock.now();
    const keyType = request.body.keyType ?? (endpoint.secrets[0] && publicKeyOf(endpoint.secrets[0].key) ? 'ed25519' : 'hmac');
    const key = request.body.key ? checkSecret(request.body.key, ['body', 'key']) : generateSecret(ctx.random, keyType);
    const graceMs = (request.body.gracePeriodSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
    await ctx.store.endpoints.update({ ...endpoint, secrets: rotatedSecrets(endpoint.secrets, key, graceMs, now), updatedAt: now });
    return reply.code(204).send();
  });

  app.get(`${base}/:endpointId/headers`, { config: { access: scope.access('ViewBase') }, schema: { params: EndpointPath } }, async (request) => {
    const { endpoint } = await load(request.params);
    return headersOut(withSecrets(endpoint).headers);
  });

  app.put(`${base}/:endpointId/headers`, { config: { access: scope.access('ManageEndpoint') }, schema: { params: EndpointPath, body: EndpointHeadersIn } }, async (request, reply) => {
    const { endpoint } = await load(request.params);
    checkHeaders(request.body.headers, ['body', 'headers']);
    await ctx.store.endpoints.update({ ...endpoint, headers: request.body.headers, updatedAt: ctx.clock.now() });
    return reply.code(204).send();
  });

  app.patch(`${base}/:endpointId/headers`, { config: { access: scope.access('ManageEndpoint') }, schema: { params: EndpointPath, body: EndpointHeadersPatchIn } }, async (request, reply) => {
    const { endpoint } = await load(request.params);
    checkHeaders(request.body.headers, ['body', 'headers']);
    const headers = { ...endpoint.headers };
    for (const [name, value] of Object.entries(request.body.headers)) {
      if (value === null) delete headers[name];
      else headers[name] = value;
    }
    await ctx.store.endpoints.update({ ...endpoint, headers, updatedAt: ctx.clock.now() });
    return reply.code(204).send();
  });

  app.get(`${base}/:endpointId/stats`, { config: { access: scope.access('ViewBase') }, schema: { params: EndpointPath, querystring: StatsQuery } }, async (request) => {
    const { endpoint } = await load(request.params);
    const range = { after: timeParam(request.query.since, ['query', 'since']), before: timeParam(request.query.until, ['query', 'until']) };
    const [stats, flow] = await Promise.all([ctx.store.queue.stats(endpoint.id, range), ctx.store.flow.get(endpoint.id)]);
    return { ...stats, ...flowStatsOut(endpoint, flow, ctx.clock.now()) };
  });

  // Svix's status, and Herald's detail beside it: the limit, the rate deliveries go at now and why.
  // Only a configured rate can hold back deliveries of an enabled endpoint without a flow state
  // saying so, so the deliveries are looked at only then (a disabled one's wait for it, not a rate).
  app.get(`${base}/:endpointId/rate-limit-status`, { config: { access: scope.access('ViewBase') }, schema: { params: EndpointPath } }, async (request) => {
    const { application, endpoint } = await load(request.params);
    const now = ctx.clock.now();
    const configured = (endpoint.throttleRate !== null || application.throttleRate !== null) && !endpoint.disabled;
    const [flow, heldBackSince] = await Promise.all([ctx.store.flow.get(endpoint.id), configured ? ctx.store.flow.heldBackSince(endpoint.id, now) : null]);
    return rateLimitStatusOut(endpoint, application, flow, heldBackSince, now);
  });

  // Svix's cancel-msgs: the endpoint's deliveries still waiting (not in flight) of messages created
  // before `createdBefore` end canceled (status 4) and are never sent; stats count them as canceled.
  app.post(`${base}/:endpointId/cancel-msgs`, { config: { access: scope.access('ManageEndpoint') }, schema: { params: EndpointPath, body: CancelMsgsIn } }, async (request, reply) => {
    const { endpoint } = await load(request.params);
    const createdBefore = timeParam(request.body.createdBefore, ['body', 'createdBefore'])!;
    await ctx.store.queue.cancel(endpoint.id, createdBefore, ctx.clock.now());
    return reply.code(204).send();
  });

  // Svix's recover, replay-missing and bulk-replay: each is a background task (202 at once), run
  // by a worker in steps that survive a restart; GET /api/v1/background-task/{id} tells its progress.
  app.post(`${base}/:endpointId/recover`, { config: { access: scope.access('CreateAttempts') }, schema: { params: EndpointPath, body: RecoverIn } }, async (request, reply) => {
    const { endpoint } = await load(request.params);
    return reply.code(202).send(await startTask(ctx, 'endpoint.recover', endpoint, replayParams(ctx, request.body)));
  });

  app.post(`${base}/:endpointId/replay-missing`, { config: { access: scope.access('CreateAttempts') }, schema: { params: EndpointPath, body: RecoverIn } }, async (request, reply) => {
    const { endpoint } = await load(request.params);
    return reply.code(202).send(await startTask(ctx, 'endpoint.replay', endpoint, replayParams(ctx, request.body)));
  });

  app.post(`${base}/:endpointId/bulk-replay`, { config: { access: scope.access('CreateAttempts') }, schema: { params: EndpointPath, body: BulkReplayIn } }, async (request, reply) => {
    const { endpoint } = await load(request.params);
    // Replaying everything where the client asked for a part would be worse than refusing.
    if (request.body.tag != null) throw invalid(['body', 'tag'], 'Herald keeps no message tags, so it cannot replay by one: leave tag out');
    if (request.body.statusCodeClass != null) throw invalid(['body', 'statusCodeClass'], 'Herald does not replay by the class of the response\'s status code: use status (0 success, 2 fail), or leave it out');
    return reply.code(202).send(await startTask(ctx, 'endpoint.bulk-replay', endpoint, replayParams(ctx, request.body)));
  });

  app.post(`${base}/:endpointId/send-example`, { config: { access: scope.access('CreateAttempts') }, schema: { params: EndpointPath, body: EventExampleIn } }, async (request, reply) => {
    const { application, endpoint } = await load(request.params);
    const eventType = await ctx.store.eventTypes.get(request.body.eventType);
    const payload = request.body.eventType === PING_EVENT_TYPE
      ? PING_PAYLOAD
      : exampleFromSchemas(eventType?.schemas) ?? { eventType: request.body.eventType, example: true };
    // Checked like any published payload: a schema's own `examples` may break the schema itself,
    // and what reaches a receiver is held to the same promise whoever wrote it.
    const schemaViolations = checkPublished(ctx, eventType, payload, null, ['example']);
    const message = await ctx.publisher.publishTo(application, endpoint, {
      eventType: request.body.eventType,
      eventId: null,
      channels: null,
      payload: Buffer.from(JSON.stringify(payload)),
      ...(schemaViolations ? { schemaViolations } : {}),
    });
    return reply.code(202).send(messageOut(message));
  });
}

async function createEndpoint(ctx: ApiContext, application: Application, body: EndpointIn): Promise<Endpoint> {
  checkEndpointUrl(body.url, ctx.addresses, ctx.httpsOnly);
  checkUid('endpoint', body.uid, ['body', 'uid']);
  if (body.headers) checkHeaders(body.headers, ['body', 'headers']);
  const filter = filterOf(body);
  await checkEventTypes(ctx.store, filter);
  checkPayloadFilter(body.filter);
  const now = ctx.clock.now();
  const endpoint: Endpoint = {
    id: ctx.ids('endpoint'),
    appId: application.id,
    uid: body.uid ?? null,
    url: body.url,
    description: body.description ?? '',
    eventTypes: filter.names,
    channels: body.channels ?? null,
    disabled: body.disabled ?? false,
    metadata: body.metadata ?? {},
    throttleRate: body.throttleRate ?? null,
    retrySchedule: durationsIn(body.retrySchedule) ?? null,
    filter: body.filter ?? null,
    headers: body.headers ?? {},
    secrets: [{ key: body.secret ? checkSecret(body.secret, ['body', 'secret']) : generateSecret(ctx.random, body.keyType ?? 'hmac'), expiresAt: null }],
    createdAt: now,
    updatedAt: now,
  };
  try {
    return await orConflict(ctx.store.endpoints.create(endpoint, MAX_ENDPOINTS_PER_APPLICATION), UID_TAKEN);
  } catch (error) {
    if (!(error instanceof StoreError && error.code === 'limit')) throw error;
    throw invalid(['path', 'appId'], `already has ${MAX_ENDPOINTS_PER_APPLICATION} endpoints, the most an application may have; delete one before creating another`);
  }
}

/** Saves an endpoint's changes; raises endpoint.updated, and endpoint.enabled or .disabled (manual) when that flipped. */
async function saveEndpoint(ctx: ApiContext, application: Application, existing: Endpoint, changes: EndpointFields, filterField: Filter['field']): Promise<Endpoint> {
  if (changes.url !== undefined) checkEndpointUrl(changes.url, ctx.addresses, ctx.httpsOnly);
  checkUid('endpoint', changes.uid, ['body', 'uid']);
  if (changes.eventTypes !== undefined) await checkEventTypes(ctx.store, { field: filterField, names: changes.eventTypes }, existing.eventTypes);
  const now = ctx.clock.now();
  const enabled = existing.disabled && changes.disabled === false;
  const disabled = !existing.disabled && changes.disabled === true;
  const why = enabled ? { disabledReason: null, disabledAt: null } : disabled ? { disabledReason: 'manual' as const, disabledAt: now } : {};
  const saved = await orConflict(ctx.store.endpoints.update({ ...existing, ...changes, ...why, updatedAt: now }), UID_TAKEN);
  // Enabled again, or its rate changed: flow control starts afresh and what it held back is due now.
  if (enabled || (changes.throttleRate !== undefined && changes.throttleRate !== existing.throttleRate)) {
    if ((await ctx.store.flow.resume(saved.id, now)) > 0) ctx.wake();
  }
  ctx.operational.endpointChanged('updated', application, saved);
  if (saved.disabled !== existing.disabled) {
    ctx.operational.endpointChanged(saved.disabled ? 'disabled' : 'enabled', application, saved, { trigger: 'manual', failSince: null });
  }
  return saved;
}

/** The catalogue's example of the event type's newest schema version (its own, or one made from it), if that is an object. */
function exampleFromSchemas(schemas: Record<string, unknown> | null | undefined): object | null {
  const newest = schemas ? versionsNewestFirst(schemas)[0] : undefined;
  if (newest === undefined) return null;
  const example = exampleFor(schemas![newest]);
  return example && typeof example === 'object' && !Array.isArray(example) ? example : null;
}

