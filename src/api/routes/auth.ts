import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { digest } from '../auth.ts';
import { type ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { AppPath, ApplicationIn } from '../schemas.ts';
import { uidFromPath } from '../uids.ts';
import { createApplication } from './applications.ts';

const AppPortalAccessIn = Type.Object({
  application: Type.Optional(Type.Union([ApplicationIn, Type.Null()])),
  readOnly: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  /** Seconds until the token expires; Svix's default is a week. */
  expiry: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 365 * 24 * 3600 }), Type.Null()])),
});
const ExpireAllIn = Type.Object({
  expiry: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600 }), Type.Null()])),
});
const WEEK_SECONDS = 7 * 24 * 3600;

export function authRoutes(server: FastifyInstance, ctx: ApiContext, forget: (appId: string) => void): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();

  // A token limited to one application: it may manage that application's endpoints and read its
  // messages and attempts, and nothing else. It is shown here once and kept only as a digest.
  app.post('/api/v1/auth/app-portal-access/:appId', { config: { secretResponse: true }, schema: { params: AppPath, body: AppPortalAccessIn } }, async (request) => {
    const body = request.body ?? {};
    let application = await ctx.store.apps.get(request.params.appId);
    if (!application) {
      if (!body.application) throw notFound('Application');
      const uid = body.application.uid ?? uidFromPath('application', request.params.appId, ['path', 'appId']);
      application = await createApplication(ctx, { ...body.application, uid }, ['body', 'application', 'uid']);
    }
    const now = ctx.clock.now();
    const token = `appsk_${Buffer.from(ctx.random.bytes(32)).toString('base64url')}`;
    await ctx.store.tokens.create({
      id: ctx.ids('token'),
      digest: digest(token),
      appId: application.id,
      readOnly: body.readOnly ?? false,
      createdAt: now,
      expiresAt: now + (body.expiry ?? WEEK_SECONDS) * 1000,
    });
    return { url: `${request.protocol}://${request.host}/app-portal/${application.id}#token=${token}`, token };
  });

  app.post('/api/v1/auth/app/:appId/expire-all', { schema: { params: AppPath, body: ExpireAllIn } }, async (request, reply) => {
    const application = await ctx.store.apps.get(request.params.appId);
    if (!application) throw notFound('Application');
    await ctx.store.tokens.expireForApp(application.id, ctx.clock.now() + (request.body?.expiry ?? 0) * 1000);
    forget(application.id);
    return reply.code(204).send();
  });
}
