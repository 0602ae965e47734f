import { Worker } from 'node:worker_threads';
import type { SandboxLimits, SandboxOutcome } from './transformation-sandbox.ts';
import type { RunnerCall } from './transformation-worker.ts';

/**
 * Where transformations run: the sandbox (transformation-sandbox.ts) in a worker thread of its own,
 * so a handler that spends its whole CPU limit, or many that do, hold up only other
 * transformations, never the event loop that claims, sends and records deliveries, nor the API.
 * Nor other endpoints' transformations, after the first time: an endpoint whose handler ran out of
 * CPU time or memory runs in a second worker for QUARANTINE_MS, so one looping handler costs the
 * others one wait of its limit, not one per delivery. The workers start with their first call and
 * are unreferenced (they keep no process alive).
 *
 * A watchdog stands behind the engine's own interrupt: if a worker answers nothing for
 * `watchdogMs` while calls wait, it is terminated and replaced, and the waiting calls fail with
 * `timeout`; a worker that dies is replaced the same way.
 */
export interface TransformationRunner {
  run(key: string | null, code: string, input: string): Promise<SandboxOutcome>;
  /** Why `code` cannot run (a syntax error, no handler), or null. */
  check(code: string): Promise<string | null>;
  close(): Promise<void>;
}

/** How long a new worker may take to load its engine before it counts as stuck. */
const STARTUP_MS = 30_000;

/** How long an endpoint whose handler exhausted a limit keeps to the quarantine worker. */
const QUARANTINE_MS = 10 * 60_000;
/** Bounds the quarantine list; a cleared one costs the handlers in it one more wait each. */
const MAX_QUARANTINED = 10_000;

export function createTransformationRunner(limits: Partial<SandboxLimits> = {}, watchdogMs = 2_000): TransformationRunner {
  const main = sandboxThread(limits, watchdogMs);
  let quarantine: SandboxThread | null = null;
  /** Keys (endpoint ids) in quarantine, until when. */
  const quarantined = new Map<string, number>();
  const threadFor = (key: string | null) => {
    const until = key === null ? undefined : quarantined.get(key);
    if (until === undefined) return main;
    if (until > performance.now()) return (quarantine ??= sandboxThread(limits, watchdogMs));
    quarantined.delete(key!);
    return main;
  };
  return {
    async run(key, code, input) {
      const outcome = (await threadFor(key).send({ op: 'run', key, code, input })).outcome!;
      if (key !== null && !outcome.ok && (outcome.failure === 'timeout' || outcome.failure === 'memory')) {
        if (quarantined.size >= MAX_QUARANTINED) quarantined.clear();
        quarantined.set(key, performance.now() + QUARANTINE_MS);
      }
      return outcome;
    },
    async check(code) {
      return (await main.send({ op: 'check', code })).reason ?? null;
    },
    async close() {
      await Promise.all([main.close(), quarantine?.close()]);
    },
  };
}

/** A worker's answer to a call: a run's outcome, or a check's reason. */
interface Answer {
  outcome?: SandboxOutcome;
  reason?: string | null;
}

interface Waiting {
  resolve: (answer: Answer) => void;
}

interface SandboxThread {
  send(request: RunnerCall): Promise<Answer>;
  close(): Promise<void>;
}

/** One worker with its engine, the calls waiting on it, and its watchdog. */
function sandboxThread(limits: Partial<SandboxLimits>, watchdogMs: number): SandboxThread {
  let worker: Worker | null = null;
  let nextId = 1;
  const waiting = new Map<number, Waiting>();
  let lastAnswerAt = 0;
  /** Whether the current worker has its engine loaded; until then the watchdog waits. */
  let ready = false;
  let watchdog: NodeJS.Timeout | null = null;

  const failAll = (why: string) => {
    const calls = [...waiting.values()];
    waiting.clear();
    for (const call of calls) call.resolve({ outcome: { ok: false, failure: 'timeout', detail: why }, reason: why });
  };
  const replace = (why: string) => {
    const old = worker;
    worker = null;
    ready = false;
    failAll(why);
    void old?.terminate();
  };
  const start = (): Worker => {
    lastAnswerAt = performance.now();
    const fresh = new Worker(new URL('./transformation-worker.ts', import.meta.url), { workerData: { limits } });
    fresh.on('message', (answer: Answer & { id: number; ready?: true }) => {
      lastAnswerAt = performance.now();
      if (answer.ready) {
        if (worker === fresh) ready = true;
        return;
      }
      const call = waiting.get(answer.id);
      waiting.delete(answer.id);
      if (waiting.size === 0) fresh.unref();
      call?.resolve(answer);
    });
    fresh.on('error', (error) => {
      if (worker === fresh) replace(`the sandbox failed and was restarted: ${error.message}`);
    });
    fresh.on('exit', () => {
      if (worker === fresh) replace('the sandbox stopped and was restarted');
    });
    // Idle, the worker keeps no process alive; a call waiting for it does (see send). After the
    // listeners, since adding a 'message' listener refs the worker's port again.
    fresh.unref();
    return fresh;
  };
  const send = (request: RunnerCall): Promise<Answer> => {
    worker ??= start();
    const id = nextId++;
    if (waiting.size === 0) {
      worker.ref();
      if (ready) lastAnswerAt = performance.now();
    }
    watchdog ??= setInterval(() => {
      if (waiting.size === 0) return;
      // Loading the engine is allowed far longer than a call, but not forever.
      if (performance.now() - lastAnswerAt > (ready ? watchdogMs : STARTUP_MS)) replace(`the sandbox did not answer within ${watchdogMs} ms and was restarted`);
    }, Math.max(50, watchdogMs / 4)).unref();
    return new Promise((resolve) => {
      waiting.set(id, { resolve });
      worker!.postMessage({ id, ...request });
    });
  };

  return {
    send,
    async close() {
      if (watchdog) clearInterval(watchdog);
      watchdog = null;
      const old = worker;
      worker = null;
      failAll('the sandbox was closed');
      await old?.terminate();
    },
  };
}

let shared: TransformationRunner | null = null;

/** The process's runner: the dispatcher's deliveries and the API's simulations share its worker. */
export function sharedRunner(): TransformationRunner {
  shared ??= createTransformationRunner();
  return shared;
}
