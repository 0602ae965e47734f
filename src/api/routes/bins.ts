import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static, type TSchema, Type } from 'typebox';
import { binStreams } from '../../bins/live-stream.ts';
import { type Bin, type BinResponse, type BinRules, DEFAULT_BIN_RESPONSE, DEFAULT_BIN_RULES } from '../../core/bins.ts';
import { isId } from '../../core/ids.ts';
import { digest } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { invalid, notFound } from '../errors.ts';
import { planPage } from '../pagination.ts';
import { ListQuery } from '../schemas.ts';
import { binOut, binRequestOut, listOut } from '../views.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Rate = Type.Number({ minimum: 0, maximum: 1 });
const BinResponseIn = Type.Object({
  status: Type.Optional(Type.Integer({ minimum: 200, maximum: 599 })),
  headers: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String())),
  body: Type.Optional(Type.String()),
  delayMs: Type.Optional(Type.Integer({ minimum: 0 })),
});
const BinRulesIn = Type.Object({
  failRate: Type.Optional(Rate),
  failStatus: Type.Optional(Type.Integer({ minimum: 300, maximum: 599 })),
  rateLimitRate: Type.Optional(Rate),
  retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
  timeoutRate: Type.Optional(Rate),
});
/** Create and PATCH take the same fields: absent ones are the defaults or stay, null resets. */
const BinIn = Type.Object({
  name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 256 }))),
  response: Type.Optional(Nullable(BinResponseIn)),
  rules: Type.Optional(Nullable(BinRulesIn)),
});
type BinIn = Static<typeof BinIn>;
const BinPath = Type.Object({ binId: Type.String() });
const RequestPath = Type.Object({ binId: Type.String(), requestId: Type.String() });
const Reveal = { reveal: Type.Optional(Type.Boolean()) };
const RequestListQuery = Type.Object({ ...ListQuery.properties, ...Reveal, with_content: Type.Optional(Type.Boolean()) });
const RevealQuery = Type.Object(Reveal);
const StreamHeaders = Type.Object({ 'last-event-id': Type.Optional(Type.String()) });

// An RFC 9110 token, as Node's setHeader wants it; values in printable ASCII.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** Framing and hop-by-hop headers: Node sets them for the answer it sends, and another value would break it. */
const REFUSED_ANSWER_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer']);

/**
 * Request bins (Herald's own API; Svix has none): an operator's tool, so every route is for admin
 * tokens only (the default). A bin's capture URL is public and lives in bins/capture-route.ts.
 */
