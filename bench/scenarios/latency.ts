import { Agent } from 'undici';
import { appWithEndpoints, kill, percentile, sleep, startHerald, startReceiver, TOKEN, until, Workspace, type StoreKind } from '../lib.ts';

export interface LatencyResult {
  sent: number;
  received: number;
  p50: number;
  p99: number;
  p999: number;
}

/**
 * Publish-to-received latency at a fixed rate: every 10 ms the generator publishes `rate / 100`
 * messages whose payload carries the time they were published; the receiver subtracts it from
 * the time each arrives.
 */
export async function latency(kind: StoreKind, rate: number, durationMs: number): Promise<LatencyResult> {
  const workspace = new Workspace(kind);
  const receiver = await startReceiver(['ok']);
  const herald = await startHerald(workspace);
  const agent = new Agent({ connections: 64, keepAliveTimeout: 60_000 });
  try {
    const appId = await appWithEndpoints(herald.url, receiver.urls);
    const origin = herald.url;
    const path = `/api/v1/app/${appId}/msg`;
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const filler = 'x'.repeat(1000);
    const publish = async () => {
      const body = `{"eventType":"bench.latency","payload":{"sentAt":${performance.timeOrigin + performance.now()},"data":"${filler}"}}`;
      const response = await agent.request({ origin, path, method: 'POST', headers, body });
      await response.body.dump();
      if (response.statusCode !== 202) throw new Error(`bench: publish answered ${response.statusCode}`);
    };
    await Promise.all(Array.from({ length: 200 }, publish)); // warm-up
    await until('the warm-up deliveries', async () => (await receiver.stats()).counts[0]! >= 200, 10_000);
    await receiver.child.ask({ cmd: 'reset' });
    let sent = 0;
    const pending: Array<Promise<void>> = [];
    const perTick = rate / 100;
    const started = performance.now();
    for (let tick = 0; performance.now() - started < durationMs; tick++) {
      for (let i = 0; i < perTick; i++, sent++) pending.push(publish());
      const next = started + (tick + 1) * 10;
      await sleep(Math.max(0, next - performance.now()));
    }
    await Promise.all(pending);
    await until('every delivery', async () => (await receiver.stats()).counts[0]! >= sent, 30_000, 100);
    const stats = await receiver.stats();
    const sorted = stats.latencies.sort((a, b) => a - b);
    return { sent, received: stats.counts[0]!, p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9) };
  } finally {
    await agent.close();
    await kill(herald);
    await receiver.child.close();
    await workspace.dispose();
  }
}
