import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.ts';
import { type OtlpSpan, rootSpanIdOf, traceIdOf } from '../src/telemetry/traces.ts';
import { startTestHerald } from './support/herald.ts';
import { startReceiver } from './support/receiver.ts';
import { waitFor } from './support/wait.ts';

/** A stand-in OTLP/HTTP collector on loopback: keeps every export's headers and spans. */
async function startCollector() {
  const exports: Array<{ path: string; headers: Record<string, unknown>; body: any }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      exports.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const spans = () => exports.flatMap((e) => e.body.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans as OtlpSpan[])));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, exports, spans, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value && ('stringValue' in value ? value.stringValue : value.intValue);
};

describe('traces (OpenTelemetry, OTLP over HTTP)', () => {
  const running: Array<{ close(): Promise<void> }> = [];
  after(async () => {
    for (const item of running.reverse()) await item.close();
  });

  it('is off unless OTEL_EXPORTER_OTLP_ENDPOINT is set, and reads the collector headers as the specification writes them', () => {
    assert.equal(loadConfig({}, {}).otelEndpoint, null);
    const config = loadConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%20b,x-team=hooks' });
    assert.equal(config.otelEndpoint, 'http://127.0.0.1:4318');
    assert.deepEqual(config.otelHeaders, { 'api-key': 'a b', 'x-team': 'hooks' });
    assert.throws(() => loadConfig({}, { OTEL_EXPORTER_OTLP_HEADERS: 'no-equals-sign' }), /OTEL_EXPORTER_OTLP_HEADERS/);
  });

  it('exports one trace per message: the publish, and under it each attempt with its outcome', async () => {
    const collector = await startCollector();
    running.push(collector);
    const receiver = await startReceiver((_request, index) => ({ status: index === 0 ? 500 : 200 }));
    running.push(receiver);
    const h = await startTestHerald({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20collector-key', OTEL_SERVICE_NAME: 'herald-test' } });
    running.push(h);
    const app = (await h.api('POST', '/api/v1/app', { name: 'traced' })).body;
    await h.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: `${receiver.url}/hook?token=secret-in-query` });
    const message = (await h.api('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'invoice.paid', payload: { amount: 1 } })).body;

    const spans = await waitFor('the publish and both attempts at the collector', () => {
      const mine = collector.spans().filter((s) => s.traceId === traceIdOf(message.id));
      return mine.length >= 3 ? mine : null;
    }, 15_000);
    const [publish, ...attempts] = [spans.find((s) => s.name === 'webhook publish')!, ...spans.filter((s) => s.name === 'webhook attempt')];
    assert.equal(publish.spanId, rootSpanIdOf(message.id));
    assert.match(publish.traceId, /^[0-9a-f]{32}$/);
    assert.match(publish.spanId, /^[0-9a-f]{16}$/);
    assert.equal(publish.parentSpanId, undefined);
    assert.equal(attribute(publish, 'herald.message.id'), message.id);
    assert.equal(attribute(publish, 'herald.event_type'), 'invoice.paid');
    assert.ok(BigInt(publish.endTimeUnixNano) >= BigInt(publish.startTimeUnixNano));

    assert.equal(attempts.length, 2);
    attempts.sort((a, b) => Number(attribute(a, 'herald.attempt.number')) - Number(attribute(b, 'herald.attempt.number')));
    for (const span of attempts) {
      assert.equal(span.parentSpanId, publish.spanId, 'each attempt is a child of the publish');
      assert.equal(span.kind, 3);
      assert.equal(attribute(span, 'url.full'), `${receiver.url}/hook`, 'the query, which may hold a secret, is left out');
      assert.ok(BigInt(span.startTimeUnixNano) >= BigInt(publish.startTimeUnixNano));
    }
    assert.deepEqual(attempts.map((s) => [attribute(s, 'http.response.status_code'), s.status.code]), [['500', 2], ['200', 1]]);

    const sent = collector.exports[0]!;
    assert.equal(sent.path, '/v1/traces');
    assert.equal(sent.headers.authorization, 'Bearer collector-key');
    assert.deepEqual(sent.body.resourceSpans[0].resource.attributes.find((a: any) => a.key === 'service.name'), { key: 'service.name', value: { stringValue: 'herald-test' } });
  });
});
