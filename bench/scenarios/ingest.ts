import { compileFilter } from '../../src/core/payload-filter.ts';
import { appWithEndpoints, Child, ClosedLoop, TOKEN, type Turn, turnsCpu, turnsRate, until, withHerald, type StoreKind } from '../lib.ts';

export interface IngestResult {
  rate: number;
  /** The baseline's rate in the turns it took with this figure's, and this figure's ratio to it. */
  baselineRate: number;
  ratio: number;
  /** Herald's CPU use in its turns, as a fraction of one core (its threads included). */
  serverCpu: number;
}

/**
 * Requests in flight. A closed loop only measures a server's capacity if it keeps the server busy,
 * and Herald answers each request only after its commit's fsync: with 64, its main thread sat
 * idle 16–19% of its turns, waiting on syncs, while the bare server was busy throughout. With 128
 * both are (Herald's process at 94–98% of a core, the baseline's rate unchanged within the noise).
 */
const CONNECTIONS = 128;
const BODY = JSON.stringify({ eventType: 'bench.ingest', payload: { data: 'x'.repeat(1000) } });
const WARM_UP_MS = 500;
/**
 * Herald and the baseline take turns under the same load, a second each. On this kind of machine
 * a bare server's rate swings by a third from one second to the next, so two figures measured one
 * after the other compare two moments as much as two servers; taking turns puts both in the same
 * moments.
 */
const TURN_MS = 1_000;

/** The bare node:http server every ingest figure is compared with, kept up for the whole run. */
export class IngestBaseline {
  readonly #server = new Child('./processes/bare-server.ts');
  #loop: ClosedLoop | null = null;
  readonly #turns: Turn[] = [];

  async #ready(): Promise<ClosedLoop> {
    if (!this.#loop) {
      const { port } = await this.#server.ready;
      this.#loop = new ClosedLoop(`http://127.0.0.1:${port}/api/v1/app/app_x/msg`, { body: BODY, connections: CONNECTIONS, expect: 202, serverPid: this.#server.process.pid! });
      await this.#loop.run(WARM_UP_MS);
    }
    return this.#loop;
  }

  /** One turn of load. */
  async run(durationMs: number): Promise<Turn> {
    const turn = await (await this.#ready()).run(durationMs);
    this.#turns.push(turn);
    return turn;
  }

  /** Requests/s over all its turns, and the server's CPU use in them as a fraction of one core (to show the load saturates it). */
  summary(): { rate: number; serverCpu: number } {
    return { rate: turnsRate(this.#turns), serverCpu: turnsCpu(this.#turns) };
  }

  async close(): Promise<void> {
    await this.#loop?.close();
    await this.#server.close();
  }
}

/**
 * Messages/s Herald accepts (202) for `POST /api/v1/app/{app}/msg`, 1 KB payloads, one endpoint,
 * in turns with the baseline: with the API alone (`--role api`, so each message and its delivery
 * are stored and the sending is left to the delivery figure), or, `whileDelivering`, with the same
 * process sending every message it accepts as it goes, on the same two cores. Then Herald's turn
 * ends only once every message it accepted has arrived, so none of its sending spills into the
 * baseline's turn.
 */
export function ingest(kind: StoreKind, durationMs: number, baseline: IngestBaseline, { whileDelivering }: { whileDelivering: boolean }): Promise<IngestResult> {
  return withHerald(kind, async (herald, receiver) => {
    const appId = await appWithEndpoints(herald.url, receiver.urls);
    // As the svix SDKs send it: the answer leaves out the payload the client already has, which
    // also makes it the size of the baseline's.
    const loop = new ClosedLoop(`${herald.url}/api/v1/app/${appId}/msg?with_content=false`, {
      body: BODY, connections: CONNECTIONS, expect: 202, headers: { authorization: `Bearer ${TOKEN}` }, serverPid: herald.child.pid!,
    });
    let accepted = 0;
    const heraldTurn = async (ms: number) => {
      const turn = await loop.run(ms);
      accepted += turn.answered;
      if (whileDelivering) await until('the accepted messages to arrive', async () => (await receiver.stats()).counts[0]! >= accepted, 60_000, 10);
      return turn;
    };
    try {
      await heraldTurn(WARM_UP_MS);
      const turnMs = Math.min(TURN_MS, durationMs);
      const heraldTurns: Turn[] = [];
      const baselineTurns: Turn[] = [];
      for (let i = 0; i < Math.max(1, Math.round(durationMs / TURN_MS)); i++) {
        // Who goes first alternates, so a trend over the run weighs on both alike.
        if (i % 2 === 0) baselineTurns.push(await baseline.run(turnMs));
        heraldTurns.push(await heraldTurn(turnMs));
        if (i % 2 === 1) baselineTurns.push(await baseline.run(turnMs));
      }
      const rate = turnsRate(heraldTurns);
      const baselineRate = turnsRate(baselineTurns);
      return { rate, baselineRate, ratio: rate / baselineRate, serverCpu: turnsCpu(heraldTurns) };
    } finally {
      await loop.close();
    }
  }, whileDelivering ? {} : { HERALD_ROLE: 'api' });
}

/** A realistic 1 KB order event, and a schema it passes: formats, nested objects, an array of lines, no extra fields. */
const ORDER = {
  orderId: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
  createdAt: '2024-01-15T09:30:00Z',
  amount: 12_500,
  currency: 'EUR',
  customer: { id: 'cus_8f2k', email: 'buyer@example.com', name: 'A Buyer' },
  lines: [1, 2, 3].map((n) => ({ sku: `SKU-${n}`, quantity: n, unitPrice: 1_000 * n })),
  note: 'x'.repeat(600),
};
const ORDER_SCHEMA = {
  type: 'object',
  properties: {
    orderId: { type: 'string', format: 'uuid' },
    createdAt: { type: 'string', format: 'date-time' },
    amount: { type: 'integer', minimum: 0 },
    currency: { type: 'string', enum: ['EUR', 'USD', 'GBP'] },
    customer: {
      type: 'object',
      properties: { id: { type: 'string' }, email: { type: 'string', format: 'email' }, name: { type: 'string' } },
      required: ['id', 'email'],
    },
    lines: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1 }, unitPrice: { type: 'integer' } }, required: ['sku', 'quantity'] },
    },
    note: { type: 'string', maxLength: 2000 },
  },
  required: ['orderId', 'createdAt', 'amount', 'currency', 'customer', 'lines'],
  additionalProperties: false,
};

