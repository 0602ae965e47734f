import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Source } from '../../core/model.ts';
import { checkSourceConfig, publicConfig } from '../../inbound/source-config.ts';
import { digest } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { notFound, orConflict } from '../errors.ts';
import { planPage } from '../pagination.ts';
import { ListQuery } from '../schemas.ts';
import { checkUid, uidAfterPut } from '../uids.ts';
import { iso, listOut } from '../views.ts';

const NAME_PATTERN = '^[a-zA-Z0-9\\-_.]+$';
const SourceIn = Type.Object({
  name: Type.String({ minLength: 1 }),
  uid: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256, pattern: NAME_PATTERN }), Type.Null()])),
  type: Type.String({ minLength: 1 }),
  config: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
  metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
});
const SourcePath = Type.Object({ sourceId: Type.String() });
const UID_TAKEN = 'A source or application with this uid already exists.';

/**
 * Svix Ingest's source API: a source has a type (which provider signs its requests, and how) and
 * an `ingestUrl` to give that provider, whose last segment is a secret token.
 */
export function sourceRoutes(server: FastifyInstance, ctx: ApiContext, publicUrl: string | null): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/ingest/api/v1/source';
  const urlOf = (request: FastifyRequest, token: string) => `${publicUrl ?? `${request.protocol}://${request.host}`}/in/${token}`;
  const out = (request: FastifyRequest, source: Source) => ({
    id: source.id,
    uid: source.uid,
    name: source.name,
    type: source.type,
    config: publicConfig(source.config),
    ingestUrl: urlOf(request, source.token),
    metadata: source.metadata,
    createdAt: iso(source.createdAt),
    updatedAt: iso(source.updatedAt),
  });
  const find = async (idOrUid: string) => (await ctx.store.sources.get(idOrUid)) ?? Promise.reject(notFound('Source'));
  const newToken = () => Buffer.from(ctx.random.bytes(24)).toString('base64url');

  app.get(base, { schema: { querystring: ListQuery } }, async (request) => {
    const plan = planPage(request.query, 'asc', 'source');
    return listOut(await ctx.store.sources.list(plan.page), plan, (s) => s.id, (s) => out(request, s));
  });

  // The answer shows the ingest URL, whose token is a credential: never kept for idempotent replays.
  app.post(base, { config: { secretResponse: true }, schema: { body: SourceIn } }, async (request, reply) => {
    const body = request.body;
    checkUid('source', body.uid, ['body', 'uid']);
    const now = ctx.clock.now();
    const token = newToken();
    const source: Source = {
      id: ctx.ids('source'),
      uid: body.uid ?? null,
      name: body.name,
      type: body.type,
      config: checkSourceConfig(body.type, body.config),
      metadata: body.metadata ?? {},
      token,
      createdAt: now,
      updatedAt: now,
    };
    await orConflict(ctx.store.sources.create(source, digest(token)), UID_TAKEN);
    return reply.code(201).send(out(request, source));
  });

  app.get(`${base}/:sourceId`, { schema: { params: SourcePath } }, async (request) => out(request, await find(request.params.sourceId)));

  app.put(`${base}/:sourceId`, { schema: { params: SourcePath, body: SourceIn } }, async (request) => {
    const existing = await find(request.params.sourceId);
    const body = request.body;
    checkUid('source', body.uid, ['body', 'uid']);
    // A config without its secret keeps the stored one, so a client can update what it was shown.
    const config = checkSourceConfig(body.type, { ...(body.type === existing.type ? { secret: existing.config.secret } : {}), ...body.config });
    const source = { ...existing, uid: uidAfterPut(body.uid, existing.uid, request.params.sourceId), name: body.name, type: body.type, config, metadata: body.metadata ?? {}, updatedAt: ctx.clock.now() };
    await orConflict(ctx.store.sources.update(source, digest(source.token)), UID_TAKEN);
    return out(request, source);
  });

  app.delete(`${base}/:sourceId`, { schema: { params: SourcePath } }, async (request, reply) => {
    await ctx.store.sources.delete((await find(request.params.sourceId)).id);
    return reply.code(204).send();
  });

  // The old URL stops working at once: a leaked URL is the reason to rotate.
  app.post(`${base}/:sourceId/token/rotate`, { config: { secretResponse: true }, schema: { params: SourcePath } }, async (request) => {
    const existing = await find(request.params.sourceId);
    const token = newToken();
    await ctx.store.sources.update({ ...existing, token, updatedAt: ctx.clock.now() }, digest(token));
    return { ingestUrl: urlOf(request, token) };
  });
}
