import type { Clock } from '../core/clock.ts';
import { endpointReceives } from '../core/filters.ts';
import type { IdGenerator } from '../core/ids.ts';
import type { Application, Endpoint, InboundEnvelope, Message } from '../core/model.ts';
import type { Store } from '../store/store.ts';

export interface PublishInput {
  eventType: string;
  eventId: string | null;
  channels: string[] | null;
  /** The payload's bytes, exactly as they will be sent. */
  payload: Uint8Array;
  /** For a request a source received: the rest of it. */
  inbound?: InboundEnvelope | null;
}

export interface Publisher {
  /** Stores a message with one delivery per matching endpoint; resolves once committed. */
  publish(app: Application, input: PublishInput): Promise<Message>;
  /** Stores a message meant for one endpoint only, whatever its filters (test sends). */
  publishTo(app: Application, endpoint: Endpoint, input: PublishInput): Promise<Message>;
  /** Stores a message that goes nowhere: a rejected or duplicate request, kept to be looked at. */
  record(app: Application, input: PublishInput): Promise<Message>;
}

/** Fan-out: every accepted event becomes a message and its deliveries, then the dispatcher is told. */
export function createPublisher(store: Store, ids: IdGenerator, clock: Clock, wake: () => void): Publisher {
  async function enqueue(app: Application, input: PublishInput, endpointIds: string[]): Promise<Message> {
    const message: Message = { id: ids('message'), appId: app.id, ...input, createdAt: clock.now() };
    const stored = store.messages.enqueue(message, endpointIds);
    // The dispatcher's claim is queued behind this write, so it may send as soon as the message is
    // committed, before the commit is synced: a send can never precede the commit it depends on.
    if (endpointIds.length > 0) wake();
    await stored;
    return message;
  }

  return {
    async publish(app, input) {
      const endpoints = await store.endpoints.listEnabled(app.id);
      return enqueue(app, input, endpoints.filter((endpoint) => endpointReceives(endpoint, input)).map((endpoint) => endpoint.id));
    },
    publishTo(app, endpoint, input) {
      return enqueue(app, input, [endpoint.id]);
    },
    record(app, input) {
      return enqueue(app, input, []);
    },
  };
}
