import { EventEmitter } from 'node:events';
import { Agent, type Dispatcher } from 'undici';
import type { AddressPolicy } from '../core/address-policy.ts';
import type { FailureReason } from '../core/model.ts';
import { BLOCKED_ADDRESS, blockedLiteral, guardedLookup } from './guarded-lookup.ts';

/** Response bodies are kept up to this size: enough to debug, never enough to exhaust memory. */
export const RESPONSE_BODY_LIMIT = 64 * 1024;

export interface OutgoingRequest {
  /** POST, unless a received request is forwarded with its own method. */
  method?: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface SendResult {
  /** 0 when no response arrived. */
  statusCode: number;
  /** The response body's first 64 KiB, or what went wrong. */
  body: string;
  retryAfter: string | null;
  durationMs: number;
  failure: FailureReason | null;
}

export interface HttpSender {
  send(request: OutgoingRequest): Promise<SendResult>;
  close(): Promise<void>;
}

export interface HttpSenderOptions {
  timeoutMs: number;
  /** Which addresses connections may go to (checked at connect time, on the resolved address). */
  addresses: AddressPolicy;
}

/**
 * Herald's one HTTP client: an undici Agent, which keeps a keep-alive pool per origin. Redirects
 * are never followed (a 3xx is a failed attempt), and every connection goes through the address
 * guard. The pools take as many connections as there are requests: the lanes already bound what
 * is in flight to each endpoint, application and in all, while many endpoints of many tenants may
 * share one origin (a platform's hooks host), where a capped pool would queue a healthy tenant's
 * request behind another's hanging ones, inside the client, holding its send slot meanwhile.
 */
export function createHttpSender(options: HttpSenderOptions): HttpSender {
  const agent = new Agent({
    keepAliveTimeout: 4_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: {
      timeout: options.timeoutMs,
      lookup: guardedLookup(options.addresses),
    },
  });

  return {
    async send(request) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return failed('network', `invalid URL ${request.url}`, 0);
      }
      const blocked = blockedLiteral(url, options.addresses);
      if (blocked) return failed('blocked_address', blocked, 0);
      // undici's own timeouts bound each wait (connect, headers, the gap between two body chunks);
      // the deadline bounds the whole exchange, so a receiver dripping its answer a byte at a time
      // holds a send slot no longer than one that never answers. undici takes an EventEmitter as
      // well as an AbortSignal, which costs a fraction of one.
      const deadline = new EventEmitter() as EventEmitter & { reason?: Error };
      const timer = setTimeout(() => {
        deadline.reason = new DeadlineError(options.timeoutMs);
        deadline.emit('abort');
      }, options.timeoutMs);
      try {
        const response = await agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: (request.method ?? 'POST') as 'POST',
          headers: request.headers,
          body: request.body,
          signal: deadline,
        });
        const body = await readCapped(response.body);
        const retryAfter = response.headers['retry-after'];
        return {
          statusCode: response.statusCode,
          body,
          retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
          durationMs: elapsed(),
          failure: null,
        };
      } catch (error) {
        return failed(classify(error), describe(error), elapsed());
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => agent.close(),
  };
}

const DEADLINE_EXCEEDED = 'HERALD_DEADLINE_EXCEEDED';

/** The attempt's whole exchange took longer than the request timeout. */
class DeadlineError extends Error {
  readonly code = DEADLINE_EXCEEDED;
  constructor(timeoutMs: number) {
    super(`No complete response within ${timeoutMs} ms.`);
  }
}

function failed(failure: FailureReason, body: string, durationMs: number): SendResult {
  return { statusCode: 0, body, retryAfter: null, durationMs, failure };
}

/** Reads a response body up to the limit; listening for chunks costs less than an async iterator per response. */
function readCapped(body: Dispatcher.ResponseData['body']): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      body.off('data', onData);
      // NUL cannot be stored in a PostgreSQL text column; a receiver's body is kept for reading, not replay.
      resolve(Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8').replaceAll('\u0000', '\ufffd'));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= RESPONSE_BODY_LIMIT) {
        body.destroy(); // the rest is never read; the connection is closed rather than drained
        done();
      }
    };
    body.on('data', onData).once('end', done).once('error', reject);
  });
}

const FAILURE_BY_CODE: Record<string, FailureReason> = {
  [BLOCKED_ADDRESS]: 'blocked_address',
  [DEADLINE_EXCEEDED]: 'timeout',
  UND_ERR_ABORTED: 'timeout', // the deadline is the only reason a send is aborted
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  ETIMEDOUT: 'timeout',
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  UND_ERR_SOCKET: 'connection_reset',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_NONAME: 'dns',
};

function classify(error: unknown): FailureReason {
  for (let current = error as { code?: string; cause?: unknown } | undefined; current; current = current.cause as typeof current) {
    const code = current.code ?? '';
    if (code in FAILURE_BY_CODE) return FAILURE_BY_CODE[code]!;
    if (/^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/.test(code)) return 'tls';
  }
  return 'network';
}

function describe(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  const cause = (error as { cause?: Error })?.cause?.message;
  return cause && !message.includes(cause) ? `${message}: ${cause}` : message;
}
