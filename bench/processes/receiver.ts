import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver for the benchmarks, in its own process: one HTTP server per behaviour
 * ("ok", "slow:<ms>", "flaky:<fraction>", "limit:<per second>", which answers 429 beyond that rate
 * with a token bucket of one second's worth, as a rate-limited API does), counting requests per server and, for payloads that
 * carry `sentAt` (epoch ms with a fraction), how long after publishing each one arrived.
 * The parent asks for counts and latencies over IPC.
 */
const behaviours = process.argv.slice(2);
const counts = behaviours.map(() => 0);
const firstAt: Array<number | null> = behaviours.map(() => null);
const lastAt: Array<number | null> = behaviours.map(() => null);
let latencies: number[] = [];
/** For "limit" servers: when each request was taken, and when each was refused with 429. */
const acceptedAt: number[][] = behaviours.map(() => []);
const refusedAt: number[][] = behaviours.map(() => []);
const buckets = behaviours.map((behaviour) => ({ tokens: Number(behaviour.split(':')[1] ?? 0), at: 0 }));
const now = () => performance.timeOrigin + performance.now();

const ports = await Promise.all(behaviours.map((behaviour, index) => new Promise<number>((resolve) => {
  const [kind, arg] = behaviour.split(':');
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = now();
      const body = Buffer.concat(chunks);
      const sentAt = body.length < 4096 ? /"sentAt":(\d+(?:\.\d+)?)/.exec(body.toString('latin1'))?.[1] : undefined;
      if (sentAt) latencies.push(at - Number(sentAt));
      counts[index]!++;
      firstAt[index] ??= at;
      lastAt[index] = at;
      if (kind === 'limit') {
        const bucket = buckets[index]!;
        const limit = Number(arg);
        bucket.tokens = Math.min(limit, bucket.tokens + ((at - (bucket.at || at)) / 1000) * limit);
        bucket.at = at;
        const taken = bucket.tokens >= 1;
        if (taken) bucket.tokens -= 1;
        (taken ? acceptedAt : refusedAt)[index]!.push(at);
        res.writeHead(taken ? 200 : 429, { 'content-type': 'text/plain' });
        res.end(taken ? 'ok' : 'slow down');
        return;
      }
      const answer = () => {
        res.writeHead(kind === 'flaky' && Math.random() < Number(arg) ? 500 : 200, { 'content-type': 'text/plain' });
        res.end('ok');
      };
      if (kind === 'slow') setTimeout(answer, Number(arg));
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
})));

process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'stats') process.send!({ counts, firstAt, lastAt, latencies, acceptedAt, refusedAt, cpu: process.cpuUsage() });
  if (message.cmd === 'reset') {
    counts.fill(0);
    firstAt.fill(null);
    lastAt.fill(null);
    latencies = [];
    process.send!({ reset: true });
  }
});
process.send!({ ready: true, ports });
