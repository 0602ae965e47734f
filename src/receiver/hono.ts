import { type WebhookHandlerOptions, tooLarge, webhookProcessor } from './handler.ts';

export type { WebhookHandlerOptions } from './handler.ts';

/** What the adapter uses of Hono's `Context`; described here so this module needs no Hono types. */
export interface HonoContextLike {
  req: { raw: Request; arrayBuffer(): Promise<ArrayBuffer> };
}

/**
 * A Hono handler that verifies a Standard Webhooks delivery and runs `handler`:
 *
 *     app.post('/webhooks', honoWebhook({ secret, handler: async (event, c) => … }));
 *
 * It reads the body with `c.req.arrayBuffer()`, through Hono's body cache, so a middleware that
 * read it before with `c.req.json()` or `c.req.text()` does not starve it (Hono keeps the text,
 * which gives back the same bytes for a UTF-8 body; one that read form data would not). A body
 * declared or found larger than `maxBodyBytes` is answered 413. Handler errors are thrown to
 * Hono (its `onError`, 500).
 */
export function honoWebhook<C extends HonoContextLike>(options: WebhookHandlerOptions<C>): (c: C) => Promise<Response> {
  const processor = webhookProcessor(options);
  return async (c) => {
    const headers = c.req.raw.headers;
    if (Number(headers.get('content-length')) > processor.maxBodyBytes) return respond(tooLarge(processor.maxBodyBytes));
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.length > processor.maxBodyBytes) return respond(tooLarge(processor.maxBodyBytes));
    return respond(await processor.process(body, headers, c));
  };
}

function respond(answer: { status: number; headers: Record<string, string>; body: string }): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
