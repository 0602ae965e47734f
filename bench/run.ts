import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { postgresReachable } from '../test/support/stores.ts';
import { backlog } from './scenarios/backlog.ts';
import { dashboard } from './scenarios/dashboard.ts';
import { deliveryBaseline, deliveryHerald, fanOut, isolation, transformationCost } from './scenarios/delivery.ts';
import { filterCost, ingest, IngestBaseline, schemaCost } from './scenarios/ingest.ts';
import { inboundAck, inboundBaseline } from './scenarios/inbound.ts';
import { latency, latencyBaseline } from './scenarios/latency.ts';
import { throttled } from './scenarios/throttled.ts';
import type { StoreKind } from './lib.ts';

/**
 * `npm run bench [-- --quick] [--only ingest,delivery,...]`: Herald against the bare baselines
 * measured in the same run, on SQLite and PostgreSQL. Prints a markdown table and writes
 * bench/results/latest.json (or `--out <file>`). `--smoke` runs every scenario at sizes too small
 * to measure anything, so `npm test` can check that the harness works. `transformation` (a trivial
 * transformation per delivery against none) and `schema` (message creates whose payload is checked
 * against its event type's schema, against creates of a type without one) and `filter` (an endpoint
 * with a payload filter against one without) run only when named in `--only`.
 */
const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, smoke: { type: 'boolean', default: false }, only: { type: 'string' }, out: { type: 'string' } },
});
const quick = values.quick! || values.smoke!;
const only = new Set((values.only ?? 'ingest,delivery,latency,inbound,fanout,isolation,backlog,throttled,dashboard').split(','));
const size = values.smoke
  ? { ingestMs: 500, deliveries: 300, latencyMs: 1_000, latencyBaselineMs: 1_000, inboundMs: 1_000, isolation: 60, backlog: 3_000, backlogRunMs: 500, throttled: 100, dashboard: 200 }
  : quick
  ? { ingestMs: 1_000, deliveries: 2_000, latencyMs: 2_000, latencyBaselineMs: 1_000, inboundMs: 1_000, isolation: 300, backlog: 20_000, backlogRunMs: 1_000, throttled: 300, dashboard: 10_000 }
  : { ingestMs: 5_000, deliveries: 20_000, latencyMs: 30_000, latencyBaselineMs: 3_000, inboundMs: 5_000, isolation: 2_500, backlog: 1_000_000, backlogRunMs: 5_000, throttled: 1_000, dashboard: 100_000 };
