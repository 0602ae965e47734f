import type { Clock } from '../core/clock.ts';
import type { Application, Endpoint } from '../core/model.ts';
import {
  attemptEvent,
  type DisabledDetail,
  endpointEvent,
  type EndpointEventKind,
  isOperationalApp,
  OPERATIONAL_APP_ID,
  type OperationalEvent,
} from '../core/operational-events.ts';
import { StoreError } from '../store/errors.ts';
import type { CompleteOutcome, DeliveryResult, Store } from '../store/store.ts';
import type { Publisher } from './publish.ts';

/**
 * Raises operational events (core/operational-events.ts) as messages of the internal operational
 * application, through the ordinary publisher: stored, fanned out to the operational endpoints
 * whose filters take them, signed with each one's secret, retried and logged like any delivery.
 *
 * Every method returns at once and never throws: publishing runs in the background and its errors
 * are logged, so neither an API route nor the result writer waits for it. Nothing is stored when no
 * enabled operational endpoint takes the event's type (one look at the cached endpoint list).
 * Events about the operational application's own endpoints are never raised, so an operational
 * endpoint that fails cannot feed events about itself back into its own queue.
 */
export interface OperationalEvents {
  /** An application's (or a source's) endpoint was created, updated, deleted, enabled or disabled through the API. */
  endpointChanged(kind: EndpointEventKind, app: Pick<Application, 'id' | 'uid'>, endpoint: Pick<Endpoint, 'id' | 'uid'>, disabled?: DisabledDetail): void;
  /**
   * An endpoint was disabled by Herald itself (`trigger: 'automatic'`: a 410 Gone, or a failure
   * streak), or by a caller outside the endpoint routes. Looks the endpoint and its application up.
   */
  endpointDisabled(appId: string, endpointId: string, detail: DisabledDetail): void;
  /** A batch of delivery results was committed (the result writer's hook). */
  recorded(results: readonly DeliveryResult[], outcome: CompleteOutcome): void;
}

export interface OperationalEventsOptions {
  store: Store;
  publisher: Publisher;
  onError: (error: unknown) => void;
}

/** The internal application as the publisher needs it: only its id is read. */
const OPERATIONAL_APP: Application = {
  id: OPERATIONAL_APP_ID, uid: null, name: 'Operational webhooks', metadata: {}, throttleRate: null, createdAt: 0, updatedAt: 0,
};

export function createOperationalEvents({ store, publisher, onError }: OperationalEventsOptions): OperationalEvents {
  /** Whether an enabled operational endpoint takes this type: the config cache answers without a query. */
  async function wanted(type: string): Promise<boolean> {
    const endpoints = await store.endpoints.listEnabled(OPERATIONAL_APP_ID);
    return endpoints.some((endpoint) => endpoint.eventTypes === null || endpoint.eventTypes.length === 0 || endpoint.eventTypes.includes(type));
  }

  async function publish(type: string, build: () => Promise<OperationalEvent | null>): Promise<void> {
    if (!(await wanted(type))) return;
    const event = await build();
    if (!event) return;
    await publisher.publish(OPERATIONAL_APP, { eventType: event.type, eventId: null, channels: null, payload: Buffer.from(JSON.stringify(event)) });
  }

  const fire = (type: string | null, build: () => Promise<OperationalEvent | null>) => {
    if (type === null) return;
    publish(type, build).catch(onError);
  };

  const appUid = async (appId: string) => (await store.apps.get(appId))?.uid ?? null;

  function endpointDisabled(appId: string, endpointId: string, detail: DisabledDetail): void {
    if (isOperationalApp(appId)) return;
    const probe = endpointEvent('disabled', { appId, appUid: null, endpointId, endpointUid: null }, detail);
    fire(probe?.type ?? null, async () => {
      const endpoint = await store.endpoints.get(appId, endpointId);
      return endpointEvent('disabled', { appId, appUid: await appUid(appId), endpointId, endpointUid: endpoint?.uid ?? null }, detail);
    });
  }

  return {
    endpointChanged(kind, app, endpoint, disabled) {
      if (isOperationalApp(app.id)) return;
      const event = endpointEvent(kind, { appId: app.id, appUid: app.uid, endpointId: endpoint.id, endpointUid: endpoint.uid }, disabled);
      if (event) fire(event.type, async () => event);
    },

    endpointDisabled,

    recorded(results, outcome) {
      for (const result of results) {
        if (!result.notices) continue;
        const { attempt } = result;
        if (isOperationalApp(attempt.appId)) continue;
        for (const notice of result.notices) {
          const ref = { appId: attempt.appId, appUid: null, msgId: attempt.messageId, msgEventId: result.msgEventId ?? null, endpointId: attempt.endpointId, attempt };
          fire(attemptEvent(notice, ref).type, async () => attemptEvent(notice, { ...ref, appUid: await appUid(attempt.appId) }));
        }
      }
      for (const endpointId of outcome.disabledEndpoints) {
        // A 410 Gone: the endpoint said it is gone for good, at the time of that attempt.
        const attempt = results.find((result) => result.disableEndpoint && result.attempt.endpointId === endpointId)?.attempt;
        if (attempt) endpointDisabled(attempt.appId, endpointId, { trigger: 'automatic', failSince: attempt.createdAt });
      }
    },
  };
}

/**
 * Creates the internal operational application if this database has none yet. Every process calls
 * it at start; when two start together, the one that loses the insert finds the other's row.
 */
export async function ensureOperationalApp(store: Store, clock: Clock): Promise<void> {
  if (await store.apps.get(OPERATIONAL_APP_ID)) return;
  const now = clock.now();
  try {
    await store.apps.create({ ...OPERATIONAL_APP, createdAt: now, updatedAt: now });
  } catch (error) {
    if (!(error instanceof StoreError && error.code === 'conflict') || !(await store.apps.get(OPERATIONAL_APP_ID))) throw error;
  }
}
