import type { Clock } from '../core/clock.ts';
import { type FanOutIndex, indexSubscriptions } from '../core/filters.ts';
import type { IdGenerator } from '../core/ids.ts';
import { type Application, type Endpoint, type InboundEnvelope, type Message, Trigger } from '../core/model.ts';
import type { ClaimedDelivery, Store } from '../store/store.ts';
import type { SchemaCheck } from '../core/payload-schemas.ts';

export interface PublishInput {
  eventType: string;
  eventId: string | null;
  channels: string[] | null;
  /** The payload's bytes, exactly as they will be sent. */
  payload: Uint8Array;
  /** For a request a source received: the rest of it. */
  inbound?: InboundEnvelope | null;
  /** How long the payload is kept (`payloadRetentionPeriod`); absent or null, as long as the message. */
  payloadRetentionMs?: number | null;
  /** What the schema check found wrong with a payload accepted anyway (`warn`), kept on the message. */
  schemaViolations?: SchemaCheck | null;
  /** Herald's extension: this message's deliveries wait for those of the same key before them (core/ordering.ts). */
  orderingKey?: string | null;
  /** The payload already parsed, when the caller has it (the API has): payload filters read it without parsing again. */
  parsedPayload?: unknown;
}

export interface Publisher {
  /** Stores a message with one delivery per matching endpoint; resolves once committed. */
  publish(app: Application, input: PublishInput): Promise<Message>;
  /** Stores a message meant for one endpoint only, whatever its filters (test sends). */
  publishTo(app: Application, endpoint: Endpoint, input: PublishInput): Promise<Message>;
  /** Stores a message that goes nowhere: a rejected or duplicate request, kept to be looked at. */
  record(app: Application, input: PublishInput): Promise<Message>;
}

/** The dispatcher in this process, taking deliveries from the publisher (see Dispatcher.handoff). */
export interface Handoff {
  leaseMs: number;
  /** Keeps room for a delivery to this endpoint of this application, if their lanes have some. */
  reserve(appId: string, endpointId: string): boolean;
  /** Hands over the delivery a reservation was for, once stored; null gives the room up. */
  fill(appId: string, endpointId: string, delivery: ClaimedDelivery | null): void;
}

/**
 * Fan-out: every accepted event becomes a message and its deliveries. Those the dispatcher in this
 * process has room for are stored already leased to it and handed over once committed; for the
 * rest it is woken to claim them.
 *
 * A payload whose retention outlasts the message's own (`retentionMs`, HERALD_RETENTION) gets no
 * expiry: the message is purged first, and the maintenance job never has to look at it.
 */
export function createPublisher(
  store: Store, ids: IdGenerator, clock: Clock, wake: () => void, handoff: Handoff | null = null, retentionMs = Number.POSITIVE_INFINITY,
): Publisher {
  // One index per endpoint list: the config cache hands out the same list until it changes, so
  // an index is built when an application's endpoints are loaded, not for every message.
  const indexes = new WeakMap<readonly Endpoint[], FanOutIndex<Endpoint>>();
  const indexOf = (endpoints: readonly Endpoint[]) => {
    let index = indexes.get(endpoints);
    if (!index) indexes.set(endpoints, (index = indexSubscriptions(endpoints)));
    return index;
  };

  async function enqueue(app: Application, { payloadRetentionMs, parsedPayload: _, ...input }: PublishInput, endpoints: readonly Endpoint[]): Promise<Message> {
    const createdAt = clock.now();
    const payloadExpiresAt = payloadRetentionMs != null && payloadRetentionMs < retentionMs ? createdAt + payloadRetentionMs : null;
    const message: Message = { id: ids('message'), appId: app.id, ...input, payloadExpiresAt, createdAt };
    const taker = handoff;
    // A listen session's deliveries wait for its consumer to pull them, and a polling endpoint's
    // are read by its consumers: neither is ever handed to the dispatcher. Nor is what a rate limit,
    // a disabled endpoint (a test send) or an ordering key may hold back: the claim applies those.
    const sent = endpoints.filter((endpoint) => !endpoint.listen && !endpoint.polling);
    const leased = new Set(taker && app.throttleRate === null && !input.orderingKey
      ? sent.filter((endpoint) => endpoint.throttleRate === null && !endpoint.disabled && taker.reserve(app.id, endpoint.id)).map((endpoint) => endpoint.id)
      : []);
    const stored = store.messages.enqueue(
      message,
      endpoints.map((endpoint) => endpoint.id),
      taker && leased.size > 0 ? { until: message.createdAt + taker.leaseMs, endpointIds: leased } : undefined,
    );
    // The dispatcher's claim is queued behind this write, so it may send as soon as the message is
    // committed, before the commit is synced: a send can never precede the commit it depends on.
    if (sent.length > leased.size) wake();
    if (taker && leased.size > 0) await handOver(taker, message, endpoints, leased, stored);
    else await stored;
    return message;
  }

  return {
    async publish(app, input) {
      const routing = {
        eventType: input.eventType,
        channels: input.channels,
        // Only when an endpoint with a payload filter is still a candidate.
        parsedPayload: () => ('parsedPayload' in input ? input.parsedPayload : parsedJson(input.payload)),
      };
      return enqueue(app, input, indexOf(await store.endpoints.listEnabled(app.id)).match(routing));
    },
    publishTo(app, endpoint, input) {
      return enqueue(app, input, [endpoint]);
    },
    record(app, input) {
      return enqueue(app, input, []);
    },
  };
}

/** A payload as JSON, or undefined when it is not (a source may receive form data or XML). */
export function parsedJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Hands the leased deliveries to the dispatcher once stored, or gives their room back if storing failed. */
async function handOver(taker: Handoff, message: Message, endpoints: readonly Endpoint[], leased: ReadonlySet<string>, stored: Promise<Array<number | null>>): Promise<void> {
  let deliveryIds: Array<number | null>;
  try {
    deliveryIds = await stored;
  } catch (error) {
    for (const endpointId of leased) taker.fill(message.appId, endpointId, null);
    throw error;
  }
  // After this turn, so the caller's answer goes out before the sends start.
  setImmediate(() => endpoints.forEach((endpoint, i) => {
    if (!leased.has(endpoint.id)) return;
    const id = deliveryIds[i];
    // No delivery: the endpoint was deleted after the list was read.
    if (id === null || id === undefined) return taker.fill(message.appId, endpoint.id, null);
    taker.fill(message.appId, endpoint.id, {
      id,
      lease: 1,
      attemptNumber: 1,
      trigger: Trigger.scheduled,
      resumeAt: null,
      message,
      endpoint: {
        id: endpoint.id, url: endpoint.url, headers: endpoint.headers, secrets: endpoint.secrets, disabled: endpoint.disabled,
        ...(endpoint.transformation?.enabled && endpoint.transformation.code ? { transformation: endpoint.transformation.code } : {}),
      },
      ...(endpoint.unavailable ? { unavailable: endpoint.unavailable } : {}),
    });
  }));
}

/**
 * The publisher, calling `stored` with each message it commits for delivery (published or sent
 * to one endpoint; recorded ones go nowhere): how metrics and traces hear of messages, whoever
 * publishes them (the API, a source, operational events).
 */
export function observedPublisher(publisher: Publisher, stored: (app: Application, message: Message) => void): Publisher {
  const tell = (app: Application) => (message: Message) => {
    stored(app, message);
    return message;
  };
  return {
    ...publisher,
    publish: (app, input) => publisher.publish(app, input).then(tell(app)),
    publishTo: (app, endpoint, input) => publisher.publishTo(app, endpoint, input).then(tell(app)),
  };
}
