import type { ClaimRequest } from './store.ts';

/**
 * Picks, from due candidates (`[id, endpointId]`) in due order, those that fit the per-endpoint
 * slots, so one busy endpoint's backlog never takes the places of other endpoints' deliveries
 * (design invariant 6).
 */
export function takeWithinSlots<Row extends readonly [id: unknown, endpointId: string]>(
  candidates: readonly Row[],
  request: Pick<ClaimRequest, 'limit' | 'slots' | 'defaultSlots'>,
): Row[] {
  const taken: Row[] = [];
  const used = new Map<string, number>();
  for (const row of candidates) {
    if (taken.length >= request.limit) break;
    const endpointId = row[1];
    const count = used.get(endpointId) ?? 0;
    if (count >= (request.slots.get(endpointId) ?? request.defaultSlots)) continue;
    used.set(endpointId, count + 1);
    taken.push(row);
  }
  return taken;
}

/** Endpoints with no free slot, which the claim query leaves out altogether. */
export function fullEndpoints(slots: ReadonlyMap<string, number>): string[] {
  return [...slots].filter(([, free]) => free <= 0).map(([id]) => id);
}
