import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { digest } from '../api/auth.ts';
import type { ApiContext } from '../api/context.ts';
import { HttpError, sendError } from '../api/errors.ts';
import { type Bin, type BinAnswer, type BinRequest, pickAnswer, type RawHeader, secretHeaderPositions } from '../core/bins.ts';
import { StoreError } from '../store/errors.ts';

export interface CaptureOptions {
  maxPayloadBytes: number;
  /** Requests each bin keeps (HERALD_BIN_MAX_REQUESTS). */
  maxRequests: number;
  /** The longest a request is held open (HERALD_BIN_MAX_HOLD). */
  maxHoldMs: number;
}

/** The methods a bin captures: every one Fastify routes but QUERY, which it refuses without a content type. */
export const CAPTURED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The header naming the captured request in a bin's answer, so a sender's log leads to it. */
export const REQUEST_ID_HEADER = 'herald-request-id';

const TokenPath = Type.Object({ token: Type.String() });
const PREFIX = '/bin/';

/**
 * Routes a bin's URL by its token alone (Fastify's `rewriteUrl`): the router decodes what it
 * routes and refuses malformed escapes (`%zz`), and a bin keeps whatever path and query it is
 * sent, which its handler reads from the URL as it came (`request.originalUrl`). Every other URL
 * passes unchanged.
 */
export function routeBinByToken(url: string): string {
  if (!url.startsWith(PREFIX)) return url;
  const end = url.slice(PREFIX.length).search(/[/?]/);
  return end === -1 ? url : url.slice(0, PREFIX.length + end);
}

/**
 * The URL a bin is reached at: `/bin/<token>`, plus any sub-path and query (see
 * `routeBinByToken`). The request is kept byte for byte (method, what follows the token, headers
 * as `rawHeaders` lists them, the body's bytes whatever its content type), committed, and only
 * then answered as the bin says. The body is read as raw bytes by the encapsulated context's one
 * parser, as a source's URL reads it.
 *
 * Requests held open (a delay, the timeout rule) are let go when the server closes: a delayed one
 * is answered at once, a held one has its connection closed.
 */
export function binCaptureRoutes(server: FastifyInstance, ctx: ApiContext, options: CaptureOptions): void {
  const holds = new Set<() => void>();
  // Set once the server starts closing: a capture committed after that holds nothing.
  let closing = false;
  server.addHook('preClose', (done) => {
    closing = true;
    for (const release of holds) release();
    done();
  });

  /** Resolves after `ms`, when the client goes away, or when the server closes, whichever is first. */
  const hold = (response: ServerResponse, ms: number) => new Promise<void>((resolve) => {
    if (closing) return resolve();
    const release = () => {
      clearTimeout(timer);
      response.removeListener('close', release);
      holds.delete(release);
      resolve();
    };
    const timer = setTimeout(release, ms);
    response.once('close', release);
    holds.add(release);
  });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const bin = await ctx.store.bins.getByTokenDigest(digest((request.params as { token: string }).token));
    if (!bin) return sendError(reply, new HttpError(404, 'not_found', 'No bin has this URL; it may have been deleted or its URL rotated.'));
    const body = Buffer.isBuffer(request.body) ? request.body : await readBody(request.raw, options.maxPayloadBytes);
    const { path, query } = splitUrl(request.originalUrl);
    const headers = pairs(request.raw.rawHeaders);
    const answer = pickAnswer(bin.rules, bin.response, ctx.random.fraction());
    const captured: BinRequest = {
      id: ctx.ids('binRequest'),
      binId: bin.id,
      seq: 0,
      method: request.method,
      path,
      query,
      headers,
      secretHeaders: secretHeaderPositions(headers),
      body,
      size: body.byteLength,
      ip: request.raw.socket.remoteAddress ?? '',
      responseStatus: answer.status,
      rule: answer.rule,
      createdAt: ctx.clock.now(),
    };
    try {
      await ctx.store.bins.capture(captured, options.maxRequests);
    } catch (error) {
      if (error instanceof StoreError && error.code === 'missing') return sendError(reply, new HttpError(404, 'not_found', 'This bin was deleted.'));
      throw error;
    }
    if (answer.rule === 'timeout') {
      // Held until the client gives up, or for the longest hold, then dropped without an answer.
      reply.hijack();
      await hold(reply.raw, options.maxHoldMs);
      reply.raw.destroy();
      return;
    }
    if (bin.response.delayMs > 0) await hold(reply.raw, Math.min(bin.response.delayMs, options.maxHoldMs));
    if (reply.raw.destroyed) return reply.hijack(); // the client gave up waiting: nothing to answer
    return answerWith(reply, bin, answer, captured.id);
  };

  server.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.maxPayloadBytes }, (_request, body, done) => done(null, body));
    // Fastify answers 415 to a content type it cannot even parse before any parser runs; a bin
    // takes any bytes. Its handler reads the headers from rawHeaders, which this leaves as they came.
    scope.addHook('onRequest', (request, _reply, done) => {
      delete request.raw.headers['content-type'];
      done();
    });
    scope.route({
      method: CAPTURED_METHODS,
      url: '/bin/:token',
      exposeHeadRoute: false,
      config: { access: 'public' },
      schema: { params: TokenPath },
      handler,
    });
  });
}

function answerWith(reply: FastifyReply, bin: Bin, answer: Exclude<BinAnswer, { rule: 'timeout' }>, requestId: string) {
  reply.header(REQUEST_ID_HEADER, requestId);
  switch (answer.rule) {
    case 'configured':
      return reply.code(answer.status).headers(bin.response.headers).send(bin.response.body);
    case 'fail':
      return reply.code(answer.status).type('text/plain; charset=utf-8')
        .send(`Failed on purpose: this bin answers ${answer.status} to ${Math.round(bin.rules.failRate * 100)}% of requests.\n`);
    case 'rateLimit':
      return reply.code(429).header('retry-after', String(answer.retryAfterSeconds)).type('text/plain; charset=utf-8')
        .send(`Rate limited on purpose: this bin answers 429 to ${Math.round(bin.rules.rateLimitRate * 100)}% of requests.\n`);
  }
}

/** What follows `/bin/<token>` up to any `?` (`''` or starting with `/`), and what follows the first `?`. */
export function splitUrl(url: string): { path: string; query: string | null } {
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  const afterToken = path.indexOf('/', PREFIX.length);
  return { path: afterToken === -1 ? '' : path.slice(afterToken), query: mark === -1 ? null : url.slice(mark + 1) };
}

function pairs(raw: readonly string[]): RawHeader[] {
  const headers: RawHeader[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i]!, raw[i + 1]!]);
  return headers;
}

/**
 * The body of a request Fastify does not read (GET and HEAD): a bin keeps whatever was sent, with
 * the same limit as any other body.
 */
function readBody(raw: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(raw.headers['content-length'] ?? 0);
  if (raw.headers['transfer-encoding'] === undefined && !(declared > 0)) return Promise.resolve(Buffer.alloc(0));
  if (declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    raw.on('data', (part: Buffer) => {
      size += part.length;
      if (size > limit) {
        raw.removeAllListeners('data');
        reject(tooLarge());
        return;
      }
      parts.push(part);
    });
    raw.on('end', () => resolve(Buffer.concat(parts)));
    raw.on('error', reject);
  });
}

const tooLarge = () => new HttpError(413, 'payload_too_large', 'The request body is larger than this server accepts.', { connection: 'close' });
