import { Agent } from 'undici';
import { appWithEndpoints, atRate, type BenchReceiver, Child, percentile, startReceiver, TOKEN, until, withHerald, type StoreKind } from '../lib.ts';

export interface LatencyResult {
  sent: number;
  received: number;
  p50: number;
  p99: number;
  p999: number;
  /** How long the 202 took, p50 and p99: the publisher's side of the latency. */
  acceptP50: number;
  acceptP99: number;
}

/**
 * Publish-to-received latency at a fixed rate: the generator publishes messages at an even
 * cadence, each payload carrying the time it was published; the receiver subtracts it from the
 * time each arrives.
 */
export function latency(kind: StoreKind, rate: number, durationMs: number): Promise<LatencyResult> {
  return withHerald(kind, async (herald, receiver) => {
    const appId = await appWithEndpoints(herald.url, receiver.urls);
    return publishAtRate(new URL(`${herald.url}/api/v1/app/${appId}/msg`), { authorization: `Bearer ${TOKEN}` }, receiver, rate, durationMs);
  });
}

/** The same load through a bare relay (bare-relay.ts) to the same kind of receiver, in the same run. */
export async function latencyBaseline(rate: number, durationMs: number): Promise<LatencyResult> {
  const receiver = await startReceiver(['ok']);
  const relay = new Child('./processes/bare-relay.ts', [receiver.urls[0]!]);
  try {
    const { port } = await relay.ready;
    return await publishAtRate(new URL(`http://127.0.0.1:${port}/api/v1/app/app_x/msg`), {}, receiver, rate, durationMs);
  } finally {
    await relay.close();
    await receiver.child.close();
  }
}

async function publishAtRate(target: URL, extraHeaders: Record<string, string>, receiver: BenchReceiver, rate: number, durationMs: number): Promise<LatencyResult> {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 60_000 });
  try {
    const headers = { ...extraHeaders, 'content-type': 'application/json' };
    const filler = 'x'.repeat(1000);
    const accepted: number[] = [];
    const publish = async () => {
      const started = performance.now();
      const body = `{"eventType":"bench.latency","payload":{"sentAt":${performance.timeOrigin + performance.now()},"data":"${filler}"}}`;
      const response = await agent.request({ origin: target.origin, path: target.pathname, method: 'POST', headers, body });
      await response.body.dump();
      if (response.statusCode !== 202) throw new Error(`bench: publish answered ${response.statusCode}`);
      accepted.push(performance.now() - started);
    };
    await Promise.all(Array.from({ length: 200 }, publish)); // warm-up
    await until('the warm-up deliveries', async () => (await receiver.stats()).counts[0]! >= 200, 10_000);
    await receiver.child.ask({ cmd: 'reset' });
    accepted.length = 0;
    const sent = await atRate(rate, durationMs, publish);
    await until('every delivery', async () => (await receiver.stats()).counts[0]! >= sent, 30_000, 100);
    const stats = await receiver.stats();
    const sorted = stats.latencies.sort((a, b) => a - b);
    accepted.sort((a, b) => a - b);
    return {
      sent,
      received: stats.counts[0]!,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      acceptP50: percentile(accepted, 50),
      acceptP99: percentile(accepted, 99),
    };
  } finally {
    await agent.close();
  }
}
