import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { memberRange } from '../../core/json-member.ts';
import type { Application, Status } from '../../core/model.ts';
import type { MessageFilter } from '../../store/store.ts';
import { type ApiContext, APP_SCOPE, findApp, type OwnerScope } from '../context.ts';
import { HttpError, invalid, notFound, orConflict } from '../errors.ts';
import { listParam, planPage, timeParam } from '../pagination.ts';
import { AppPath, MessageIn, MessageListQuery, MessagePath, WithContentQuery } from '../schemas.ts';
import { checkUid } from '../uids.ts';
import { listOut, messageOut } from '../views.ts';
import { payloadRetentionMs } from '../payload-retention.ts';
import { checkPublished } from '../payload-check.ts';
import { createApplication } from './applications.ts';

export function messageRoutes(server: FastifyInstance, ctx: ApiContext, scope: OwnerScope = APP_SCOPE): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();

  // Messages are published to applications; a source's messages are the requests it received.
  if (scope === APP_SCOPE) {
    app.post(`${scope.base}/msg`, { schema: { params: AppPath, body: MessageIn, querystring: WithContentQuery } }, async (request, reply) => {
      const body = request.body;
      checkUid('message', body.eventId, ['body', 'eventId']);
      const retention = payloadRetentionMs(body);
      // Before the application is looked at (or created): a payload `enforce` refuses changes nothing.
      const schemaViolations = checkPublished(ctx, await ctx.store.eventTypes.get(body.eventType), body.payload, body.schemaVersion ?? null);
      const application = await appForMessage(ctx, request.params.appId, body);
      const message = await orConflict(
        ctx.publisher.publish(application, {
          eventType: body.eventType,
          eventId: body.eventId ?? null,
          channels: body.channels ?? null,
          payload: payloadBytes(request.rawBody),
          payloadRetentionMs: retention,
          ...(schemaViolations ? { schemaViolations } : {}),
          orderingKey: body.orderingKey ?? null,
          parsedPayload: body.payload,
        }),
        'A message with this eventId already exists for this application.',
      );
      return reply.code(202).send(messageOut(message, request.query.with_content ?? true));
    });
  }

  app.get(`${scope.base}/msg`, { config: { access: scope.access('ViewBase') }, schema: { params: AppPath, querystring: MessageListQuery } }, async (request) => {
    const application = await scope.find(ctx, request.params.appId);
    const query = request.query;
    const plan = planPage(query, 'desc', 'message');
    const filter = { ...messageFilter(query), status: (query.status ?? null) as Status | null };
    const page = await ctx.store.messages.list(application.id, filter, plan.page);
    return listOut(page, plan, (m) => m.id, (m) => messageOut(m, query.with_content ?? true));
  });

  app.get(`${scope.base}/msg/:msgId`, { config: { access: scope.access('ViewBase') }, schema: { params: MessagePath, querystring: WithContentQuery } }, async (request) => {
    const application = await scope.find(ctx, request.params.appId);
    const message = await ctx.store.messages.get(application.id, request.params.msgId);
    if (!message) throw notFound('Message');
    return messageOut(message, request.query.with_content ?? true);
  });
}

/**
 * The payload as it was published: its own bytes in the request body, not the parse written again
 * (which would turn 12345678901234567890 into 12345678901234567000 and 1e400 into null). These
 * bytes are stored, signed and sent on every attempt. Validation has seen the parse, which
 * JSON.parse built from these same bytes, so they are an object, valid JSON and UTF-8.
 */
function payloadBytes(body: Buffer | null): Buffer {
  const range = body && memberRange(body, 'payload');
  if (!range) throw new Error('A message passed validation without payload bytes in its JSON body');
  return body!.subarray(range.start, range.end);
}

export function messageFilter(query: Omit<MessageListQuery, 'status'>): MessageFilter {
  return {
    eventTypes: listParam(query.event_types),
    channel: query.channel ?? null,
    before: timeParam(query.before, ['query', 'before']),
    after: timeParam(query.after, ['query', 'after']),
  };
}

/**
 * Svix lets a message create the application its path names when that does not exist yet: the
 * body's `application` must then carry that same uid. An application that exists is used as it
 * is, whatever the body says (Svix: "if the application id or uid that is used in the path
 * already exists, this argument is ignored").
 */
async function appForMessage(ctx: ApiContext, appId: string, body: MessageIn): Promise<Application> {
  const existing = await findOrNull(ctx, appId);
  if (existing) return existing;
  if (!body.application) throw notFound('Application');
  const loc = ['body', 'application', 'uid'];
  if (!body.application.uid) throw invalid(loc, 'is required to create the application the path names');
  if (body.application.uid !== appId) throw invalid(loc, 'must be the uid in the path, which names the application to create');
  try {
    return await createApplication(ctx, body.application, loc);
  } catch (error) {
    // Another request created it meanwhile: the message goes to that one.
    const created = error instanceof HttpError && error.status === 409 ? await findOrNull(ctx, appId) : null;
    if (created) return created;
    throw error;
  }
}

async function findOrNull(ctx: ApiContext, appId: string): Promise<Application | null> {
  try {
    return await findApp(ctx, appId);
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) return null;
    throw error;
  }
}
