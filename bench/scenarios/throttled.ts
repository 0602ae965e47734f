import { kill, prefill, startHerald, startReceiver, until, Workspace, type StoreKind } from '../lib.ts';

const LIMIT = 50;

/**
 * Adaptive flow control against a receiver that takes 50 requests a second and answers 429 beyond
 * (no Retry-After, no throttleRate configured): `count` messages queued before Herald starts. It
 * reports the 429s Herald drew, how long after the first request it settled (from then on, every
 * second had at most 10% refused), the accepted rate from then until nine in ten were taken, and how
 * long the whole backlog took (the refused ones wait for their retry, 5 s later by default).
 */
export async function throttled(kind: StoreKind, count: number, timeoutMs: number) {
  const workspace = new Workspace(kind);
  const receiver = await startReceiver([`limit:${LIMIT}`]);
  try {
    await prefill(workspace, receiver.urls, count, 200);
    const herald = await startHerald(workspace);
    try {
      await until('the backlog to be accepted', async () => (await receiver.stats()).acceptedAt[0]!.length >= count, timeoutMs, 200);
      const stats = await receiver.stats();
      const accepted = stats.acceptedAt[0]!;
      const refused = stats.refusedAt[0]!;
      const start = Math.min(accepted[0]!, refused[0] ?? Infinity);
      const end = accepted.at(-1)!;
      const seconds = Math.ceil((end - start) / 1000);
      const perSecond = (times: number[]) => {
        const buckets = Array.from({ length: seconds }, () => 0);
        for (const t of times) buckets[Math.min(seconds - 1, Math.floor((t - start) / 1000))]!++;
        return buckets;
      };
      const ok = perSecond(accepted);
      const no = perSecond(refused);
      // The first second from which no later second had more than 10% of its requests refused.
      let settled = seconds;
      for (let s = seconds - 1; s >= 0 && no[s]! <= 0.1 * (ok[s]! + no[s]!); s--) settled = s;
      // Once settled, until nine in ten were taken: the tail is the refused ones' retries, on their schedule.
      let ninety = 0;
      for (let sum = 0; ninety < seconds && (sum += ok[ninety]!) < 0.9 * count; ninety++);
      const steady = ok.slice(settled, Math.max(settled + 1, ninety));
      return {
        refused: refused.length,
        settleSeconds: settled,
        settledRate: steady.length > 0 ? steady.reduce((a, b) => a + b, 0) / steady.length : null,
        drainSeconds: (end - start) / 1000,
        limit: LIMIT,
      };
    } finally {
      await kill(herald);
    }
  } finally {
    await receiver.child.close();
    await workspace.dispose();
  }
}
