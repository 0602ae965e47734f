import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type BackgroundTask, type ReplayParams, type TaskKind } from '../../core/replay.ts';
import type { Endpoint, Status } from '../../core/model.ts';
import type { ApiContext } from '../context.ts';
import { invalid, notFound } from '../errors.ts';
import { planPage, timeParam } from '../pagination.ts';
import { TaskListQuery, TaskPath } from '../schemas.ts';
import { iso, listOut } from '../views.ts';

/**
 * Svix's `BackgroundTaskOut`. `data` holds Herald's progress: messages of the window examined,
 * those the task applies to (`matched`), those it queued, and of those how many are `done`
 * (delivered or failed again); `canceled` when it was stopped.
 */
export async function taskOut(ctx: ApiContext, task: BackgroundTask) {
  return {
    id: task.id,
    status: task.status,
    task: task.kind,
    updatedAt: iso(task.updatedAt),
    data: { ...task.progress, done: task.params.dryRun ? 0 : await ctx.store.tasks.finished(task.id), dryRun: task.params.dryRun, pace: task.params.pace },
  };
}

/** What a replay's body asks for, checked: its window and Herald's extensions. */
export function replayParams(
  ctx: ApiContext,
  body: { since: string; until?: string | null; dryRun?: boolean; pace?: number | null; eventTypes?: string[] | null; channel?: string | null; status?: number | null },
): ReplayParams {
  const since = timeParam(body.since, ['body', 'since'])!;
  const until = timeParam(body.until, ['body', 'until']) ?? ctx.clock.now();
  if (until < since) throw invalid(['body', 'until'], 'must not be before since');
  const status = body.status ?? null;
  if (status === 1 || status === 3) throw invalid(['body', 'status'], 'must be 0 (success) or 2 (fail): deliveries pending or under way are never replayed');
  return {
    since,
    until,
    eventTypes: body.eventTypes ?? null,
    channel: body.channel ?? null,
    statuses: status === null ? null : [status as Status],
    dryRun: body.dryRun ?? false,
    pace: body.pace ?? null,
  };
}

/** Stores a new task for a worker to run, and answers as Svix does (202, the task without its data). */
export async function startTask(ctx: ApiContext, kind: TaskKind, endpoint: Endpoint, params: ReplayParams) {
  const now = ctx.clock.now();
  const task = await ctx.store.tasks.create({
    id: ctx.ids('task'),
    kind,
    status: 'running',
    appId: endpoint.appId,
    endpointId: endpoint.id,
    params,
    progress: { examined: 0, matched: 0, queued: 0 },
    cursor: null,
    paceAt: now,
    createdAt: now,
    updatedAt: now,
  });
  ctx.tasksCreated?.();
  return { id: task.id, status: task.status, task: task.kind, updatedAt: iso(task.updatedAt) };
}

/** Svix's background-task routes (admin), and Herald's cancel. */
export function backgroundTaskRoutes(server: FastifyInstance, ctx: ApiContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const find = async (id: string) => (await ctx.store.tasks.get(id)) ?? Promise.reject(notFound('Background task'));

  app.get('/api/v1/background-task', { schema: { querystring: TaskListQuery } }, async (request) => {
    const plan = planPage(request.query, 'desc', 'task');
    const page = await ctx.store.tasks.list({ status: request.query.status ?? null, kind: (request.query.task as TaskKind | undefined) ?? null }, plan.page);
    const out = await Promise.all(page.items.map((task) => taskOut(ctx, task)));
    const byId = new Map(out.map((task) => [task.id, task]));
    return listOut(page, plan, (task) => task.id, (task) => byId.get(task.id)!);
  });

  // An application's token may follow the tasks it started on its own endpoints (the portal's
  // Recover); any other task is, to it, not there.
  app.get('/api/v1/background-task/:taskId', { config: { access: 'ViewBase' }, schema: { params: TaskPath } }, async (request) => {
    const task = await find(request.params.taskId);
    const principal = request.principal;
    if (principal?.kind === 'app' && principal.appId !== task.appId) throw notFound('Background task');
    return taskOut(ctx, task);
  });

  // Herald's extension: a running task stops after the step under way; what it queued stays queued.
  app.post('/api/v1/background-task/:taskId/cancel', { schema: { params: TaskPath } }, async (request) => {
    await find(request.params.taskId);
    return taskOut(ctx, (await ctx.store.tasks.cancel(request.params.taskId, ctx.clock.now()))!);
  });
}
