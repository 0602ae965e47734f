import type { AddressPolicy } from '../core/address-policy.ts';
import type { Clock, Random } from '../core/clock.ts';
import type { IdGenerator } from '../core/ids.ts';
import type { Application, Endpoint } from '../core/model.ts';
import type { Publisher } from '../delivery/publish.ts';
import type { Store } from '../store/store.ts';
import { notFound } from './errors.ts';

/** What route handlers are given: the store, the publisher and the injected clock and randomness. */
export interface ApiContext {
  store: Store;
  publisher: Publisher;
  /** Tells the dispatcher that deliveries became due (resend, recover). */
  wake: () => void;
  ids: IdGenerator;
  clock: Clock;
  random: Random;
  /** Which addresses endpoints may point at, for the check of literal IPs at creation. */
  addresses: AddressPolicy;
  /** HERALD_ENDPOINT_HTTPS_ONLY: refuse plain-http endpoint URLs. */
  httpsOnly: boolean;
}

export async function findApp(ctx: ApiContext, idOrUid: string): Promise<Application> {
  return (await ctx.store.apps.get(idOrUid)) ?? Promise.reject(notFound('Application'));
}

export async function findEndpoint(ctx: ApiContext, app: Application, idOrUid: string): Promise<Endpoint> {
  return (await ctx.store.endpoints.get(app.id, idOrUid)) ?? Promise.reject(notFound('Endpoint'));
}
