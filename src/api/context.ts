import type { AddressPolicy } from '../core/address-policy.ts';
import type { Clock, Random } from '../core/clock.ts';
import { ID_PREFIX, type IdGenerator } from '../core/ids.ts';
import { type Application, applicationOf, type Endpoint } from '../core/model.ts';
import type { Publisher } from '../delivery/publish.ts';
import type { OperationalEvents } from '../delivery/operational-events.ts';
import { isOperationalApp } from '../core/operational-events.ts';
import type { Store } from '../store/store.ts';
import type { SchemaValidation } from '../core/payload-schemas.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { AppPortalCapability } from '../core/model.ts';
import type { Access } from './auth.ts';
import { notFound } from './errors.ts';

/** What route handlers are given: the store, the publisher and the injected clock and randomness. */
export interface ApiContext {
  store: Store;
  publisher: Publisher;
  /** Raises operational webhooks (endpoint.created...); returns at once, never throws. */
  operational: OperationalEvents;
  /** Tells the dispatcher that deliveries became due (resend, recover). */
  wake: () => void;
  /** Tells this process's task runner, if it has one, that a background task was created. */
  tasksCreated?: () => void;
  ids: IdGenerator;
  clock: Clock;
  random: Random;
  /** Which addresses endpoints may point at, for the check of literal IPs at creation. */
  addresses: AddressPolicy;
  /** HERALD_ENDPOINT_HTTPS_ONLY: refuse plain-http endpoint URLs. */
  httpsOnly: boolean;
  /** HERALD_SCHEMA_VALIDATION: how payloads are checked against their event type's schema, unless it says otherwise. */
  schemaValidation: SchemaValidation;
  /** Where the process is in its life: draining once SIGTERM came, which readiness reports. */
  lifecycle?: Lifecycle;
  /** Counts what happens for Prometheus (GET /metrics); absent, nothing is counted. */
  metrics?: Metrics;
}

export interface Lifecycle {
  draining: boolean;
}

export async function findApp(ctx: ApiContext, idOrUid: string): Promise<Application> {
  const app = await ctx.store.apps.get(idOrUid);
  // A source's application is reached through /ingest, never as an application of its own, and
  // the internal one holding the operational endpoints through /api/v1/operational-webhook only.
  if (!app || app.id.startsWith(`${ID_PREFIX.source}_`) || isOperationalApp(app.id)) throw notFound('Application');
  return app;
}

/** The application behind a source, which holds the source's endpoints, messages and attempts. */
export async function findSourceApp(ctx: ApiContext, idOrUid: string): Promise<Application> {
  const source = await ctx.store.sources.get(idOrUid);
  if (!source) throw notFound('Source');
  return applicationOf(source);
}

/**
 * Where a family of routes hangs, and who may use it: an application's endpoints, messages and
 * attempts live under /api/v1/app/{app} and are open to that application's tokens; a source's
 * live under /ingest/api/v1/source/{source}, for admins only. The handlers are the same.
 */
export interface OwnerScope {
  base: string;
  find(ctx: ApiContext, idOrUid: string): Promise<Application>;
  access(capability: AppPortalCapability): Access;
}

export const APP_SCOPE: OwnerScope = { base: '/api/v1/app/:appId', find: findApp, access: (capability) => capability };
export const SOURCE_SCOPE: OwnerScope = { base: '/ingest/api/v1/source/:appId', find: findSourceApp, access: () => 'admin' };

export async function findEndpoint(ctx: ApiContext, app: Application, idOrUid: string): Promise<Endpoint> {
  return (await ctx.store.endpoints.get(app.id, idOrUid)) ?? Promise.reject(notFound('Endpoint'));
}
