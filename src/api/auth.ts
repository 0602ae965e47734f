import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import { HttpError, sendError } from './errors.ts';

/** Who a request acts for: the operator, or one application's portal token. */
export type Principal =
  | { kind: 'admin'; key: string }
  | { kind: 'app'; key: string; appId: string; readOnly: boolean };

/**
 * What a route lets in. Routes say it in `config.access`; a route that says nothing is admin-only,
 * so a new route is closed until someone opens it.
 * - `public`: no token (health).
 * - `admin`: admin tokens only.
 * - `app-read`: also an application's tokens, for that application (or no application at all).
 * - `app-write`: also an application's tokens that are not read-only.
 */
export type Access = 'public' | 'admin' | 'app-read' | 'app-write';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** The answer carries a credential: it is never kept, not even for idempotent replays. */
    secretResponse?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

// The one-shot form: a Hash object per request cost four times as much.
export const digest = (token: string) => hash('sha256', token, 'hex');

const CACHE_MS = 5_000;

export interface AuthOptions {
  store: Store;
  clock: Clock;
  /** The token from HERALD_ADMIN_TOKEN, if set; checked in memory, never stored. */
  adminToken: string | null;
}

/**
 * Bearer tokens: 401 without a valid one, 403 for a valid one outside its scope. Tokens are looked
 * up by their SHA-256 digest (they are long and random, so a fast hash is enough) and remembered
 * for a few seconds, by the token itself so that a request within them needs no hashing at all;
 * `forget(appId)` drops an application's at once when they are revoked.
 */
export function bearerAuth(options: AuthOptions) {
  const envDigest = options.adminToken ? Buffer.from(digest(options.adminToken), 'hex') : null;
  const cache = new Map<string, { principal: Principal | null; at: number }>();

  async function principalFor(token: string): Promise<Principal | null> {
    const now = options.clock.now();
    const cached = cache.get(token);
    if (cached && now - cached.at < CACHE_MS) return cached.principal;
    const hex = digest(token);
    let principal: Principal | null;
    if (envDigest && timingSafeEqual(Buffer.from(hex, 'hex'), envDigest)) {
      principal = { kind: 'admin', key: 'env' };
    } else {
      const stored = await options.store.tokens.find(hex, now);
      principal = !stored
        ? null
        : stored.appId === null
          ? { kind: 'admin', key: stored.id }
          : { kind: 'app', key: stored.id, appId: stored.appId, readOnly: stored.readOnly };
    }
    if (cache.size > 10_000) cache.clear();
    cache.set(token, { principal, at: now });
    return principal;
  }

  async function check(request: FastifyRequest, reply: FastifyReply) {
    const access = request.routeOptions.config?.access ?? 'admin';
    if (access === 'public') return;
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const principal = token ? await principalFor(token) : null;
    if (!principal) {
      return sendError(reply, new HttpError(401, 'authentication_failed', 'Missing or invalid token. Send Authorization: Bearer <token>.'));
    }
    request.principal = principal;
    if (principal.kind === 'admin') return;
    if (access === 'admin' || (access === 'app-write' && principal.readOnly)) {
      return sendError(reply, outOfScope());
    }
    const appParam = (request.params as { appId?: string }).appId;
    if (appParam !== undefined && (await options.store.apps.get(appParam))?.id !== principal.appId) {
      return sendError(reply, outOfScope());
    }
  }

  return {
    check,
    forget(appId: string) {
      for (const [key, entry] of cache) if (entry.principal?.kind === 'app' && entry.principal.appId === appId) cache.delete(key);
    },
  };
}

const outOfScope = () => new HttpError(403, 'forbidden', 'This token may not do this: it is limited to another application or to reading.');
