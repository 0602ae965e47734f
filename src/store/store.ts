import type { BackgroundTask, ReplayCandidate, TaskKind, TaskStatus } from '../core/replay.ts';
import type {
  ApiToken,
  Application,
  Attempt,
  Delivery,
  Endpoint,
  EndpointSecret,
  EndpointTransformation,
  EventType,
  Message,
  Source,
  Status,
  Trigger,
} from '../core/model.ts';
import type { Bin, BinRequest } from '../core/bins.ts';
import type { AttemptStatsRow } from '../core/attempt-stats.ts';
import type { FlowPolicy, FlowSignal, FlowState } from '../core/flow-control.ts';
import type { AttemptNotice } from '../core/operational-events.ts';

/**
 * The one storage port. It speaks the pipeline's language (enqueue a message with its
 * deliveries, claim due deliveries under a lease, complete them, list and search) and nothing
 * of SQLite or PostgreSQL, which implement it side by side and pass the same contract suite
 * (store/store-contract.ts). Every write that an API answers 2xx for is committed before the
 * returned promise resolves.
 */
/** What `onBinChange` announces of a bin. */
export type BinChange = 'captured' | 'deleted';

export interface Store {
  readonly apps: ApplicationStore;
  readonly eventTypes: EventTypeStore;
  readonly endpoints: EndpointStore;
  readonly messages: MessageStore;
  readonly queue: DeliveryQueue;
  readonly polling: PollingStore;
  readonly attempts: AttemptStore;
  readonly idempotency: IdempotencyStore;
  readonly tokens: TokenStore;
  readonly sources: SourceStore;
  readonly settings: SettingStore;
  readonly bins: BinStore;
  readonly tasks: TaskStore;
  readonly stats: StatsStore;
  readonly flow: FlowStore;
  /**
   * Optional capability: calls `wake` whenever another process commits due work (PostgreSQL's
   * LISTEN/NOTIFY). Without it, workers rely on their own process's signals and on polling.
   * Returns a function that stops listening.
   */
  onDue?(wake: () => void): () => Promise<void>;
  /**
   * Optional capability: calls `changed(appId)` when another process changes an application, its
   * endpoints or its source, or revokes its tokens, or with null when changes may have been missed
   * (a reconnect) or concern no one application (an admin token's logout), so caches of them can
   * be dropped. Returns a function that stops listening.
   */
  onConfigChange?(changed: (appId: string | null) => void): () => Promise<void>;
  /**
   * Calls `changed(binId, 'captured')` after a request to that bin is committed, and
   * `changed(binId, 'deleted')` after the bin is deleted, by this process or (on PostgreSQL,
   * through LISTEN/NOTIFY) any other; `changed(null, 'captured')` when captures may have been
   * missed (a reconnect). A wake-up only: what was captured is read with `bins.requestsAfter`.
   * Returns a function that stops listening.
   */
  onBinChange(changed: (binId: string | null, change: BinChange) => void): () => Promise<void>;
  /** Resolves when the database answers a query. */
  ping(): Promise<void>;
  /**
   * Counts the queue by state, and the endpoints flow control holds back. It reads every delivery
   * row, so it is for metrics, which call it seldom and cache it (see src/metrics/metrics.ts); on
   * SQLite it runs on the checkpointer thread's connection, off the event loop.
   */
  census(now: number): Promise<Census>;
  /** Optional capability: the connection pools' use (PostgreSQL), for metrics. */
  poolUse?(): PoolUse[];
  close(): Promise<void>;
}

/** Keyset pagination: items strictly after `after` in `order` (ids sort by creation time). */
export interface PageRequest {
  limit: number;
  after: string | null;
  order: 'asc' | 'desc';
}

export interface Page<T> {
  items: T[];
  done: boolean;
}

/** Time bounds on a list, in epoch milliseconds, both exclusive as in Svix. */
export interface TimeRange {
  before: number | null;
  after: number | null;
}

