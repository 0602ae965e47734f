import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { MAX_ENDPOINTS_PER_APPLICATION } from '../../core/limits.ts';
import type { Endpoint } from '../../core/model.ts';
import { OPERATIONAL_APP_ID, OPERATIONAL_EVENT_TYPES } from '../../core/operational-events.ts';
import { generateSecret } from '../../core/signing.ts';
import { withSecrets } from '../../store/encrypted-store.ts';
import { StoreError } from '../../store/errors.ts';
import type { ApiContext } from '../context.ts';
import { checkEndpointUrl, checkHeaders, checkSecret, headersOut, rotatedSecrets } from '../endpoint-input.ts';
import { HttpError, invalid, notFound, orConflict, type ValidationItem } from '../errors.ts';
import { planPage } from '../pagination.ts';
import {
  EndpointHeadersIn,
  ListQuery,
  OperationalEndpointIn,
  OperationalEndpointPath,
  OperationalEndpointUpsertIn,
  OperationalSecretRotateIn,
} from '../schemas.ts';
import { checkUid, uidAfterPut, uidFromPath } from '../uids.ts';
import { iso, listOut } from '../views.ts';
import { DEFAULT_GRACE_SECONDS } from './endpoints.ts';

const BASE = '/api/v1/operational-webhook/endpoint';
const UID_TAKEN = 'An operational webhook endpoint with this uid already exists.';
const KNOWN_TYPES = new Set<string>(OPERATIONAL_EVENT_TYPES);

/** Svix's `OperationalWebhookEndpointOut` (with `filterTypes`, as Herald's endpoints show it too). */
function operationalEndpointOut(endpoint: Endpoint) {
  return {
    id: endpoint.id,
    uid: endpoint.uid,
    url: endpoint.url,
    description: endpoint.description,
    eventTypes: endpoint.eventTypes,
    filterTypes: endpoint.eventTypes,
    disabled: endpoint.disabled,
    metadata: endpoint.metadata,
    throttleRate: endpoint.throttleRate,
    createdAt: iso(endpoint.createdAt),
    updatedAt: iso(endpoint.updatedAt),
  };
}

/** The filter a body sets, under whichever name it used; every name must be an operational event type. */
function operationalFilter(body: { eventTypes?: string[] | null; filterTypes?: string[] | null }): string[] | null {
  const [field, names] = body.eventTypes !== undefined && body.eventTypes !== null
    ? ['eventTypes', body.eventTypes] as const
    : ['filterTypes', body.filterTypes ?? null] as const;
  const problems: ValidationItem[] = (names ?? []).flatMap((name, index) => KNOWN_TYPES.has(name) ? [] : [{
    loc: ['body', field, String(index)],
    msg: `is not an operational event type; one of ${OPERATIONAL_EVENT_TYPES.join(', ')}`,
    type: 'value_error',
  }]);
  if (problems.length > 0) throw new HttpError(422, 'validation', problems);
  return names;
}

/**
 * Svix's operational webhook endpoints (admin only): the operator's endpoints for Herald's own
 * events. They are endpoints of the internal operational application, so everything an endpoint
 * has (secrets, rotation, custom headers, the retry schedule, the attempt log) they have too, and
 * the dispatcher sends them like any other; these routes are the only way to reach them.
 */
