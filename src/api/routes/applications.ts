import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Application } from '../../core/model.ts';
import { type ApiContext, findApp } from '../context.ts';
import { notFound, orConflict } from '../errors.ts';
import { planPage } from '../pagination.ts';
import { sentFields } from '../patch.ts';
import { AppListQuery, AppPath, ApplicationIn, ApplicationPatch, CreateAppQuery } from '../schemas.ts';
import { checkUid, uidAfterPut, uidFromPath } from '../uids.ts';
import { applicationOut, applicationWithStatsOut, listOut } from '../views.ts';

const UID_TAKEN = 'An application with this uid already exists.';

export function applicationRoutes(server: FastifyInstance, ctx: ApiContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();

  // `search` narrows the walk without changing how it pages; `with_stats` costs one more query per page.
  app.get('/api/v1/app', { schema: { querystring: AppListQuery } }, async (request) => {
    const plan = planPage(request.query, 'asc', 'application');
    const page = await ctx.store.apps.list(plan.page, { search: request.query.search || null });
    if (!request.query.with_stats) return listOut(page, plan, (a) => a.id, applicationOut);
    const stats = await ctx.store.apps.stats(page.items.map((a) => a.id));
    return listOut(page, plan, (a) => a.id, (a) => applicationWithStatsOut(a, stats.get(a.id)));
  });

  app.post('/api/v1/app', { schema: { body: ApplicationIn, querystring: CreateAppQuery } }, async (request, reply) => {
    const body = request.body;
    if (request.query.get_if_exists && body.uid) {
      const existing = await ctx.store.apps.get(body.uid);
      if (existing) return reply.code(200).send(applicationOut(existing));
    }
    const created = await createApplication(ctx, body);
    return reply.code(201).send(applicationOut(created));
  });

  app.get('/api/v1/app/:appId', { config: { access: 'ViewBase' }, schema: { params: AppPath } }, async (request) =>
    applicationOut(await findApp(ctx, request.params.appId)));

  app.put('/api/v1/app/:appId', { schema: { params: AppPath, body: ApplicationIn } }, async (request, reply) => {
    const existing = await ctx.store.apps.get(request.params.appId);
    if (!existing) {
      const pathUid = uidFromPath('application', request.params.appId, ['path', 'appId']);
      return reply.code(201).send(applicationOut(await createApplication(ctx, { ...request.body, uid: request.body.uid ?? pathUid })));
    }
    const body = request.body;
    return applicationOut(await save(ctx, existing, {
      name: body.name,
      uid: uidAfterPut(body.uid, existing.uid, request.params.appId),
      metadata: body.metadata ?? {},
      throttleRate: body.throttleRate ?? null,
    }));
  });

  app.patch('/api/v1/app/:appId', { schema: { params: AppPath, body: ApplicationPatch } }, async (request) => {
    const existing = await findApp(ctx, request.params.appId);
    return applicationOut(await save(ctx, existing, sentFields(request.body)));
  });

  app.delete('/api/v1/app/:appId', { schema: { params: AppPath } }, async (request, reply) => {
    const existing = await findApp(ctx, request.params.appId);
    await ctx.store.apps.delete(existing.id);
    return reply.code(204).send();
  });
}

/** Creates an application; also used when a message names an application that does not exist yet. */
export async function createApplication(ctx: ApiContext, input: ApplicationIn, uidLoc = ['body', 'uid']): Promise<Application> {
  checkUid('application', input.uid, uidLoc);
  const now = ctx.clock.now();
  return orConflict(ctx.store.apps.create({
    id: ctx.ids('application'),
    uid: input.uid ?? null,
    name: input.name,
    metadata: input.metadata ?? {},
    throttleRate: input.throttleRate ?? null,
    createdAt: now,
    updatedAt: now,
  }), UID_TAKEN);
}

async function save(ctx: ApiContext, existing: Application, changes: Partial<Application>): Promise<Application> {
  checkUid('application', changes.uid, ['body', 'uid']);
  return orConflict(ctx.store.apps.update({ ...existing, ...changes, updatedAt: ctx.clock.now() }), UID_TAKEN);
}
