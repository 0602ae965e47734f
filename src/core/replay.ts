import { endpointReceives, type Subscription } from './filters.ts';
import { Status } from './model.ts';

/** Svix's background task kinds that Herald runs: each re-queues an endpoint's messages of a time window. */
export type TaskKind = 'endpoint.recover' | 'endpoint.replay' | 'endpoint.bulk-replay';
/** Svix's `BackgroundTaskStatus`. A canceled task is `failed`, with `canceled` in its data. */
export type TaskStatus = 'running' | 'finished' | 'failed';

export interface ReplayParams {
  /** The messages created in [since, until). */
  since: number;
  until: number;
  /** bulk-replay's filters (null for any). */
  eventTypes: string[] | null;
  channel: string | null;
  /** bulk-replay: the statuses of the endpoint's deliveries to replay; null for success and fail alike. */
  statuses: Status[] | null;
  /** Herald's extensions: count without queueing anything, and queue at most this many a second. */
  dryRun: boolean;
  pace: number | null;
}

export interface TaskProgress {
  /** Messages of the window looked at, those the task applies to, and those it queued. */
  examined: number;
  matched: number;
  queued: number;
  canceled?: boolean;
  error?: string;
}

export interface BackgroundTask {
  id: string;
  kind: TaskKind;
  status: TaskStatus;
  appId: string;
  endpointId: string;
  params: ReplayParams;
  progress: TaskProgress;
  /** The last message examined: a task resumes after it when a worker takes it over. */
  cursor: string | null;
  /** When the next paced delivery may be due. */
  paceAt: number;
  createdAt: number;
  updatedAt: number;
}

/** A message of the window, with the endpoint's delivery of it if there is one. */
export interface ReplayCandidate {
  messageId: string;
  eventType: string;
  channels: string[] | null;
  payloadErased: boolean;
  deliveryStatus: Status | null;
}

/**
 * Whether a task re-queues this message to its endpoint:
 * - recover: the endpoint's delivery of it failed (Svix's recover);
 * - replay (Svix's replay-missing): the endpoint never had a delivery of it although its filters
 *   take it now, e.g. because it was disabled or created later;
 * - bulk-replay: the endpoint had a finished delivery of it with one of the statuses asked for,
 *   and it passes the event-type and channel filters.
 * A message whose payload was erased has nothing left to send.
 */
export function replays(kind: TaskKind, params: ReplayParams, endpoint: Subscription, candidate: ReplayCandidate): boolean {
  if (candidate.payloadErased) return false;
  const status = candidate.deliveryStatus;
  switch (kind) {
    case 'endpoint.recover':
      return status === Status.fail;
    case 'endpoint.replay':
      // The payload filter is the caller's to apply: a candidate carries no payload (task-runner.ts).
      return status === null && endpointReceives({ ...endpoint, disabled: false, filter: null }, candidate);
    case 'endpoint.bulk-replay':
      return status !== null
        && (params.statuses ?? [Status.success, Status.fail]).includes(status)
        && (status === Status.success || status === Status.fail)
        && (!params.eventTypes?.length || params.eventTypes.includes(candidate.eventType))
        && (!params.channel || (candidate.channels?.includes(params.channel) ?? false));
  }
}

/**
 * A paced task queues, each step, only the deliveries that fall due within this long (from the
 * step), and takes its next step when those are about to go: so a cancel stops all but about a
 * second's worth, and the task is finished only once the last is queued.
 */
export const PACED_STEP_MS = 1_000;
/** How long before its next delivery falls due a paced task takes its next step. */
export const PACED_STEP_LEAD_MS = 100;

/**
 * How many deliveries a paced step queues: those of `pacedRunAts(…, from, pace)` due before
 * `until`, and at least one, so every step moves on.
 */
export function pacedBudget(from: number, until: number, pace: number): number {
  // floor(i × 1000 / pace) < until − from, for a whole number of milliseconds, is i × 1000 / pace < until − from.
  return Math.max(1, Math.ceil(((until - from) * pace) / 1000));
}

/** When each of `count` re-queued deliveries falls due, `pace` a second from `from` (all at `from` without a pace). */
export function pacedRunAts(count: number, from: number, pace: number | null): number[] {
  return Array.from({ length: count }, (_, i) => (pace ? from + Math.floor((i * 1000) / pace) : from));
}