export function operationalWebhookRoutes(server: FastifyInstance, ctx: ApiContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const find = async (idOrUid: string) => (await ctx.store.endpoints.get(OPERATIONAL_APP_ID, idOrUid)) ?? Promise.reject(notFound('Endpoint'));

  async function create(body: OperationalEndpointIn): Promise<Endpoint> {
    checkEndpointUrl(body.url, ctx.addresses, ctx.httpsOnly);
    checkUid('endpoint', body.uid, ['body', 'uid']);
    if (body.headers) checkHeaders(body.headers, ['body', 'headers']);
    const eventTypes = operationalFilter(body);
    const now = ctx.clock.now();
    const endpoint: Endpoint = {
      id: ctx.ids('endpoint'),
      appId: OPERATIONAL_APP_ID,
      uid: body.uid ?? null,
      url: body.url,
      description: body.description ?? '',
      eventTypes,
      channels: null,
      disabled: body.disabled ?? false,
      metadata: body.metadata ?? {},
      throttleRate: body.throttleRate ?? null,
      retrySchedule: null,
      headers: body.headers ?? {},
      secrets: [{ key: body.secret ? checkSecret(body.secret, ['body', 'secret']) : generateSecret(ctx.random, 'hmac'), expiresAt: null }],
      createdAt: now,
      updatedAt: now,
    };
    try {
      return await orConflict(ctx.store.endpoints.create(endpoint, MAX_ENDPOINTS_PER_APPLICATION), UID_TAKEN);
    } catch (error) {
      if (!(error instanceof StoreError && error.code === 'limit')) throw error;
      throw invalid(['body', 'url'], `there are already ${MAX_ENDPOINTS_PER_APPLICATION} operational webhook endpoints, the most there may be`);
    }
  }

  app.get(BASE, { schema: { querystring: ListQuery } }, async (request) => {
    const plan = planPage(request.query, 'desc', 'endpoint');
    return listOut(await ctx.store.endpoints.list(OPERATIONAL_APP_ID, plan.page), plan, (e) => e.id, operationalEndpointOut);
  });

  app.post(BASE, { schema: { body: OperationalEndpointIn } }, async (request, reply) =>
    reply.code(201).send(operationalEndpointOut(await create(request.body))));

  app.get(`${BASE}/:endpointId`, { schema: { params: OperationalEndpointPath } }, async (request) =>
    operationalEndpointOut(await find(request.params.endpointId)));

  // Svix's upsert: replaces the fields the body has room for (the secret and headers stay), or
  // creates the endpoint under the path's uid.
  app.put(`${BASE}/:endpointId`, { schema: { params: OperationalEndpointPath, body: OperationalEndpointUpsertIn } }, async (request, reply) => {
    const body = request.body;
    const existing = await ctx.store.endpoints.get(OPERATIONAL_APP_ID, request.params.endpointId);
    if (!existing) {
      const pathUid = uidFromPath('endpoint', request.params.endpointId, ['path', 'endpointId']);
      return reply.code(201).send(operationalEndpointOut(await create({ ...body, uid: body.uid ?? pathUid })));
    }
    checkEndpointUrl(body.url, ctx.addresses, ctx.httpsOnly);
    checkUid('endpoint', body.uid, ['body', 'uid']);
    const saved = await orConflict(ctx.store.endpoints.update({
      ...existing,
      url: body.url,
      description: body.description ?? '',
      uid: uidAfterPut(body.uid, existing.uid, request.params.endpointId),
      disabled: body.disabled ?? false,
      eventTypes: operationalFilter(body),
      metadata: body.metadata ?? {},
      throttleRate: body.throttleRate ?? null,
      updatedAt: ctx.clock.now(),
    }), UID_TAKEN);
    return operationalEndpointOut(saved);
  });

  app.delete(`${BASE}/:endpointId`, { schema: { params: OperationalEndpointPath } }, async (request, reply) => {
    const endpoint = await find(request.params.endpointId);
    await ctx.store.endpoints.delete(OPERATIONAL_APP_ID, endpoint.id, ctx.clock.now());
    return reply.code(204).send();
  });

  app.get(`${BASE}/:endpointId/secret`, { schema: { params: OperationalEndpointPath } }, async (request) =>
    ({ key: withSecrets(await find(request.params.endpointId)).secrets[0]!.key }));

  app.post(`${BASE}/:endpointId/secret/rotate`, { schema: { params: OperationalEndpointPath, body: OperationalSecretRotateIn } }, async (request, reply) => {
    const endpoint = await find(request.params.endpointId);
    const now = ctx.clock.now();
    const key = request.body.key ? checkSecret(request.body.key, ['body', 'key']) : generateSecret(ctx.random, 'hmac');
    const graceMs = (request.body.gracePeriodSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
    await ctx.store.endpoints.update({ ...endpoint, secrets: rotatedSecrets(endpoint.secrets, key, graceMs, now), updatedAt: now });
    return reply.code(204).send();
  });

  app.get(`${BASE}/:endpointId/headers`, { schema: { params: OperationalEndpointPath } }, async (request) =>
    headersOut(withSecrets(await find(request.params.endpointId)).headers));

  app.put(`${BASE}/:endpointId/headers`, { schema: { params: OperationalEndpointPath, body: EndpointHeadersIn } }, async (request, reply) => {
    const endpoint = await find(request.params.endpointId);
    checkHeaders(request.body.headers, ['body', 'headers']);
    await ctx.store.endpoints.update({ ...endpoint, headers: request.body.headers, updatedAt: ctx.clock.now() });
    return reply.code(204).send();
  });
}
