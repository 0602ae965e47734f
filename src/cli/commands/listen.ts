import { randomUUID } from 'node:crypto';
import { type Dispatcher, request } from 'undici';
import { ApiError, NetworkError, segment } from '../api-client.ts';
import { type ApiRun, apiCommand } from '../api-command.ts';
import { UsageError } from '../command.ts';
import { paint } from '../output.ts';

/** A delivery as the session hands it out (src/api/routes/listen.ts). */
interface Pulled {
  msgId: string;
  eventType: string;
  lease: number;
  attemptNumber: number;
  method: string;
  url: string | null;
  headers: Record<string, string>;
  bodyBase64: string;
}

interface Session {
  id: string;
  name: string;
  pending: number;
  dropped: number;
  secret?: string | null;
}

interface Forwarded {
  statusCode: number;
  durationMs: number;
  response: string;
  failure: string | null;
  retryAfter: string | null;
}

/** The longest the API holds a poll open when nothing is due; shorter than any proxy's idle timeout. */
const WAIT_SECONDS = 25;
const BATCH = 10;
/** How long the session holds what it gave out: longer than a forward may take. */
const LEASE_MS = 120_000;
const RESPONSE_KEPT = 65_536;

export const listen = apiCommand({
  name: 'listen',
  summary: 'forward the events of an application or a source to a local URL, missing none while away',
  description: [
    "A session on Herald keeps the events while no listener is connected (up to HERALD_LISTEN_MAX_EVENTS, for",
    'HERALD_LISTEN_MAX_AGE) and hands them over in arrival order when `herald listen` starts again with the same',
    '--session. An event counts as delivered once the local service answered 2xx; anything else is retried on',
    "Herald's schedule (or, with --no-retry, recorded and skipped), and every answer shows in Herald's attempt log.",
    'With --source, each request the source received goes on with its own method, headers and body bytes, so the',
    "local service can check the provider's signature; with --app, each message comes signed as an endpoint's",
    "would be, with the session's secret (printed at start).",
  ].join('\n'),
  options: {
    'forward-to': { type: 'string', value: 'url', describe: 'the local URL to forward each event to' },
    app: { type: 'string', value: 'app', describe: "act as an endpoint of this application (id or uid)" },
    source: { type: 'string', value: 'source', describe: 'forward the requests this source receives (id or uid)' },
    'event-types': { type: 'string', value: 'a,b', describe: 'with --app, only these event types' },
    session: { type: 'string', value: 'name', describe: 'the session to resume (default: default)' },
    'no-retry': { type: 'boolean', describe: 'record a failed local answer and go on, instead of retrying it' },
    timeout: { type: 'string', value: 'seconds', describe: 'how long the local service may take to answer (default 30)' },
    json: { type: 'boolean', describe: 'print one JSON object per event on stdout, and the summary as one more' },
  },
  examples: [
    'herald listen --app acme --forward-to http://localhost:3000/webhooks',
    'herald listen --source stripe --forward-to http://localhost:3000/stripe --session laptop',
    'herald listen --app acme --event-types invoice.paid,invoice.failed --forward-to http://localhost:3000/hooks --json',
  ],
  async run(run) {
    const forwardTo = run.values['forward-to'] as string | undefined;
    const app = run.values.app as string | undefined;
    const source = run.values.source as string | undefined;
    if (!forwardTo) throw new UsageError('Where to? Pass --forward-to http://localhost:3000/webhooks.');
    try {
      const url = new URL(forwardTo);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
    } catch {
      throw new UsageError(`--forward-to must be an http:// or https:// URL; got ${JSON.stringify(forwardTo)}.`);
    }
    if ((app === undefined) === (source === undefined)) throw new UsageError('Pass one of --app <app> or --source <source>.');
    const eventTypes = (run.values['event-types'] as string | undefined)?.split(',').map((name) => name.trim()).filter(Boolean);
    if (eventTypes && source) throw new UsageError('--event-types filters an application\'s messages; a source forwards every request it receives.');
    const timeoutSeconds = Number(run.values.timeout ?? 30);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError(`--timeout takes a number of seconds; got ${JSON.stringify(run.values.timeout)}.`);
    const owner = app !== undefined ? `/api/v1/app/${segment(app)}` : `/ingest/api/v1/source/${segment(source!)}`;
    return new Listener(run, {
      owner, forwardTo, eventTypes, timeoutMs: timeoutSeconds * 1000,
      name: (run.values.session as string | undefined) ?? 'default', noRetry: run.values['no-retry'] === true, bySource: source !== undefined,
    }).run();
  },
});

interface ListenerOptions {
  owner: string;
  forwardTo: string;
  eventTypes: string[] | undefined;
  name: string;
  noRetry: boolean;
  bySource: boolean;
  timeoutMs: number;
}

