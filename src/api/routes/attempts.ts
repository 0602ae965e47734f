import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Message, Status } from '../../core/model.ts';
import { type ApiContext, APP_SCOPE, findEndpoint, type OwnerScope } from '../context.ts';
import { HttpError, notFound } from '../errors.ts';
import { planPage } from '../pagination.ts';
import { AttemptedMessagesQuery, AttemptListQuery, DestinationsQuery, EndpointPath, MessagePath } from '../schemas.ts';
import { attemptOut, endpointMessageOut, listOut, messageEndpointOut } from '../views.ts';
import { messageFilter } from './messages.ts';
import { attemptHeaders } from '../attempt-headers.ts';

const AttemptPath = Type.Object({ appId: Type.String(), msgId: Type.String(), attemptId: Type.String() });
const AttemptQuery = Type.Object({ expanded_statuses: Type.Optional(Type.Boolean()) });
const ResendPath = Type.Object({ appId: Type.String(), msgId: Type.String(), endpointId: Type.String() });

export function attemptRoutes(server: FastifyInstance, ctx: ApiContext, scope: OwnerScope = APP_SCOPE): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const findMessage = async (appId: string, msgId: string) => {
    const application = await scope.find(ctx, appId);
    const message = await ctx.store.messages.get(application.id, msgId);
    return message ? { application, message } : Promise.reject(notFound('Message'));
  };
  const attemptFilter = (query: AttemptListQuery) => ({
    ...messageFilter(query),
    status: (query.status ?? null) as Status | null,
    statusCodeClass: query.status_code_class ?? null,
    endpointId: query.endpoint_id ?? null,
  });

  app.get(`${scope.base}/attempt/endpoint/:endpointId`, { config: { access: scope.access('ViewBase') }, schema: { params: EndpointPath, querystring: AttemptListQuery } }, async (request) => {
    const application = await scope.find(ctx, request.params.appId);
    const endpoint = await findEndpoint(ctx, application, request.params.endpointId);
    const query = request.query;
    const plan = planPage(query, 'desc', 'attempt');
    const page = await ctx.store.attempts.listByEndpoint(endpoint.id, attemptFilter(query), plan.page);
    const messages = query.with_msg ? await messagesOf(ctx, application.id, page.items.map((a) => a.messageId)) : null;
    return listOut(page, plan, (a) => a.id, (a) => attemptOut(a, { withContent: query.with_content ?? true, expanded: query.expanded_statuses ?? false, message: messages?.get(a.messageId) }));
  });

  app.get(`${scope.base}/attempt/msg/:msgId`, { config: { access: scope.access('ViewBase') }, schema: { params: MessagePath, querystring: AttemptListQuery } }, async (request) => {
    const { message } = await findMessage(request.params.appId, request.params.msgId);
    const query = request.query;
    const plan = planPage(query, 'desc', 'attempt');
    const page = await ctx.store.attempts.listByMessage(message.id, attemptFilter(query), plan.page);
    return listOut(page, plan, (a) => a.id, (a) => attemptOut(a, { withContent: query.with_content ?? true, expanded: query.expanded_statuses ?? false, message: query.with_msg ? message : undefined }));
  });

  app.get(`${scope.base}/msg/:msgId/attempt/:attemptId`, { config: { access: scope.access('ViewBase') }, schema: { params: AttemptPath, querystring: AttemptQuery } }, async (request) => {
    const { message } = await findMessage(request.params.appId, request.params.msgId);
    const attempt = await ctx.store.attempts.get(message.id, request.params.attemptId);
    if (!attempt) throw notFound('Attempt');
    return attemptOut(attempt, { expanded: request.query.expanded_statuses ?? false });
  });

  // Svix's "Get Attempt Headers", rebuilt from what the attempt was made of (attempt-headers.ts).
  // Who may read the endpoint's secret may read what it signed and its credential-like headers.
  app.get(`${scope.base}/msg/:msgId/attempt/:attemptId/headers`, { config: { access: scope.access('ViewBase') }, schema: { params: AttemptPath } }, async (request) => {
    const { application, message } = await findMessage(request.params.appId, request.params.msgId);
    const attempt = await ctx.store.attempts.get(message.id, request.params.attemptId);
    if (!attempt) throw notFound('Attempt');
    const endpoint = await ctx.store.endpoints.get(application.id, attempt.endpointId);
    const principal = request.principal!;
    return attemptHeaders(attempt, message, endpoint, principal.kind === 'admin' || principal.capabilities.has('ViewEndpointSecret'));
  });

  // By endpoint id, newest endpoint first, as Svix lists a message's destinations.
  app.get(`${scope.base}/msg/:msgId/endpoint`, { config: { access: scope.access('ViewBase') }, schema: { params: MessagePath, querystring: DestinationsQuery } }, async (request) => {
    const { message } = await findMessage(request.params.appId, request.params.msgId);
    const plan = planPage(request.query, 'desc', 'endpoint');
    const page = await ctx.store.queue.listByMessage(message.id, plan.page);
    const expanded = request.query.expanded_statuses ?? false;
    return listOut(page, plan, (row) => row.endpoint.id, (row) => messageEndpointOut(row.delivery, row.endpoint, expanded));
  });

  app.get(`${scope.base}/endpoint/:endpointId/msg`, { config: { access: scope.access('ViewBase') }, schema: { params: EndpointPath, querystring: AttemptedMessagesQuery } }, async (request) => {
    const application = await scope.find(ctx, request.params.appId);
    const endpoint = await findEndpoint(ctx, application, request.params.endpointId);
    const query = request.query;
    const plan = planPage(query, 'desc', 'message');
    const filter = { ...messageFilter(query), status: (query.status ?? null) as Status | null };
    const page = await ctx.store.queue.listByEndpoint(endpoint.id, filter, plan.page);
    return listOut(page, plan, (row) => row.message.id, (row) => endpointMessageOut(row.delivery, row.message, query.with_content ?? true, query.expanded_statuses ?? false));
  });

  app.post(`${scope.base}/msg/:msgId/endpoint/:endpointId/resend`, { config: { access: scope.access('CreateAttempts') }, schema: { params: ResendPath } }, async (request, reply) => {
    const { application, message } = await findMessage(request.params.appId, request.params.msgId);
    // Sending anything else than the original bytes under the message's id would break its promise.
    if (message.payloadErasedAt != null) {
      throw new HttpError(400, 'missing_payload', "The message's payload was deleted or has expired, so it can't be resent.");
    }
    const endpoint = await findEndpoint(ctx, application, request.params.endpointId);
    await ctx.store.queue.resend(message.id, endpoint.id, ctx.clock.now());
    ctx.wake();
    return reply.code(202).send({});
  });
}

async function messagesOf(ctx: ApiContext, appId: string, ids: string[]): Promise<Map<string, Message>> {
  const messages = new Map<string, Message>();
  for (const id of new Set(ids)) {
    const message = await ctx.store.messages.get(appId, id);
    if (message) messages.set(id, message);
  }
  return messages;
}
