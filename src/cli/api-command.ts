import { readFile } from 'node:fs/promises';
import { parseDuration } from '../core/durations.ts';
import { memberRange } from '../core/json-member.ts';
import { API_OPTIONS, ApiClient, ApiError, NetworkError, type QueryValue } from './api-client.ts';
import { type Command, type Io, type Option, UsageError, type Values } from './command.ts';
import { type Column, details, paint, Progress, type Screen, screenOf, table } from './output.ts';

/**
 * What the API commands (`herald app …`, `herald endpoint …`) share: the options each takes,
 * one way to print an object, a list or a confirmation, with `--json` for scripts, and one
 * place that turns API and network errors into a message on stderr and exit code 1.
 */

export const JSON_OPTION = {
  json: { type: 'boolean', describe: "print the API's JSON as it is, and nothing else, on stdout (a list: its data array)" },
} as const satisfies Record<string, Option>;

export const LIST_OPTIONS = {
  limit: { type: 'string', value: 'n', describe: 'items per page (the API gives 50 unless told; at most 250)' },
  iterator: { type: 'string', describe: 'continue from this iterator, as the previous page gave it' },
  all: { type: 'boolean', describe: 'every page, not only one (with a progress count on a terminal)' },
} as const satisfies Record<string, Option>;

/** What an API command's body gets. */
export interface ApiRun {
  client: ApiClient;
  values: Values;
  args: string[];
  io: Io;
  json: boolean;
  /** What stdout and stderr can show. */
  out: Screen;
  err: Screen;
}

export interface ApiCommand extends Omit<Command, 'run' | 'commands'> {
  run(run: ApiRun): Promise<number | void>;
}

/** A command that talks to Herald: it takes `--json`, `--url` and `--token` besides its own options. */
export function apiCommand(declaration: ApiCommand): Command {
  const { run, ...rest } = declaration;
  return {
    ...rest,
    // A command may say what its own --json prints (listen: a line per event).
    options: { ...declaration.options, json: declaration.options?.json ?? JSON_OPTION.json, ...API_OPTIONS },
    async run({ values, args }, io) {
      const client = ApiClient.fromOptions(values, io.env);
      try {
        return (await run({ client, values, args, io, json: values.json === true, out: screenOf(io.stdout, io.env), err: screenOf(io.stderr, io.env) })) ?? 0;
      } catch (error) {
        if (!(error instanceof ApiError || error instanceof NetworkError)) throw error;
        io.stderr.write(`${paint(screenOf(io.stderr, io.env), 'bad', 'herald:')} ${error.message}\n`);
        return 1;
      }
    },
  };
}

/** An object the API answered with: its JSON as it came, or its fields. */
export function printObject(run: ApiRun, answer: { raw: Buffer; body: unknown }): void {
  if (run.json) run.io.stdout.write(`${answer.raw.toString('utf8')}\n`);
  else run.io.stdout.write(`${details(answer.body as Record<string, unknown>, run.out, answer.raw)}\n`);
}

/**
 * The end of a command whose answer is a confirmation: `text` for people, the API's JSON (when
 * it answered any) for `--json`. An empty answer (204) prints nothing with `--json`: the exit
 * code says it was done.
 */
export function printDone(run: ApiRun, text: string, answer?: { raw: Buffer }): void {
  if (!run.json) run.io.stdout.write(`${text}\n`);
  else if (answer && answer.raw.length > 0) run.io.stdout.write(`${answer.raw.toString('utf8')}\n`);
}

export interface Noun {
  /** `application`, `applications`. */
  one: string;
  many: string;
}

/**
 * A Svix list: one page (from `--iterator`) or, with `--all`, every page, as a table or, with
 * `--json`, as one JSON array holding the pages' `data` as the API wrote them. A page that is not
 * the last says on stderr how to get the next.
 */
export async function printList<T>(run: ApiRun, path: string, query: Record<string, QueryValue>, columns: readonly Column<T>[], noun: Noun): Promise<void> {
  const all = run.values.all === true;
  const limit = intOption(run.values, 'limit', 1) ?? (all ? 250 : undefined);
  const progress = all ? new Progress(run.io.stderr, run.err, `listing ${noun.many}`, null) : null;
  const rows: T[] = [];
  const raws: string[] = [];
  let last: { iterator: string | null; done: boolean } = { iterator: null, done: true };
  try {
    for await (const page of run.client.pages<T>(path, { ...query, limit }, { all, iterator: (run.values.iterator as string | undefined) ?? null })) {
      rows.push(...page.body.data);
      if (run.json) raws.push(dataOf(page.raw));
      last = page.body;
      progress?.advance(page.body.data.length);
    }
  } finally {
    progress?.finish();
  }
  if (run.json) run.io.stdout.write(`[${raws.filter(Boolean).join(',')}]\n`);
  else if (rows.length === 0) run.io.stdout.write(`No ${noun.many}.\n`);
  else run.io.stdout.write(`${table(rows, columns, run.out)}\n`);
  if (!all && !last.done && last.iterator) {
    run.io.stderr.write(`${paint(run.err, 'dim', `More ${noun.many}: add --iterator ${last.iterator}, or --all for every page.`)}\n`);
  }
}

