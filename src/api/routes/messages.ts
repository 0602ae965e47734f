import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Application } from '../../core/model.ts';
import { type ApiContext, APP_SCOPE, type OwnerScope } from '../context.ts';
import { notFound, orConflict } from '../errors.ts';
import { listParam, planPage, timeParam } from '../pagination.ts';
import { AppPath, MessageIn, MessageListQuery, MessagePath, WithContentQuery } from '../schemas.ts';
import { listOut, messageOut } from '../views.ts';
import { uidFromPath } from '../uids.ts';
import { createApplication } from './applications.ts';

export function messageRoutes(server: FastifyInstance, ctx: ApiContext, scope: OwnerScope = APP_SCOPE): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();

  // Messages are published to applications; a source's messages are the requests it received.
  if (scope === APP_SCOPE) {
    app.post(`${scope.base}/msg`, { schema: { params: AppPath, body: MessageIn, querystring: WithContentQuery } }, async (request, reply) => {
      const body = request.body;
      const application = await appForMessage(ctx, request.params.appId, body);
      // The payload is serialised once, here; these bytes are stored and sent on every attempt.
      const message = await orConflict(
        ctx.publisher.publish(application, {
          eventType: body.eventType,
          eventId: body.eventId ?? null,
          channels: body.channels ?? null,
          payload: Buffer.from(JSON.stringify(body.payload)),
        }),
        'A message with this eventId already exists for this application.',
      );
      return reply.code(202).send(messageOut(message, request.query.with_content ?? true, body.payload));
    });
  }

  app.get(`${scope.base}/msg`, { config: { access: scope.access('ViewBase') }, schema: { params: AppPath, querystring: MessageListQuery } }, async (request) => {
    const application = await scope.find(ctx, request.params.appId);
    const query = request.query;
    const plan = planPage(query, 'desc');
    const page = await ctx.store.messages.list(application.id, messageFilter(query), plan.page);
    return listOut(page, plan, (m) => m.id, (m) => messageOut(m, query.with_content ?? true));
  });

  app.get(`${scope.base}/msg/:msgId`, { config: { access: scope.access('ViewBase') }, schema: { params: MessagePath, querystring: WithContentQuery } }, async (request) => {
    const application = await scope.find(ctx, request.params.appId);
    const message = await ctx.store.messages.get(application.id, request.params.msgId);
    if (!message) throw notFound('Message');
    return messageOut(message, request.query.with_content ?? true);
  });
}

export function messageFilter(query: MessageListQuery) {
  return {
    eventTypes: listParam(query.event_types),
    channel: query.channel ?? null,
    before: timeParam(query.before, ['query', 'before']),
    after: timeParam(query.after, ['query', 'after']),
  };
}

/** Svix lets a message create its application on the fly when the path names one that is missing. */
async function appForMessage(ctx: ApiContext, appId: string, body: MessageIn): Promise<Application> {
  const existing = await ctx.store.apps.get(appId);
  if (existing) return existing;
  if (!body.application) throw notFound('Application');
  const uid = body.application.uid ?? uidFromPath('application', appId, ['path', 'appId']);
  return createApplication(ctx, { ...body.application, uid }, ['body', 'application', 'uid']);
}
