import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { waitFor } from '../../test/support/wait.ts';
import { type BinRequest, DEFAULT_BIN_RESPONSE, DEFAULT_BIN_RULES } from '../core/bins.ts';
import { systemClock, systemRandom } from '../core/clock.ts';
import { createIdGenerator } from '../core/ids.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { binStreams } from './live-stream.ts';

const ids = createIdGenerator(systemClock, systemRandom);

/** A SQLite store with one bin, and a server whose every request opens a stream of it from number 0. */
async function withStream(heartbeatMs: number, test: (context: { store: Store; binId: string; url: string; close: () => Promise<void> }) => Promise<void>, slowReadsMs = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-stream-'));
  const store = openSqliteStore(join(dir, 'herald.db'));
  // Reads that answer late, as over a network: captures commit, and wake the stream, while it reads.
  const reading: Store = { ...store, bins: { ...store.bins, requestsAfter: async (binId, seq, limit) => {
    const rows = await store.bins.requestsAfter(binId, seq, limit);
    await new Promise((resolve) => setTimeout(resolve, slowReadsMs));
    return rows;
  } } };
  const binId = ids('bin');
  await store.bins.create({ id: binId, name: null, token: 't', response: DEFAULT_BIN_RESPONSE, rules: DEFAULT_BIN_RULES, createdAt: 1, updatedAt: 1, lastRequestAt: null, requestSeq: 0 }, 'd');
  const streams = binStreams(reading, heartbeatMs);
  const server = createServer((_request, response) =>
    streams.open({ binId, afterSeq: 0, response, show: (r) => ({ seq: r.seq }), log: pino({ level: 'silent' }) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await test({ store, binId, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => streams.close() });
  } finally {
    await streams.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Everything a stream sends, as it comes, and whether it ended. */
async function read(url: string) {
  const response = await new Promise<IncomingMessage>((resolve) => get(url, resolve));
  const seen = { text: '', ended: false };
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => (seen.text += chunk));
  response.on('end', () => (seen.ended = true));
  return { response, seen, destroy: () => response.destroy() };
}

const aRequest = (binId: string): BinRequest => ({
  id: ids('binRequest'), binId, seq: 0, method: 'POST', path: '', query: null, headers: [], secretHeaders: [], body: Buffer.from('x'), size: 1,
  ip: '127.0.0.1', responseStatus: 200, rule: 'configured', createdAt: Date.now(),
});

const numbersIn = (text: string) => [...text.matchAll(/data: \{"seq":(\d+)\}/g)].map((match) => Number(match[1]));

describe('a bin\'s live stream', () => {
  it('is an event stream with a heartbeat comment every interval', () => withStream(50, async ({ url }) => {
    const { response, seen, destroy } = await read(url);
    assert.equal(response.headers['content-type'], 'text/event-stream; charset=utf-8');
    await waitFor('three heartbeats', () => seen.text.split(': heartbeat\n\n').length > 3, 2_000);
    destroy();
  }));

  it('sends each capture once, in the order the bin numbered them, however the wake-ups come', () => withStream(60_000, async ({ store, binId, url }) => {
    const { seen, destroy } = await read(url);
    await waitFor('the stream to open', () => seen.text.length > 0);
    await Promise.all(Array.from({ length: 30 }, () => store.bins.capture(aRequest(binId), 100)));
    for (let i = 0; i < 10; i++) await store.bins.capture(aRequest(binId), 100);
    await waitFor('forty events', () => numbersIn(seen.text).length >= 40);
    assert.deepEqual(numbersIn(seen.text), Array.from({ length: 40 }, (_, i) => i + 1));
    destroy();
  }, 20));

  it('ends every stream when closed, and writes nothing after', () => withStream(20, async ({ url, close }) => {
    const { seen } = await read(url);
    await waitFor('the stream to open', () => seen.text.length > 0);
    await close();
    await waitFor('the stream to end', () => seen.ended, 2_000);
  }));
});
