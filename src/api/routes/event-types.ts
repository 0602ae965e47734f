import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { EventType } from '../../core/model.ts';
import { eventTypesFromOpenApi, importedSchemas, openApiFromEventTypes, schemaPathOf } from '../../core/openapi-webhooks.ts';
import { schemaProblems } from '../../core/payload-schemas.ts';
import { MAX_JSON_DEPTH } from '../../core/json-depth.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, invalid, notFound, orConflict } from '../errors.ts';
import { planPage } from '../pagination.ts';
import { everyItem } from '../../store/paging.ts';
import { sentFields } from '../patch.ts';
import { DeleteEventTypeQuery, EventTypeExportQuery, EventTypeImportOpenApiIn, EventTypeIn, EventTypeListQuery, EventTypePatch, EventTypePath, EventTypeUpdate, PayloadValidateIn, RetryScheduleInOut } from '../schemas.ts';
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
    return eventTypeOut(await save(existing, fieldsWithDefaults(request.body)));
  });

  app.patch('/api/v1/event-type/:eventTypeName', { schema: { params: EventTypePath, body: EventTypePatch } }, async (request) => {
    checkSchemas(request.body.schemas);
    return eventTypeOut(await save(await find(request.params.eventTypeName), request.body));
  });

  // Herald's extension: a dry run of the check a message create makes, whatever the mode (so a
  // schema can be tried before it is enforced); `schemaValidation` says what publishing would do.
  // Admin-only, as publishing is: a schema's `pattern` runs on RegExp, which backtracks, so the
  // text it runs on must come from whoever wrote the schema, never from an application's token.
  app.post('/api/v1/event-type/:eventTypeName/validate', { schema: { params: EventTypePath, body: PayloadValidateIn } }, async (request) => {
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

  app.post('/api/v1/event-type/import/openapi', { schema: { body: EventTypeImportOpenApiIn } }, async (request) =>
    ({ data: await importOpenApi(ctx, request.body) }));

  // Herald's extension (Svix's POST of this path is an internal background task making SDKs): the
  // catalogue as an OpenAPI 3.1 document that the import reads back to the same event types.
  app.get('/api/v1/event-type/export/openapi', { config: { access: 'ViewBase' }, schema: { querystring: EventTypeExportQuery } }, async (request) =>
    openApiFromEventTypes(await allEventTypes(ctx, request.query.include_archived ?? false), { title: 'Webhooks', version: '1' }));

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

async function allEventTypes(ctx: ApiContext, includeArchived: boolean): Promise<EventType[]> {
  const all: EventType[] = [];
  for await (const type of everyItem((page) => ctx.store.eventTypes.list(page, includeArchived), (t) => t.name)) all.push(type);
  return all;
}

/** The document a request to import sends: `spec` as it is, or `specRaw` read as JSON, else as YAML. */
function documentOf(body: EventTypeImportOpenApiIn): { spec: unknown; loc: string[] } {
  const given = [body.spec, body.specRaw].filter((value) => value !== undefined && value !== null).length;
  if (given !== 1) throw new HttpError(400, 'bad_request', 'Send the OpenAPI document as either spec (JSON) or specRaw (JSON or YAML text), not both or neither.');
  if (body.spec) return { spec: body.spec, loc: ['body', 'spec'] };
  const text = body.specRaw!;
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch {
    try {
      spec = parseYaml(text, { maxAliasCount: 100 });
    } catch (error) {
      throw invalid(['body', 'specRaw'], `is neither JSON nor YAML: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  // The body's own depth is checked as it is parsed; a document in a string is checked here.
  if (deeperThan(spec, MAX_JSON_DEPTH)) throw invalid(['body', 'specRaw'], `is nested more than ${MAX_JSON_DEPTH} levels deep`);
  return { spec, loc: ['body', 'specRaw'] };
}

function deeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Svix's import: creates the event types the document describes and updates those that differ
 * (an archived one comes back); `replaceAll` archives those it does not describe; `dryRun` only
 * says what would change. Everything is checked before anything is written.
 */
async function importOpenApi(ctx: ApiContext, body: EventTypeImportOpenApiIn) {
  const { spec, loc } = documentOf(body);
  const { eventTypes: imported, problems } = eventTypesFromOpenApi(spec);
  const items = problems.map((problem) => ({ loc: [...loc, ...problem.path], msg: problem.message, type: 'value_error' }));
  for (const eventType of imported) {
    const at = eventType.versions ? [...schemaPathOf(spec, eventType.name).slice(0, 3), 'x-herald-schemas'] : schemaPathOf(spec, eventType.name).slice(0, -1);
    for (const [version, msg] of schemaProblems(eventType.versions ?? (eventType.schema ? { schema: eventType.schema } : null))) {
      items.push({ loc: [...loc, ...at, version], msg, type: 'value_error.jsonschema' });
    }
  }
  if (items.length > 0) throw new HttpError(422, 'validation', items);

  const now = ctx.clock.now();
  const changes: Array<{ next: EventType; existing: EventType | null }> = [];
  for (const eventType of imported) {
    const existing = await ctx.store.eventTypes.get(eventType.name);
    const next: EventType = {
      ...(existing ?? { name: eventType.name, retrySchedule: null, createdAt: now }),
      description: eventType.description,
      deprecated: eventType.deprecated,
      archived: false,
      schemas: importedSchemas(existing?.schemas ?? null, eventType),
      featureFlag: eventType.featureFlag !== undefined ? eventType.featureFlag : (existing?.featureFlag ?? null),
      schemaValidation: eventType.schemaValidation !== undefined ? eventType.schemaValidation : (existing?.schemaValidation ?? null),
      updatedAt: now,
    };
    if (!existing || !sameEventType(existing, next)) changes.push({ next, existing });
  }
  const named = new Set(imported.map((eventType) => eventType.name));
  const archivals = body.replaceAll ? (await allEventTypes(ctx, false)).filter((eventType) => !named.has(eventType.name)) : [];
  if (body.dryRun) {
    return {
      modified: [],
      to_modify: [...changes.map(({ next }) => next), ...archivals.map((eventType) => ({ ...eventType, archived: true }))].map((eventType) => ({
        name: eventType.name, description: eventType.description, schemas: eventType.schemas, deprecated: eventType.deprecated,
        featureFlags: eventType.featureFlag ? [eventType.featureFlag] : null, groupName: null,
      })),
    };
  }
  for (const { next, existing } of changes) {
    if (existing) await ctx.store.eventTypes.update(next);
    else await orConflict(ctx.store.eventTypes.create(next), `Event type ${next.name} was created meanwhile; import again.`);
  }
  for (const eventType of archivals) await ctx.store.eventTypes.update({ ...eventType, archived: true, updatedAt: now });
  return { modified: [...changes.map(({ next }) => next.name), ...archivals.map((eventType) => eventType.name)], to_modify: null };
}

// Whatever the order of keys: PostgreSQL's jsonb keeps its own.
const sameEventType = (a: EventType, b: EventType) => {
  const comparable = (e: EventType) => [e.description, e.deprecated, e.archived, e.schemas, e.featureFlag, e.schemaValidation ?? null];
  return isDeepStrictEqual(comparable(a), comparable(b));
};

/**
 * The fields a body gives a new event type, or an existing one it replaces (PUT): each one left
 * out takes its default, where a PATCH leaves it as it was.
 */
function fieldsWithDefaults(body: Omit<EventTypeIn, 'name'>): Required<EventTypePatch> {
  return {
    description: body.description,
    schemas: body.schemas ?? null,
    archived: body.archived ?? false,
    deprecated: body.deprecated ?? false,
    featureFlag: body.featureFlag ?? null,
    schemaValidation: body.schemaValidation ?? null,
  };
}

function newEventType(ctx: ApiContext, body: EventTypeIn): EventType {
  const now = ctx.clock.now();
  return { name: body.name, ...fieldsWithDefaults(body), createdAt: now, updatedAt: now };
}