export interface SchemaCostResult {
  /** Messages/s accepted of an event type without a schema, and of one whose schema each payload is checked against (and passes). */
  without: number;
  with: number;
  ratio: number;
  /** What each check adds to a message create, from the two rates. */
  extraMsPerMessage: number;
  /**
   * Herald's CPU time per message created, without and with the check (ms): on a machine other
   * work shares, less swayed by it than the rates are.
   */
  cpuMsWithout: number;
  cpuMsWith: number;
  /** The check alone, in this process: a compiled schema run over the parsed payload. */
  checkMs: number;
}

/**
 * The schema check's cost on the publish path: the same 1 KB payload published as two event
 * types in one Herald (`--role api`), one registered without a schema and one with a schema the
 * payload passes, in alternating turns so both see the same moments of the machine.
 */
export function schemaCost(kind: StoreKind, durationMs: number): Promise<SchemaCostResult> {
  return withHerald(kind, async (herald, receiver) => {
    const appId = await appWithEndpoints(herald.url, receiver.urls);
    for (const eventType of [{ name: 'bench.plain', description: 'no schema' }, { name: 'bench.checked', description: 'checked', schemas: { 1: ORDER_SCHEMA } }]) {
      const response = await fetch(`${herald.url}/api/v1/event-type`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(eventType) });
      if (response.status !== 201) throw new Error(`bench: creating ${eventType.name} answered ${response.status}`);
    }
    const loopFor = (eventType: string) => new ClosedLoop(`${herald.url}/api/v1/app/${appId}/msg?with_content=false`, {
      body: JSON.stringify({ eventType, payload: ORDER }), connections: CONNECTIONS, expect: 202, headers: { authorization: `Bearer ${TOKEN}` }, serverPid: herald.child.pid!,
    });
    const [plain, checked] = [loopFor('bench.plain'), loopFor('bench.checked')];
    try {
      await plain.run(WARM_UP_MS);
      await checked.run(WARM_UP_MS);
      const withoutTurns: Turn[] = [];
      const withTurns: Turn[] = [];
      for (let i = 0; i < Math.max(2, Math.round(durationMs / TURN_MS)); i++) {
        if (i % 2 === 0) withoutTurns.push(await plain.run(TURN_MS));
        withTurns.push(await checked.run(TURN_MS));
        if (i % 2 === 1) withoutTurns.push(await plain.run(TURN_MS));
      }
      const [without, withSchema] = [turnsRate(withoutTurns), turnsRate(withTurns)];
      const cpuMs = (turns: Turn[]) => (1000 * turns.reduce((sum, t) => sum + t.cpuSeconds, 0)) / turns.reduce((sum, t) => sum + t.answered, 0);
      return {
        without, with: withSchema, ratio: withSchema / without, extraMsPerMessage: 1000 / withSchema - 1000 / without,
        cpuMsWithout: cpuMs(withoutTurns), cpuMsWith: cpuMs(withTurns), checkMs: await checkMs(),
      };
    } finally {
      await plain.close();
      await checked.close();
    }
  }, { HERALD_ROLE: 'api' });
}