/**
 * What a listener waits out rather than stops on: the network, and the answers of a Herald that is
 * restarting or draining (503), or of a proxy in front of one that is down (502, 504), or busy (429).
 */
const transient = (error: unknown): error is NetworkError | ApiError =>
  error instanceof NetworkError || (error instanceof ApiError && (error.status >= 500 || error.status === 429));

const unreachable = (error: NetworkError | ApiError) => error instanceof NetworkError
  ? `Herald is unreachable (${error.message.replace(/^cannot reach Herald at \S+ \(([^)]*)\).*$/, '$1')})`
  : `Herald answered ${error.status}`;

/** One run of `herald listen`: open the session, pull, forward, report, until Ctrl-C. */
class Listener {
  readonly #run: ApiRun;
  readonly #options: ListenerOptions;
  readonly #stop = new AbortController();
  readonly #counts = { forwarded: 0, succeeded: 0, failed: 0, skipped: 0 };
  /** Who this run is to the session: the last listener to open it holds it, and an earlier one is told. */
  readonly #listener = randomUUID();
  #dropped = 0;

  constructor(run: ApiRun, options: ListenerOptions) {
    this.#run = run;
    this.#options = options;
  }

  async run(): Promise<number> {
    const onSignal = () => this.#stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      let session = await this.#open(true);
      let backoffMs = 500;
      let offline = false;
      while (!this.#stop.signal.aborted) {
        try {
          if (offline) {
            session = await this.#open(false);
            this.#note(`reconnected to ${this.#run.client.baseUrl}; ${session.pending} event(s) waiting`);
            offline = false;
            backoffMs = 500;
          }
          await this.#round(session);
        } catch (error) {
          if (this.#stop.signal.aborted) break;
          if (error instanceof ApiError && error.code === 'taken_over') {
            this.#note(`another listener opened session ${session.name}: it gets the events now; stopping`);
            this.#summary();
            return 1;
          }
          if (!transient(error)) throw error;
          if (!offline) this.#note(`${unreachable(error)}; the session keeps the events, retrying`);
          offline = true;
          await this.#sleep(backoffMs);
          backoffMs = Math.min(backoffMs * 2, 10_000);
        }
      }
      this.#summary();
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  /** Opens (or takes over) the session; whatever an earlier listener held is handed out again. */
  async #open(first: boolean): Promise<Session> {
    const { body } = await this.#run.client.call<Session>('POST', `${this.#options.owner}/listen`, {
      body: { name: this.#options.name, listener: this.#listener, ...(this.#options.eventTypes ? { eventTypes: this.#options.eventTypes } : {}) },
    });
    this.#reportDropped(body.dropped, first);
    if (first) {
      const lines = [
        `listening: session ${body.name} (${body.id}), forwarding to ${this.#options.forwardTo}`,
        ...(body.pending > 0 ? [`${body.pending} event(s) kept while no listener was connected: forwarding them in order`] : []),
        ...(!this.#options.bySource && body.secret ? [`verify with the session's secret ${body.secret}`] : []),
        'Ctrl-C to stop; start again with the same --session to resume where this one stopped',
      ];
      for (const line of lines) this.#note(line);
    }
    return body;
  }

  /** One poll and what it brought, in order; a retry scheduled on the way ends the batch. */
  async #round(session: Session): Promise<void> {
    const path = `${this.#options.owner}/listen/${segment(session.id)}`;
    let answer;
    try {
      answer = await this.#run.client.call<{ data: Pulled[]; dropped: number }>('POST', `${path}/next`, {
        query: { wait: WAIT_SECONDS, limit: BATCH, lease_ms: LEASE_MS, listener: this.#listener }, signal: this.#stop.signal,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') return;
      throw error;
    }
    this.#reportDropped(answer.body.dropped, false);
    for (const delivery of answer.body.data) {
      // Stopping mid-batch leaves the rest leased; the next listener takes the session over at once.
      if (this.#stop.signal.aborted) return;
      const forwarded = await this.#forward(delivery);
      let outcome: { status: string; nextAttempt: string | null } | null;
      try {
        outcome = (await this.#run.client.call<{ status: string; nextAttempt: string | null }>('POST', `${path}/msg/${segment(delivery.msgId)}/result`, {
          query: { listener: this.#listener },
          body: {
            lease: delivery.lease, statusCode: forwarded.statusCode, durationMs: forwarded.durationMs, response: forwarded.response,
            url: this.#options.forwardTo, failure: forwarded.failure, retryAfter: forwarded.retryAfter, noRetry: this.#options.noRetry,
          },
        })).body;
      } catch (error) {
        // Taken over meanwhile (a lease that ran out): it is handed out again, so this one does not count.
        if (error instanceof ApiError && error.status === 409 && error.code !== 'taken_over') outcome = null;
        else throw error;
      }
      this.#print(delivery, forwarded, outcome);
      if (outcome?.status === 'pending') return;
    }
  }

  async #forward(delivery: Pulled): Promise<Forwarded> {
    const started = performance.now();
    const method = delivery.method.toUpperCase();
    const body = Buffer.from(delivery.bodyBase64, 'base64');
    const timeout = AbortSignal.timeout(this.#options.timeoutMs);
    try {
      // undici's request, not fetch: fetch adds headers of its own (accept-language,
      // sec-fetch-mode...), and the local service should get the request as it was made.
      const response = await request(this.#options.forwardTo, {
        method: method as Dispatcher.HttpMethod,
        headers: delivery.headers,
        ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
        signal: AbortSignal.any([timeout, this.#stop.signal]),
      });
      const text = (await response.body.text()).slice(0, RESPONSE_KEPT);
      const retryAfter = response.headers['retry-after'];
      return { statusCode: response.statusCode, durationMs: Math.round(performance.now() - started), response: text, failure: null, retryAfter: typeof retryAfter === 'string' ? retryAfter : null };
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      const cause = (error as { code?: string }).code;
      const failure = timeout.aborted ? 'timeout' : cause === 'ECONNREFUSED' ? 'connection_refused' : cause === 'ECONNRESET' || cause === 'UND_ERR_SOCKET' ? 'connection_reset' : 'network';
      return { statusCode: 0, durationMs, response: `${failure}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`, failure, retryAfter: null };
    }
  }

  #print(delivery: Pulled, forwarded: Forwarded, outcome: { status: string; nextAttempt: string | null } | null): void {
    const counts = this.#counts;
    counts.forwarded++;
    const ok = forwarded.statusCode >= 200 && forwarded.statusCode < 300;
    if (outcome === null) counts.skipped++;
    else if (ok) counts.succeeded++;
    else counts.failed++;
    const what = this.#options.bySource ? `${delivery.method} ${delivery.eventType}` : delivery.eventType;
    const next = outcome === null ? 'lease lost, handed out again' : ok ? '' : outcome.status === 'pending' ? `retry at ${outcome.nextAttempt}` : 'recorded, not retried';
    if (this.#run.json) {
      this.#run.io.stdout.write(`${JSON.stringify({
        time: new Date().toISOString(), msgId: delivery.msgId, eventType: delivery.eventType, method: delivery.method,
        attempt: delivery.attemptNumber, statusCode: forwarded.statusCode, failure: forwarded.failure, durationMs: forwarded.durationMs,
        outcome: outcome?.status ?? 'lease_lost', nextAttempt: outcome?.nextAttempt ?? null,
      })}\n`);
      return;
    }
    const out = this.#run.out;
    const status = forwarded.statusCode === 0 ? forwarded.failure ?? 'failed' : String(forwarded.statusCode);
    this.#run.io.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${what}  ${delivery.msgId}  → ${paint(out, ok ? 'good' : 'bad', status)}  ${forwarded.durationMs} ms${delivery.attemptNumber > 1 ? `  (attempt ${delivery.attemptNumber})` : ''}${next ? `  ${next}` : ''}\n`);
  }

  #reportDropped(dropped: number, first: boolean): void {
    if (dropped > this.#dropped && !first) this.#note(`${dropped - this.#dropped} event(s) dropped by the session's bounds (HERALD_LISTEN_MAX_EVENTS, HERALD_LISTEN_MAX_AGE) before they could be forwarded`);
    else if (dropped > 0 && first) this.#note(`${dropped} event(s) of this session were dropped by its bounds (HERALD_LISTEN_MAX_EVENTS, HERALD_LISTEN_MAX_AGE) before they could be forwarded`);
    this.#dropped = dropped;
  }

  #summary(): void {
    const { forwarded, succeeded, failed, skipped } = this.#counts;
    if (this.#run.json) {
      this.#run.io.stdout.write(`${JSON.stringify({ summary: { forwarded, succeeded, failed, leaseLost: skipped, dropped: this.#dropped } })}\n`);
      return;
    }
    this.#note(`stopped: ${forwarded} forwarded, ${succeeded} answered 2xx, ${failed} not${skipped ? `, ${skipped} handed out again` : ''}${this.#dropped ? `; ${this.#dropped} dropped by the session's bounds` : ''}`);
  }

  #note(text: string): void {
    this.#run.io.stderr.write(`${paint(this.#run.err, 'dim', 'herald listen:')} ${text}\n`);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.#stop.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }
}
