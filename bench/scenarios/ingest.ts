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
