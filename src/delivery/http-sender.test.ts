import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { addressPolicy } from '../core/address-policy.ts';
import { createHttpSender, type SendResult } from './http-sender.ts';

const TIMEOUT_MS = 800;
/** How long the dripping receivers drip before they finish their answer. */
const DRIP_MS = 4_000;

/** Resolves when `socket` closes, with when it did (performance.now()). */
function closed(socket: Socket): Promise<number> {
  return new Promise((resolve) => socket.once('close', () => resolve(performance.now())));
}

/** How long after `since` the socket closed, or Infinity if it is still open 2 s later. */
async function closedAfter(socketClosed: Promise<number>, since: number): Promise<number> {
  const at = await Promise.race([socketClosed, new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 2_000))]);
  return at - since;
}

async function listening<S extends Server | ReturnType<typeof createHttpServer>>(server: S): Promise<{ server: S; url: string }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
}

describe('the HTTP sender', () => {
  const sender = createHttpSender({ timeoutMs: TIMEOUT_MS, addresses: addressPolicy(true) });
  const servers: Array<{ close(): unknown; closeAllConnections?: () => void }> = [];
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections?.();
      server.close();
    }
    await sender.close();
  });

  /** Sends one request and measures how long the sender took to give its answer. */
  async function timedSend(url: string): Promise<{ result: SendResult; tookMs: number; finishedAt: number }> {
    const started = performance.now();
    const result = await sender.send({ url, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') });
    const finishedAt = performance.now();
    return { result, tookMs: finishedAt - started, finishedAt };
  }

  it('answers a receiver that replies at once', async () => {
    const { server, url } = await listening(createHttpServer((_req, res) => res.end('fine')));
    servers.push(server);
    const { result } = await timedSend(url);
    assert.equal(result.statusCode, 200);
    assert.equal(result.body, 'fine');
    assert.equal(result.failure, null);
  });

  it('ends an attempt whose response body drips in at the deadline, as a timeout, and closes its connection', async () => {
    let socketClosed: Promise<number> | undefined;
    const { server, url } = await listening(createHttpServer((req, res) => {
      socketClosed = closed(req.socket);
      res.writeHead(200, { 'content-type': 'text/plain' });
      // One byte every 200 ms: each gap is far shorter than the timeout, the whole far longer.
      const drip = setInterval(() => res.write('x'), 200);
      const end = setTimeout(() => res.end(), DRIP_MS);
      res.on('close', () => (clearInterval(drip), clearTimeout(end)));
    }));
    servers.push(server);
    const sent = await timedSend(url);
    assert.equal(sent.result.failure, 'timeout', `failed with ${sent.result.failure}: ${sent.result.body}`);
    assert.equal(sent.result.statusCode, 0);
    assert.ok(sent.tookMs >= TIMEOUT_MS - 50 && sent.tookMs < TIMEOUT_MS + 600, `took ${Math.round(sent.tookMs)} ms for a ${TIMEOUT_MS} ms deadline`);
    const after = await closedAfter(socketClosed!, sent.finishedAt);
    assert.ok(after < 500, `the dripping connection closed ${Math.round(after)} ms after the attempt ended`);
  });

  it('ends an attempt whose response headers drip in at the deadline, as a timeout', async () => {
    let socketClosed: Promise<number> | undefined;
    const { server, url } = await listening(createTcpServer((socket) => {
      socketClosed = closed(socket);
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\n');
        const drip = setInterval(() => socket.write('x-drip: 1\r\n'), 200);
        const end = setTimeout(() => socket.end('content-length: 0\r\n\r\n'), DRIP_MS);
        socket.on('close', () => (clearInterval(drip), clearTimeout(end)));
      });
      socket.on('error', () => {});
    }));
    servers.push(server);
    const sent = await timedSend(url);
    assert.equal(sent.result.failure, 'timeout', `failed with ${sent.result.failure}: ${sent.result.body}`);
    assert.ok(sent.tookMs < TIMEOUT_MS + 600, `took ${Math.round(sent.tookMs)} ms for a ${TIMEOUT_MS} ms deadline`);
    const after = await closedAfter(socketClosed!, sent.finishedAt);
    assert.ok(after < 500, `the dripping connection closed ${Math.round(after)} ms after the attempt ended`);
  });
});
