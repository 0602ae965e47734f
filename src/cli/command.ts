import { parseArgs } from 'node:util';

/**
 * Every `herald` command is declared once, as data: its options, its arguments, its subcommands.
 * One parser (Node's `util.parseArgs`, strict) reads any command line against those declarations,
 * and the same declarations write each command's `--help` and the shell completions, so what a
 * command accepts, what it says it accepts and what the shell offers cannot drift apart.
 */

export interface Option {
  type: 'string' | 'boolean';
  short?: string;
  /** May be given more than once; the values come as a list. */
  multiple?: boolean;
  describe: string;
  /** The value's name in help: `--secret <secret>`. */
  value?: string;
  /** The only values allowed, checked by the parser and offered by completion. */
  choices?: readonly string[];
}

export interface Argument {
  name: string;
  describe: string;
  optional?: boolean;
  /** Takes every argument left (the last one only). */
  variadic?: boolean;
  choices?: readonly string[];
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

export interface Command {
  name: string;
  /** One line, shown in the parent's list of commands. */
  summary: string;
  /** More, shown in this command's own help. */
  description?: string;
  args?: readonly Argument[];
  options?: Readonly<Record<string, Option>>;
  /** A group (`herald app …`) has subcommands and usually no `run` of its own. */
  commands?: readonly Command[];
  examples?: readonly string[];
  /** Returns the exit code: 0 done, 1 failed, 2 misused. */
  run?(input: { values: Values; args: string[] }, io: Io): Promise<number> | number;
}

/** A command line that does not fit its command: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const HELP: Option = { type: 'boolean', short: 'h', describe: 'show this help' };

/** Runs the command `argv` names under `root`, and returns its exit code. */
export async function runCli(root: Command, argv: readonly string[], io: Io): Promise<number> {
  const path = [root];
  let rest = [...argv];
  // Leading words name subcommands, as deep as they go.
  for (;;) {
    const current = path.at(-1)!;
    const next = current.commands?.find((command) => command.name === rest[0]);
    if (!next) break;
    path.push(next);
    rest = rest.slice(1);
  }
  const command = path.at(-1)!;
  const name = path.map((c) => c.name).join(' ');
  try {
    if (rest.includes('--help') || rest.includes('-h') || (!command.run && rest.length === 0)) {
      io.stdout.write(`${helpText(path)}\n`);
      return 0;
    }
    if (!command.run) throw new UsageError(`Unknown command ${JSON.stringify(`${name} ${rest[0]}`)}.`);
    const { values, args } = parse(command, rest);
    return await command.run({ values, args }, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`${root.name}: ${error.message}\nRun \`${name} --help\` for what it takes.\n`);
    return 2;
  }
}

function parse(command: Command, argv: string[]): { values: Values; args: string[] } {
  const options = { ...command.options, help: HELP };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(options).map(([name, option]) => [name, {
        type: option.type,
        ...(option.short ? { short: option.short } : {}),
        ...(option.multiple ? { multiple: true } : {}),
      }])),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument starting with a '-'.*$/s, '.'));
  }
  const values = { ...parsed.values } as Values;
  for (const [name, option] of Object.entries(command.options ?? {})) {
    const given = values[name];
    const list = Array.isArray(given) ? given : typeof given === 'string' ? [given] : [];
    const wrong = option.choices && list.find((value) => !option.choices!.includes(value));
    if (wrong !== undefined) throw new UsageError(`--${name} must be one of ${option.choices!.join(', ')}; got ${JSON.stringify(wrong)}.`);
  }
  const specs = command.args ?? [];
  const args = parsed.positionals;
  const required = specs.filter((spec) => !spec.optional).length;
  if (args.length < required) throw new UsageError(`Missing ${specs[args.length]!.name}.`);
  if (args.length > specs.length && !specs.at(-1)?.variadic) throw new UsageError(`Unexpected argument ${JSON.stringify(args[specs.length])}.`);
  args.forEach((arg, i) => {
    const spec = specs[Math.min(i, specs.length - 1)]!;
    if (spec.choices && !spec.choices.includes(arg)) throw new UsageError(`${spec.name} must be one of ${spec.choices.join(', ')}; got ${JSON.stringify(arg)}.`);
  });
  return { values, args };
}

