import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.ts';

export const BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));
/** The Node.js flags bin/herald.js asks for on its shebang line, so tests run Herald the same way. */
export const NODE_FLAGS = readFileSync(BIN, 'utf8').split('\n')[0]!.split(/\s+/).slice(3);

export const TEST_TOKEN = 'hrld_test_token_for_process_tests';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `herald …` as a user does, in a child process with this environment, `input` on its stdin. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin!.end(input);
  });
}

export interface HeraldProcess {
  child: ChildProcess;
  /** The API's base URL; empty for a worker, which serves no HTTP. */
  url: string;
  output: () => string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string>;
}

/**
 * Runs `herald serve` as a real child process, as an operator would, and waits until it is ready:
 * healthy for a process with the API, started for a worker.
 */
export async function spawnHerald(dataDir: string, port: number, env: Record<string, string> = {}): Promise<HeraldProcess> {
  // A port freePort found free may be taken by another test's process before Herald binds it:
  // start again on another. Callers reach the process by its `url`, never by the port they chose.
  for (let tries = 1; ; tries++) {
    try {
      return await startServing(dataDir, port, env);
    } catch (error) {
      if (tries === 3 || !(error instanceof PortTaken)) throw error;
      port = await freePort();
    }
  }
}

class PortTaken extends Error {}

async function startServing(dataDir: string, port: number, env: Record<string, string>): Promise<HeraldProcess> {
  const worker = env.HERALD_ROLE === 'worker';
  const child = serve(dataDir, port, env);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = worker ? '' : `http://127.0.0.1:${port}`;
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    await waitFor(`herald ${worker ? 'worker' : `on port ${port}`} to be ready`, async () => {
      if (gone) throw new (output.includes('EADDRINUSE') ? PortTaken : Error)(`herald exited before it was ready:\n${output}`);
      if (worker) return output.includes('worker started');
      return (await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(2_000) }).catch(() => null))?.status === 204;
      // A start takes about a second; on a machine busy with the rest of the suite, many times that.
    }, 60_000);
  } catch (error) {
    // A process that never became ready would outlive the test that gave up on it.
    if (!gone) child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return { child, url, output: () => output, exited };
}

function serve(dataDir: string, port: number, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [...NODE_FLAGS, BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], {
    env: {
      ...process.env,
      HERALD_ADMIN_TOKEN: TEST_TOKEN,
      HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
      HERALD_RETRY_SCHEDULE: '200ms,400ms,800ms',
      // As in startTestHerald: fast retries would open the circuit of any test's failing endpoint.
      HERALD_CIRCUIT_FAILURES: '1000000',
      HERALD_LOG_LEVEL: env.HERALD_ROLE === 'worker' ? 'info' : 'warn',
      // Tests that stop Herald with SIGTERM need not wait for load balancers; the drain's own test sets it.
      HERALD_DRAIN_DELAY: '0s',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Runs `herald serve` as spawnHerald does, for a start that must fail: resolves with the exit code
 * and the output once the process is gone, or rejects if it is still running after `timeoutMs`.
 */
export async function failedStart(dataDir: string, env: Record<string, string> = {}, timeoutMs = 20_000): Promise<{ code: number | string; output: string }> {
  const child = serve(dataDir, await freePort(), env);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => {
    child.kill('SIGKILL');
    reject(new Error(`herald was still running after ${timeoutMs} ms:\n${output}`));
  }, timeoutMs)));
  try {
    return { code: await Promise.race([exited, timeout]), output };
  } finally {
    clearTimeout(timer);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Calls a running Herald's API with the test token. */
export async function call(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Kills a process and waits for it to be gone. */
export async function kill(herald: HeraldProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (herald.child.exitCode === null && herald.child.signalCode === null) herald.child.kill(signal);
  await herald.exited;
}
