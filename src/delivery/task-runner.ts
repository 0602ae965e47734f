import type { Clock } from '../core/clock.ts';
import { indexSubscriptions } from '../core/filters.ts';
import type { Endpoint } from '../core/model.ts';
import { type BackgroundTask, pacedRunAts, type ReplayCandidate, replays } from '../core/replay.ts';
import type { Store } from '../store/store.ts';
import { parsedJson } from './publish.ts';

export interface TaskRunnerOptions {
  store: Pick<Store, 'tasks' | 'endpoints' | 'messages'>;
  clock: Clock;
  /** Tells the dispatcher that deliveries were queued. */
  wake: () => void;
  onError: (error: unknown, context: string) => void;
  /** Messages looked at per step; each step is one read and at most one write. */
  stepSize?: number;
  /** How long a worker holds a task between steps before another may take it over. */
  leaseMs?: number;
  pollIntervalMs?: number;
}

/**
 * Runs background tasks (recover, replay-missing, bulk-replay) in worker processes. A task walks
 * its window's messages in id order, a step at a time, and saves its cursor with each step under
 * a lease: a worker that dies leaves the task to another once the lease runs out, which resumes
 * after the last saved step. Re-queued deliveries go to the one delivery engine (design invariant
 * 5), paced by their due time when the task has a pace, so waiting holds no send slot.
 */
export class TaskRunner {
  readonly #options: Required<Omit<TaskRunnerOptions, 'store' | 'clock' | 'wake' | 'onError'>> & TaskRunnerOptions;
  #running: Promise<void> | null = null;
  #stopping = false;
  #poke: (() => void) | null = null;

  constructor(options: TaskRunnerOptions) {
    this.#options = { stepSize: 500, leaseMs: 30_000, pollIntervalMs: 1_000, ...options };
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Looks for a task now rather than at the next poll (a task was just created). */
  poke(): void {
    this.#poke?.();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#poke?.();
    await this.#running;
  }

  async #loop(): Promise<void> {
    const { store, clock, leaseMs, pollIntervalMs, onError } = this.#options;
    while (!this.#stopping) {
      let claimed: Awaited<ReturnType<typeof store.tasks.claim>> = null;
      try {
        claimed = await store.tasks.claim(clock.now(), leaseMs);
        if (claimed) await this.#run(claimed.task, claimed.lease);
      } catch (error) {
        onError(error, claimed ? `running background task ${claimed.task.id}` : 'claiming a background task');
      }
      if (!claimed && !this.#stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollIntervalMs);
          this.#poke = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#poke = null;
      }
    }
  }

  async #run(task: BackgroundTask, lease: number): Promise<void> {
    const { store, clock, wake, stepSize, leaseMs } = this.#options;
    while (!this.#stopping) {
      const endpoint = await store.endpoints.get(task.appId, task.endpointId);
      const now = clock.now();
      if (!endpoint) {
        await store.tasks.save({ ...task, status: 'failed', progress: { ...task.progress, error: 'The endpoint was deleted.' }, updatedAt: now }, lease, now);
        return;
      }
      const window = { since: task.params.since, until: task.params.until };
      const candidates = await store.tasks.candidates(task.appId, task.endpointId, window, task.cursor, stepSize);
      let matched = candidates.filter((candidate) => replays(task.kind, task.params, endpoint, candidate));
      if (task.kind === 'endpoint.replay' && endpoint.filter) matched = await passingPayloadFilter(store, endpoint, matched);
      const from = Math.max(now, task.paceAt);
      const runAts = pacedRunAts(matched.length + 1, from, task.params.pace);
      const queued = task.params.dryRun || matched.length === 0
        ? 0
        : await store.tasks.requeue(task.id, task.endpointId, matched.map((candidate, i) => ({ messageId: candidate.messageId, runAt: runAts[i]! })), now);
      const done = candidates.length < stepSize;
      task = {
        ...task,
        status: done ? 'finished' : 'running',
        cursor: candidates.at(-1)?.messageId ?? task.cursor,
        paceAt: task.params.pace ? runAts.at(-1)! : task.paceAt,
        progress: {
          ...task.progress,
          examined: task.progress.examined + candidates.length,
          matched: task.progress.matched + matched.length,
          queued: task.progress.queued + queued,
        },
        updatedAt: clock.now(),
      };
      // A lost lease (another worker took over) or a cancel ends this run; what was queued stays queued.
      const kept = await store.tasks.save(task, lease, clock.now() + leaseMs);
      if (queued > 0) wake();
      if (!kept || done) return;
    }
  }
}

/**
 * Replay-missing sends what the endpoint's filters take now, and a payload filter needs the payload:
 * read only for the messages the event-type and channel filters already passed (one step's worth).
 */
async function passingPayloadFilter(store: Pick<Store, 'messages'>, endpoint: Endpoint, candidates: ReplayCandidate[]): Promise<ReplayCandidate[]> {
  const index = indexSubscriptions([{ ...endpoint, disabled: false }]);
  const kept: ReplayCandidate[] = [];
  for (const candidate of candidates) {
    const message = await store.messages.get(endpoint.appId, candidate.messageId);
    if (message && index.match({ eventType: message.eventType, channels: message.channels, parsedPayload: () => parsedJson(message.payload) }).length > 0) kept.push(candidate);
  }
  return kept;
}