const flag = (name: string, option: Option) =>
  `${option.short ? `-${option.short}, ` : ''}--${name}${option.type === 'string' ? ` <${option.value ?? name}>` : ''}`;
const argument = (spec: Argument) => {
  const text = spec.variadic ? `${spec.name}…` : spec.name;
  return spec.optional ? `[${text}]` : `<${text}>`;
};

/** The help of the last command of `path`, written from its declaration. */
export function helpText(path: readonly Command[]): string {
  const command = path.at(-1)!;
  const name = path.map((c) => c.name).join(' ');
  const lines = [`${name}: ${command.summary}`];
  if (command.description) lines.push('', command.description);
  const usage = [name, ...(command.commands?.length && !command.run ? ['<command>'] : []), ...(command.options && Object.keys(command.options).length ? ['[options]'] : []), ...(command.args ?? []).map(argument)];
  lines.push('', `Usage: ${usage.join(' ')}`);
  const table = (rows: Array<[string, string]>) => {
    const width = Math.min(34, Math.max(...rows.map(([left]) => left.length)) + 2);
    // A left column longer than the width keeps two spaces before its description.
    return rows.map(([left, right]) => `  ${left.length + 2 > width ? `${left}  ` : left.padEnd(width)}${right}`);
  };
  if (command.commands?.length) lines.push('', 'Commands:', ...table(command.commands.map((c) => [c.name, c.summary])));
  if (command.args?.length) lines.push('', 'Arguments:', ...table(command.args.map((spec) => [argument(spec), spec.describe + (spec.choices ? ` (${spec.choices.join(', ')})` : '')])));
  const options = Object.entries({ ...command.options, help: HELP });
  lines.push('', 'Options:', ...table(options.map(([option, spec]) => [flag(option, spec), spec.describe + (spec.choices ? ` (${spec.choices.join(', ')})` : '')])));
  if (command.examples?.length) lines.push('', 'Examples:', ...command.examples.map((example) => `  ${example}`));
  return lines.join('\n');
}

/** Every command path under `root`, with what may follow it: for the shell completions. */
function walk(root: Command): Array<{ words: string[]; next: string[] }> {
  const out: Array<{ words: string[]; next: string[] }> = [];
  const visit = (command: Command, words: string[]) => {
    const options = Object.entries({ ...command.options, help: HELP }).map(([name]) => `--${name}`);
    const choices = (command.args ?? []).flatMap((spec) => spec.choices ?? []);
    out.push({ words, next: [...(command.commands ?? []).map((c) => c.name), ...choices, ...options] });
    for (const sub of command.commands ?? []) visit(sub, [...words, sub.name]);
  };
  visit(root, []);
  return out;
}

/**
 * A completion script for bash, zsh or fish. It completes command words, options and fixed
 * choices from the declarations; it never runs Herald, so completing costs nothing.
 */
export function completionScript(root: Command, shell: 'bash' | 'zsh' | 'fish'): string {
  const entries = walk(root);
  const name = root.name;
  if (shell === 'fish') {
    return entries.map(({ words, next }) => {
      const condition = words.length === 0
        ? '__fish_use_subcommand'
        : `__fish_seen_subcommand_from ${words.at(-1)}`;
      return `complete -c ${name} -f -n '${condition}' -a '${next.join(' ')}'`;
    }).join('\n') + '\n';
  }
  // bash and zsh (through bashcompinit) share one function: the longest declared path that the
  // words typed so far start with says what may come next.
  const cases = entries
    .sort((a, b) => b.words.length - a.words.length)
    .map(({ words, next }) => `    "${words.join(' ')}") echo "${next.join(' ')}"; return ;;`)
    .join('\n');
  const fn = `_${name}_complete() {
  local current="\${COMP_WORDS[COMP_CWORD]}" path="" word candidates
  for word in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$word" in -*) ;; *) [ -n "$(_${name}_next "\${path:+$path }$word")" ] && path="\${path:+$path }$word" ;; esac
  done
  candidates="$(_${name}_next "$path")"
  COMPREPLY=($(compgen -W "$candidates" -- "$current"))
}
_${name}_next() {
  case "$1" in
${cases}
  esac
}
complete -F _${name}_complete ${name}
`;
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${fn}` : fn;
}