export interface SourceStore {
  /** Creates the source with its application. Throws StoreError('conflict') when the uid is taken. */
  create(source: Source, tokenDigest: string): Promise<Source>;
  get(idOrUid: string): Promise<Source | null>;
  /** The source whose URL token has this SHA-256 digest (hex). */
  getByTokenDigest(digest: string): Promise<Source | null>;
  list(page: PageRequest): Promise<Page<Source>>;
  /** Replaces every field but id and createdAt; `tokenDigest` is the digest of `source.token`. */
  update(source: Source, tokenDigest: string): Promise<Source>;
  delete(id: string): Promise<boolean>;
}

/**
 * Request bins and what they captured. A capture is one write (group-committed like every other)
 * that numbers the request within its bin and drops the bin's oldest beyond the cap it is given.
 */
export interface BinStore {
  create(bin: Bin, tokenDigest: string): Promise<Bin>;
  get(id: string): Promise<Bin | null>;
  /** The bin whose URL token has this SHA-256 digest (hex). */
  getByTokenDigest(digest: string): Promise<Bin | null>;
  list(page: PageRequest): Promise<Page<Bin>>;
  /**
   * Replaces name, response, rules and token (whose digest is `tokenDigest`) and updatedAt.
   * Throws StoreError('missing') when the bin is gone.
   */
  update(bin: Bin, tokenDigest: string): Promise<Bin>;
  /** Deletes the bin with everything it captured. */
  delete(id: string): Promise<boolean>;
  /**
   * Stores a captured request under the bin's next number (returned in `seq`), and deletes the
   * bin's requests older than its newest `keep`. Throws StoreError('missing') when the bin is gone.
   */
  capture(request: BinRequest, keep: number): Promise<BinRequest>;
  getRequest(binId: string, requestId: string): Promise<BinRequest | null>;
  /** Keyset-paged by request id; without content, bodies are left empty (`size` still tells). */
  listRequests(binId: string, page: PageRequest, withContent: boolean): Promise<Page<BinRequest>>;
  /** Up to `limit` requests numbered after `seq`, in the order they were numbered. */
  requestsAfter(binId: string, seq: number, limit: number): Promise<BinRequest[]>;
  deleteRequest(binId: string, requestId: string): Promise<boolean>;
  /** Deletes up to `limit` requests captured before `olderThan`. (Retention.) */
  purgeRequests(olderThan: number, limit: number): Promise<number>;
  /** Deletes up to `limit` bins neither changed nor sent a request since `olderThan`. (Retention.) */
  purgeIdle(olderThan: number, limit: number): Promise<number>;
}

/** What the dashboard shows beside an application in its list. */
export interface ApplicationStats {
  /** Live (not deleted) endpoints. */
  endpointCount: number;
  /** When its newest message was made; null when it has none (left). */
  lastMessageAt: number | null;
}

export interface ApplicationFilter {
  /** A substring of the name or uid, case aside (ASCII letters on both stores); null for all. */
  search: string | null;
}

export interface ApplicationStore {
  /** Throws StoreError('conflict') when the uid is taken. */
  create(app: Application): Promise<Application>;
  get(idOrUid: string): Promise<Application | null>;
  list(page: PageRequest, filter?: ApplicationFilter): Promise<Page<Application>>;
  /**
   * The stats of these applications (one page of a list), in one query whatever their number:
   * an index seek per application on endpoints and on messages. Ids that do not exist are left out.
   */
  stats(appIds: readonly string[]): Promise<Map<string, ApplicationStats>>;
  /** Replaces every field but id and createdAt. Throws StoreError('conflict') when the uid is taken. */
  update(app: Application): Promise<Application>;
  /** Deletes the application with its endpoints, messages, deliveries and attempts. */
  delete(id: string): Promise<boolean>;
}

export interface EventTypeStore {
  create(eventType: EventType): Promise<EventType>;
  get(name: string): Promise<EventType | null>;
  /** The event types with these names, in one query; names that do not exist are left out. */
  getMany(names: readonly string[]): Promise<EventType[]>;
  list(page: PageRequest, includeArchived: boolean): Promise<Page<EventType>>;
  update(eventType: EventType): Promise<EventType>;
  delete(name: string): Promise<boolean>;
}

