import { appWithEndpoints, Child, closedLoop, TOKEN, withHerald, type StoreKind } from '../lib.ts';

export interface IngestResult {
  rate: number;
  /** The server process's CPU use while loaded, as a fraction of one core. */
  serverCpu?: number;
}

const CONNECTIONS = 64;
const BODY = JSON.stringify({ eventType: 'bench.ingest', payload: { data: 'x'.repeat(1000) } });

/** Requests/s a bare node:http server answers to the same load generator and bodies. */
export async function ingestBaseline(durationMs: number): Promise<IngestResult> {
  const server = new Child('./processes/bare-server.ts');
  try {
    const { port } = await server.ready;
    const url = `http://127.0.0.1:${port}/api/v1/app/app_x/msg`;
    await closedLoop(url, BODY, CONNECTIONS, 1_000, 202);
    const before = (await server.ask({ cmd: 'cpu' })).cpu;
    const started = performance.now();
    const rate = await closedLoop(url, BODY, CONNECTIONS, durationMs, 202);
    const after = (await server.ask({ cmd: 'cpu' })).cpu;
    const cpuMicros = after.user + after.system - before.user - before.system;
    return { rate, serverCpu: cpuMicros / ((performance.now() - started) * 1000) };
  } finally {
    await server.close();
  }
}

/**
 * Messages/s Herald accepts (202) for `POST /api/v1/app/{app}/msg`, 1 KB payloads, one endpoint:
 * with the API alone (`--role api`, so each message and its delivery are stored and the sending is
 * left to the delivery figure), or, `whileDelivering`, with the same process sending every message
 * it accepts as it goes, on the same two cores.
 */
export function ingestHerald(kind: StoreKind, durationMs: number, { whileDelivering }: { whileDelivering: boolean }): Promise<IngestResult> {
  return withHerald(kind, async (herald, receiver) => {
    const appId = await appWithEndpoints(herald.url, receiver.urls);
    // As the svix SDKs send it: the answer leaves out the payload the client already has, which
    // also makes it the size of the baseline's.
    const url = `${herald.url}/api/v1/app/${appId}/msg?with_content=false`;
    const headers = { authorization: `Bearer ${TOKEN}` };
    await closedLoop(url, BODY, CONNECTIONS, 1_000, 202, headers);
    return { rate: await closedLoop(url, BODY, CONNECTIONS, durationMs, 202, headers) };
  }, whileDelivering ? {} : { HERALD_ROLE: 'api' });
}
