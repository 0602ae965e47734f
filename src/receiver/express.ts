import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebhookVerificationError } from './errors.ts';
import { refusal, tooLarge, type WebhookAnswer, type WebhookHandlerOptions, webhookProcessor } from './handler.ts';

export type { WebhookHandlerOptions } from './handler.ts';

/** What Express (4 or 5), Connect or plain `node:http` hand a handler: `req` may carry a `body`. */
export type ExpressRequestLike = IncomingMessage & { body?: unknown; _body?: boolean };

/**
 * An Express route handler that verifies a Standard Webhooks delivery and runs `handler`:
 *
 *     app.post('/webhooks', expressWebhook({ secret, handler: async (event, { req, res }) => … }));
 *
 * It reads the raw body from the request stream itself, so it needs no body parser on its route;
 * it also works after `express.raw({ type: '*\/*' })`, whose Buffer it takes. It cannot work after
 * `express.json()` (or any parser that consumed the stream and kept only an object): mount the
 * route before the JSON parser. It then answers 500 `raw_body_unavailable`, since a
 * re-serialised body would not match the signature. Handler errors go to `next` (Express's
 * error handler), or are answered 500 without one (plain `node:http`).
 */
export function expressWebhook<Req extends ExpressRequestLike = ExpressRequestLike, Res extends ServerResponse = ServerResponse>(
  options: WebhookHandlerOptions<{ req: Req; res: Res }>,
): (req: Req, res: Res, next?: (error?: unknown) => void) => void {
  const processor = webhookProcessor(options);
  return (req, res, next) => {
    void (async () => {
      const body = await rawBody(req, processor.maxBodyBytes);
      if (body === 'too-large') return send(res, tooLarge(processor.maxBodyBytes));
      if (body === 'unavailable') {
        return send(res, refusal(new WebhookVerificationError('raw_body_unavailable',
          'The request body was already parsed by another middleware (express.json()?) before the webhook route, so its bytes are gone; mount the webhook route before it, or use express.raw({ type: "*/*" }).')));
      }
      send(res, await processor.process(body, req.headers, { req, res }));
    })().catch((error: unknown) => {
      if (next) return next(error);
      if (!res.headersSent) send(res, { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'handler_failed', detail: 'The webhook handler failed.' }) });
      else res.destroy();
    });
  };
}

async function rawBody(req: ExpressRequestLike, limit: number): Promise<Uint8Array | 'too-large' | 'unavailable'> {
  // express.raw() and body-parser's raw(): the bytes as they came.
  if (req.body instanceof Uint8Array) return req.body.length > limit ? 'too-large' : req.body;
  // Something else read the stream (body-parser also marks it with _body), leaving at most a parse.
  if (req._body === true || req.readableDidRead || req.readableEnded) return 'unavailable';
  if (Number(req.headers['content-length']) > limit) return 'too-large';
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // Stop reading but keep the socket, to answer 413 on it (the answer closes it).
      stop();
      req.pause();
      resolve('too-large');
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    const onClose = () => {
      stop();
      reject(new Error('The request was closed before its body ended.'));
    };
    const stop = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

function send(res: ServerResponse, answer: WebhookAnswer): void {
  if (res.headersSent) return;
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}