async function checkMs(): Promise<number> {
  const { compileSchemas } = await import('../../src/core/payload-schemas.ts');
  const schemas = compileSchemas({ 1: ORDER_SCHEMA });
  const payload = JSON.parse(JSON.stringify(ORDER));
  for (let i = 0; i < 10_000; i++) schemas.check(payload);
  const calls = 100_000;
  const started = performance.now();
  for (let i = 0; i < calls; i++) if (schemas.check(payload)!.violations.length > 0) throw new Error('bench: the order does not pass its schema');
  return (performance.now() - started) / calls;
}

/**
 * The cost of a payload filter at fan-out (`--only filter`): messages/s Herald accepts for an
 * application whose one endpoint has a filter the message matches, against an application whose
 * one endpoint has none, in the same process (`--role api`), taking turns a second each. Both
 * store one delivery per message, so the difference is the filter's evaluation (the API hands its
 * parse of the payload over; nothing is parsed again). The filter is a typical one (event type, a
 * comparison and a membership test) plus, in the `regex` figure, a `$regex` over the 1 KB string.
 * `evaluateUs` is one evaluation alone, in this process, for scale.
 */
export function filterCost(kind: StoreKind, durationMs: number): Promise<Record<string, number>> {
  const typical = { eventType: 'bench.ingest', 'payload.size': { $gte: 1 }, 'payload.kind': { $in: ['a', 'b'] } };
  const withRegex = { ...typical, 'payload.data': { $regex: '^x+$' } };
  const body = JSON.stringify({ eventType: 'bench.ingest', payload: { kind: 'a', size: 1000, data: 'x'.repeat(1000) } });
  return withHerald(kind, async (herald, receiver) => {
    const app = async (filter: object | null) => {
      const created = await post(herald.url, '/api/v1/app', { name: 'bench filter' });
      await post(herald.url, `/api/v1/app/${created.id}/endpoint`, { url: receiver.urls[0]!, filter });
      return new ClosedLoop(`${herald.url}/api/v1/app/${created.id}/msg?with_content=false`, {
        body, connections: CONNECTIONS, expect: 202, headers: { authorization: `Bearer ${TOKEN}` }, serverPid: herald.child.pid!,
      });
    };
    const loops = { none: await app(null), typical: await app(typical), regex: await app(withRegex) };
    try {
      for (const loop of Object.values(loops)) await loop.run(WARM_UP_MS);
      const turns: Record<keyof typeof loops, Turn[]> = { none: [], typical: [], regex: [] };
      const order = ['none', 'typical', 'regex'] as const;
      for (let i = 0; i < Math.max(1, Math.round(durationMs / TURN_MS)); i++) {
        // Each takes each place in the order as often, so a trend over the run weighs on all alike.
        for (let j = 0; j < order.length; j++) {
          const name = order[(i + j) % order.length]!;
          turns[name].push(await loops[name].run(TURN_MS));
        }
      }
      const none = turnsRate(turns.none);
      return {
        without: none,
        typical: turnsRate(turns.typical),
        typicalRatio: turnsRate(turns.typical) / none,
        regex: turnsRate(turns.regex),
        regexRatio: turnsRate(turns.regex) / none,
        typicalEvaluateUs: evaluationUs(typical, body),
        regexEvaluateUs: evaluationUs(withRegex, body),
      };
    } finally {
      for (const loop of Object.values(loops)) await loop.close();
    }
  }, { HERALD_ROLE: 'api' });
}

/** Microseconds one evaluation of `filter` takes on the message `body`, in this process, once warm. */
function evaluationUs(filter: object, body: string): number {
  const compiled = compileFilter(filter);
  if (!('filter' in compiled)) throw new Error(`bench: the filter does not compile: ${compiled.problem.msg}`);
  const message = JSON.parse(body) as { eventType: string; payload: unknown };
  const document = { eventType: message.eventType, channels: null, payload: message.payload };
  for (let i = 0; i < 2_000; i++) compiled.filter(document);
  const runs = 20_000;
  const started = performance.now();
  for (let i = 0; i < runs; i++) compiled.filter(document);
  return ((performance.now() - started) / runs) * 1000;
}

async function post(apiUrl: string, path: string, body: object): Promise<{ id: string }> {
  const response = await fetch(apiUrl + path, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`bench: ${path} answered ${response.status}: ${await response.text()}`);
  return response.json() as Promise<{ id: string }>;
}
