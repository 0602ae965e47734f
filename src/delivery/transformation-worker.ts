import { parentPort, workerData } from 'node:worker_threads';
import { createTransformationSandbox, type SandboxLimits } from './transformation-sandbox.ts';

/**
 * Runs in a worker thread (transformation-runner.ts): the sandbox's engine, off the event loop
 * that sends deliveries. Calls come in order and are answered in order, each with its id.
 */
export type RunnerCall = { op: 'run'; key: string | null; code: string; input: string } | { op: 'check'; code: string };
export type RunnerRequest = RunnerCall & { id: number };

const sandbox = await createTransformationSandbox((workerData as { limits?: Partial<SandboxLimits> } | undefined)?.limits ?? {});
parentPort!.on('message', (request: RunnerRequest) => {
  if (request.op === 'check') parentPort!.postMessage({ id: request.id, reason: sandbox.check(request.code) });
  else parentPort!.postMessage({ id: request.id, outcome: sandbox.run(request.key, request.code, request.input) });
});
// Loading the engine takes a while; the runner's watchdog counts only from here.
parentPort!.postMessage({ ready: true });
