import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The ingest baseline: a bare node:http server that does what any JSON API must for a
 * message create (read the body, parse it, answer 202 with a JSON body of the same size as
 * Herald's), and nothing else: no validation, no storage.
 */
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const answer = JSON.stringify({ id: `msg_${randomUUID()}`, eventType: body.eventType, eventId: null, channels: null, payload: {}, timestamp: new Date().toISOString() });
    res.writeHead(202, { 'content-type': 'application/json; charset=utf-8' });
    res.end(answer);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ ready: true, port: (server.address() as AddressInfo).port }));
