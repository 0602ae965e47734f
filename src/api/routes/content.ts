import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type ApiContext, APP_SCOPE, type OwnerScope } from '../context.ts';
import { notFound } from '../errors.ts';
import { MessagePath } from '../schemas.ts';

const AttemptPath = Type.Object({ appId: Type.String(), msgId: Type.String(), attemptId: Type.String() });

/**
 * Svix's expunge routes: a message's payload, or an attempt's response body, erased when it held
 * something it should not have. Everything else about them stays. Like Svix, only admin tokens
 * may erase; an application's tokens may not.
 */
export function contentRoutes(server: FastifyInstance, ctx: ApiContext, scope: OwnerScope = APP_SCOPE): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const findMessage = async (appId: string, msgId: string) => {
    const application = await scope.find(ctx, appId);
    return (await ctx.store.messages.get(application.id, msgId)) ?? Promise.reject(notFound('Message'));
  };

  // Erasing twice is no error: the payload is gone either way.
  app.delete(`${scope.base}/msg/:msgId/content`, { schema: { params: MessagePath } }, async (request, reply) => {
    const message = await findMessage(request.params.appId, request.params.msgId);
    await ctx.store.messages.erasePayloads({ messageId: message.id }, ctx.clock.now());
    return reply.code(204).send();
  });

  app.delete(`${scope.base}/msg/:msgId/attempt/:attemptId/content`, { schema: { params: AttemptPath } }, async (request, reply) => {
    const message = await findMessage(request.params.appId, request.params.msgId);
    if (!(await ctx.store.attempts.eraseResponse(message.id, request.params.attemptId))) throw notFound('Attempt');
    return reply.code(204).send();
  });
}
