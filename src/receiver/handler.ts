import { WebhookInProgressError, WebhookVerificationError } from './errors.ts';
import type { HeadersInput } from './headers.ts';
import { type IdempotencyStore, once, type OnceOptions } from './idempotency.ts';
import { verificationKeys } from './secrets.ts';
import { type VerifiedWebhook, verifyWebhook } from './verify.ts';

/** Options every framework adapter takes. `Context` is what the framework gives a handler. */
export interface WebhookHandlerOptions<Context> {
  /** The endpoint's `whsec_` secret or `whpk_` public key, or several during a rotation. */
  secret: string | readonly string[];
  /** How far `webhook-timestamp` may be from now, both ways, in seconds. Default 300. */
  toleranceSeconds?: number;
  /**
   * The largest body read, in bytes (default 1 MiB, Herald's default `HERALD_MAX_PAYLOAD`);
   * a larger one is answered 413. Raise it with Herald's limit.
   */
  maxBodyBytes?: number;
  /**
   * Runs `handler` once per `webhook-id` (see `once`): a store, or a store with `once`'s
   * options. Without it, every delivery runs the handler, duplicates included.
   */
  idempotency?: IdempotencyStore | ({ store: IdempotencyStore } & OnceOptions);
  /**
   * Handles a verified delivery. When it returns, the answer is 200; when it throws, the error
   * goes to the framework (a 5xx), and the sender retries.
   */
  handler(event: VerifiedWebhook, context: Context): unknown;
}

/** What an adapter sends back. */
export interface WebhookAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const IN_PROGRESS_RETRY_AFTER_SECONDS = 5;

/**
 * The part every adapter shares: checks the options once (a bad secret stops the service at
 * start, not at the first delivery), then verifies each body and runs the handler.
 */
export function webhookProcessor<Context>(options: WebhookHandlerOptions<Context>): {
  maxBodyBytes: number;
  process(rawBody: Uint8Array, headers: HeadersInput, context: Context): Promise<WebhookAnswer>;
} {
  if (typeof options?.handler !== 'function') throw new TypeError('A webhook handler needs a handler function.');
  verificationKeys(options.secret);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0) throw new TypeError('maxBodyBytes must be a whole number of bytes.');
  const idempotency = !options.idempotency
    ? null
    : typeof (options.idempotency as IdempotencyStore).claim === 'function'
      ? { store: options.idempotency as IdempotencyStore }
      : (options.idempotency as { store: IdempotencyStore } & OnceOptions);

  return {
    maxBodyBytes,
    async process(rawBody, headers, context) {
      let event: VerifiedWebhook;
      try {
        event = verifyWebhook(rawBody, headers, options.secret, { toleranceSeconds: options.toleranceSeconds });
      } catch (error) {
        if (error instanceof WebhookVerificationError) return refusal(error);
        throw error;
      }
      if (!idempotency) {
        await options.handler(event, context);
        return received(false);
      }
      try {
        const outcome = await once(idempotency.store, event.id, () => options.handler(event, context), idempotency);
        return received(!outcome.ran);
      } catch (error) {
        if (!(error instanceof WebhookInProgressError)) throw error;
        return {
          status: 409,
          headers: { 'content-type': 'application/json', 'retry-after': String(IN_PROGRESS_RETRY_AFTER_SECONDS) },
          body: JSON.stringify({ code: 'in_progress', detail: error.message }),
        };
      }
    },
  };
}

/**
 * A refusal in Svix's error shape. The sender records the answer's body with the attempt (Herald
 * shows it in its attempt log), so the reason is visible on the sending side too.
 */
export function refusal(error: WebhookVerificationError): WebhookAnswer {
  return {
    status: error.status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: error.reason, detail: error.message }),
  };
}

export function tooLarge(maxBodyBytes: number): WebhookAnswer {
  return {
    status: 413,
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify({ code: 'payload_too_large', detail: `The body is larger than this receiver's ${maxBodyBytes} bytes (maxBodyBytes).` }),
  };
}

function received(duplicate: boolean): WebhookAnswer {
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(duplicate ? { received: true, duplicate: true } : { received: true }),
  };
}
