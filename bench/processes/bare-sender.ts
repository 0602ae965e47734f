import { Agent } from 'undici';

/**
 * The delivery baseline: a bare undici client posting `count` copies of a body to a receiver,
 * `concurrency` at a time, as fast as it can. Herald's dispatcher is measured against it.
 */
const [url, count, concurrency, size] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const target = new URL(url);
const agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });
const body = Buffer.from(JSON.stringify({ data: 'x'.repeat(size) }));
let next = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < count) {
    next++;
    const response = await agent.request({
      origin: target.origin,
      path: target.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await response.body.dump();
  }
}));
await agent.close();
process.send!({ done: true });
