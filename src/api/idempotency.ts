import { hash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, onSendHookHandler } from 'fastify';
import type { Clock } from '../core/clock.ts';
import type { IdempotencyStore, StoredResponse } from '../store/store.ts';
import { HttpError, sendError } from './errors.ts';

/** How long a key answers with its first 2xx response (Svix keeps them for a day). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * How long a request holds its key before another may take it over: far longer than any request
 * takes, so a key is run twice only when the process holding it died (or hung for a minute).
 */
export const IDEMPOTENCY_LOCK_MS = 60_000;

/** Waiting for the holder of a key: the first look again after this, doubling up to the most. */
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

declare module 'fastify' {
  interface FastifyRequest {
    /** The idempotency key this request holds while it runs. */
    idempotency?: { key: string; claim: string };
  }
}

/**
 * `idempotency-key` on a POST, as Svix does it: the first 2xx answer is kept for 24 hours and
 * replayed to every later request with the same key on the same route (method and path) by the
 * same owner (an application's tokens, or the admin). A 4xx or 5xx answer frees the key, so a
 * corrected retry runs.
 *
 * The key is held in the store, not in this process: a request claims it with a pending record
 * (an insert that only one request can win), runs, and completes the record with its answer. A
 * request that finds the record pending waits for it, on this process or any other sharing the
 * database, polling with a short backoff; it replays the answer once there is one, or claims the
 * key itself once it is freed or its holder's lock has lapsed.
 *
 * Only POST routes that can use it get the hooks; a request without the header costs a header
 * look-up in a hook that calls back at once.
 */
export function registerIdempotency(app: FastifyInstance, store: IdempotencyStore, clock: Clock): void {
  /** Requests of this process waiting on a key, woken when this process completes or frees it. */
  const waiting = new Map<string, Set<() => void>>();

  const wake = (key: string) => {
    const waiters = waiting.get(key);
    waiting.delete(key);
    waiters?.forEach((resume) => resume());
  };

  /** Resolves after `ms`, or sooner when this process settles `key`. */
  const pause = (key: string, ms: number) => new Promise<void>((resolve) => {
    let waiters = waiting.get(key);
    if (!waiters) waiting.set(key, (waiters = new Set()));
    const resume = () => {
      clearTimeout(timer);
      waiters.delete(resume);
      resolve();
    };
    const timer = setTimeout(resume, ms);
    waiters.add(resume);
  });

  /** Holds the key for this request, or answers it from the key's record; false once answered. */
  async function acquire(request: FastifyRequest, reply: FastifyReply, header: string): Promise<boolean> {
    const owner = request.principal?.kind === 'app' ? `app:${request.principal.appId}` : 'admin';
    const key = hash('sha256', `${owner}\u0000${request.method} ${request.url.split('?')[0]}\u0000${header}`, 'base64url');
    const claim = randomUUID();
    const started = performance.now();
    for (let next = FIRST_POLL_MS; ; next = Math.min(next * 2, MAX_POLL_MS)) {
      const now = clock.now();
      const found = await store.claim({ key, claim, now, lockedUntil: now + IDEMPOTENCY_LOCK_MS, notBefore: now - IDEMPOTENCY_WINDOW_MS });
      if (found.state === 'claimed') {
        request.idempotency = { key, claim };
        return true;
      }
      if (found.state === 'done') {
        replay(reply, found.response);
        return false;
      }
      // The holder's lock bounds the wait; the wall clock bounds it too, in case the injected clock
      // stands still or the key passes from holder to holder.
      if (performance.now() - started > 2 * IDEMPOTENCY_LOCK_MS || request.raw.socket?.destroyed) {
        sendError(reply, new HttpError(409, 'idempotency_conflict', 'A request with this idempotency key is still in progress; retry it later.'));
        return false;
      }
      await pause(key, Math.max(1, Math.min(next, found.lockedUntil - now)));
    }
  }

  const onRequest: onRequestHookHandler = (request, reply, done) => {
    const header = request.headers['idempotency-key'];
    if (typeof header !== 'string' || header === '') return done();
    acquire(request, reply, header).then((run) => run && done(), done);
  };

  // Completes the key before the answer leaves, so a client that has its answer finds it recorded.
  const onSend: onSendHookHandler = (request, reply, payload, done) => {
    const held = request.idempotency;
    if (!held) return done(null, payload);
    request.idempotency = undefined;
    const status = reply.statusCode;
    const body = payload ?? '';
    const settled = status >= 200 && status < 300 && typeof body === 'string'
      ? store.complete(held.key, held.claim, { statusCode: status, body }, clock.now())
      : store.release(held.key, held.claim);
    settled
      .catch((error) => request.log.warn({ err: error }, 'could not record an idempotency key; it is freed when its lock lapses'))
      .finally(() => {
        wake(held.key);
        done(null, payload);
      });
  };

  app.addHook('onRoute', (route) => {
    if (![route.method].flat().includes('POST')) return;
    // Public routes (health, and provider requests to sources, which dedupe on their own terms)
    // are not the API's clients, and answers carrying credentials are never kept.
    if (route.config?.secretResponse || route.config?.access === 'public') return;
    route.onRequest = [...[route.onRequest ?? []].flat(), onRequest];
    route.onSend = [...[route.onSend ?? []].flat(), onSend];
  });
}

function replay(reply: FastifyReply, response: StoredResponse): void {
  reply.code(response.statusCode).header('idempotent-replayed', 'true');
  if (response.body === '') reply.send();
  else reply.header('content-type', 'application/json; charset=utf-8').send(response.body);
}
