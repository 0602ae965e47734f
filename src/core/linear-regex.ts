/**
 * A regular-expression matcher whose time is linear in the text: payload filters' `$regex`.
 *
 * JavaScript's RegExp backtracks, so a pattern as plain as `\w+@` takes seconds over a 100 kB
 * string without an `@` (every start position rescans the rest), and `(a+)+$` takes longer than
 * the universe. A filter's pattern comes from a tenant and its text from a payload, both running
 * on the event loop at fan-out, so neither may choose the cost. This compiles the pattern to a
 * Thompson NFA and runs every start position at once (a Pike VM without captures): at most
 * `MAX_PROGRAM` steps per character of text, whatever the pattern.
 *
 * It takes JavaScript's syntax without the `u` flag, for the parts a filter needs: literals and
 * escapes, `.`, classes (`[a-z]`, `[^…]`, `\d \w \s` and their negations), groups (`(…)`, `(?:…)`,
 * `(?<name>…)`), alternation, `* + ? {n} {n,} {n,m}` (lazy or not: only whether it matches counts),
 * `^ $ \b \B`, and the flags `i`, `m` and `s`. Look-arounds and back-references cannot run in linear
 * time and are refused, as is anything else this does not know, with a message saying what.
 */

/** Instructions a compiled pattern may hold: the per-character cost bound. */
export const MAX_PROGRAM = 512;

export interface LinearRegex {
  /** Whether some substring of `text` matches, as RegExp.prototype.test. */
  test(text: string): boolean;
}

export class RegexError extends Error {}

type CharTest = (code: number) => boolean;
type Assertion = 'start' | 'end' | 'word' | 'nonword';
type Node =
  | { kind: 'char'; test: CharTest }
  | { kind: 'assert'; what: Assertion }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; options: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number };

type Instruction =
  | { op: 'char'; test: CharTest }
  | { op: 'assert'; what: Assertion }
  | { op: 'split'; a: number; b: number }
  | { op: 'jmp'; to: number }
  | { op: 'match' };

const LINE_TERMINATORS = new Set([0x0a, 0x0d, 0x2028, 0x2029]);
const isDigit: CharTest = (c) => c >= 0x30 && c <= 0x39;
const isWord: CharTest = (c) => isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
// JavaScript's \s: WhiteSpace and LineTerminator.
const SPACES = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff]);
const isSpace: CharTest = (c) => SPACES.has(c) || (c >= 0x2000 && c <= 0x200a);
const not = (test: CharTest): CharTest => (c) => !test(c);

export function compileLinearRegex(pattern: string, flags = ''): LinearRegex {
  if (!/^[ims]*$/.test(flags)) throw new RegexError(`takes only the flags i, m and s`);
  const options = { ignoreCase: flags.includes('i'), multiline: flags.includes('m'), dotAll: flags.includes('s') };
  const parser = new Parser(pattern, options);
  const tree = parser.parse();
  const program = flatten(emit(tree));
  // `^…` without `m` can only match at the start: no attempt need begin anywhere else.
  const anchored = !options.multiline && startsAnchored(tree);
  return { test: (text) => run(program, text, options.multiline, anchored) };
}

class Parser {
  #at = 0;
  readonly #pattern: string;
  readonly #options: { ignoreCase: boolean; multiline: boolean; dotAll: boolean };

  constructor(pattern: string, options: { ignoreCase: boolean; multiline: boolean; dotAll: boolean }) {
    this.#pattern = pattern;
    this.#options = options;
  }

  parse(): Node {
    const node = this.#alternation();
    if (this.#at < this.#pattern.length) throw new RegexError(`has an unmatched ) at position ${this.#at}`);
    return node;
  }

  #peek(offset = 0): string | undefined {
    return this.#pattern[this.#at + offset];
  }

