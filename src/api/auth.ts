import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.ts';
import type { AppPortalCapability } from '../core/model.ts';
import type { Store } from '../store/store.ts';
import { HttpError, sendError } from './errors.ts';

/** Who a request acts for: the operator, or one application's portal token and what it may do. */
export type Principal =
  | { kind: 'admin'; key: string; expiresAt: number | null }
  | { kind: 'app'; key: string; appId: string; capabilities: ReadonlySet<AppPortalCapability>; expiresAt: number | null };

/**
 * What a route lets in. Routes say it in `config.access`; a route that says nothing is admin-only,
 * so a new route is closed until someone opens it.
 * - `public`: no token (health).
 * - `admin`: admin tokens only.
 * - `metrics`: admin tokens, or HERALD_METRICS_TOKEN, which opens nothing else.
 * - a capability (Svix's AppPortalCapability): also an application's tokens that hold it, for
 *   that application (or no application at all). Every token holds `ViewBase`, which reads.
 */
export type Access = 'public' | 'admin' | 'metrics' | AppPortalCapability;

/**
 * Capabilities that carry others, as Svix describes them: managing an endpoint covers every field
 * of it, secrets included, and rotating a secret covers seeing it.
 */
const IMPLIED: Partial<Record<AppPortalCapability, AppPortalCapability[]>> = {
  ManageEndpoint: ['ViewEndpointSecret', 'ManageEndpointSecret'],
  ManageEndpointSecret: ['ViewEndpointSecret'],
};

export function effectiveCapabilities(given: readonly AppPortalCapability[]): ReadonlySet<AppPortalCapability> {
  return new Set(given.flatMap((capability) => [capability, ...(IMPLIED[capability] ?? [])]));
}

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

/** The key of the principal HERALD_ADMIN_TOKEN stands for; stored tokens are keyed by their id. */
export const CONFIGURED_ADMIN = 'env';

const CACHE_MS = 5_000;

export interface AuthOptions {
  store: Store;
  clock: Clock;
  /** The token from HERALD_ADMIN_TOKEN, if set; checked in memory, never stored. */
  adminToken: string | null;
  /** HERALD_METRICS_TOKEN, if set: it may read /metrics and nothing else. */
  metricsToken?: string | null;
}

/**
 * Bearer tokens: 401 without a valid one, 403 for a valid one outside its scope. Tokens are looked
 * up by their SHA-256 digest (they are long and random, so a fast hash is enough) and remembered
 * for a few seconds, by the token itself so that a request within them needs no hashing at all.
 * Revocation is still immediate: a remembered token is refused the moment its expiry passes, and
 * the store's `onConfigChange` (an expire-all or a logout, in this process or, on PostgreSQL, in
 * any other) drops the application's tokens at once.
 */
export function bearerAuth(options: AuthOptions) {
  const envDigest = options.adminToken ? Buffer.from(digest(options.adminToken), 'hex') : null;
  const metricsDigest = options.metricsToken ? Buffer.from(digest(options.metricsToken), 'hex') : null;
  const cache = new Map<string, { principal: Principal | null; at: number }>();
  // Bumped by every revocation, so a lookup that was under way meanwhile is not remembered.
  let generation = 0;

  const live = (principal: Principal | null, now: number) =>
    principal && (principal.expiresAt === null || principal.expiresAt > now) ? principal : null;

  async function principalFor(token: string): Promise<Principal | null> {
    const now = options.clock.now();
    const cached = cache.get(token);
    if (cached && now - cached.at < CACHE_MS) return live(cached.principal, now);
    const started = generation;
    const hex = digest(token);
    let principal: Principal | null;
    if (envDigest && timingSafeEqual(Buffer.from(hex, 'hex'), envDigest)) {
      principal = { kind: 'admin', key: CONFIGURED_ADMIN, expiresAt: null };
    } else {
      const stored = await options.store.tokens.find(hex, now);
      principal = !stored
        ? null
        : stored.appId === null
          ? { kind: 'admin', key: stored.id, expiresAt: stored.expiresAt }
          : { kind: 'app', key: stored.id, appId: stored.appId, capabilities: effectiveCapabilities(stored.capabilities ?? []), expiresAt: stored.expiresAt };
    }
    if (generation === started) {
      if (cache.size > 10_000) cache.clear();
      cache.set(token, { principal, at: now });
    }
    return principal;
  }

  function forget(appId: string | null) {
    generation++;
    if (appId === null) cache.clear();
    else for (const [key, entry] of cache) if (entry.principal?.kind === 'app' && entry.principal.appId === appId) cache.delete(key);
  }
  const stopListening = options.store.onConfigChange?.(forget);

  async function check(request: FastifyRequest, reply: FastifyReply) {
    const access = request.routeOptions.config?.access ?? 'admin';
    if (access === 'public') return;
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (access === 'metrics' && metricsDigest && token && timingSafeEqual(Buffer.from(digest(token), 'hex'), metricsDigest)) return;
    const principal = token ? await principalFor(token) : null;
    if (!principal) {
      return sendError(reply, new HttpError(401, 'authentication_failed', 'Missing or invalid token. Send Authorization: Bearer <token>.'));
    }
    request.principal = principal;
    if (principal.kind === 'admin') return;
    if (access === 'admin' || access === 'metrics') return sendError(reply, outOfScope('it is limited to one application'));
    if (!principal.capabilities.has(access)) return sendError(reply, outOfScope(`it was not given the ${access} capability`));
    const appParam = (request.params as { appId?: string }).appId;
    if (appParam !== undefined && (await options.store.apps.get(appParam))?.id !== principal.appId) {
      return sendError(reply, outOfScope('it is limited to another application'));
    }
  }

  return { check, close: async () => stopListening?.() };
}

const outOfScope = (why: string) => new HttpError(403, 'forbidden', `This token may not do this: ${why}.`);
