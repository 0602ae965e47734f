import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { type Application, type Endpoint, FAILURE_REASONS, type FailureReason, Status } from '../../core/model.ts';
import type { RetryPolicy } from '../../core/retry-policy.ts';
import { generateSecret } from '../../core/signing.ts';
import { decide } from '../../delivery/attempt.ts';
import { deliveryHeaders, receivedHeaders } from '../../delivery/request-headers.ts';
import { withSecrets } from '../../store/encrypted-store.ts';
import { StoreError } from '../../store/errors.ts';
import type { ClaimedDelivery } from '../../store/store.ts';
import { type ApiContext, APP_SCOPE, type OwnerScope } from '../context.ts';
import { HttpError, notFound } from '../errors.ts';
import { iso } from '../views.ts';

export interface ListenOptions {
  /** A session keeps at most this many unfinished deliveries (HERALD_LISTEN_MAX_EVENTS)... */
  maxEvents: number;
  /** ...none older than this (HERALD_LISTEN_MAX_AGE); the oldest are dropped first, and counted. */
  maxAgeMs: number;
  /** The retry schedule a local answer other than 2xx follows, as a sent delivery's would. */
  retry: RetryPolicy;
}

const NAME_PATTERN = '^[a-zA-Z0-9\\-_.]+$';
const SessionName = Type.String({ minLength: 1, maxLength: 128, pattern: NAME_PATTERN });
const Names = Type.Array(Type.String({ minLength: 1, maxLength: 256, pattern: NAME_PATTERN }), { minItems: 1, maxItems: 100, uniqueItems: true });
/** A consumer's own id for itself (the CLI makes a random one per run): the last to open a session holds it. */
const Listener = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });
const SessionIn = Type.Object({
  name: Type.Optional(SessionName),
  listener: Type.Optional(Listener),
  eventTypes: Type.Optional(Type.Union([Names, Type.Null()])),
  channels: Type.Optional(Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: 10, uniqueItems: true }), Type.Null()])),
});
const AppPath = Type.Object({ appId: Type.String() });
const SessionPath = Type.Object({ appId: Type.String(), sessionId: Type.String() });
const ResultPath = Type.Object({ appId: Type.String(), sessionId: Type.String(), msgId: Type.String() });
const ListenerQuery = Type.Object({ listener: Type.Optional(Listener) });
const NextQuery = Type.Object({
  /** Seconds to wait for a delivery when none is due (a long poll). */
  wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 60 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  /** How long the consumer holds what it is given before another may take it. */
  lease_ms: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 600_000 })),
  listener: Type.Optional(Listener),
});
const ResultIn = Type.Object({
  lease: Type.Integer({ minimum: 0 }),
  /** What the local service answered; 0 when it did not (then `failure` says why). */
  statusCode: Type.Integer({ minimum: 0, maximum: 999 }),
  durationMs: Type.Integer({ minimum: 0 }),
  /** The first bytes of the local answer's body, or what went wrong. */
  response: Type.String({ maxLength: 65_536 }),
  /** Where the consumer forwarded it, kept as the attempt's URL. */
  url: Type.Optional(Type.String({ minLength: 1, maxLength: 65_536 })),
  failure: Type.Optional(Type.Union([...FAILURE_REASONS.map((reason) => Type.Literal(reason)), Type.Null()])),
  retryAfter: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
  /** Record a failure and go on to the next delivery instead of retrying this one. */
  noRetry: Type.Optional(Type.Boolean()),
});

/** How often a long poll looks again for due deliveries. */
const POLL_MS = 100;
/** How often a waiting poll looks whether its session was taken over. */
const TAKEOVER_LOOK_MS = 1_000;
const DEFAULT_LEASE_MS = 60_000;

/**
 * `herald listen`'s side of the API. A listen session is an endpoint of the application (or the
 * source) whose deliveries are not sent by the dispatcher but wait for the session's consumer,
 * which pulls them here in arrival order under a lease, forwards them itself, and reports what it
 * was answered; the answer becomes an attempt, and the retry policy decides what follows, exactly
 * as for a sent delivery (design invariant 7: one queue).
 */
