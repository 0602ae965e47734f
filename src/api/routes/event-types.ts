import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { EventType } from '../../core/model.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, notFound, orConflict } from '../errors.ts';
import { planPage } from '../pagination.ts';
import { sentFields } from '../patch.ts';
import { DeleteEventTypeQuery, EventTypeIn, EventTypeListQuery, EventTypePatch, EventTypePath, EventTypeUpdate, PayloadValidateIn, RetryScheduleInOut } from '../schemas.ts';
import { checkAgainst, checkSchemas, modeOf, violationItem } from '../payload-check.ts';
import { durationsIn, durationsOut, eventTypeOut, listOut } from '../views.ts';

export function eventTypeRoutes(server: FastifyInstance, ctx: ApiContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const find = async (name: string) => (await ctx.store.eventTypes.get(name)) ?? Promise.reject(notFound('Event type'));
  const save = (existing: EventType, changes: EventTypePatch) =>
    ctx.store.eventTypes.update({ ...existing, ...sentFields(changes), updatedAt: ctx.clock.now() });

  app.get('/api/v1/event-type', { config: { access: 'ViewBase' }, schema: { querystring: EventTypeListQuery } }, async (request) => {
    const plan = planPage(request.query, 'asc', 'event-type');
    const page = await ctx.store.eventTypes.list(plan.page, request.query.include_archived ?? false);
    return listOut(page, plan, (e) => e.name, (e) => eventTypeOut(e, request.query.with_content ?? true));
  });

  // Creating an archived event type again brings it back, as in Svix.
  app.post('/api/v1/event-type', { schema: { body: EventTypeIn } }, async (request, reply) => {
    const body = request.body;
    checkSchemas(body.schemas);
    const existing = await ctx.store.eventTypes.get(body.name);
    if (existing && !existing.archived) throw new HttpError(409, 'conflict', `Event type ${body.name} already exists.`);
    const saved = existing
      ? await save(existing, { ...body, archived: body.archived ?? false })
      : await orConflict(ctx.store.eventTypes.create(newEventType(ctx, body)), `Event type ${body.name} already exists.`);
    return reply.code(201).send(eventTypeOut(saved));
  });

  app.get('/api/v1/event-type/:eventTypeName', { config: { access: 'ViewBase' }, schema: { params: EventTypePath } }, async (request) =>
    eventTypeOut(await find(request.params.eventTypeName)));

  app.put('/api/v1/event-type/:eventTypeName', { schema: { params: EventTypePath, body: EventTypeUpdate } }, async (request, reply) => {
    const name = request.params.eventTypeName;
    checkSchemas(request.body.schemas);
    const existing = await ctx.store.eventTypes.get(name);
    if (!existing) return reply.code(201).send(eventTypeOut(await ctx.store.eventTypes.create(newEventType(ctx, { ...request.body, name }))));
    const body = request.body;
    return eventTypeOut(await save(existing, {
      description: body.description,
      schemas: body.schemas ?? null,
      archived: body.archived ?? false,
      deprecated: body.deprecated ?? false,
      featureFlag: body.featureFlag ?? null,
      schemaValidation: body.schemaValidation ?? null,
    }));
  });

  app.patch('/api/v1/event-type/:eventTypeName', { schema: { params: EventTypePath, body: EventTypePatch } }, async (request) => {
    checkSchemas(request.body.schemas);
    return eventTypeOut(await save(await find(request.params.eventTypeName), request.body));
  });

  // Herald's extension: a dry run of the check a message create makes, whatever the mode (so a
  // schema can be tried before it is enforced); `schemaValidation` says what publishing would do.
  app.post('/api/v1/event-type/:eventTypeName/validate', { config: { access: 'ViewBase' }, schema: { params: EventTypePath, body: PayloadValidateIn } }, async (request) => {
    const eventType = await find(request.params.eventTypeName);
    const check = checkAgainst(eventType, request.body.payload, request.body.schemaVersion ?? null);
    return {
      valid: (check?.violations.length ?? 0) === 0,
      checked: check !== null,
      schemaVersion: check?.version ?? null,
      schemaValidation: modeOf(ctx, eventType),
      detail: (check?.violations ?? []).map((violation) => violationItem(['body', 'payload'], violation)),
    };
  });

  // Svix's route: the delays between this type's attempts, for endpoints without their own; null for the default.
  app.get('/api/v1/event-type/:eventTypeName/retry-schedule', { schema: { params: EventTypePath } }, async (request) =>
    ({ retrySchedule: durationsOut((await find(request.params.eventTypeName)).retrySchedule ?? null) }));

  app.put('/api/v1/event-type/:eventTypeName/retry-schedule', { schema: { params: EventTypePath, body: RetryScheduleInOut } }, async (request) => {
    const existing = await find(request.params.eventTypeName);
    const saved = await ctx.store.eventTypes.update({ ...existing, retrySchedule: durationsIn(request.body.retrySchedule) ?? null, updatedAt: ctx.clock.now() });
    return { retrySchedule: durationsOut(saved.retrySchedule ?? null) };
  });

  // Deleting archives, so messages of the type keep a name that resolves; `expunge=true` removes it.
  app.delete('/api/v1/event-type/:eventTypeName', { schema: { params: EventTypePath, querystring: DeleteEventTypeQuery } }, async (request, reply) => {
    const existing = await find(request.params.eventTypeName);
    if (request.query.expunge) await ctx.store.eventTypes.delete(existing.name);
    else await save(existing, { archived: true });
    return reply.code(204).send();
  });
}

function newEventType(ctx: ApiContext, body: EventTypeIn): EventType {
  const now = ctx.clock.now();
  return {
    name: body.name,
    description: body.description,
    schemas: body.schemas ?? null,
    archived: body.archived ?? false,
    deprecated: body.deprecated ?? false,
    featureFlag: body.featureFlag ?? null,
    schemaValidation: body.schemaValidation ?? null,
    createdAt: now,
    updatedAt: now,
  };
}
