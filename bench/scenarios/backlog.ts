import { kill, prefill, rssMb, sleep, startHerald, startReceiver, Workspace, type StoreKind } from '../lib.ts';

export interface BacklogResult {
  pending: number;
  prefillSeconds: number;
  /** Median time of a 100-delivery claim with the whole backlog due, in ms. */
  claimAtStartMs: number;
  /** The same once all but 1,000 deliveries are done. */
  claimAtEndMs: number;
  /** Largest resident memory of the Herald process while it works through the backlog. */
  maxRssMb: number;
  deliveredPerSecond: number;
}

/**
 * A backlog of `pending` deliveries: Herald's memory while it works on them, and how long a claim
 * takes with all of them due against with nearly all of them done.
 */
export async function backlog(kind: StoreKind, pending: number, runMs: number): Promise<BacklogResult> {
  const workspace = new Workspace(kind);
  const receiver = await startReceiver(['ok']);
  try {
    const started = performance.now();
    await prefill(workspace, receiver.urls, pending, 100);
    const prefillSeconds = (performance.now() - started) / 1000;
    const claimAtStartMs = await claimLatency(workspace);

    const herald = await startHerald(workspace);
    let maxRssMb = 0;
    const runStarted = performance.now();
    try {
      while (performance.now() - runStarted < runMs) {
        maxRssMb = Math.max(maxRssMb, rssMb(herald.child.pid!));
        await sleep(250);
      }
    } finally {
      await kill(herald);
    }
    const delivered = (await receiver.stats()).counts[0]!;
    await finishAllBut(workspace, 1_000);
    return {
      pending,
      prefillSeconds,
      claimAtStartMs,
      claimAtEndMs: await claimLatency(workspace),
      maxRssMb,
      deliveredPerSecond: delivered / (runMs / 1000),
    };
  } finally {
    await receiver.child.close();
    await workspace.dispose();
  }
}

/** The median of five claims of 100, each given back at once. */
async function claimLatency(workspace: Workspace): Promise<number> {
  const store = await workspace.openStore();
  try {
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const now = Date.now();
      const started = performance.now();
      const claimed = await store.queue.claim({ now, limit: 100, leaseMs: 60_000, slots: new Map(), defaultSlots: 100 });
      times.push(performance.now() - started);
      await store.queue.release(claimed, now);
    }
    return times.slice(1).sort((a, b) => a - b)[2]!;
  } finally {
    await store.close();
  }
}

/** Marks every delivery but the newest `keep` as delivered, as a worker would have. */
function finishAllBut(workspace: Workspace, keep: number): Promise<void> {
  return workspace.raw(async (db) => {
    // The secondary indexes are built again afterwards, as a worker finishing the deliveries one
    // by one would have left them once autovacuum had cleared the old row versions out of them:
    // one UPDATE keeping them up to date, and a VACUUM after it, took PostgreSQL half a minute.
    await db.withoutIndexes(() => db.exec(`UPDATE deliveries SET status = 0 WHERE status IN (1, 3) AND id NOT IN (
      SELECT id FROM deliveries WHERE status IN (1, 3) ORDER BY id DESC LIMIT ${keep})`).then(() => {}));
    if (workspace.schema) await db.exec('ANALYZE deliveries');
  });
}
