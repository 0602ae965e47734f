/** The longest wait between two attempts a retry schedule may hold, in the API or the settings. */
export const MAX_RETRY_DELAY_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * The longest a setting that runs a timer (a request's timeout, a lease, the drain delay) may be:
 * Node's timers take at most 2^31 - 1 ms (about 24.8 days) and fire at once beyond it.
 */
export const MAX_TIMER_MS = 24 * 24 * 60 * 60 * 1000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `200ms`, `5s`, `30m`, `2h`, `7d` (a bare number is seconds); null when malformed. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return null;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 's']!);
}

/** Parses a comma-separated list of durations; null when any item is malformed. */
export function parseDurationList(text: string): number[] | null {
  const items = text.split(',').map(parseDuration);
  return items.every((item) => item !== null) ? (items as number[]) : null;
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
