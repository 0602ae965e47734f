import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { APP_PORTAL_CAPABILITIES, type AppPortalCapability } from '../../core/model.ts';
import { CONFIGURED_ADMIN, digest } from '../auth.ts';
import { type ApiContext } from '../context.ts';
import { HttpError, invalid, notFound } from '../errors.ts';
import { AppPath, ApplicationIn } from '../schemas.ts';
import { uidFromPath } from '../uids.ts';
import { iso } from '../views.ts';
import { createApplication } from './applications.ts';

const AppPortalAccessIn = Type.Object({
  application: Type.Optional(Type.Union([ApplicationIn, Type.Null()])),
  /** Svix's deprecated switch: true is ViewBase alone. */
  readOnly: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  capabilities: Type.Optional(Type.Union([
    Type.Array(Type.Union(APP_PORTAL_CAPABILITIES.map((capability) => Type.Literal(capability))), { uniqueItems: true }),
    Type.Null(),
  ])),
  /** Seconds until the token expires; Svix's default is a week. */
  expiry: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 365 * 24 * 3600 }), Type.Null()])),
});
const ExpireAllIn = Type.Object({
  expiry: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600 }), Type.Null()])),
});
const WEEK_SECONDS = 7 * 24 * 3600;

export function authRoutes(server: FastifyInstance, ctx: ApiContext, publicUrl: string | null = null): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();

  // A token limited to one application, and within it to its capabilities (Svix's: all of them
  // unless the caller names some). It is shown here once and kept only as a digest. The URL opens
  // the portal; the token rides in its fragment, which browsers never send to a server.
  app.post('/api/v1/auth/app-portal-access/:appId', { config: { secretResponse: true }, schema: { params: AppPath, body: AppPortalAccessIn } }, async (request) => {
    const body = request.body ?? {};
    const capabilities = capabilitiesOf(body.capabilities ?? null, body.readOnly ?? false);
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
      capabilities,
      createdAt: now,
      expiresAt: now + (body.expiry ?? WEEK_SECONDS) * 1000,
    });
    const origin = publicUrl ?? `${request.protocol}://${request.host}`;
    return { url: `${origin}/app-portal/${application.id}#token=${token}`, token };
  });

  // The store announces the expiry, so every process's token cache drops the application's tokens.
  app.post('/api/v1/auth/app/:appId/expire-all', { schema: { params: AppPath, body: ExpireAllIn } }, async (request, reply) => {
    const application = await ctx.store.apps.get(request.params.appId);
    if (!application) throw notFound('Application');
    await ctx.store.tokens.expireForApp(application.id, ctx.clock.now() + (request.body?.expiry ?? 0) * 1000);
    return reply.code(204).send();
  });

  // Svix's whoami, for the dashboard and the app portal to know what they may show. `kind` is
  // Herald's: `admin` (every route) or `app` (one application, within `capabilities`, the
  // effective ones: ManageEndpoint shows as also giving the secret capabilities it implies).
  // Svix names no source for Herald's opaque tokens, hence `Unknown` for application tokens.
  app.get('/api/v1/auth/whoami', { config: { access: 'ViewBase' } }, async (request) => {
    const principal = request.principal!;
    const app = principal.kind === 'app';
    return {
      envId: null,
      appId: app ? principal.appId : null,
      permissionSource: app ? 'Unknown' : 'GlobalAuthToken',
      kind: principal.kind,
      capabilities: app ? APP_PORTAL_CAPABILITIES.filter((capability) => principal.capabilities.has(capability)) : null,
      expiresAt: principal.expiresAt === null ? null : iso(principal.expiresAt),
    };
  });

  // Svix logs out application tokens only. An admin token is the operator's: HERALD_ADMIN_TOKEN is
  // configuration, and a generated one belongs to whoever runs Herald, so neither ends this way.
  app.post('/api/v1/auth/logout', { config: { access: 'ViewBase' } }, async (request, reply) => {
    const principal = request.principal!;
    if (principal.kind === 'admin') {
      throw new HttpError(400, 'bad_request', principal.key === CONFIGURED_ADMIN
        ? 'Only application tokens can be logged out. This is HERALD_ADMIN_TOKEN, which is configuration: change the setting and restart every process to replace it.'
        : 'Only application tokens can be logged out, not admin tokens.');
    }
    await ctx.store.tokens.delete(principal.key);
    return reply.code(204).send();
  });
}

/**
 * The token's capabilities: those given, which must include ViewBase as Svix requires; ViewBase
 * alone for `readOnly`; every one by default, as Svix does.
 */
function capabilitiesOf(given: AppPortalCapability[] | null, readOnly: boolean): AppPortalCapability[] {
  if (given === null) return readOnly ? ['ViewBase'] : [...APP_PORTAL_CAPABILITIES];
  if (!given.includes('ViewBase')) throw invalid(['body', 'capabilities'], 'must include ViewBase, which every token needs');
  if (readOnly && given.some((capability) => capability !== 'ViewBase')) {
    throw invalid(['body', 'capabilities'], 'must be ViewBase alone when readOnly is true');
  }
  return given;
}