  #alternation(): Node {
    const options = [this.#sequence()];
    while (this.#peek() === '|') {
      this.#at++;
      options.push(this.#sequence());
    }
    return options.length === 1 ? options[0]! : { kind: 'alt', options };
  }

  #sequence(): Node {
    const items: Node[] = [];
    while (this.#at < this.#pattern.length && this.#peek() !== '|' && this.#peek() !== ')') {
      const atom = this.#atom();
      items.push(this.#quantified(atom));
    }
    return { kind: 'seq', items };
  }

  #quantified(atom: Node): Node {
    const c = this.#peek();
    let min: number;
    let max: number;
    if (c === '*' || c === '+' || c === '?') {
      this.#at++;
      [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
    } else if (c === '{' && /^\{\d+(,\d*)?\}/.test(this.#pattern.slice(this.#at, this.#at + 24))) {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.#pattern.slice(this.#at))!;
      this.#at += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) throw new RegexError(`has a quantifier {${min},${max}} out of order`);
      if (min > MAX_PROGRAM) throw new RegexError(`repeats more than ${MAX_PROGRAM} times`);
    } else {
      return atom;
    }
    if (this.#peek() === '?') this.#at++;
    if (atom.kind === 'assert') throw new RegexError('repeats an anchor, which means nothing');
    const next = this.#peek();
    if (next === '*' || next === '+' || next === '?' || (next === '{' && /^\{\d/.test(this.#pattern.slice(this.#at)))) {
      throw new RegexError(`has nothing to repeat at position ${this.#at}`);
    }
    return { kind: 'repeat', node: atom, min, max };
  }

  #atom(): Node {
    const c = this.#pattern[this.#at++]!;
    switch (c) {
      case '(':
        return this.#group();
      case '[':
        return this.#class();
      case '.':
        return this.#char(this.#options.dotAll ? () => true : (code) => !LINE_TERMINATORS.has(code));
      case '^':
        return { kind: 'assert', what: 'start' };
      case '$':
        return { kind: 'assert', what: 'end' };
      case '\\':
        return this.#escape();
      case '*':
      case '+':
      case '?':
        throw new RegexError(`has nothing to repeat at position ${this.#at - 1}`);
      default:
        return this.#literal(c.charCodeAt(0));
    }
  }

  #group(): Node {
    if (this.#peek() === '?') {
      const kind = this.#pattern.slice(this.#at, this.#at + 3);
      if (kind.startsWith('?:')) this.#at += 2;
      else if (/^\?<[A-Za-z_$]/.test(kind)) {
        const end = this.#pattern.indexOf('>', this.#at);
        if (end < 0) throw new RegexError('has an unterminated group name');
        this.#at = end + 1;
      } else throw new RegexError('uses a look-around, which filters do not support');
    }
    const inner = this.#alternation();
    if (this.#peek() !== ')') throw new RegexError('has an unterminated group');
    this.#at++;
    return inner;
  }

  #escape(): Node {
    const c = this.#pattern[this.#at++];
    if (c === undefined) throw new RegexError('ends with a lone backslash');
    if (c === 'b') return { kind: 'assert', what: 'word' };
    if (c === 'B') return { kind: 'assert', what: 'nonword' };
    if (/[1-9]/.test(c) || c === 'k') throw new RegexError('uses a back-reference, which filters do not support');
    const set = this.#classEscape(c);
    if (set) return this.#char(set);
    return this.#literal(this.#characterEscape(c));
  }

  /** `\d \D \w \W \s \S`, or null. */
  #classEscape(c: string): CharTest | null {
    switch (c) {
      case 'd': return isDigit;
      case 'D': return not(isDigit);
      case 'w': return isWord;
      case 'W': return not(isWord);
      case 's': return isSpace;
      case 'S': return not(isSpace);
      default: return null;
    }
  }

  /** The code unit an escape stands for (the backslash and `c` already read). */
  #characterEscape(c: string): number {
    switch (c) {
      case 'n': return 0x0a;
      case 'r': return 0x0d;
      case 't': return 0x09;
      case 'v': return 0x0b;
      case 'f': return 0x0c;
      case '0':
        if (/[0-9]/.test(this.#peek() ?? '')) throw new RegexError('uses an octal escape, which filters do not support');
        return 0;
      case 'x':
      case 'u': {
        const length = c === 'x' ? 2 : 4;
        const hex = this.#pattern.slice(this.#at, this.#at + length);
        if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(hex)) throw new RegexError(`has an incomplete \\${c} escape`);
        this.#at += length;
        return parseInt(hex, 16);
      }
      default:
        // JavaScript reads an unknown escaped letter as the letter; refusing it catches `\p{…}` and typos.
        if (/[A-Za-z0-9]/.test(c)) throw new RegexError(`uses the escape \\${c}, which filters do not support`);
        return c.charCodeAt(0);
    }
  }

  #class(): Node {
    const negated = this.#peek() === '^';
    if (negated) this.#at++;
    const tests: CharTest[] = [];
    const ranges: Array<[number, number]> = [];
    for (;;) {
      const c = this.#pattern[this.#at];
      if (c === undefined) throw new RegexError('has an unterminated character class');
      if (c === ']') {
        this.#at++;
        break;
      }
      const start = this.#classAtom();
      if (typeof start === 'number' && this.#peek() === '-' && this.#peek(1) !== undefined && this.#peek(1) !== ']') {
        this.#at++;
        const end = this.#classAtom();
        if (typeof end !== 'number') throw new RegexError('has a class range ending in a class escape');
        if (end < start) throw new RegexError('has a class range out of order');
        ranges.push([start, end]);
      } else if (typeof start === 'number') {
        ranges.push([start, start]);
      } else {
        tests.push(start);
      }
    }
    const inRanges: CharTest = (code) => ranges.some(([low, high]) => code >= low && code <= high);
    const member = this.#folded(inRanges);
    const any: CharTest = (code) => member(code) || tests.some((test) => test(code));
    return { kind: 'char', test: negated ? not(any) : any };
  }

  /** One member of a class: a code unit, or a class escape's test. */
  #classAtom(): number | CharTest {
    const c = this.#pattern[this.#at++]!;
    if (c !== '\\') return c.charCodeAt(0);
    const e = this.#pattern[this.#at++];
    if (e === undefined) throw new RegexError('ends with a lone backslash');
    if (e === 'b') return 0x08;
    if (e === '-') return 0x2d;
    return this.#classEscape(e) ?? this.#characterEscape(e);
  }

  #literal(code: number): Node {
    return this.#char(this.#folded((c) => c === code));
  }

