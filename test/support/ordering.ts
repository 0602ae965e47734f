import type { ReceivedRequest, Reply, Responder } from './receiver.ts';

/**
 * What a receiver saw of keyed messages (payload `{key, i}`): per key, the `i` of each request in
 * arrival order and of each it accepted, and every time a request of a key arrived while the one
 * before it was still unanswered (which ordering forbids).
 */
export interface KeyedLog {
  arrived: Map<string, number[]>;
  accepted: Map<string, number[]>;
  overlaps: string[];
  responder: Responder;
}

/** A responder that answers each request after `delayMs` with `decide`'s status, logging as KeyedLog says. */
export function keyedLog(decide: (key: string, i: number, log: KeyedLog) => number = () => 200, delayMs = 20): KeyedLog {
  const answeredAt = new Map<string, number>();
  const log: KeyedLog = {
    arrived: new Map(),
    accepted: new Map(),
    overlaps: [],
    responder: (request: ReceivedRequest): Reply => {
      const { key, i } = JSON.parse(request.body.toString()) as { key: string; i: number };
      if ((answeredAt.get(key) ?? 0) > request.receivedAt) log.overlaps.push(`${key}#${i}`);
      answeredAt.set(key, request.receivedAt + delayMs);
      const status = decide(key, i, log);
      push(log.arrived, key, i);
      if (status < 300) push(log.accepted, key, i);
      return { status, delayMs };
    },
  };
  return log;
}

function push(map: Map<string, number[]>, key: string, i: number): void {
  const list = map.get(key) ?? [];
  list.push(i);
  map.set(key, list);
}
