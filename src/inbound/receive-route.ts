import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { digest } from '../api/auth.ts';
import type { ApiContext } from '../api/context.ts';
import { HttpError, sendError } from '../api/errors.ts';
import { receive } from './receive.ts';
import { parseJson } from './request.ts';

const TokenPath = Type.Object({ token: Type.String() });

/**
 * The URL providers call: `/in/<token>`. The body is taken as raw bytes whatever its content
 * type (the encapsulated context replaces Fastify's parsers), because every signature is over the
 * exact bytes. The answer goes out once what was received is committed, before any forwarding.
 */
export function receiveRoutes(server: FastifyInstance, ctx: ApiContext, options: { maxPayloadBytes: number; publicUrl: string | null }): void {
  // By the digest of the URL token; the store's config cache keeps them, and forgets a source the
  // moment its token is rotated, here or (on PostgreSQL) in any other process.
  const sourceFor = (token: string) => ctx.store.sources.getByTokenDigest(digest(token));

  server.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.maxPayloadBytes }, (_request, body, done) => done(null, body));

    scope.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url: '/in/:token',
      config: { access: 'public' },
      schema: { params: TokenPath },
      handler: async (request, reply) => {
        const source = await sourceFor((request.params as { token: string }).token);
        if (!source) {
          ctx.metrics?.inbound('unknown', 'unknown_source');
          return sendError(reply, new HttpError(404, 'not_found', 'No source has this URL; it may have been rotated.'));
        }
        const methods = (source.config.methods as string[] | undefined) ?? ['POST'];
        if (!methods.includes(request.method)) {
          return sendError(reply.header('allow', methods.join(', ')), new HttpError(405, 'method_not_allowed', `This source takes ${methods.join(', ')}.`));
        }
        const base = options.publicUrl ?? `${request.protocol}://${request.host}`;
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const outcome = await receive(ctx.store, ctx.publisher, source, {
          method: request.method,
          url: base + request.raw.url,
          headers: flatHeaders(request.headers),
          body,
          json: parseJson(body),
          nowSeconds: Math.floor(ctx.clock.now() / 1000),
        });
        ctx.metrics?.inbound(source.type, outcome.kind === 'accepted' ? (outcome.duplicateOf ? 'duplicate' : 'verified') : outcome.kind);
        switch (outcome.kind) {
          case 'handshake':
            return reply.code(outcome.reply.status).send(outcome.reply.body);
          case 'rejected':
            return sendError(reply.header('herald-message-id', outcome.messageId), new HttpError(401, 'signature_invalid', outcome.diagnosis));
          case 'accepted':
            return reply.code(200).header('herald-message-id', outcome.messageId).send();
        }
      },
    });
  });
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}