/** The inside of a page's `data` array, as the API wrote it (numbers and escapes kept). */
function dataOf(raw: Buffer): string {
  const range = memberRange(raw, 'data');
  if (!range) return '';
  return raw.subarray(range.start, range.end).toString('utf8').trim().replace(/^\[/, '').replace(/\]$/, '').trim();
}

/** A whole number option, at least `min`; undefined when not given. */
export function intOption(values: Values, name: string, min = 0): number | undefined {
  const text = values[name];
  if (typeof text !== 'string') return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`--${name} must be a whole number of at least ${min}; got ${JSON.stringify(text)}.`);
  return Number(text);
}

/** A number option between `min` and `max`. */
export function numberOption(values: Values, name: string, min: number, max: number): number | undefined {
  const text = values[name];
  if (typeof text !== 'string') return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}; got ${JSON.stringify(text)}.`);
  return value;
}

/** A repeatable option whose values may also be comma-separated: `--event-type a,b --event-type c`. */
export function listOption(values: Values, name: string): string[] | undefined {
  const given = values[name];
  if (given === undefined || typeof given === 'boolean') return undefined;
  return (Array.isArray(given) ? given : [given]).flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
}

/** `--metadata key=value`, repeated, as an object. */
export function pairsOption(values: Values, name: string): Record<string, string> | undefined {
  const given = values[name];
  if (!Array.isArray(given)) return undefined;
  return Object.fromEntries(given.map((pair) => {
    const at = pair.indexOf('=');
    if (at < 1) throw new UsageError(`--${name} takes key=value; got ${JSON.stringify(pair)}.`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }));
}

/** `--header 'Name: value'`, repeated, as an object. */
export function headersOption(values: Values, name: string): Record<string, string> | undefined {
  const given = values[name];
  if (!Array.isArray(given)) return undefined;
  return Object.fromEntries(given.map((line) => {
    const at = line.indexOf(':');
    if (at < 1) throw new UsageError(`--${name} takes 'Name: value'; got ${JSON.stringify(line)}.`);
    return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
  }));
}

/**
 * A time option: an RFC 3339 date-time, or a duration that long ago (`2h`, `30m`, `7d`), as the
 * RFC 3339 the API takes.
 */
export function timeOption(values: Values, name: string, now = Date.now()): string | undefined {
  const text = values[name];
  if (typeof text !== 'string') return undefined;
  const ago = parseDuration(text);
  if (ago !== null) return new Date(now - ago).toISOString();
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) {
    throw new UsageError(`--${name} takes a date-time (2025-06-01T12:00:00Z) or a duration ago (30m, 2h, 7d); got ${JSON.stringify(text)}.`);
  }
  return new Date(ms).toISOString();
}

/**
 * JSON text from `@file`, `-` (stdin) or the option's value itself, checked to parse. The text is
 * returned as it was written, so what is sent keeps its own numbers and escapes.
 */
export async function jsonOption(values: Values, name: string): Promise<{ text: string; value: unknown } | undefined> {
  const given = values[name];
  if (typeof given !== 'string') return undefined;
  let text: string;
  if (given === '-') text = await readStdin();
  else if (given.startsWith('@')) {
    try {
      text = await readFile(given.slice(1), 'utf8');
    } catch (error) {
      throw new UsageError(`--${name} ${given}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
    }
  } else text = given;
  text = text.replace(/^\uFEFF/, '');
  try {
    return { text, value: JSON.parse(text) };
  } catch (error) {
    throw new UsageError(`--${name} is not JSON: ${(error as Error).message}.`);
  }
}

/** A JSON object option, parsed. */
export async function objectOption(values: Values, name: string): Promise<Record<string, unknown> | undefined> {
  const json = await jsonOption(values, name);
  if (json === undefined) return undefined;
  if (typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) throw new UsageError(`--${name} must be a JSON object.`);
  return json.value as Record<string, unknown>;
}

/** Everything on stdin, as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Refuses an update that changes nothing, naming what it could change. */
export function somethingToChange(body: Record<string, unknown>, options: readonly string[]): void {
  if (Object.values(body).every((value) => value === undefined)) {
    throw new UsageError(`Nothing to change: give at least one of ${options.map((option) => `--${option}`).join(', ')}.`);
  }
}

/** Drops the undefined members, so a PATCH sends only what was given. */
export const defined = <T extends Record<string, unknown>>(body: T): Partial<T> =>
  Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) as Partial<T>;
