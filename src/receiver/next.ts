import { WebhookVerificationError } from './errors.ts';
import { refusal, type WebhookHandlerOptions, tooLarge, webhookProcessor } from './handler.ts';

export type { WebhookHandlerOptions } from './handler.ts';

/**
 * A Next.js App Router route handler (`app/webhooks/route.ts`) that verifies a Standard Webhooks
 * delivery and runs `handler`:
 *
 *     export const POST = nextWebhook({ secret: process.env.WEBHOOK_SECRET!, handler: async (event, { request }) => … });
 *
 * It is a plain Fetch handler, `(request: Request) => Promise<Response>`, so it serves any
 * runtime built on Web requests as well (Remix, Bun.serve, Deno.serve with node:crypto). The body
 * is read once with `request.arrayBuffer()`, so the request must reach it unread (else 500
 * `raw_body_unavailable`); a body declared or found larger than `maxBodyBytes` is answered 413.
 * Handler errors are thrown to the framework (Next.js answers 500).
 */
export function nextWebhook(options: WebhookHandlerOptions<{ request: Request }>): (request: Request) => Promise<Response> {
  const processor = webhookProcessor(options);
  return async (request) => {
    if (request.bodyUsed) {
      return respond(refusal(new WebhookVerificationError('raw_body_unavailable',
        'The request body was already read (request.json()?) before the webhook handler, so its bytes are gone; pass the request to it unread.')));
    }
    if (Number(request.headers.get('content-length')) > processor.maxBodyBytes) return respond(tooLarge(processor.maxBodyBytes));
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.length > processor.maxBodyBytes) return respond(tooLarge(processor.maxBodyBytes));
    return respond(await processor.process(body, request.headers, { request }));
  };
}

function respond(answer: { status: number; headers: Record<string, string>; body: string }): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
