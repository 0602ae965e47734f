import type { ClaimRequest } from './store.ts';

type SlotRequest = Pick<ClaimRequest, 'limit' | 'slots' | 'defaultSlots' | 'appSlots' | 'defaultAppSlots'>;

/**
 * Picks, from due candidates (`[id, endpointId, appId]`) in due order, those that fit the free
 * slots of their endpoint and of their application, so one busy endpoint's backlog, or one busy
 * application's, never takes the places of others' deliveries (design invariant 6).
 */
export function takeWithinSlots<Row extends readonly [id: unknown, endpointId: string, appId: string]>(candidates: readonly Row[], request: SlotRequest): Row[] {
  const taken: Row[] = [];
  const byEndpoint = new Map<string, number>();
  const byApp = new Map<string, number>();
  for (const row of candidates) {
    if (taken.length >= request.limit) break;
    const [, endpointId, appId] = row;
    const endpointCount = byEndpoint.get(endpointId) ?? 0;
    if (endpointCount >= (request.slots.get(endpointId) ?? request.defaultSlots)) continue;
    const appCount = byApp.get(appId) ?? 0;
    if (appCount >= (request.appSlots.get(appId) ?? request.defaultAppSlots)) continue;
    byEndpoint.set(endpointId, endpointCount + 1);
    byApp.set(appId, appCount + 1);
    taken.push(row);
  }
  return taken;
}

/** Endpoints, or applications, with no free slot, which the claim query leaves out altogether. */
export function full(slots: ReadonlyMap<string, number>): string[] {
  return [...slots].filter(([, free]) => free <= 0).map(([id]) => id);
}