/**
 * Endpoints. A deleted endpoint is gone from every lookup and list, but its row stays, stripped
 * of its uid, secrets and headers, for as long as a delivery names it: a message's attempted
 * destinations still show it. Retention removes the row once nothing refers to it.
 */
export interface EndpointStore {
  /**
   * An endpoint with `listen` is a listen session: its deliveries are created pulled (see
   * DeliveryQueue.pull). Throws StoreError('conflict') when the uid, or the session name, is taken
   * within the application, and
   * StoreError('limit') when the application already has `maxPerApplication` live endpoints
   * (checked so that endpoints created at the same moment cannot pass it together).
   */
  create(endpoint: Endpoint, maxPerApplication?: number): Promise<Endpoint>;
  /** A live endpoint by id, then by uid. */
  get(appId: string, idOrUid: string): Promise<Endpoint | null>;
  /** The application's endpoints, listen sessions and polling endpoints left out (they are no URL of the application's). */
  list(appId: string, page: PageRequest): Promise<Page<Endpoint>>;
  /** The application's polling endpoints. */
  listPolling(appId: string, page: PageRequest): Promise<Page<Endpoint>>;
  /** A live listen session's endpoint by its name within the application. */
  getListen(appId: string, name: string): Promise<Endpoint | null>;
  /** Every enabled endpoint of an application, for fan-out (listen sessions' included). */
  listEnabled(appId: string): Promise<Endpoint[]>;
  /** Changes a live endpoint; one deleted meanwhile stays deleted. Its transformation is left as it is. */
  update(endpoint: Endpoint): Promise<Endpoint>;
  /**
   * Sets a live endpoint's transformation (and nothing else, so it never races an update of the
   * rest); false when there is no such endpoint. Claims load the code of an enabled one.
   */
  setTransformation(appId: string, id: string, transformation: EndpointTransformation): Promise<boolean>;
  /** Records the consumer that opened a live listen session last; false when there is no such session. */
  setListener(appId: string, id: string, listener: string): Promise<boolean>;
  /**
   * Deletes the endpoint as of `now`: it disappears from lookups and fan-out, its uid is free
   * again, its secrets and headers are wiped, it is disabled, and its pending and in-flight
   * deliveries end as failed (under a new lease, so a result still in flight cannot revive
   * them). Its deliveries and attempts stay in each message's history. False if there was none.
   */
  delete(appId: string, id: string, now: number): Promise<boolean>;
  /** Removes up to `limit` endpoints deleted before `olderThan` that no delivery names any more. (Retention.) */
  purge(olderThan: number, limit: number): Promise<number>;
}

export interface EnqueueLease {
  until: number;
  endpointIds: ReadonlySet<string>;
}

export interface MessageFilter extends TimeRange {
  eventTypes: string[] | null;
  channel: string | null;
  /** Messages with any of these channels (the events feed's `channels`). */
  channels?: string[] | null;
}

/**
 * A message list's filters: those shared with delivery and attempt lists, and the message's
 * status, which is its deliveries' taken together (see `MESSAGE_STATUS_CONDITIONS` in sql.ts).
 */
export interface MessageListFilter extends MessageFilter {
  status?: Status | null;
}

/** Whose payloads to erase: one message, or up to `limit` whose payload expired by `expiredBy`. */
export type PayloadErasure = { messageId: string } | { expiredBy: number; limit: number };

