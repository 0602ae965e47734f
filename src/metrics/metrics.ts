import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';
import { Status } from '../core/model.ts';
import type { Census, DeliveryResult, Store } from '../store/store.ts';

/**
 * Prometheus metrics (prom-client, one registry per Herald so several can share a process).
 *
 * What changes with each event is counted in memory where it happens, at the cost of a labelled
 * increment: messages accepted, attempts by outcome and their latency, inbound requests, API
 * requests. What describes the queue is read from the database, and that is where the cost is: a
 * count of a million deliveries takes about 60 ms on SQLite, far over the 5 ms a scrape may cost.
 * So a scrape never waits for one. The counts (the census) are taken at most every
 * `censusMaxAgeMs`, in the background, started by a scrape that finds them older than that; the
 * scrape answers with the counts it has and their age (herald_queue_census_age_seconds). On
 * SQLite the count runs on the checkpointer thread's connection, so it takes nothing from the
 * event loop either; on PostgreSQL it is one pass in the database. Only the oldest due delivery's
 * due time is read on each scrape, because it is the first entry of the due index, found in
 * microseconds; a scrape waits at most 2 ms for it (a round trip to PostgreSQL on a busy machine
 * takes longer) and otherwise uses the last reading, but only one at most 2 s old: the delivery it
 * names may have gone since, so an older one would report a backlog long drained as still
 * waiting. To keep a recent reading at hand, it is read again every second in the background
 * for five minutes after each scrape; a scrape with none waits for the database. The age is
 * always now minus the due time read, never a stored age. With nobody scraping, nothing is read.
 */
export interface Metrics {
  /** A message was stored (published, sent to one endpoint, or received by a source). */
  messageAccepted(appId: string): void;
  /** A batch of attempts' results was committed. */
  recorded(results: readonly DeliveryResult[]): void;
  /** A request to a source's URL: its provider type and what became of it. */
  inbound(sourceType: string, result: InboundResult): void;
  /** An HTTP API request was answered; `route` is the route's pattern, never the URL. */
  apiRequest(method: string, route: string, status: number): void;
  /** The registry in Prometheus' text format. */
  render(): Promise<string>;
  readonly contentType: string;
  close(): void;
}

export type InboundResult = 'verified' | 'duplicate' | 'rejected' | 'handshake' | 'unknown_source';

export interface MetricsOptions {
  store: Store;
  clock: Clock;
  version: string;
  /** How old the queue counts may be before a scrape has them taken again. */
  censusMaxAgeMs?: number;
  /** Applications this process labels messages with, each by id; those after share `other`. */
  maxAppLabels?: number;
}

/** Attempt latency buckets, in seconds: from a receiver on the same host to the 15 s timeout. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];
/** How long a scrape waits for the oldest due delivery's run_at before it uses the last one it read. */
const OLDEST_DUE_WAIT_MS = 2;
/** How old that last reading may be and still be reported: the age it gives is off by at most this. */
const OLDEST_DUE_MAX_STALE_MS = 2_000;
/** While Herald is scraped, the oldest due time is read again this often in the background... */
const OLDEST_DUE_REFRESH_MS = 1_000;
/** ...until this long after the last scrape, longer than any usual scrape interval. */
const OLDEST_DUE_REFRESH_FOR_MS = 5 * 60_000;
// `canceled`: the endpoint's transformation canceled the delivery (its attempt sent nothing).
const OUTCOME: Record<number, string> = { [Status.success]: 'success', [Status.pending]: 'retry_scheduled', [Status.fail]: 'failed', [Status.canceled]: 'canceled' };

