/**
 * A reader of Prometheus' text exposition format (version 0.0.4), strict enough to refuse what
 * Prometheus would: every sample's family declared by a TYPE line, names and labels well formed,
 * values numbers. The metrics tests read Herald's /metrics with it, as a scraper would.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})?\\s+(\\S+)(?:\\s+-?\\d+)?$`);
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created', ''];

export function parseExposition(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line === '' || (line.startsWith('#') && !/^# (HELP|TYPE) /.test(line))) continue;
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      if (!new RegExp(`^${NAME}$`).test(type[1]!) || !TYPES.has(type[2]!)) throw new Error(`Malformed TYPE at ${where}`);
      if (types.has(type[1]!)) throw new Error(`Second TYPE for ${type[1]} at ${where}`);
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`Malformed sample at ${where}`);
    const value = parseValue(match[match.length - 1]!);
    if (value === null) throw new Error(`Value is not a number at ${where}`);
    const name = match[1]!;
    const family = SUFFIXES.map((suffix) => (name.endsWith(suffix) ? name.slice(0, name.length - suffix.length) : null)).find((base) => base !== null && types.has(base));
    if (family === undefined) throw new Error(`No TYPE declared for ${name} at ${where}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(new RegExp(LABEL, 'g'))) labels[key!] = raw!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    samples.push({ name, labels, value });
  }
  return samples;
}

/** A float as Go's strconv.ParseFloat reads it (Prometheus does): NaN and ±Inf in any case. */
function parseValue(text: string): number | null {
  const special = text.toLowerCase();
  if (special === 'nan') return Number.NaN;
  if (/^[+-]?inf(inity)?$/.test(special)) return special.startsWith('-') ? -Infinity : Infinity;
  const value = Number(text);
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) && !Number.isNaN(value) ? value : null;
}

/** The value of the sample named `name` whose labels include `labels`, summed over the rest; 0 when none. */
export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}
