import { memberRange } from '../core/json-member.ts';

/**
 * What the command line shows people: tables fitted to the terminal, one object's fields, times
 * both relative and absolute, colours and a progress bar. Colours and the bar appear only on a
 * terminal (and colours never with NO_COLOR), so a pipe or a file gets plain text.
 */

export interface Stream {
  write(text: string): unknown;
}

/** What a stream can show: whether it is a terminal, how wide, whether in colour. */
export interface Screen {
  tty: boolean;
  /** Columns to fit tables into; null when nothing says (a pipe without COLUMNS): no fitting. */
  width: number | null;
  color: boolean;
}

export function screenOf(stream: Stream, env: NodeJS.ProcessEnv): Screen {
  // process.stdout and process.stderr say this about themselves; the test doubles say nothing.
  const { isTTY, columns } = stream as { isTTY?: boolean; columns?: number };
  const tty = isTTY === true;
  const fromEnv = Number(env.COLUMNS);
  const width = tty && columns ? columns : Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : tty ? 80 : null;
  return { tty, width, color: tty && !env.NO_COLOR && env.TERM !== 'dumb' };
}

export type Tone = 'good' | 'bad' | 'warn' | 'dim' | 'bold';
const TONES: Record<Tone, [string, string]> = {
  good: ['\x1b[32m', '\x1b[39m'],
  bad: ['\x1b[31m', '\x1b[39m'],
  warn: ['\x1b[33m', '\x1b[39m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  bold: ['\x1b[1m', '\x1b[22m'],
};
export const paint = (screen: Screen, tone: Tone | undefined, text: string) =>
  screen.color && tone && text ? `${TONES[tone][0]}${text}${TONES[tone][1]}` : text;

/**
 * Text from the API made safe to print: control characters (a name holding an escape sequence
 * could otherwise rewrite the terminal) are shown as `\xNN`, and line breaks as spaces when
 * `oneLine`.
 */
export function printable(text: string, oneLine = true): string {
  const spaced = oneLine ? text.replace(/\r\n|[\r\n\t]/g, ' ') : text;
  return spaced.replace(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const width = (text: string) => [...text].length;
const ASIDE = /^(.+?) \(.*\)$/;
const cut = (text: string, size: number) => {
  const chars = [...text];
  return chars.length <= size ? text : size <= 1 ? chars.slice(0, size).join('') : `${chars.slice(0, size - 1).join('')}…`;
};

export interface Column<T> {
  header: string;
  cell(row: T): string | null | undefined;
  /** Never cut to fit: an id must stay whole to be copied. */
  keep?: boolean;
  tone?(row: T): Tone | undefined;
}

const GAP = '  ';

/**
 * Rows as a table, one line each, fitted into `screen.width`: when too wide, times drop their
 * absolute form, then the widest column that may be cut is cut, so ids stay whole and long URLs
 * and descriptions give way first.
 */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[], screen: Screen): string {
  const cells = rows.map((row) => columns.map((column) => printable(column.cell(row) ?? '-')));
  const widthOf = (i: number) => Math.max(width(columns[i]!.header), ...cells.map((line) => width(line[i]!)));
  const widths = columns.map((_, i) => widthOf(i));
  if (screen.width !== null) {
    const total = () => widths.reduce((sum, w) => sum + w, 0) + GAP.length * (columns.length - 1);
    // First a trailing ` (…)` goes (a time's absolute form, keeping how long ago), widest column first…
    const asides = new Set(columns.map((_, i) => i).filter((i) => cells.some((line) => ASIDE.test(line[i]!))));
    const shortened = new Set<number>();
    while (total() > screen.width && asides.size > 0) {
      const widest = [...asides].reduce((a, b) => (widths[b]! > widths[a]! ? b : a));
      asides.delete(widest);
      shortened.add(widest);
      for (const line of cells) line[widest] = line[widest]!.replace(ASIDE, '$1');
      widths[widest] = widthOf(widest);
    }
    // …then the widest column that may be cut loses a character at a time, down to its header's
    // width; a time already shortened to `5m ago` is not cut further.
    const floor = columns.map((column, i) => (shortened.has(i) ? widths[i]! : Math.max(width(column.header), 4)));
    while (total() > screen.width) {
      let widest = -1;
      columns.forEach((column, i) => {
        if (!column.keep && widths[i]! > floor[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      });
      if (widest < 0) break;
      widths[widest]!--;
    }
  }
  const line = (texts: string[], tones: Array<Tone | undefined>) =>
    texts.map((text, i) => {
      const fitted = cut(text, widths[i]!);
      // The last column is not padded: no trailing spaces.
      const padded = i === texts.length - 1 ? fitted : fitted + ' '.repeat(widths[i]! - width(fitted));
      return paint(screen, tones[i], padded);
    }).join(GAP);
  const header = line(columns.map((column) => column.header), columns.map(() => 'bold' as const));
  return [header, ...cells.map((texts, r) => line(texts, columns.map((column, i) => (texts[i] === '-' ? 'dim' : column.tone?.(rows[r]!)))))].join('\n');
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/** `5m ago (2025-06-01 12:00:03Z)`: how long ago first, since a narrow table keeps the start. */
export function when(iso: string | null | undefined, now = Date.now()): string | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const absolute = new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return `${ago(now - ms)} (${absolute})`;
}

function ago(ms: number): string {
  const future = ms < 0;
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds < 1) return 'just now';
  const [value, unit] = seconds < 60 ? [seconds, 's'] : seconds < 3600 ? [Math.floor(seconds / 60), 'm'] : seconds < 86_400 ? [Math.floor(seconds / 3600), 'h'] : [Math.floor(seconds / 86_400), 'd'];
  return future ? `in ${value}${unit}` : `${value}${unit} ago`;
}

/**
 * One object's fields, a line each: times relative and absolute, short values inline, longer
 * objects as indented JSON below their name. Given the object's JSON as it came, objects are
 * shown from that text (re-indented, never parsed), so a payload shows the numbers it holds.
 */
export function details(object: Record<string, unknown>, screen: Screen, raw?: Buffer, now = Date.now()): string {
  const entries = Object.entries(object);
  const pad = Math.max(...entries.map(([name]) => width(name))) + 2;
  return entries.map(([name, value]) => {
    const label = paint(screen, 'bold', name.padEnd(pad));
    if (value === null || value === undefined) return label + paint(screen, 'dim', '-');
    if (typeof value === 'string') return label + printable(ISO_TIME.test(value) ? when(value, now)! : value);
    if (typeof value !== 'object') return label + String(value);
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return label + (value.length ? printable(value.join(', ')) : paint(screen, 'dim', '[]'));
    const range = raw && memberRange(raw, name);
    const text = range ? raw!.subarray(range.start, range.end).toString('utf8') : JSON.stringify(value);
    const compact = indentJson(text, null);
    if (compact.length <= 60 && !/[{[].*[{[]/.test(compact.slice(1))) return label + printable(compact);
    return `${label.trimEnd()}\n${printable(indentJson(text, '  '), false).replace(/^/gm, '  ')}`;
  }).join('\n');
}

/**
 * Valid JSON text laid out again, compact (`indent` null) or indented, without parsing it:
 * strings, numbers and escapes stay as written.
 */
export function indentJson(text: string, indent: string | null): string {
  let out = '';
  let depth = 0;
  const newline = () => (indent === null ? '' : `\n${indent.repeat(depth)}`);
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      out += text.slice(i, end + 1);
      i = end;
    } else if (c === '{' || c === '[') {
      const rest = text.slice(i + 1).trimStart();
      if (rest[0] === '}' || rest[0] === ']') {
        out += c + rest[0];
        i = text.length - rest.length;
      } else {
        depth++;
        out += c + newline();
      }
    } else if (c === '}' || c === ']') {
      depth--;
      out += newline() + c;
    } else if (c === ',') out += c + (indent === null ? '' : newline());
    else if (c === ':') out += indent === null ? ':' : ': ';
    else if (!/\s/.test(c)) out += c;
  }
  return out;
}

/**
 * A progress bar on a terminal's stderr: `sending [#####.....] 50/100 1.2s`, or, when the total
 * is unknown, a count. Drawn at most ten times a second, and wiped when done; nothing at all
 * when the stream is not a terminal.
 */
export class Progress {
  #done = 0;
  #drawnAt = 0;
  readonly #started = Date.now();
  readonly stream: Stream;
  readonly screen: Screen;
  readonly label: string;
  readonly total: number | null;

  constructor(stream: Stream, screen: Screen, label: string, total: number | null) {
    this.stream = stream;
    this.screen = screen;
    this.label = label;
    this.total = total;
  }

  advance(count = 1): void {
    this.#done += count;
    if (!this.screen.tty) return;
    const now = Date.now();
    if (now - this.#drawnAt < 100 && this.#done !== this.total) return;
    this.#drawnAt = now;
    this.stream.write(`\r\x1b[2K${this.#line(now)}`);
  }

  /** Wipes the bar, so what follows starts on a clean line. */
  finish(): void {
    if (this.screen.tty && this.#drawnAt > 0) this.stream.write('\r\x1b[2K');
  }

  #line(now: number): string {
    const seconds = `${((now - this.#started) / 1000).toFixed(1)}s`;
    if (this.total === null) return `${this.label} ${this.#done} ${seconds}`;
    const counts = `${this.#done}/${this.total}`;
    const room = (this.screen.width ?? 80) - this.label.length - counts.length - seconds.length - 6;
    const size = Math.max(10, Math.min(30, room));
    const filled = Math.round((this.#done / Math.max(1, this.total)) * size);
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(size - filled)}] ${counts} ${seconds}`;
  }
}
