import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.ts';
import type { IdempotencyStore, StoredResponse } from '../store/store.ts';

/** How long a key answers with its first response (Svix keeps them for a day). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyScope?: string;
  }
}

/**
 * `idempotency-key` on a POST: the first response for a key (anything but a 5xx) is kept for 24
 * hours and replayed for the same key on the same path. A repeat that arrives while the first is
 * still running waits for it rather than running twice.
 */
export function registerIdempotency(app: FastifyInstance, store: IdempotencyStore, clock: Clock): void {
  /** Requests under way or whose response is not yet committed, by scope+key. */
  const pending = new Map<string, Promise<StoredResponse | null>>();
  const finishers = new Map<string, (response: StoredResponse | null) => void>();

  app.addHook('onRequest', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || typeof key !== 'string' || key === '' || reply.sent) return;
    // Public routes (health, and provider requests to sources, which dedupe on their own terms)
    // are not the API's clients, and answers carrying credentials are never kept.
    if (request.routeOptions.config?.secretResponse || request.routeOptions.config?.access === 'public') return;
    const scope = `${request.url.split('?')[0]}\u0000${key}`;
    const earlier = pending.get(scope) ?? store.get(request.url.split('?')[0]!, key, clock.now() - IDEMPOTENCY_WINDOW_MS);
    const stored = await earlier;
    if (stored) {
      return reply.code(stored.statusCode).header('content-type', 'application/json; charset=utf-8')
        .header('idempotent-replayed', 'true').send(stored.body);
    }
    if (pending.has(scope)) return; // the earlier request failed with a 5xx: run this one normally
    pending.set(scope, new Promise((resolve) => finishers.set(scope, resolve)));
    request.idempotencyScope = scope;
  });

  // The callback form: an async hook would cost every response a promise, key or no key.
  app.addHook('onSend', (request, reply, payload, done) => {
    const scope = request.idempotencyScope;
    if (scope) keep(request, reply.statusCode, scope, payload);
    done(null, payload);
  });

  function keep(request: FastifyRequest, statusCode: number, scope: string, payload: unknown): void {
    const finish = finishers.get(scope)!;
    finishers.delete(scope);
    if (statusCode >= 500 || typeof payload !== 'string') {
      pending.delete(scope);
      finish(null);
      return;
    }
    const response = { statusCode, body: payload };
    finish(response);
    const [path, key] = scope.split('\u0000') as [string, string];
    store.put(path, key, response, clock.now())
      .catch((error) => request.log.warn({ err: error }, 'could not store an idempotency key'))
      .finally(() => pending.delete(scope));
  }

  app.addHook('onRequestAbort', async (request) => {
    const scope = request.idempotencyScope;
    if (!scope) return;
    finishers.get(scope)?.(null);
    finishers.delete(scope);
    pending.delete(scope);
  });
}