const stores: StoreKind[] = (await postgresReachable()) ? ['sqlite', 'postgres'] : ['sqlite'];
const started = performance.now();
const log = (line: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

const results: Record<string, any> = {
  machine: { cores: availableParallelism(), cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform },
  quick,
  startedAt: new Date().toISOString(),
  baselines: {},
  sqlite: {},
  postgres: {},
};

if (only.has('ingest')) {
  const baseline = new IngestBaseline();
  try {
    for (const store of stores) {
      log(`ingest: Herald on ${store}, taking turns with bare node:http`);
      results[store].ingest = await ingest(store, size.ingestMs, baseline, { whileDelivering: false });
      // The second row, one turn each, and left out of a quick run (not of a smoke run, which is
      // there to check every scenario works): it shows the cost of sending, not a target.
      if (values.quick && !values.smoke) continue;
      log(`ingest while delivering: Herald on ${store}, taking turns with bare node:http`);
      results[store].ingestWhileDelivering = await ingest(store, 1_000, baseline, { whileDelivering: true });
    }
    results.baselines.ingest = baseline.summary();
  } finally {
    await baseline.close();
  }
}
if (only.has('delivery') || only.has('fanout')) {
  // The baseline runs before, between and after the stores' turns, and each store's delivery is
  // compared with the two runs around its turn, so that both figures come from the same stretch of
  // the machine's time. Fan-out follows the single-endpoint run it is compared with at once.
  const baselines: Array<{ rate: number }> = [];
  const baseline = async () => {
    log('delivery: bare undici loop');
    baselines.push(await deliveryBaseline(size.deliveries));
  };
  await baseline();
  for (const store of stores) {
    log(`delivery: Herald on ${store}`);
    const herald = await deliveryHerald(store, size.deliveries);
    if (only.has('fanout')) {
      log(`fan-out 1 → 100: Herald on ${store}`);
      // As many deliveries as the single-endpoint run: the same work, spread over 100 endpoints.
      const fan = await fanOut(store, Math.ceil(size.deliveries / 100));
      results[store].fanOut = { ...fan, ratioToSingle: fan.rate / herald.rate };
    }
    await baseline();
    const baselineRate = (baselines.at(-2)!.rate + baselines.at(-1)!.rate) / 2;
    results[store].delivery = { ...herald, baselineRate, ratio: herald.rate / baselineRate };
  }
  results.baselines.delivery = { rate: baselines.reduce((sum, run) => sum + run.rate, 0) / baselines.length, runs: baselines.map((run) => run.rate) };
}
if (only.has('transformation')) {
  for (const store of stores) {
    log(`transformation: Herald on ${store}, with and without a trivial transformation, taking turns`);
    results[store].transformation = await transformationCost(store, size.deliveries);
  }
}
if (only.has('schema')) {
  for (const store of stores) {
    log(`schema check: Herald on ${store}, message creates with and without a schema, taking turns`);
    results[store].schema = await schemaCost(store, size.ingestMs);
  }
}
if (only.has('filter')) {
  for (const store of stores) {
    log(`payload filter: Herald on ${store}, messages for an endpoint with a filter and for one without, taking turns`);
    results[store].payloadFilter = await filterCost(store, size.ingestMs);
  }
}
if (only.has('latency')) {
  // The 30 s for each store; the floor needs fewer samples to show where it lies.
  log('latency at 1,000 msg/s: bare relay (node:http → undici)');
  results.baselines.latency = await latencyBaseline(1_000, size.latencyBaselineMs);
  for (const store of stores) {
    log(`latency at 1,000 msg/s: Herald on ${store}`);
    results[store].latency = await latency(store, 1_000, size.latencyMs);
  }
}
if (only.has('inbound')) {
  log('inbound ack at 1,000 req/s: bare node:http');
  results.baselines.inbound = await inboundBaseline(1_000, size.inboundMs);
  for (const store of stores) {
    log(`inbound ack at 1,000 req/s: Herald on ${store}`);
    results[store].inbound = await inboundAck(store, 1_000, size.inboundMs);
  }
}
if (only.has('isolation')) {
  for (const store of stores) {
    log(`isolation: Herald on ${store}`);
    results[store].isolation = await isolation(store, size.isolation);
  }
}
if (only.has('backlog')) {
  log(`backlog of ${size.backlog.toLocaleString('en')}: Herald on ${stores.join(' and ')}, written side by side, measured one after the other`);
  const backlogs = await backlog(stores, size.backlog, size.backlogRunMs);
  for (const store of stores) results[store].backlog = backlogs[store];
}
if (only.has('throttled')) {
  for (const store of stores) {
    log(`throttled receiver (50/s, 429 beyond): Herald on ${store}`);
    results[store].throttled = await throttled(store, size.throttled, 180_000);
  }
}
if (only.has('dashboard')) {
  for (const store of stores) {
    log(`dashboard first screen with ${size.dashboard.toLocaleString('en')} messages: Herald on ${store}, in Chromium`);
    const figure = await dashboard(store, size.dashboard);
    if (figure) results[store].dashboard = figure;
    else log('dashboard: skipped, Chromium is not installed (apt-get install -y chromium)');
  }
}
results.durationSeconds = Math.round((performance.now() - started) / 1000);

const targets = [
  { figure: 'ingest, SQLite', target: '≥ 0.5 × bare node:http', value: results.sqlite.ingest?.ratio, pass: (v: number) => v >= 0.5, show: ratio },
  { figure: 'delivery, SQLite', target: '≥ 0.5 × bare undici loop', value: results.sqlite.delivery?.ratio, pass: (v: number) => v >= 0.5, show: ratio },
  { figure: 'latency p50 at 1,000 msg/s, SQLite', target: '≤ 3 ms', value: results.sqlite.latency?.p50, pass: (v: number) => v <= 3, show: ms },
  { figure: 'latency p99 at 1,000 msg/s, SQLite', target: '≤ 20 ms', value: results.sqlite.latency?.p99, pass: (v: number) => v <= 20, show: ms },
  ...stores.map((store) => ({ figure: `inbound ack p99 at 1,000 req/s, ${label(store)}`, target: '≤ 10 ms', value: results[store].inbound?.p99, pass: (v: number) => v <= 10, show: ms })),
  { figure: 'ingest, PostgreSQL', target: '≥ 5,000 msg/s', value: results.postgres.ingest?.rate, pass: (v: number) => v >= 5_000, show: perSecond },
  ...stores.map((store) => ({ figure: `fan-out 1 → 100, ${label(store)}`, target: '≥ single-endpoint delivery', value: results[store].fanOut?.ratioToSingle, pass: (v: number) => v >= 1, show: ratio })),
  ...stores.map((store) => ({ figure: `transformation per delivery, warm sandbox, ${label(store)}`, target: '< 0.2 ms', value: results[store].transformation?.sandboxCallMs, pass: (v: number) => v < 0.2, show: micro })),
  ...stores.map((store) => ({ figure: `isolation, ${label(store)}`, target: 'healthy keeps > 90% of its rate', value: results[store].isolation?.ratio, pass: (v: number) => v > 0.9, show: ratio })),
  ...stores.map((store) => ({ figure: `isolation beside an open circuit, ${label(store)}`, target: 'healthy keeps > 90% of its rate', value: results[store].isolation?.ratioBesideDead, pass: (v: number) => v > 0.9, show: ratio })),
  ...stores.map((store) => ({ figure: `/metrics scrape's own cost with the backlog queued, ${label(store)}`, target: '< 5 ms', value: results[store].backlog?.scrapeServerMs, pass: (v: number) => v < 5, show: ms })),
  ...stores.map((store) => ({ figure: `backlog RSS, ${label(store)}`, target: '≤ 300 MB', value: results[store].backlog?.maxRssMb, pass: (v: number) => v <= 300, show: (v: number) => `${v.toFixed(0)} MB` })),
  ...stores.map((store) => ({ figure: `dashboard first screen, ${results[store].dashboard?.messages.toLocaleString('en') ?? 0} messages, ${label(store)}`, target: '< 1 s, cold', value: results[store].dashboard?.coldMs, pass: (v: number) => v < 1_000, show: ms })),
  ...stores.map((store) => ({
    figure: `backlog claim latency end/start, ${label(store)}`, target: 'flat (≤ 2×)',
    value: results[store].backlog ? results[store].backlog.claimAtEndMs / results[store].backlog.claimAtStartMs : undefined,
    pass: (v: number) => v <= 2, show: ratio,
  })),
];
results.targets = targets.filter((t) => t.value !== undefined).map((t) => ({ figure: t.figure, target: t.target, value: t.value, pass: t.pass(t.value) }));

const out = values.out ?? new URL('./results/latest.json', import.meta.url);
if (!values.out) mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(report());

function report(): string {
  const m = results.machine;
  const lines = [
    `# Herald benchmark${quick ? ' (quick)' : ''}`,
    '',
    `${m.cores} cores (${m.cpu}), ${m.memoryGb} GB, Node.js ${m.node}; ${results.durationSeconds} s. Everything on loopback.`,
    '',
    '| figure | SQLite | PostgreSQL | baseline (same run) |',
    '|---|---|---|---|',
  ];
  const row = (name: string, pick: (store: StoreKind) => string, baseline = '') =>
    lines.push(`| ${name} | ${pick('sqlite')} | ${stores.includes('postgres') ? pick('postgres') : 'skipped'} | ${baseline} |`);
  const at = (store: StoreKind, path: string) => path.split('.').reduce((v: any, k) => v?.[k], results[store]);
  const b = results.baselines;
  // Each ratio is to the baseline measured beside that figure: one value per store.
  const perStore = (path: string) => stores.map((store) => perSecond(at(store, path))).join(' / ');
  if (b.ingest) {
    row('ingest, msg/s (ratio): the API alone', (s) => `${perSecond(at(s, 'ingest.rate'))} (${ratio(at(s, 'ingest.ratio'))}; CPU ${percent(at(s, 'ingest.serverCpu'))})`,
      `node:http ${perStore('ingest.baselineRate')} in the same turns (CPU ${percent(b.ingest.serverCpu)})`);
    if (results.sqlite.ingestWhileDelivering) {
      row('… while the same process delivers each one', (s) => `${perSecond(at(s, 'ingestWhileDelivering.rate'))} (${ratio(at(s, 'ingestWhileDelivering.ratio'))})`,
        `node:http ${perStore('ingestWhileDelivering.baselineRate')}`);
    }
  }
  if (b.delivery) row('delivery, deliveries/s (ratio)', (s) => `${perSecond(at(s, 'delivery.rate'))} (${ratio(at(s, 'delivery.ratio'))})`, `undici ${perStore('delivery.baselineRate')} in the runs around each`);
  if (results.sqlite.latency) {
    const floor = b.latency;
    row('latency p50 / p99 / p99.9 at 1,000 msg/s', (s) => `${ms(at(s, 'latency.p50'))} / ${ms(at(s, 'latency.p99'))} / ${ms(at(s, 'latency.p999'))}`,
      floor ? `bare relay ${ms(floor.p50)} / ${ms(floor.p99)} / ${ms(floor.p999)}` : '');
    row('… of which the 202, p50 / p99', (s) => `${ms(at(s, 'latency.acceptP50'))} / ${ms(at(s, 'latency.acceptP99'))}`,
      floor ? `bare relay ${ms(floor.acceptP50)} / ${ms(floor.acceptP99)}` : '');
  }
  if (b.inbound) {
    row('inbound ack p50 / p99 / p99.9 at 1,000 req/s (Stripe-signed)', (s) => `${ms(at(s, 'inbound.p50'))} / ${ms(at(s, 'inbound.p99'))} / ${ms(at(s, 'inbound.p999'))}`,
      `node:http ${ms(b.inbound.p50)} / ${ms(b.inbound.p99)} / ${ms(b.inbound.p999)}`);
  }
  if (results.sqlite.payloadFilter) {
    row('payload filter: msg/s without / typical (ratio) / with a $regex over 1 KB (ratio); one evaluation', (s) =>
      `${perSecond(at(s, 'payloadFilter.without'))} / ${perSecond(at(s, 'payloadFilter.typical'))} (${ratio(at(s, 'payloadFilter.typicalRatio'))}) / ${perSecond(at(s, 'payloadFilter.regex'))} (${ratio(at(s, 'payloadFilter.regexRatio'))}); ${at(s, 'payloadFilter.typicalEvaluateUs')?.toFixed(1)} µs / ${at(s, 'payloadFilter.regexEvaluateUs')?.toFixed(1)} µs`);
  }
  if (results.sqlite.transformation) {
    row('trivial transformation: deliveries/s with / without (ratio); extra per delivery; per call through the worker (in-thread)', (s) =>
      `${perSecond(at(s, 'transformation.with'))} / ${perSecond(at(s, 'transformation.without'))} (${ratio(at(s, 'transformation.ratio'))}); ${micro(at(s, 'transformation.extraMsPerDelivery'))}; ${micro(at(s, 'transformation.sandboxCallMs'))} (${micro(at(s, 'transformation.inThreadCallMs'))})`);
  }
  if (results.sqlite.schema) {
    row('schema check at publish: messages/s with / without (ratio); extra per message; Herald CPU per message with / without; the check alone', (s) =>
      `${perSecond(at(s, 'schema.with'))} / ${perSecond(at(s, 'schema.without'))} (${ratio(at(s, 'schema.ratio'))}); ${micro(at(s, 'schema.extraMsPerMessage'))}; ` +
      `${micro(at(s, 'schema.cpuMsWith'))} / ${micro(at(s, 'schema.cpuMsWithout'))}; ${micro(at(s, 'schema.checkMs'))}`);
  }
  if (results.sqlite.fanOut) row('fan-out 1 → 100, deliveries/s (× single)', (s) => `${perSecond(at(s, 'fanOut.rate'))} (${ratio(at(s, 'fanOut.ratioToSingle'))})`);
  if (results.sqlite.isolation) {
    row('isolation: healthy rate beside slow + failing (ratio)', (s) => `${perSecond(at(s, 'isolation.beside'))} (${ratio(at(s, 'isolation.ratio'))})`);
    row('… beside slow + dead, its circuit open (ratio)', (s) => `${perSecond(at(s, 'isolation.besideDead'))} (${ratio(at(s, 'isolation.ratioBesideDead'))})`);
  }
  if (results.sqlite.throttled) {
    row('receiver allowing 50/s: 429s drawn; settled after; accepted rate once settled', (s) =>
      `${at(s, 'throttled.refused')} 429s; ${at(s, 'throttled.settleSeconds')} s; ${perSecond(at(s, 'throttled.settledRate'))}/s`);
  }
  if (results.sqlite.backlog) {
    row(`backlog ${size.backlog.toLocaleString('en')}: max RSS`, (s) => `${at(s, 'backlog.maxRssMb')?.toFixed(0)} MB`);
    row('backlog: /metrics scrape, first (counts the queue) → after; its own cost; a health check beside it', (s) =>
      `${ms(at(s, 'backlog.scrapeFirstMs'))} → ${ms(at(s, 'backlog.scrapeMs'))}; ${ms(at(s, 'backlog.scrapeServerMs'))}; ${ms(at(s, 'backlog.healthMs'))}`);
    row('backlog: claim of 100, start → end', (s) => `${ms(at(s, 'backlog.claimAtStartMs'))} → ${ms(at(s, 'backlog.claimAtEndMs'))}`);
  }
  if (results.sqlite.dashboard) {
    row('dashboard first screen (messages tab): cold / reload; applications', (s) => `${ms(at(s, 'dashboard.coldMs'))} / ${ms(at(s, 'dashboard.warmMs'))}; ${ms(at(s, 'dashboard.applicationsMs'))}`);
  }
  lines.push('', '| target | value | met |', '|---|---|---|');
  for (const t of targets) if (t.value !== undefined) lines.push(`| ${t.figure}: ${t.target} | ${t.show(t.value)} | ${t.pass(t.value) ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}

function label(store: StoreKind) {
  return store === 'sqlite' ? 'SQLite' : 'PostgreSQL';
}
function ratio(v: number | undefined) {
  return v === undefined || Number.isNaN(v) ? 'n/a' : `${v.toFixed(2)}×`;
}
function ms(v: number | undefined) {
  return v === undefined || Number.isNaN(v) ? 'n/a' : `${v.toFixed(1)} ms`;
}
function micro(v: number | undefined) {
  return v === undefined || Number.isNaN(v) ? 'n/a' : `${(v * 1000).toFixed(0)} µs`;
}
function percent(v: number | undefined) {
  return v === undefined || Number.isNaN(v) ? 'n/a' : `${(v * 100).toFixed(0)}%`;
}
function perSecond(v: number | undefined) {
  return v === undefined || Number.isNaN(v) ? 'n/a' : Math.round(v).toLocaleString('en');
}