export function listenRoutes(server: FastifyInstance, ctx: ApiContext, options: ListenOptions, scope: OwnerScope = APP_SCOPE): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  let closing = false;
  server.addHook('preClose', async () => {
    closing = true;
  });

  const findSession = async (appId: string, sessionId: string) => {
    const application = await scope.find(ctx, appId);
    const endpoint = (await ctx.store.endpoints.get(application.id, sessionId)) ?? (await ctx.store.endpoints.getListen(application.id, sessionId));
    if (!endpoint?.listen) throw notFound('Listen session');
    return { application, endpoint };
  };

  // A consumer that said who it is, polling or answering after another opened the session since,
  // is told so: it stops instead of competing with the one that took over for the session's events.
  const takenOver = (endpoint: Endpoint, listener: string | undefined) => {
    if (listener !== undefined && endpoint.listen?.listener !== undefined && endpoint.listen.listener !== listener) {
      throw new HttpError(409, 'taken_over', `Another listener opened session ${endpoint.listen.name} since: it holds the session's events now.`);
    }
  };

  const sessionOut = async (endpoint: Endpoint, withSecret: boolean) => {
    const stats = await ctx.store.queue.stats(endpoint.id, { before: null, after: null });
    return {
      id: endpoint.id,
      name: endpoint.listen!.name,
      eventTypes: endpoint.eventTypes,
      channels: endpoint.channels,
      /** Deliveries waiting for the consumer, or leased to it. */
      pending: stats.pending + stats.sending,
      /** Deliveries the session's bounds dropped unread since it was created. */
      dropped: endpoint.listen!.dropped,
      maxEvents: options.maxEvents,
      maxAgeMs: options.maxAgeMs,
      ...(withSecret ? { secret: withSecrets(endpoint).secrets[0]?.key ?? null } : {}),
      createdAt: iso(endpoint.createdAt),
    };
  };

  // Opens the session, creating it the first time: the consumer that opens it takes it over, so
  // what an earlier one (killed, or asleep) held is handed out again at once, retries waiting
  // included, rather than after their leases.
  app.post(`${scope.base}/listen`, { config: { access: scope.access('ManageEndpoint'), secretResponse: true }, schema: { params: AppPath, body: SessionIn } }, async (request, reply) => {
    const application = await scope.find(ctx, request.params.appId);
    const name = request.body.name ?? 'default';
    const now = ctx.clock.now();
    let endpoint = await ctx.store.endpoints.getListen(application.id, name);
    let created = false;
    if (!endpoint) {
      try {
        endpoint = await ctx.store.endpoints.create(newSession(ctx, application, name, request.body, now));
        created = true;
      } catch (error) {
        // Opened at the same moment by another consumer: use the one that won.
        if (!(error instanceof StoreError && error.code === 'conflict')) throw error;
        endpoint = await ctx.store.endpoints.getListen(application.id, name);
        if (!endpoint) throw error;
      }
    }
    if (!created) {
      const filters = { eventTypes: request.body.eventTypes, channels: request.body.channels };
      if (filters.eventTypes !== undefined || filters.channels !== undefined) {
        endpoint = await ctx.store.endpoints.update({
          ...endpoint,
          ...(filters.eventTypes !== undefined ? { eventTypes: filters.eventTypes } : {}),
          ...(filters.channels !== undefined ? { channels: filters.channels } : {}),
          updatedAt: now,
        });
      }
      await ctx.store.queue.releasePulled(endpoint.id, now, true);
      // What piled up while no listener took it is bounded here, when one comes back (a pull of
      // none applies the bounds and leases nothing); its own polls then bound it by age only, so
      // a burst bigger than the bound, to a listener taking it slowly, loses nothing.
      await ctx.store.queue.pull({ endpointId: endpoint.id, now, limit: 0, leaseMs: 0, keep: options.maxEvents, olderThan: now - options.maxAgeMs });
    }
    if (request.body.listener !== undefined) {
      await ctx.store.endpoints.setListener(application.id, endpoint.id, request.body.listener);
      endpoint = { ...endpoint, listen: { ...endpoint.listen!, listener: request.body.listener } };
    }
    reply.code(created ? 201 : 200);
    return sessionOut(endpoint, true);
  });

  // Every live session of the owner, oldest first: sessions are few (one per laptop, say), so one page.
  app.get(`${scope.base}/listen`, { config: { access: scope.access('ViewBase') }, schema: { params: AppPath } }, async (request) => {
    const application = await scope.find(ctx, request.params.appId);
    const sessions = (await ctx.store.endpoints.listEnabled(application.id)).filter((endpoint) => endpoint.listen).sort((a, b) => a.createdAt - b.createdAt);
    return { data: await Promise.all(sessions.map((endpoint) => sessionOut(endpoint, false))), done: true, iterator: null, prevIterator: null };
  });

  app.get(`${scope.base}/listen/:sessionId`, { config: { access: scope.access('ViewBase') }, schema: { params: SessionPath } }, async (request) => {
    const { endpoint } = await findSession(request.params.appId, request.params.sessionId);
    return sessionOut(endpoint, false);
  });

  app.delete(`${scope.base}/listen/:sessionId`, { config: { access: scope.access('ManageEndpoint') }, schema: { params: SessionPath } }, async (request, reply) => {
    const { application, endpoint } = await findSession(request.params.appId, request.params.sessionId);
    await ctx.store.endpoints.delete(application.id, endpoint.id, ctx.clock.now());
    return reply.code(204).send();
  });

  // A POST, since it leases what it returns. Waits up to `wait` seconds for something due.
  app.post(`${scope.base}/listen/:sessionId/next`, { config: { access: scope.access('ManageEndpoint') }, schema: { params: SessionPath, querystring: NextQuery } }, async (request, reply) => {
    const { endpoint } = await findSession(request.params.appId, request.params.sessionId);
    const { wait = 0, limit = 10, lease_ms: leaseMs = DEFAULT_LEASE_MS, listener } = request.query;
    takenOver(endpoint, listener);
    let gone = false;
    reply.raw.once('close', () => (gone = true));
    const deadline = ctx.clock.now() + wait * 1000;
    let claimed: ClaimedDelivery[] = [];
    let lookedAt = ctx.clock.now();
    for (;;) {
      const now = ctx.clock.now();
      // A waiting poll looks once a second whether another listener took the session over, so the
      // earlier one hears of it within a second rather than at the end of its wait.
      if (listener !== undefined && now - lookedAt >= TAKEOVER_LOOK_MS) {
        lookedAt = now;
        takenOver((await ctx.store.endpoints.get(endpoint.appId, endpoint.id)) ?? endpoint, listener);
      }
      claimed = await ctx.store.queue.pull({
        endpointId: endpoint.id, now, limit, leaseMs, keep: Number.MAX_SAFE_INTEGER, olderThan: now - options.maxAgeMs,
      });
      if (claimed.length > 0 || now >= deadline || closing || gone) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const now = ctx.clock.now();
    // Taken over while the poll waited: what it leased goes back, due at once, to the listener
    // that holds the session now. Looked at only when there is something to give back.
    if (claimed.length > 0 && listener !== undefined) {
      const current = (await ctx.store.endpoints.get(endpoint.appId, endpoint.id)) ?? endpoint;
      try {
        takenOver(current, listener);
      } catch (error) {
        await ctx.store.queue.release(claimed, now);
        throw error;
      }
    }
    const session = await ctx.store.endpoints.get(endpoint.appId, endpoint.id);
    return {
      data: claimed.map((delivery) => pulledOut(delivery, now)),
      dropped: session?.listen?.dropped ?? endpoint.listen!.dropped,
    };
  });

  app.post(`${scope.base}/listen/:sessionId/msg/:msgId/result`, { config: { access: scope.access('ManageEndpoint') }, schema: { params: ResultPath, body: ResultIn, querystring: ListenerQuery } }, async (request) => {
    const { application, endpoint } = await findSession(request.params.appId, request.params.sessionId);
    takenOver(endpoint, request.query.listener);
    const message = await ctx.store.messages.get(application.id, request.params.msgId);
    const delivery = message && (await ctx.store.queue.getPulled(endpoint.id, message.id));
    if (!message || !delivery) throw notFound('Delivery');
    const body = request.body;
    if (delivery.status !== Status.sending || delivery.lease !== body.lease) {
      throw new HttpError(409, 'lease_lost', 'This delivery is no longer leased to you (its lease ran out, or another consumer took the session over): it will be handed out again.');
    }
    const finishedAt = ctx.clock.now();
    const result = decide(
      { random: ctx.random, ids: ctx.ids, retry: options.retry },
      { ...delivery, attemptNumber: delivery.attemptCount + 1, message, endpoint: { id: endpoint.id, url: body.url ?? endpoint.url } },
      {
        statusCode: body.statusCode,
        body: body.response,
        retryAfter: body.retryAfter ?? null,
        durationMs: body.durationMs,
        failure: (body.failure ?? (body.statusCode === 0 ? 'network' : null)) as FailureReason | null,
      },
      finishedAt - body.durationMs,
      finishedAt,
      { retry: !body.noRetry },
    );
    // A local 410 is the laptop's answer, not a reason to close the session.
    await ctx.store.queue.complete([{ ...result, disableEndpoint: false }]);
    // Waiting for a retry holds back what was leased after it, which goes back to wait behind it.
    if (result.next.status === Status.pending) await ctx.store.queue.releasePulled(endpoint.id, finishedAt, false);
    return {
      attemptId: result.attempt.id,
      status: result.next.status === Status.success ? 'success' : result.next.status === Status.pending ? 'pending' : 'fail',
      nextAttempt: result.next.status === Status.pending ? iso(result.next.runAt) : null,
    };
  });
}

