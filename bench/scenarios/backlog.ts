import { TEST_TOKEN } from '../../test/support/process.ts';
import { type BenchReceiver, kill, prefill, rssMb, sleep, startHerald, startReceiver, Workspace, type StoreKind } from '../lib.ts';

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
  /** A /metrics scrape with the whole backlog queued, in ms, client to client: the first (which waits for the queue's counts) and the median of the next twenty. */
  scrapeFirstMs: number;
  scrapeMs: number;
  /** The median of the same twenty as Herald timed them (Server-Timing): the scrape's own cost. */
  scrapeServerMs: number;
  /** The median of twenty GET /api/v1/health beside them, client to client: what any request costs here. */
  healthMs: number;
}

/**
 * A backlog of `pending` deliveries on each store: Herald's memory while it works on them, and how
 * long a claim takes with all of them due against with nearly all of them done.
 *
 * The stores' backlogs are written side by side, each by its own process, and nothing is measured
 * until both are written: on a slow day writing them one after the other took most of a minute.
 */
export async function backlog(kinds: readonly StoreKind[], pending: number, runMs: number): Promise<Partial<Record<StoreKind, BacklogResult>>> {
  const fixtures = await Promise.allSettled(kinds.map((kind) => backlogFixture(kind, pending)));
  try {
    const results: Partial<Record<StoreKind, BacklogResult>> = {};
    for (const fixture of fixtures) {
      if (fixture.status === 'rejected') throw fixture.reason;
      results[fixture.value.workspace.kind] = await measure(fixture.value, pending, runMs);
    }
    return results;
  } finally {
    for (const fixture of fixtures) {
      if (fixture.status === 'fulfilled') await fixture.value.dispose();
    }
  }
}

interface BacklogFixture {
  workspace: Workspace;
  receiver: BenchReceiver;
  prefillSeconds: number;
  dispose(): Promise<void>;
}

async function backlogFixture(kind: StoreKind, pending: number): Promise<BacklogFixture> {
  const workspace = new Workspace(kind);
  const receiver = await startReceiver(['ok']);
  const dispose = async () => {
    await receiver.child.close();
    await workspace.dispose();
  };
  try {
    const started = performance.now();
    await prefill(workspace, receiver.urls, pending, 100);
    return { workspace, receiver, prefillSeconds: (performance.now() - started) / 1000, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

async function measure({ workspace, receiver, prefillSeconds }: BacklogFixture, pending: number, runMs: number): Promise<BacklogResult> {
  const claimAtStartMs = await claimLatency(workspace);
  const { scrapeFirstMs, scrapeMs, scrapeServerMs, healthMs } = await scrapeCost(workspace);
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
    scrapeFirstMs,
    scrapeMs,
    scrapeServerMs,
    healthMs,
  };
}

/**
 * What Prometheus' scrape of /metrics costs with the backlog queued: the first waits for the
 * queue's counts; after it, a scrape answers with counts at most 15 s old and starts a new count
 * off the event loop, so each costs what the median of the next twenty says. Measured on an
 * API-only process, which sends nothing: beside a worker sending at full speed every request,
 * a scrape or any other, waits its turn behind the sends, which says nothing of the scrape.
 */
async function scrapeCost(workspace: Workspace): Promise<Pick<BacklogResult, 'scrapeFirstMs' | 'scrapeMs' | 'scrapeServerMs' | 'healthMs'>> {
  const herald = await startHerald(workspace, { HERALD_ROLE: 'api' });
  try {
    const get = async (path: string) => {
      const started = performance.now();
      const response = await fetch(`${herald.url}${path}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
      await response.text();
      if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
      const server = /render;dur=([\d.]+)/.exec(response.headers.get('server-timing') ?? '');
      return { ms: performance.now() - started, serverMs: server ? Number(server[1]) : Number.NaN };
    };
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const first = await get('/metrics');
    const scrapes: Array<{ ms: number; serverMs: number }> = [];
    const health: number[] = [];
    for (let i = 0; i < 20; i++) {
      scrapes.push(await get('/metrics'));
      health.push((await get('/api/v1/health')).ms);
      await sleep(50);
    }
    return { scrapeFirstMs: first.ms, scrapeMs: median(scrapes.map((s) => s.ms)), scrapeServerMs: median(scrapes.map((s) => s.serverMs)), healthMs: median(health) };
  } finally {
    await kill(herald);
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
      const claimed = await store.queue.claim({ now, limit: 100, leaseMs: 60_000, slots: new Map(), defaultSlots: 100, appSlots: new Map(), defaultAppSlots: 100 });
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
      SELECT id FROM deliveries WHERE status IN (1, 3) ORDER BY id DESC LIMIT ${keep})`));
    if (workspace.schema) await db.exec('ANALYZE deliveries');
  });
}