export interface MessageStore {
  /**
   * Stores a message and one pending delivery per endpoint, due at `message.createdAt`, in one
   * transaction, and returns the deliveries' ids in the order of `endpointIds`: null for an
   * endpoint deleted before (a publisher's list of endpoints may be older than a delete). Throws
   * StoreError('conflict') when the application already has its eventId.
   *
   * The deliveries to endpoints in `lease.endpointIds` are stored already claimed (sending, lease
   * 1, until `lease.until`): a dispatcher in the same process takes them from the publisher
   * instead of claiming them back from the database.
   */
  enqueue(message: Message, endpointIds: readonly string[], lease?: EnqueueLease): Promise<Array<number | null>>;
  /** Looks a message up by id, then by eventId. */
  get(appId: string, idOrEventId: string): Promise<Message | null>;
  list(appId: string, filter: MessageListFilter, page: PageRequest): Promise<Page<Message>>;
  /**
   * Deletes up to `limit` messages made before `olderThan` that have nothing pending or in flight,
   * with their deliveries and attempts; returns how many went. (Retention.) Requests received by
   * a source go only once made before `inboundOlderThan` too, which may be earlier.
   */
  purge(olderThan: number, limit: number, inboundOlderThan?: number): Promise<number>;
  /**
   * Erases payloads: the bytes go (zero bytes are kept) and `payloadErasedAt` is set to `now`;
   * everything else about the message, its deliveries and attempts stays. Its deliveries still
   * pending or in flight end failed, under a new lease so that an attempt under way cannot
   * reschedule them: nothing is ever sent again without its bytes. Returns how many payloads went
   * (an already erased one does not count).
   */
  erasePayloads(which: PayloadErasure, now: number): Promise<number>;
}

/** What a worker needs to send one delivery, loaded by the claim. */
export interface ClaimedDelivery {
  id: number;
  /** The lease this claim holds; a result only lands while it is still the current one. */
  lease: number;
  attemptNumber: number;
  trigger: Trigger;
  /**
   * For a manual attempt at a delivery that was still on its retry schedule when resent: when its
   * next scheduled attempt was due, which it goes back to if the manual attempt fails. Null when a
   * failed manual attempt ends the delivery.
   */
  resumeAt: number | null;
  message: Pick<Message, 'id' | 'appId' | 'eventType' | 'payload' | 'inbound'> & { eventId?: string | null };
  endpoint: Pick<Endpoint, 'id' | 'url' | 'headers' | 'disabled'> & {
    secrets: EndpointSecret[];
    /** The code of the endpoint's transformation, when one is enabled; null or absent otherwise. */
    transformation?: string | null;
  };
  /** An operational event already said this delivery was failing or exhausted (so a success is a recovery). */
  alerted?: boolean;
  /** Why it cannot be sent, when a secret it needs could not be opened: it fails with `secret_unavailable`. */
  unavailable?: string;
  /** The message's ordering key, whose next delivery the result makes due once this one is finished. */
  orderingKey?: string | null;
}

export interface ClaimRequest {
  now: number;
  limit: number;
  /** How long the claim holds the delivery before another worker may take it. */
  leaseMs: number;
  /** How many more deliveries each busy endpoint may take; 0 excludes it from this claim. */
  slots: ReadonlyMap<string, number>;
  /** How many an endpoint not in `slots` may take. */
  defaultSlots: number;
  /** How many more deliveries the endpoints of each busy application may take between them; 0 excludes it. */
  appSlots: ReadonlyMap<string, number>;
  /** How many an application not in `appSlots` may take. */
  defaultAppSlots: number;
}

export type DeliveryNext =
  | { status: typeof Status.success }
  | { status: typeof Status.pending; runAt: number }
  | { status: typeof Status.fail }
  /** Ended without a request: the endpoint's transformation canceled it. */
  | { status: typeof Status.canceled };

export interface DeliveryResult {
  id: number;
  lease: number;
  attempt: Attempt;
  next: DeliveryNext;
  /**
   * The delivery's attempt count once this result lands: one more than before, except after a
   * manual attempt that sends the delivery back to its schedule, which uses none of it.
   */
  attemptCount: number;
  /** Set when the receiver answered 410 Gone. */
  disableEndpoint: boolean;
  /** The delivery's ordering key: once it is finished, the next of its key is made due. */
  orderingKey?: string | null;
  /** What the attempt tells flow control about its endpoint (FlowStore.record); absent when no request was made. */
  signal?: FlowSignal;
  /** Whether the delivery counts as alerted once this result lands (see ClaimedDelivery.alerted); false when absent. */
  alerted?: boolean;
  /**
   * The operational events this result calls for, once committed (core/operational-events.ts);
   * absent on the ordinary path, so a success of a delivery never alerted costs nothing more.
   */
  notices?: AttemptNotice[] | null;
  /** The message's eventId, for those events. */
  msgEventId?: string | null;
}

