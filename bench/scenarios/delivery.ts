import { arrivalRate, Child, kill, prefill, startHerald, startReceiver, until, Workspace, type StoreKind } from '../lib.ts';

const PAYLOAD = 1000;
/** Herald's default per-endpoint concurrency, which the baseline client uses too. */
const CONCURRENCY = 32;

/** Requests/s a bare undici client posts to the receiver, `CONCURRENCY` at a time. */
export async function deliveryBaseline(count: number): Promise<{ rate: number }> {
  const receiver = await startReceiver(['ok']);
  try {
    const sender = new Child('./processes/bare-sender.ts', [receiver.urls[0]!, String(count), String(CONCURRENCY), String(PAYLOAD)]);
    await sender.done();
    await sender.close();
    return { rate: arrivalRate(await receiver.stats(), 0) };
  } finally {
    await receiver.child.close();
  }
}

/**
 * End-to-end deliveries/s: `count` messages queued for each receiver URL before Herald starts,
 * measured from the first arrival to the last at the server at `measured`.
 */
export async function drain(kind: StoreKind, behaviours: string[], count: number, timeoutMs: number, measured = 0, transformation: string | null = null) {
  const workspace = new Workspace(kind);
  const receiver = await startReceiver(behaviours);
  try {
    await prefill(workspace, receiver.urls, count, PAYLOAD, transformation);
    const herald = await startHerald(workspace);
    try {
      await until('the queue to drain', async () => (await receiver.stats()).counts[measured]! >= count, timeoutMs, 100);
      const stats = await receiver.stats();
      return { stats, rate: arrivalRate(stats, measured) };
    } finally {
      await kill(herald);
    }
  } finally {
    await receiver.child.close();
    await workspace.dispose();
  }
}

export async function deliveryHerald(kind: StoreKind, count: number): Promise<{ rate: number }> {
  return { rate: (await drain(kind, ['ok'], count, 120_000)).rate };
}

/** One message to 100 endpoints: total deliveries/s over all of them. */
export async function fanOut(kind: StoreKind, messages: number): Promise<{ rate: number; deliveries: number }> {
  const { stats } = await drain(kind, Array.from({ length: 100 }, () => 'ok'), messages, 120_000);
  const deliveries = stats.counts.reduce((a, b) => a + b, 0);
  const first = Math.min(...stats.firstAt.map((t) => t ?? Infinity));
  const last = Math.max(...stats.lastAt.map((t) => t ?? 0));
  return { rate: (deliveries - 1) / ((last - first) / 1000), deliveries };
}

/**
 * A healthy endpoint's rate next to one that answers after 5 s and one that fails 20% of
 * requests, against its rate next to two healthy endpoints with the same number of messages:
 * the loss that misbehaving neighbours cause, with the work they add held equal.
 */
/**
 * A healthy endpoint's rate alone, beside a slow one and a flaky one, and beside a slow one and a
 * dead one (every request 500, so its circuit opens after HERALD_CIRCUIT_FAILURES failures and its
 * deliveries wait for probes): the healthy one should keep its rate in both.
 */
export async function isolation(kind: StoreKind, count: number): Promise<{ alone: number; beside: number; ratio: number; besideDead: number; ratioBesideDead: number }> {
  const alone = (await drain(kind, ['ok', 'ok', 'ok'], count, 120_000, 0)).rate;
  const beside = (await drain(kind, ['ok', 'slow:5000', 'flaky:0.2'], count, 120_000, 0)).rate;
  const besideDead = (await drain(kind, ['ok', 'slow:5000', 'flaky:1'], count, 120_000, 0)).rate;
  return { alone, beside, ratio: beside / alone, besideDead, ratioBesideDead: besideDead / alone };
}

/** A transformation that changes a header and the payload: what the sandbox costs, not what a handler does. */
export const TRIVIAL_TRANSFORMATION = 'function handler(webhook) { webhook.headers["X-Transformed"] = "1"; webhook.payload.transformed = true; return webhook; }';

/**
 * The same drain with and without a trivial transformation on the endpoint, taking turns (without,
 * with, without, with) so both come from the same stretch of the machine's time. The extra cost
 * per delivery is the difference of the time each delivery takes at those rates; `sandboxCallMs`
 * is the transformation alone (JSON in, sandbox call, request out), warm, measured in this process.
 */
export async function transformationCost(kind: StoreKind, count: number): Promise<{ without: number; with: number; ratio: number; extraMsPerDelivery: number; sandboxCallMs: number; inThreadCallMs: number }> {
  const without: number[] = [];
  const withCode: number[] = [];
  for (let turn = 0; turn < 2; turn++) {
    without.push((await drain(kind, ['ok'], count, 120_000)).rate);
    withCode.push((await drain(kind, ['ok'], count, 120_000, 0, TRIVIAL_TRANSFORMATION)).rate);
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const [rateWithout, rateWith] = [mean(without), mean(withCode)];
  const { worker, inThread } = await sandboxCallMs();
  return { without: rateWithout, with: rateWith, ratio: rateWith / rateWithout, extraMsPerDelivery: 1000 / rateWith - 1000 / rateWithout, sandboxCallMs: worker, inThreadCallMs: inThread };
}

/**
 * One transformation's cost, warm, in this process: through the worker thread as deliveries make
 * it (32 at a time, as a busy endpoint's sends are), and in the sandbox on this thread alone.
 */
async function sandboxCallMs(): Promise<{ worker: number; inThread: number }> {
  const { createTransformationSandbox } = await import('../../src/delivery/transformation-sandbox.ts');
  const { createTransformationRunner } = await import('../../src/delivery/transformation-runner.ts');
  const { transform } = await import('../../src/delivery/transformation.ts');
  const payload = Buffer.from(JSON.stringify({ data: 'x'.repeat(PAYLOAD - 12) }));
  const webhook = { method: 'POST', url: 'http://127.0.0.1:9/hook', headers: {}, eventType: 'bench.event', contentType: 'application/json', payload, payloadIsJson: true };
  const calls = 20_000;
  const sandbox = await createTransformationSandbox();
  for (let i = 0; i < 1_000; i++) await transform(sandbox, 'ep_bench', TRIVIAL_TRANSFORMATION, webhook);
  let started = performance.now();
  for (let i = 0; i < calls; i++) await transform(sandbox, 'ep_bench', TRIVIAL_TRANSFORMATION, webhook);
  const inThread = (performance.now() - started) / calls;
  sandbox.dispose();
  const runner = createTransformationRunner();
  const batch = async () => Promise.all(Array.from({ length: CONCURRENCY }, () => transform(runner, 'ep_bench', TRIVIAL_TRANSFORMATION, webhook)));
  for (let i = 0; i < 1_000 / CONCURRENCY; i++) await batch();
  started = performance.now();
  for (let i = 0; i < calls / CONCURRENCY; i++) await batch();
  const worker = (performance.now() - started) / calls;
  await runner.close();
  return { worker, inThread };
}