export function binRoutes(server: FastifyInstance, ctx: ApiContext, options: { publicUrl: string | null; maxHoldMs: number }): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/api/v1/bin';
  const streams = binStreams(ctx.store);
  server.addHook('preClose', async () => streams.close());

  const urlOf = (request: FastifyRequest, token: string) => `${options.publicUrl ?? `${request.protocol}://${request.host}`}/bin/${token}`;
  const out = (request: FastifyRequest, bin: Bin) => binOut(bin, urlOf(request, bin.token));
  const find = async (id: string) => (await ctx.store.bins.get(id)) ?? Promise.reject(notFound('Bin'));
  const newToken = () => Buffer.from(ctx.random.bytes(24)).toString('base64url');

  /** The response and rules a create or PATCH asks for, over `current`, checked as a whole. */
  function settle(body: BinIn, current: { response: BinResponse; rules: BinRules }) {
    const response = body.response === null ? DEFAULT_BIN_RESPONSE : { ...current.response, ...body.response };
    const rules = body.rules === null ? DEFAULT_BIN_RULES : { ...current.rules, ...body.rules };
    for (const [name, value] of Object.entries(response.headers)) {
      const loc = ['body', 'response', 'headers', name];
      if (!HEADER_NAME.test(name)) throw invalid(loc, 'is not a valid header name (RFC 9110 token characters only)');
      if (REFUSED_ANSWER_HEADERS.has(name.toLowerCase())) throw invalid(loc, 'describes the connection or the body\'s framing, which the server sets itself');
      if (!HEADER_VALUE.test(value)) throw invalid(loc, 'must be printable ASCII without line breaks');
    }
    if (response.delayMs > options.maxHoldMs) {
      throw invalid(['body', 'response', 'delayMs'], `must be at most ${options.maxHoldMs} (HERALD_BIN_MAX_HOLD, the longest a bin holds a request)`);
    }
    if (rules.failRate + rules.rateLimitRate + rules.timeoutRate > 1 + 1e-9) {
      throw invalid(['body', 'rules'], 'failRate, rateLimitRate and timeoutRate are shares of the same requests: together at most 1');
    }
    return { response, rules };
  }

  app.get(base, { schema: { querystring: ListQuery } }, async (request) => {
    const plan = planPage(request.query, 'asc', 'bin');
    return listOut(await ctx.store.bins.list(plan.page), plan, (bin) => bin.id, (bin) => out(request, bin));
  });

  // The answer shows the capture URL, whose token lets anyone post to the bin: never kept for replays.
  app.post(base, { config: { secretResponse: true }, schema: { body: BinIn } }, async (request, reply) => {
    const now = ctx.clock.now();
    const bin: Bin = {
      id: ctx.ids('bin'),
      name: request.body.name ?? null,
      token: newToken(),
      ...settle(request.body, { response: DEFAULT_BIN_RESPONSE, rules: DEFAULT_BIN_RULES }),
      createdAt: now,
      updatedAt: now,
      lastRequestAt: null,
      requestSeq: 0,
    };
    await ctx.store.bins.create(bin, digest(bin.token));
    return reply.code(201).send(out(request, bin));
  });

  app.get(`${base}/:binId`, { schema: { params: BinPath } }, async (request) => out(request, await find(request.params.binId)));

  app.patch(`${base}/:binId`, { schema: { params: BinPath, body: BinIn } }, async (request) => {
    const existing = await find(request.params.binId);
    const body = request.body;
    const bin = { ...existing, ...settle(body, existing), ...(body.name !== undefined ? { name: body.name } : {}), updatedAt: ctx.clock.now() };
    await ctx.store.bins.update(bin, digest(bin.token));
    return out(request, bin);
  });

  app.delete(`${base}/:binId`, { schema: { params: BinPath } }, async (request, reply) => {
    // Its live streams end on the store's announcement, on this process and any other.
    if (!(await ctx.store.bins.delete(request.params.binId))) throw notFound('Bin');
    return reply.code(204).send();
  });

  // The old URL stops capturing at once, here and (through the config channel) in every process.
  app.post(`${base}/:binId/token/rotate`, { config: { secretResponse: true }, schema: { params: BinPath } }, async (request) => {
    const existing = await find(request.params.binId);
    const bin = { ...existing, token: newToken(), updatedAt: ctx.clock.now() };
    await ctx.store.bins.update(bin, digest(bin.token));
    return { url: urlOf(request, bin.token) };
  });

  app.get(`${base}/:binId/request`, { schema: { params: BinPath, querystring: RequestListQuery } }, async (request) => {
    const bin = await find(request.params.binId);
    const { reveal = false, with_content: withContent = true } = request.query;
    const plan = planPage(request.query, 'desc', 'binRequest');
    const page = await ctx.store.bins.listRequests(bin.id, plan.page, withContent);
    return listOut(page, plan, (r) => r.id, (r) => binRequestOut(r, { reveal, withContent }));
  });

  // Registered before `/request/:requestId`, though the router prefers the static segment anyway.
  app.get(`${base}/:binId/request/stream`, { schema: { params: BinPath, querystring: RevealQuery, headers: StreamHeaders } }, async (request, reply) => {
    const bin = await find(request.params.binId);
    const lastEventId = request.headers['last-event-id'];
    let afterSeq = bin.requestSeq;
    if (lastEventId) {
      if (!isId('binRequest', lastEventId)) throw invalid(['header', 'last-event-id'], 'must be the id of an event this stream sent (a bin request id)');
      // Resumes after that request while the bin still keeps it; after one it no longer keeps, from now.
      afterSeq = (await ctx.store.bins.getRequest(bin.id, lastEventId))?.seq ?? afterSeq;
    }
    const reveal = request.query.reveal ?? false;
    reply.hijack();
    streams.open({ binId: bin.id, afterSeq, response: reply.raw, show: (r) => binRequestOut(r, { reveal }), log: request.log });
  });

  app.get(`${base}/:binId/request/:requestId`, { schema: { params: RequestPath, querystring: RevealQuery } }, async (request) => {
    const bin = await find(request.params.binId);
    const captured = await ctx.store.bins.getRequest(bin.id, request.params.requestId);
    if (!captured) throw notFound('Request');
    return binRequestOut(captured, { reveal: request.query.reveal ?? false });
  });

  app.delete(`${base}/:binId/request/:requestId`, { schema: { params: RequestPath } }, async (request, reply) => {
    const bin = await find(request.params.binId);
    if (!(await ctx.store.bins.deleteRequest(bin.id, request.params.requestId))) throw notFound('Request');
    return reply.code(204).send();
  });
}

