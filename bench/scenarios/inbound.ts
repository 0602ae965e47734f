import { createHmac } from 'node:crypto';
import { Agent } from 'undici';
import { atRate, Child, percentile, TOKEN, withHerald, type StoreKind } from '../lib.ts';

export interface AckResult {
  sent: number;
  p50: number;
  p99: number;
  p999: number;
}

const SECRET = 'whsec_bench_stripe_secret';

/**
 * How fast a source acknowledges a provider: Stripe-signed requests at `rate` a second, each
 * verified, stored and committed before its 200 (forwarding happens after, to a local receiver).
 */
export function inboundAck(kind: StoreKind, rate: number, durationMs: number): Promise<AckResult> {
  return withHerald(kind, async (herald, receiver) => {
    const api = async (path: string, body: object) => {
      const response = await fetch(herald.url + path, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return response.json() as Promise<{ id: string; ingestUrl: string }>;
    };
    const source = await api('/ingest/api/v1/source', { name: 'bench', type: 'stripe', config: { secret: SECRET } });
    await api(`/ingest/api/v1/source/${source.id}/endpoint`, { url: receiver.urls[0] });
    return stripeLoad(new URL(source.ingestUrl), 200, rate, durationMs);
  });
}

/**
 * The same load against a bare node:http server that reads each body and answers: the floor the
 * machine itself puts under these latencies, measured in the same run.
 */
export async function inboundBaseline(rate: number, durationMs: number): Promise<AckResult> {
  const server = new Child('./processes/bare-server.ts');
  try {
    const { port } = await server.ready;
    return await stripeLoad(new URL(`http://127.0.0.1:${port}/in/bare`), 202, rate, durationMs);
  } finally {
    await server.close();
  }
}

/** Stripe-signed events at `rate` a second, each timed from send to answer; a second of warm-up first. */
async function stripeLoad(target: URL, status: number, rate: number, durationMs: number): Promise<AckResult> {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 60_000 });
  let n = 0;
  const acks: number[] = [];
  const deliver = async () => {
    const body = JSON.stringify({ id: `evt_${++n}`, type: 'invoice.paid', data: { object: { amount: 4200, note: 'x'.repeat(800) } } });
    const t = Math.floor(Date.now() / 1000);
    const signature = `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`;
    const started = performance.now();
    const response = await agent.request({ origin: target.origin, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body });
    await response.body.dump();
    if (response.statusCode !== status) throw new Error(`bench: ${target.origin} answered ${response.statusCode}`);
    acks.push(performance.now() - started);
  };
  try {
    await atRate(rate, 1_000, deliver);
    acks.length = 0;
    const sent = await atRate(rate, durationMs, deliver);
    acks.sort((a, b) => a - b);
    return { sent, p50: percentile(acks, 50), p99: percentile(acks, 99), p999: percentile(acks, 99.9) };
  } finally {
    await agent.close();
  }
}