  #char(test: CharTest): Node {
    return { kind: 'char', test };
  }

  /** Under `i`, a test that also takes the other case (JavaScript's simple case folding, without `u`). */
  #folded(test: CharTest): CharTest {
    if (!this.#options.ignoreCase) return test;
    return (code) => {
      if (test(code)) return true;
      const char = String.fromCharCode(code);
      const upper = canonicalUpper(char);
      if (upper !== code && test(upper)) return true;
      // Every code unit whose upper case is this one's (a few letters have more than one).
      for (const other of lowerForms(upper)) if (other !== code && test(other)) return true;
      return false;
    };
  }
}

/** JavaScript's Canonicalize without `u`: the upper case, unless it is longer or would map non-ASCII to ASCII. */
function canonicalUpper(char: string): number {
  const upper = char.toUpperCase();
  if (upper.length !== 1) return char.charCodeAt(0);
  const code = upper.charCodeAt(0);
  if (char.charCodeAt(0) >= 128 && code < 128) return char.charCodeAt(0);
  return code;
}

const LOWER_FORMS = new Map<number, number[]>();
function lowerForms(upper: number): number[] {
  let forms = LOWER_FORMS.get(upper);
  if (!forms) {
    forms = [];
    const lower = String.fromCharCode(upper).toLowerCase();
    if (lower.length === 1 && canonicalUpper(lower) === upper) forms.push(lower.charCodeAt(0));
    if (canonicalUpper(String.fromCharCode(upper)) === upper) forms.push(upper);
    // The few code units that fold onto a letter they are not the lower case of (ſ → S, K → K, …).
    for (const extra of [0x017f, 0x212a, 0x212b, 0x03c2, 0x1e9e, 0x0345, 0x1fbe]) {
      if (canonicalUpper(String.fromCharCode(extra)) === upper) forms.push(extra);
    }
    LOWER_FORMS.set(upper, forms);
  }
  return forms;
}

/** Whether every match of `node` must begin with `^`. */
function startsAnchored(node: Node): boolean {
  switch (node.kind) {
    case 'assert': return node.what === 'start';
    case 'seq': return node.items.length > 0 && startsAnchored(node.items[0]!);
    case 'alt': return node.options.every(startsAnchored);
    default: return false;
  }
}

function emit(tree: Node): Instruction[] {
  const program: Instruction[] = [];
  const push = (instruction: Instruction) => {
    if (program.length >= MAX_PROGRAM) throw new RegexError(`is too complex: it compiles to more than ${MAX_PROGRAM} steps`);
    program.push(instruction);
    return program.length - 1;
  };
  const walk = (node: Node): void => {
    switch (node.kind) {
      case 'char':
        push({ op: 'char', test: node.test });
        return;
      case 'assert':
        push({ op: 'assert', what: node.what });
        return;
      case 'seq':
        for (const item of node.items) walk(item);
        return;
      case 'alt': {
        const jumps: number[] = [];
        node.options.forEach((option, i) => {
          if (i === node.options.length - 1) return walk(option);
          const split = push({ op: 'split', a: program.length + 1, b: -1 });
          walk(option);
          jumps.push(push({ op: 'jmp', to: -1 }));
          (program[split] as { b: number }).b = program.length;
        });
        for (const jump of jumps) (program[jump] as { to: number }).to = program.length;
        return;
      }
      case 'repeat': {
        for (let i = 0; i < node.min; i++) walk(node.node);
        if (node.max === Infinity) {
          // L: split body, out; body; jmp L
          const split = push({ op: 'split', a: program.length + 1, b: -1 });
          walk(node.node);
          push({ op: 'jmp', to: split });
          (program[split] as { b: number }).b = program.length;
        } else {
          const splits: number[] = [];
          for (let i = node.min; i < node.max; i++) {
            splits.push(push({ op: 'split', a: program.length + 1, b: -1 }));
            walk(node.node);
          }
          for (const split of splits) (program[split] as { b: number }).b = program.length;
        }
        return;
      }
    }
  };
  walk(tree);
  push({ op: 'match' });
  return program;
}

