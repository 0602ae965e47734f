import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { isUtf8 } from 'node:buffer';
import { Type } from 'typebox';
import { isSecretLookingHeader } from '../../core/bins.ts';
import type { Message } from '../../core/model.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { planPage } from '../pagination.ts';
import { ListQuery } from '../schemas.ts';
import { iso, listOut } from '../views.ts';

const SourcePath = Type.Object({ sourceId: Type.String() });
const RequestPath = Type.Object({ sourceId: Type.String(), requestId: Type.String() });
const RevealQuery = Type.Object({ reveal: Type.Optional(Type.Boolean()) });

/**
 * The requests a source received, as the dashboard lists them: Herald's addition beside Svix
 * Ingest's API. They are the source's messages (a received request is stored as one, rejected
 * ones too, with their diagnosis), so `id` is the message's id and these routes read what
 * `/ingest/api/v1/source/{source}/msg` reads, shaped as requests: how each came, whether its
 * signature checked out and why not, and (one at a time) its headers and body. Admin tokens only,
 * as every route of a source.
 */
export function sourceRequestRoutes(server: FastifyInstance, ctx: ApiContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/api/v1/source/:sourceId/request';
  const findSource = async (idOrUid: string) => (await ctx.store.sources.get(idOrUid)) ?? Promise.reject(notFound('Source'));

  // Newest first, paged as Svix lists are.
  app.get(base, { schema: { params: SourcePath, querystring: ListQuery } }, async (request) => {
    const source = await findSource(request.params.sourceId);
    const plan = planPage(request.query, 'desc', 'message');
    const filter = { eventTypes: null, channel: null, before: null, after: null };
    const page = await ctx.store.messages.list(source.id, filter, plan.page);
    return listOut(page, plan, (m) => m.id, receivedRequestOut);
  });

  app.get(`${base}/:requestId`, { schema: { params: RequestPath, querystring: RevealQuery } }, async (request) => {
    const source = await findSource(request.params.sourceId);
    const message = await ctx.store.messages.get(source.id, request.params.requestId);
    if (!message) throw notFound('Request');
    return receivedRequestDetailOut(message, request.query.reveal ?? false);
  });
}

/** One received request in a list: no headers, no body. */
export function receivedRequestOut(message: Message) {
  const inbound = message.inbound ?? null;
  return {
    id: message.id,
    messageId: message.id,
    receivedAt: iso(message.createdAt),
    method: inbound?.method ?? null,
    url: inbound?.url ?? null,
    /** Null when the source's type verifies nothing. */
    verified: inbound?.verified ?? null,
    diagnosis: inbound?.diagnosis ?? null,
    duplicateOf: inbound?.duplicateOf ?? null,
    eventType: message.eventType,
    eventId: message.eventId,
    size: message.payload.byteLength,
    payloadErased: message.payloadErasedAt != null,
  };
}

/**
 * One received request with its headers, as request bins show theirs (`{name, value}`; one named
 * like a credential reads `{name, value: null, masked: true}` unless `reveal`), and its body as
 * text when it is UTF-8 (else null) and as base64. The headers that carry the source's own secret
 * are sealed at rest and never shown, reveal or not.
 */
export function receivedRequestDetailOut(message: Message, reveal: boolean) {
  const sealed = new Set(message.inbound?.secretHeaders ?? []);
  const body = Buffer.from(message.payload.buffer, message.payload.byteOffset, message.payload.byteLength);
  const erased = message.payloadErasedAt != null;
  return {
    ...receivedRequestOut(message),
    headers: Object.entries(message.inbound?.headers ?? {}).map(([name, value]) =>
      sealed.has(name) || (!reveal && isSecretLookingHeader(name)) ? { name, value: null, masked: true } : { name, value }),
    body: !erased && isUtf8(body) ? body.toString('utf8') : null,
    bodyBase64: erased ? null : body.toString('base64'),
  };
}