export function createMetrics(options: MetricsOptions): Metrics {
  const { store, clock } = options;
  const censusMaxAgeMs = options.censusMaxAgeMs ?? 15_000;
  const maxAppLabels = options.maxAppLabels ?? 50;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  new Gauge({ name: 'herald_info', help: 'Herald\'s version, as a label; always 1.', labelNames: ['version'], registers: [registry] }).set({ version: options.version }, 1);
  const messages = new Counter({ name: 'herald_messages_accepted_total', help: 'Messages stored, by application (the first applications this process saw; the rest as other).', labelNames: ['app'], registers: [registry] });
  const attempts = new Counter({ name: 'herald_delivery_attempts_total', help: 'Delivery attempts recorded, by what became of the delivery: success, retry_scheduled, failed (no attempts left) or canceled (by its transformation).', labelNames: ['outcome'], registers: [registry] });
  const latency = new Histogram({ name: 'herald_delivery_attempt_duration_seconds', help: 'How long attempts took, from the request to the end of the response (or the failure).', labelNames: ['result'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const inbound = new Counter({ name: 'herald_inbound_requests_total', help: 'Requests to sources\' URLs, by provider type and verification result.', labelNames: ['source_type', 'result'], registers: [registry] });
  const http = new Counter({ name: 'herald_http_requests_total', help: 'HTTP requests answered, by method, route pattern and status code.', labelNames: ['method', 'route', 'status'], registers: [registry] });

  let census: { value: Census; at: number } | null = null;
  let counting: Promise<void> | null = null;
  const takeCensus = () => {
    counting ??= (async () => {
      const at = clock.now();
      try {
        census = { value: await store.census(at), at };
      } finally {
        counting = null;
      }
    })();
    return counting;
  };
  const queue = new Gauge({ name: 'herald_queue_deliveries', help: 'Deliveries by state: due (claimable now), delayed (due later), in_flight (being sent), failed (no attempts left, within retention). Counted at most every census interval.', labelNames: ['state'], registers: [registry] });
  const censusAge = new Gauge({ name: 'herald_queue_census_age_seconds', help: 'How old the queue, circuit and endpoint counts are.', registers: [registry] });
  const circuits = new Gauge({ name: 'herald_circuits_open', help: 'Endpoints whose circuit is open.', registers: [registry] });
  const disabled = new Gauge({ name: 'herald_endpoints_disabled', help: 'Endpoints disabled (by hand, by a 410, or by failing for HERALD_DISABLE_AFTER).', registers: [registry] });
  const oldest = new Gauge({ name: 'herald_queue_oldest_due_age_seconds', help: 'How long the oldest due delivery has been waiting; 0 when none is due.', registers: [registry] });
  const pool = new Gauge({ name: 'herald_db_pool_connections', help: 'Database connections by pool and state: busy, idle, or waiting (queries waiting for one); and the pool\'s max.', labelNames: ['pool', 'state'], registers: [registry] });

  // The oldest due delivery's run_at (null: none pending) as of `readAt`, when it was asked for.
  let nextDue: { dueAt: number | null; readAt: number } | null = null;
  // One read at a time, shared by the scrape and the background; true when the database answered.
  let reading: Promise<boolean> | null = null;
  const readNextDue = () => {
    reading ??= (async () => {
      const readAt = clock.now();
      try {
        nextDue = { dueAt: await store.queue.nextDueAt(), readAt };
        return true;
      } catch {
        return false;
      } finally {
        reading = null;
      }
    })();
    return reading;
  };
  const recent = () => nextDue !== null && clock.now() - nextDue.readAt <= OLDEST_DUE_MAX_STALE_MS;
  let lastScrape = 0;
  let refresher: NodeJS.Timeout | null = null;
  const keepReading = () => {
    lastScrape = clock.now();
    refresher ??= setInterval(() => {
      if (clock.now() - lastScrape <= OLDEST_DUE_REFRESH_FOR_MS) void readNextDue();
      else {
        clearInterval(refresher!);
        refresher = null;
      }
    }, OLDEST_DUE_REFRESH_MS).unref();
  };
  const apps = new Set<string>();
  return {
    contentType: registry.contentType,
    messageAccepted(appId) {
      if (!apps.has(appId) && apps.size < maxAppLabels) apps.add(appId);
      messages.inc({ app: apps.has(appId) ? appId : 'other' });
    },
    recorded(results) {
      for (const { attempt, next } of results) {
        attempts.inc({ outcome: OUTCOME[next.status] ?? 'other' });
        latency.observe({ result: attempt.status === Status.success ? 'success' : 'failure' }, attempt.responseDurationMs / 1000);
      }
    },
    inbound(sourceType, result) {
      inbound.inc({ source_type: sourceType, result });
    },
    apiRequest(method, route, status) {
      http.inc({ method, route, status: String(status) });
    },
    async render() {
      const now = clock.now();
      if (census === null) await takeCensus().catch(() => {});
      else if (now - census.at >= censusMaxAgeMs) void takeCensus().catch(() => {});
      const taken = census as { value: Census; at: number } | null;
      if (taken) {
        const { value } = taken;
        queue.set({ state: 'due' }, value.due);
        queue.set({ state: 'delayed' }, value.delayed);
        queue.set({ state: 'in_flight' }, value.sending);
        queue.set({ state: 'failed' }, value.failed);
        circuits.set(value.circuitsOpen);
        disabled.set(value.endpointsDisabled);
        censusAge.set(Math.max(0, now - taken.at) / 1000);
      }
      // Fresh when the database answers within OLDEST_DUE_WAIT_MS (SQLite always does), else the
      // last reading if it is recent (the background reads keep one so while Herald is scraped),
      // so a slow round trip to PostgreSQL does not make the scrape slow; else the fresh one.
      keepReading();
      const asked = readNextDue();
      let answered = await Promise.race([asked, new Promise<boolean>((resolve) => setTimeout(resolve, OLDEST_DUE_WAIT_MS, false))]);
      if (!answered && !recent()) answered = await asked;
      const at = clock.now();
      if (answered || recent()) {
        const dueAt = nextDue!.dueAt;
        oldest.set(dueAt !== null && dueAt <= at ? (at - dueAt) / 1000 : 0);
      } else {
        // The database did not answer: unknown, rather than an old reading passed off as current.
        oldest.set(Number.NaN);
      }
      for (const use of store.poolUse?.() ?? []) {
        pool.set({ pool: use.pool, state: 'busy' }, use.total - use.idle);
        pool.set({ pool: use.pool, state: 'idle' }, use.idle);
        pool.set({ pool: use.pool, state: 'waiting' }, use.waiting);
        pool.set({ pool: use.pool, state: 'max' }, use.max);
      }
      return registry.metrics();
    },
    close() {
      if (refresher) clearInterval(refresher);
      refresher = null;
      registry.clear();
    },
  };
}
