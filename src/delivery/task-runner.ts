import type { Clock } from '../core/clock.ts';
import { indexSubscriptions } from '../core/filters.ts';
import type { Endpoint } from '../core/model.ts';
import { type BackgroundTask, PACED_STEP_LEAD_MS, PACED_STEP_MS, pacedBudget, pacedRunAts, type ReplayCandidate, replays } from '../core/replay.ts';
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
 *
 * A paced step queues only what falls due within the next second (`PACED_STEP_MS`), saves its
 * cursor just before the first match it left, and lets the task go until its next deliveries are
 * about to fall due: its lease then runs out, and whichever worker claims it takes the next step.
 * Queueing a whole step's matches at once, spread over their future due times, had the task read
 * finished while most of them waited, and left a cancel nothing to stop.
 */
export class TaskRunner {
  readonly #options: Required<Omit<TaskRunnerOptions, 'store' | 'clock' | 'wake' | 'onError'>> & TaskRunnerOptions;
  #running: Promise<void> | null = null;
  #stopping = false;
  #poke: (() => void) | null = null;
  /** When a paced task this runner let go of takes its next step: the idle loop looks for it then. */
  #nextStepAt = Infinity;

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
        const wait = Math.max(0, Math.min(pollIntervalMs, this.#nextStepAt - clock.now()));
        this.#nextStepAt = Infinity;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
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
    // A dry run queues nothing, so it has nothing to pace.
    const pace = task.params.dryRun ? null : task.params.pace;
    while (!this.#stopping) {
      const endpoint = await store.endpoints.get(task.appId, task.endpointId);
      const now = clock.now();
      if (!endpoint) {
        await store.tasks.save({ ...task, status: 'failed', progress: { ...task.progress, error: 'The endpoint was deleted.' }, updatedAt: now }, lease, now);
        return;
      }
      const window = { since: task.params.since, until: task.params.until };
      const candidates = await store.tasks.candidates(task.appId, task.endpointId, window, task.cursor, stepSize);
      const from = Math.max(now, task.paceAt);
      const applicable = candidates.filter((candidate) => replays(task.kind, task.params, endpoint, candidate));
      // Paced, this step takes the matches due within the next second; the first it leaves is where the next begins.
      const taken = pace ? applicable.slice(0, pacedBudget(from, now + PACED_STEP_MS, pace)) : applicable;
      const left = applicable[taken.length];
      const examined = left ? candidates.indexOf(left) : candidates.length;
      const matched = task.kind === 'endpoint.replay' && endpoint.filter ? await passingPayloadFilter(store, endpoint, taken) : taken;
      const runAts = pacedRunAts(matched.length + 1, from, pace);
      const queued = task.params.dryRun || matched.length === 0
        ? 0
        : await store.tasks.requeue(task.id, task.endpointId, matched.map((candidate, i) => ({ messageId: candidate.messageId, runAt: runAts[i]! })), now);
      const done = left === undefined && candidates.length < stepSize;
      task = {
        ...task,
        status: done ? 'finished' : 'running',
        cursor: examined > 0 ? candidates[examined - 1]!.messageId : task.cursor,
        paceAt: pace ? runAts.at(-1)! : task.paceAt,
        progress: {
          ...task.progress,
          examined: task.progress.examined + examined,
          matched: task.progress.matched + matched.length,
          queued: task.progress.queued + queued,
        },
        updatedAt: clock.now(),
      };
      // Paced and ahead of its deliveries, the task is let go until its next step: the lease runs
      // out then, so any worker takes it up (and on SQLite a restart at once).
      const nextStepAt = pace && !done ? task.paceAt - PACED_STEP_LEAD_MS : 0;
      const waits = nextStepAt > clock.now();
      // A lost lease (another worker took over) or a cancel ends this run; what was queued stays queued.
      const kept = await store.tasks.save(task, lease, waits ? nextStepAt : clock.now() + leaseMs);
      if (queued > 0) wake();
      if (!kept || done) return;
      if (waits) {
        this.#nextStepAt = Math.min(this.#nextStepAt, nextStepAt);
        return;
      }
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