const CHAR = 0;
const ASSERT = 1;
const SPLIT = 2;
const JMP = 3;
const MATCH = 4;
const ASSERTIONS: readonly Assertion[] = ['start', 'end', 'word', 'nonword'];

/** The program as parallel arrays, so the loop below reads one shape of data however the pattern looks. */
function flatten(program: Instruction[]) {
  const ops = new Uint8Array(program.length);
  const a = new Int32Array(program.length);
  const b = new Int32Array(program.length);
  const tests: CharTest[] = program.map(() => () => false);
  program.forEach((instruction, pc) => {
    switch (instruction.op) {
      case 'char': ops[pc] = CHAR; tests[pc] = instruction.test; break;
      case 'assert': ops[pc] = ASSERT; a[pc] = ASSERTIONS.indexOf(instruction.what); break;
      case 'split': ops[pc] = SPLIT; a[pc] = instruction.a; b[pc] = instruction.b; break;
      case 'jmp': ops[pc] = JMP; a[pc] = instruction.to; break;
      case 'match': ops[pc] = MATCH; break;
    }
  });
  return { ops, a, b, tests };
}

/** Every start position at once: the set of live instructions advances one code unit at a time. */
function run({ ops, a, b, tests }: ReturnType<typeof flatten>, text: string, multiline: boolean, anchored: boolean): boolean {
  const size = ops.length;
  let current = new Int32Array(size);
  let next = new Int32Array(size);
  let currentCount = 0;
  // Which list holds an instruction at this step: the step number that last added it.
  const seen = new Int32Array(size).fill(-1);
  const stack = new Int32Array(size * 2 + 2);
  const length = text.length;

  const wordAt = (i: number) => i >= 0 && i < length && isWord(text.charCodeAt(i));
  const holds = (what: number, i: number): boolean => {
    switch (what) {
      case 0: return i === 0 || (multiline && LINE_TERMINATORS.has(text.charCodeAt(i - 1)));
      case 1: return i === length || (multiline && LINE_TERMINATORS.has(text.charCodeAt(i)));
      case 2: return wordAt(i - 1) !== wordAt(i);
      default: return wordAt(i - 1) === wordAt(i);
    }
  };

  /**
   * Adds `pc` to `list` (holding `count`) with what it reaches without reading a character
   * (splits, jumps, assertions that hold at `i`): the list's new length, or -1 on reaching a match.
   */
  const add = (list: Int32Array, count: number, pc: number, i: number, step: number): number => {
    let top = 0;
    stack[top++] = pc;
    while (top > 0) {
      const at = stack[--top]!;
      if (seen[at] === step) continue;
      seen[at] = step;
      switch (ops[at]) {
        case CHAR: list[count++] = at; break;
        case SPLIT: stack[top++] = b[at]!; stack[top++] = a[at]!; break;
        case JMP: stack[top++] = a[at]!; break;
        case ASSERT: if (holds(a[at]!, i)) stack[top++] = at + 1; break;
        default: return -1;
      }
    }
    return count;
  };

  // A pattern that must begin with a given kind of character: with no attempt alive, the positions
  // before the next such character start nothing, and are passed over with that one test.
  const first = ops[0] === CHAR ? tests[0]! : null;
  for (let i = 0; i <= length; i++) {
    if (first && currentCount === 0 && !anchored) {
      while (i < length && !first(text.charCodeAt(i))) i++;
    }
    // A new attempt starts at every position (the search is unanchored), unless the pattern can only match at 0.
    if (i === 0 || !anchored) {
      currentCount = add(current, currentCount, 0, i, i * 2);
      if (currentCount < 0) return true;
    } else if (currentCount === 0) {
      return false;
    }
    if (i === length) break;
    const code = text.charCodeAt(i);
    let nextCount = 0;
    for (let k = 0; k < currentCount; k++) {
      const pc = current[k]!;
      if (tests[pc]!(code)) {
        nextCount = add(next, nextCount, pc + 1, i + 1, i * 2 + 2);
        if (nextCount < 0) return true;
      }
    }
    const swap = current;
    current = next;
    next = swap;
    currentCount = nextCount;
  }
  return false;
}
