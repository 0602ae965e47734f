import { createHash } from 'node:crypto';
import { type Message, Status } from '../core/model.ts';
import type { DeliveryResult } from '../store/store.ts';

/**
 * OpenTelemetry traces, exported as OTLP over HTTP (JSON), on only when an endpoint is configured
 * (OTEL_EXPORTER_OTLP_ENDPOINT); off, nothing here is even created.
 *
 * One trace per message: a `webhook publish` span from when the message was made to when it was
 * committed, and under it one `webhook attempt` span per attempt, on every worker, whenever it
 * happens (retries days later included). The ids are derived from the message's and the attempt's
 * ids (hashes), so workers agree on them without storing a trace context anywhere and without a
 * read: the attempt span of a message published by another process still finds its parent.
 *
 * Spans are batched in memory (at most MAX_QUEUED; beyond that the newest are dropped and counted,
 * never blocking a delivery) and sent every FLUSH_MS by Node's fetch. A collector that is down
 * costs the spans of that time, never a delivery: tracing is a view, not a record (the attempts are).
 */

const FLUSH_MS = 1_000;
const MAX_BATCH = 512;
const MAX_QUEUED = 8_192;

/** OTLP's SpanKind and StatusCode numbers. */
const KIND_PRODUCER = 4;
const KIND_CLIENT = 3;
const STATUS_OK = 1;
const STATUS_ERROR = 2;

export interface TracerOptions {
  /** The collector's base URL (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to `<it>/v1/traces`. */
  endpoint: string;
  /** Sent with every export (OTEL_EXPORTER_OTLP_HEADERS), e.g. a collector's API key. */
  headers: Record<string, string>;
  serviceName: string;
  serviceVersion: string;
  onError: (error: unknown) => void;
}

export interface Tracer {
  /** A message committed at `committedAt`: its trace's root span. */
  published(message: Message, committedAt: number): void;
  /** Recorded results: one span per attempt, under its message's root. */
  recorded(results: readonly DeliveryResult[]): void;
  /** What spans were dropped because the queue was full. */
  readonly dropped: number;
  /** Sends what is queued, and stops. */
  close(): Promise<void>;
}

/** The hex of the first `bytes` bytes of a SHA-256 of `text`: ids every process derives alike. */
const derived = (text: string, bytes: number) => createHash('sha256').update(text).digest('hex').slice(0, bytes * 2);
/** A message's trace id (16 bytes) and its root span's id (8 bytes). */
export const traceIdOf = (messageId: string) => derived(`herald.trace:${messageId}`, 16);
export const rootSpanIdOf = (messageId: string) => derived(`herald.publish:${messageId}`, 8);

/** A span as OTLP's JSON encoding writes it (ids in hex, times in nanoseconds as strings). */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: { stringValue: string } | { intValue: string } }>;
  status: { code: number; message?: string };
}

const nanos = (ms: number) => `${BigInt(Math.round(ms)) * 1_000_000n}`;
const attributes = (values: Record<string, string | number | null | undefined>) => Object.entries(values)
  .filter((entry): entry is [string, string | number] => entry[1] !== null && entry[1] !== undefined)
  .map(([key, value]) => ({ key, value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value } }));

/** A URL as shown in a span: its query and credentials left out, since they may carry secrets. */
function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '';
  }
}

export function createTracer(options: TracerOptions): Tracer {
  const url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
  const resource = { attributes: attributes({ 'service.name': options.serviceName, 'service.version': options.serviceVersion }) };
  let queue: OtlpSpan[] = [];
  let dropped = 0;
  let sending: Promise<void> = Promise.resolve();
  const add = (span: OtlpSpan) => {
    if (queue.length >= MAX_QUEUED) {
      dropped++;
      return;
    }
    queue.push(span);
    if (queue.length >= MAX_BATCH) flush();
  };
  const flush = () => {
    if (queue.length === 0) return sending;
    const batch = queue;
    queue = [];
    const body = JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'herald', version: options.serviceVersion }, spans: batch }] }] });
    // One export at a time, in order; a failed one is reported and its spans are let go.
    sending = sending.then(async () => {
      try {
        const response = await fetch(url, { method: 'POST', headers: { ...options.headers, 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`the OTLP collector at ${url} answered ${response.status}`);
      } catch (error) {
        options.onError(error);
      }
    });
    return sending;
  };
  const timer = setInterval(flush, FLUSH_MS);
  timer.unref();

  return {
    published(message, committedAt) {
      add({
        traceId: traceIdOf(message.id),
        spanId: rootSpanIdOf(message.id),
        name: 'webhook publish',
        kind: KIND_PRODUCER,
        startTimeUnixNano: nanos(message.createdAt),
        endTimeUnixNano: nanos(Math.max(committedAt, message.createdAt)),
        attributes: attributes({ 'herald.app.id': message.appId, 'herald.message.id': message.id, 'herald.event_type': message.eventType, 'herald.event_id': message.eventId }),
        status: { code: STATUS_OK },
      });
    },
    recorded(results) {
      for (const { attempt } of results) {
        const failed = attempt.status !== Status.success;
        add({
          traceId: traceIdOf(attempt.messageId),
          spanId: derived(`herald.attempt:${attempt.id}`, 8),
          parentSpanId: rootSpanIdOf(attempt.messageId),
          name: 'webhook attempt',
          kind: KIND_CLIENT,
          startTimeUnixNano: nanos(attempt.createdAt),
          endTimeUnixNano: nanos(attempt.createdAt + Math.max(0, attempt.responseDurationMs)),
          attributes: attributes({
            'http.request.method': 'POST',
            'url.full': shownUrl(attempt.url),
            'http.response.status_code': attempt.responseStatusCode || null,
            'herald.app.id': attempt.appId,
            'herald.message.id': attempt.messageId,
            'herald.endpoint.id': attempt.endpointId,
            'herald.attempt.id': attempt.id,
            'herald.attempt.number': attempt.attemptNumber,
            'herald.failure_reason': attempt.failureReason,
          }),
          status: failed ? { code: STATUS_ERROR, message: attempt.failureReason ?? `status ${attempt.responseStatusCode}` } : { code: STATUS_OK },
        });
      }
    },
    get dropped() {
      return dropped;
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
