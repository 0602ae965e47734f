/**
 * `herald/receiver`: verification of Standard Webhooks deliveries (Herald's, Svix's, any
 * sender's) and a handler-once helper, for the services that receive them. It stands alone:
 * nothing here imports Herald's server, a web framework or a database driver. The framework
 * adapters (`herald/receiver/express`, `/fastify`, `/hono`, `/next`) and the SQL stores
 * (`herald/receiver/sqlite`, `/postgres`) are entries of their own.
 */
export { type VerificationFailure, WebhookInProgressError, WebhookVerificationError } from './errors.ts';
export type { HeadersInput } from './headers.ts';
export {
  type ClaimOutcome,
  DEFAULT_RETENTION_MS,
  type IdempotencyStore,
  MemoryIdempotencyStore,
  type MemoryStoreOptions,
  once,
  type OnceOptions,
  type OnceResult,
} from './idempotency.ts';
export type { WebhookAnswer, WebhookHandlerOptions } from './handler.ts';
export { DEFAULT_TOLERANCE_SECONDS, type RawBody, type VerifiedWebhook, verify, verifyWebhook, type VerifyOptions } from './verify.ts';
