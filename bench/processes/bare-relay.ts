import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';

/**
 * The latency baseline: a bare relay that answers each request 202 once its body is read, then
 * posts the same bytes on to a receiver with undici. No validation, no storage, no signature:
 * the floor the machine puts under publish-to-received latency.
 */
const target = new URL(process.argv[2]!);
const agent = new Agent({ connections: 32, keepAliveTimeout: 60_000 });
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end('{}');
    agent.request({ origin: target.origin, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body })
      .then((response) => response.body.dump(), () => {});
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ ready: true, port: (server.address() as AddressInfo).port }));