/** What recording a batch of results changed beyond the deliveries themselves. */
export interface CompleteOutcome {
  /** Endpoints a 410 disabled in this batch that were enabled before it: each is reported once. */
  disabledEndpoints: string[];
}

/** The queue by state at one moment; pulled deliveries (listen, polling) wait for their consumer and are left out. */
export interface Census {
  /** Pending and due, or sending with an expired lease: claimable now. */
  due: number;
  /** Pending, due later (retries, deliveries flow control deferred). */
  delayed: number;
  /** Sending under a live lease. */
  sending: number;
  /** Failed for good (every attempt used), within retention. */
  failed: number;
  circuitsOpen: number;
  endpointsDisabled: number;
}

export interface PoolUse {
  pool: string;
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

/** What a listen session's consumer asks for (see DeliveryQueue.pull). */
export interface PullRequest {
  endpointId: string;
  now: number;
  limit: number;
  leaseMs: number;
  /** The session keeps at most this many unfinished deliveries, the newest... */
  keep: number;
  /** ...and none made before this: older ones are dropped (failed, and counted) first. */
  olderThan: number;
}

/** A pulled delivery's state, as a result for it needs it. */
export interface PulledDelivery {
  id: number;
  lease: number;
  status: Status;
  attemptCount: number;
  trigger: Trigger;
  resumeAt: number | null;
}

export interface DeliveryStats {
  success: number;
  pending: number;
  sending: number;
  fail: number;
  /** Deliveries cancel-msgs ended before they were sent. */
  canceled: number;
}

export interface DestinationRow {
  delivery: Delivery;
  endpoint: Endpoint;
}

export interface AttemptedMessageRow {
  delivery: Delivery;
  message: Message;
}

export interface DeliveryFilter extends MessageFilter {
  status: Status | null;
}

/** The queue: a delivery row is the job (design invariant 2). */
export interface DeliveryQueue {
  /** Takes due deliveries (pending and due, or sending with an expired lease) under a new lease. */
  claim(request: ClaimRequest): Promise<ClaimedDelivery[]>;
  /**
   * Appends each attempt and moves its delivery on, and adds the attempts to the attempt rollup
   * (one upsert per endpoint and five-minute bucket of the batch), all in one transaction.
   * Reports the endpoints it disabled (a 410) that were not disabled already.
   */
  complete(results: readonly DeliveryResult[]): Promise<CompleteOutcome>;
  /**
   * Svix's cancel-msgs: the endpoint's pending deliveries of messages created before `createdBefore`
   * become canceled (status 4) and are never sent. In-flight ones are left alone. Works through
   * the backlog in batches, so one call on a huge backlog never holds the writer for long.
   * Returns how many were canceled.
   */
  cancel(endpointId: string, createdBefore: number, now: number): Promise<number>;
  /** Gives claimed deliveries that were never attempted back to the queue, due at `now`. */
  release(deliveries: ReadonlyArray<Pick<ClaimedDelivery, 'id' | 'lease'>>, now: number): Promise<void>;
  /** When the earliest pending delivery or lease falls due, or null when the queue is idle. */
  nextDueAt(): Promise<number | null>;
  /**
   * Makes a message due now for one endpoint, for one manual attempt, creating the delivery if
   * there was none. A delivery still on its retry schedule (pending or in flight) keeps its place
   * in it (`ClaimedDelivery.resumeAt`); any other is not retried if the manual attempt fails. A
   * message whose payload was erased is left as it is (the API refuses to resend it).
   */
  resend(messageId: string, endpointId: string, now: number): Promise<void>;
  /**
   * Makes the failed deliveries of an endpoint whose messages were created in [since, until) due
   * now, each for one manual attempt that is not retried; pending and in-flight ones, and those of
   * messages whose payload was erased, are left alone. Returns how many.
   */
  recover(endpointId: string, since: number, until: number, now: number): Promise<number>;
  stats(endpointId: string, range: TimeRange): Promise<DeliveryStats>;
  /**
   * For a listen session's endpoint, whose deliveries wait for their consumer rather than being
   * sent (the dispatcher's claim never takes them): first drops its unfinished deliveries beyond
   * the request's bounds (they fail, unattempted, and count in `listen.dropped`), then leases its
   * oldest unfinished deliveries in arrival order, as many as are claimable in a row from the
   * oldest. One not yet due (waiting for a retry) or still leased holds back every later one, so a
   * session's consumer sees its deliveries in order, each at least once. A result is recorded with
   * `complete`, as the dispatcher's are.
   */
  pull(request: PullRequest): Promise<ClaimedDelivery[]>;
  /**
   * Makes a listen session's leased deliveries claimable again at once, and with `waiting` its
   * retries too: a new consumer took the session over, or one delivery went back to wait for a
   * retry and those leased after it must wait behind it. Returns how many.
   */
  releasePulled(endpointId: string, now: number, waiting: boolean): Promise<number>;
  /** The delivery of a message to a listen session's endpoint, or null. */
  getPulled(endpointId: string, messageId: string): Promise<PulledDelivery | null>;
  /** Applies every live listen session's bounds, as `pull` does for one. (Maintenance.) Returns how many were dropped. */
  trimPulled(keep: number, olderThan: number, now: number): Promise<number>;
  listByMessage(messageId: string, page: PageRequest): Promise<Page<DestinationRow>>;
  listByEndpoint(endpointId: string, filter: DeliveryFilter, page: PageRequest): Promise<Page<AttemptedMessageRow>>;
}

/** A message in a polling endpoint's log, at its offset (its delivery's id: increasing in commit order). */
export interface PolledMessage {
  offset: number;
  message: Message;
}

export interface PolledPage {
  items: PolledMessage[];
  /** No message after the last one given (when given). */
  done: boolean;
}

/** What a polling endpoint's consumer asks for (see PollingStore.poll). */
export interface PollRequest {
  endpointId: string;
  consumerId: string;
  now: number;
  limit: number;
  /** How long what is handed out stays leased to the consumer; 0 leases nothing. */
  leaseMs: number;
  /** Where a consumer not seen before starts: before the first message kept, or after the last. */
  start: 'earliest' | 'latest';
}

/**
 * Polling endpoints' logs and their consumers' positions. A polling endpoint's log is its
 * deliveries (made by fan-out, with its filters, stored done and pulled), in offset order; each
 * consumer keeps the offset it committed, and a lease on what it was handed beyond it.
 */
export interface PollingStore {
  /**
   * Up to `limit` messages after the consumer's position, creating the consumer (at `start`) the
   * first time. The position is the committed offset, or the end of what the consumer's current
   * lease handed out while that lease lasts: polls within a lease go on where the last stopped,
   * and once it runs out uncommitted the same messages are handed out again. What is handed out
   * is leased for `leaseMs` (0: nothing is, the next poll starts from the committed offset).
   */
  poll(request: PollRequest): Promise<PolledPage>;
  /**
   * Sets the consumer's committed offset (creating it), and ends its lease once the offset
   * covers what the lease handed out.
   */
  commit(endpointId: string, consumerId: string, offset: number, now: number): Promise<void>;
  /** The consumer's committed offset, or null when it has none yet. */
  position(endpointId: string, consumerId: string): Promise<number | null>;
  /** Up to `limit` messages after `offset`, changing nothing. */
  read(endpointId: string, offset: number, limit: number): Promise<PolledPage>;
  /** The offset of the endpoint's last message made at or before `at` (0 when none is); with null, of its last message. */
  offsetAt(endpointId: string, at: number | null): Promise<number>;
}

/** What recording a batch's signals changed, for the dispatcher to act on and log. */
export interface FlowOutcome {
  /** Endpoints whose circuit opened. */
  opened: string[];
  /** Endpoints whose circuit closed (their waiting deliveries were made due). */
  closed: string[];
  /** Endpoints disabled for failing too long. */
  disabled: Array<{ endpointId: string; appId: string }>;
  /** Endpoints whose state holds deliveries back now (rate, pause or open circuit). */
  holding: string[];
}

/**
 * Flow control's state (design invariant 10): per endpoint, GCRA's tat, the adaptive rate, the
 * pause `Retry-After` asked for and the circuit breaker; per application, its tat. The claim reads
 * and advances it in the transaction that leases (`DeliveryQueue.claim`); results feed it here.
 */
export interface FlowStore {
  /** An endpoint's state; null when it never had one (neutral). */
  get(endpointId: string): Promise<FlowState | null>;
  /** Endpoints whose state is not neutral (holds deliveries back, or counts failures): a worker's watch list. */
  watched(): Promise<string[]>;
  /**
   * Applies a batch's signals, in the order their answers came, each endpoint's state updated once
   * under its row lock. An endpoint failing without a success for `policy.disableAfterMs` is
   * disabled (reason `failing`); a closed circuit makes the deliveries it held back due at once.
   */
  record(signals: readonly FlowSignal[], policy: FlowPolicy): Promise<FlowOutcome>;
  /**
   * Starts an endpoint afresh (re-enabled, or its rate changed): failures forgotten, circuit
   * closed, and the deliveries flow control had deferred due at `now`. Returns how many.
   */
  resume(endpointId: string, now: number): Promise<number>;
  /**
   * Whether flow control is holding the endpoint's deliveries back at `now` (some are deferred and
   * still waiting): the scheduled time of the one that goes next, so the endpoint has been held
   * back at least since then; null when none waits.
   */
  heldBackSince(endpointId: string, now: number): Promise<number | null>;
}

export interface AttemptFilter extends MessageFilter {
  status: Status | null;
  /** 0 for "no response", else 100, 200, 300, 400 or 500. */
  statusCodeClass: number | null;
  endpointId: string | null;
}

export interface AttemptStore {
  get(messageId: string, attemptId: string): Promise<Attempt | null>;
  listByEndpoint(endpointId: string, filter: AttemptFilter, page: PageRequest): Promise<Page<Attempt>>;
  listByMessage(messageId: string, filter: AttemptFilter, page: PageRequest): Promise<Page<Attempt>>;
  /** Replaces an attempt's response body with ERASED_RESPONSE; false when there is no such attempt. */
  eraseResponse(messageId: string, attemptId: string): Promise<boolean>;
  /** Deletes up to `limit` attempts made before `olderThan`; returns how many went. (Retention.) */
  purge(olderThan: number, limit: number): Promise<number>;
}

/**
 * The attempt rollup (src/core/attempt-stats.ts), which `DeliveryQueue.complete` keeps up to date in
 * the transaction that records the attempts, and message counts by id range. Every read names an
 * application and a time range, so it costs what the buckets shown cost, not what the attempts do.
 */
export interface StatsStore {
  /**
   * The rollup rows of an application, or of one of its endpoints, whose five-minute bucket starts
   * in [from, to), oldest first.
   */
  attempts(appId: string, endpointId: string | null, from: number, to: number): Promise<Array<Omit<AttemptStatsRow, 'appId'>>>;
  /**
   * For each i, how many messages of the application (or fanned out or resent to one endpoint)
   * were made in [bounds[i], bounds[i + 1]), by the time their ids carry: bounds.length - 1 counts.
   */
  messageCounts(appId: string, endpointId: string | null, bounds: readonly number[]): Promise<number[]>;
  /** Attempts per endpoint (of those given) in the buckets starting at `since` or later; endpoints without any are left out. */
  endpointTotals(appId: string, endpointIds: readonly string[], since: number): Promise<Map<string, { success: number; failure: number; canceled: number }>>;
  /** Deletes up to `limit` rollup rows whose bucket started before `olderThan`. (Retention.) */
  purge(olderThan: number, limit: number): Promise<number>;
}

export interface StoredResponse {
  statusCode: number;
  body: string;
}

/** What claiming an idempotency key found. */
export type IdempotencyClaim =
  /** The caller holds the key now: it runs the request, then completes or releases the key. */
  | { state: 'claimed' }
  /** The key was answered within its window: the caller replays the answer. */
  | { state: 'done'; response: StoredResponse }
  /** Another request holds the key until `lockedUntil`: the caller waits and claims again. */
  | { state: 'pending'; lockedUntil: number };

export interface IdempotencyClaimRequest {
  /** The key, already scoped to its route and owner (the API hashes them together). */
  key: string;
  /** Who claims: unique per request, so only the holder can complete or release the key. */
  claim: string;
  now: number;
  /** When the claim lapses if its holder never completes it (a process that died). */
  lockedUntil: number;
  /** Answers recorded before this are forgotten: the key runs again. */
  notBefore: number;
}

/**
 * Idempotency records, shared by every process on the database: a key is claimed by inserting a
 * pending record (atomically, so two requests at the same moment cannot both hold it), then either
 * completed with the answer to replay or released so the next request with the key runs.
 */
export interface IdempotencyStore {
  claim(request: IdempotencyClaimRequest): Promise<IdempotencyClaim>;
  /** Records the answer on the key `claim` holds; false when it holds it no longer (its lock lapsed). */
  complete(key: string, claim: string, response: StoredResponse, now: number): Promise<boolean>;
  /** Frees the key if `claim` still holds it. */
  release(key: string, claim: string): Promise<void>;
  /** Deletes up to `limit` records made before `olderThan`; returns how many went. */
  purge(olderThan: number, limit: number): Promise<number>;
}

export interface TokenStore {
  create(token: ApiToken): Promise<ApiToken>;
  /** The token with this digest, if it exists and has not expired at `now`. */
  find(digest: string, now: number): Promise<ApiToken | null>;
  /** Whether any admin token exists (the first start generates one when none does). */
  hasAdmin(): Promise<boolean>;
  /** Makes every token of the application expire at `at` (or keeps an earlier expiry). */
  expireForApp(appId: string, at: number): Promise<number>;
  /** Deletes a token (a logout); returns it, or null when there was none. */
  delete(id: string): Promise<ApiToken | null>;
}

/** Values Herald keeps for itself, by name. */
export interface SettingStore {
  get(name: string): Promise<string | null>;
  /**
   * Stores `value` under `name` unless a value is there already, and returns the value stored:
   * processes starting together all get the first one written.
   */
  claim(name: string, value: string): Promise<string>;
}

export interface TaskFilter {
  status: TaskStatus | null;
  kind: TaskKind | null;
}

/** A re-queued delivery: its message, and when it falls due. */
export interface Requeue {
  messageId: string;
  runAt: number;
}

/** Background tasks, leased by the worker running them (design invariant 2, for tasks). */
export interface TaskStore {
  create(task: BackgroundTask): Promise<BackgroundTask>;
  get(id: string): Promise<BackgroundTask | null>;
  list(filter: TaskFilter, page: PageRequest): Promise<Page<BackgroundTask>>;
  /** Leases the oldest running task that no worker holds (or whose holder's lease ran out). */
  claim(now: number, leaseMs: number): Promise<{ task: BackgroundTask; lease: number } | null>;
  /** Saves a task's progress, cursor and status, and extends its lease; false when the lease was lost or the task canceled. */
  save(task: BackgroundTask, lease: number, leaseUntil: number): Promise<boolean>;
  /** Stops a running task: it ends `failed` with `canceled` in its progress. Null when there is no such task. */
  cancel(id: string, now: number): Promise<BackgroundTask | null>;
  /** The application's messages created in [since, until) after `after`, by id, with the endpoint's delivery of each. */
  candidates(appId: string, endpointId: string, window: { since: number; until: number }, after: string | null, limit: number): Promise<ReplayCandidate[]>;
  /**
   * Queues one manual attempt per message to the endpoint, as the task's: a new delivery where
   * there was none, a finished one sent again; one under way, or whose payload was erased, is left.
   * Returns how many were queued.
   */
  requeue(taskId: string, endpointId: string, items: readonly Requeue[], now: number): Promise<number>;
  /** How many of the deliveries the task queued have finished. */
  finished(taskId: string): Promise<number>;
}
