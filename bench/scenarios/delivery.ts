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
export async function drain(kind: StoreKind, behaviours: string[], count: number, timeoutMs: number, measured = 0) {
  const workspace = new Workspace(kind);
  const receiver = await startReceiver(behaviours);
  try {
    await prefill(workspace, receiver.urls, count, PAYLOAD);
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
