import type { Duration } from '../api/types.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** `[{secs: 5, nanos: 0}, {secs: 300, nanos: 0}]` → `5s, 5m`: each delay in its largest whole unit. */
export function formatDurations(list: Duration[]): string {
  return list.map(({ secs, nanos }) => formatMs(secs * 1000 + Math.floor(nanos / 1_000_000))).join(', ');
}

export function formatMs(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNITS[unit]! && ms % UNITS[unit]! === 0) return `${ms / UNITS[unit]!}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * `5s, 5m, 2h` → Svix's Durations; an error names the part it could not read. Empty text is an
 * empty list (no retries); the caller decides whether that means "the default".
 */
export function parseDurations(text: string): { value: Duration[] } | { error: string } {
  const value: Duration[] = [];
  for (const part of text.split(',').map((item) => item.trim()).filter(Boolean)) {
    const match = part.match(/^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/i);
    if (!match) return { error: `"${part}" is not a duration: write a number and a unit (ms, s, m, h, d), like 30s or 2h` };
    const ms = Math.round(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
    value.push({ secs: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });
  }
  return { value };
}