function newSession(ctx: ApiContext, application: Application, name: string, body: Static<typeof SessionIn>, now: number): Endpoint {
  return {
    id: ctx.ids('endpoint'),
    appId: application.id,
    uid: null,
    url: `listen://${name}`,
    description: `herald listen session ${name}`,
    eventTypes: body.eventTypes ?? null,
    channels: body.channels ?? null,
    disabled: false,
    metadata: {},
    throttleRate: null,
    headers: {},
    secrets: [{ key: generateSecret(ctx.random), expiresAt: null }],
    createdAt: now,
    updatedAt: now,
    listen: { name, dropped: 0 },
  };
}

/**
 * A pulled delivery as the consumer forwards it: the request Herald would have sent, signed now;
 * or a received request as it came (its method, its headers and its body's bytes, so the local
 * service can check the provider's own signature).
 */
function pulledOut(delivery: ClaimedDelivery, now: number) {
  const inbound = delivery.message.inbound ?? null;
  return {
    msgId: delivery.message.id,
    eventType: delivery.message.eventType,
    lease: delivery.lease,
    attemptNumber: delivery.attemptNumber,
    method: inbound?.method ?? 'POST',
    /** The URL the provider called, for a received request (its token shown as `{token}`). */
    url: inbound?.url ?? null,
    headers: inbound ? receivedHeaders(delivery) : deliveryHeaders(delivery, now),
    bodyBase64: Buffer.from(delivery.message.payload).toString('base64'),
  };
}
