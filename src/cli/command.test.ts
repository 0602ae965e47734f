import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { type Command, completionScript, helpText, runCli } from './command.ts';

const BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));
const NODE_FLAGS = readFileSync(BIN, 'utf8').split('\n')[0]!.split(/\s+/).slice(3);

/** Runs the real `herald` as a user would, and returns its exit code and output. */
async function herald(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...NODE_FLAGS, BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A small tree to test the parser on, apart from Herald's own commands. */
const seen: Array<{ values: object; args: string[] }> = [];
const tree: Command = {
  name: 'tool',
  summary: 'a test tool',
  commands: [{
    name: 'thing',
    summary: 'things',
    commands: [{
      name: 'make',
      summary: 'makes a thing',
      args: [{ name: 'kind', describe: 'what kind', choices: ['big', 'small'] }, { name: 'names', describe: 'its names', optional: true, variadic: true }],
      options: { colour: { type: 'string', describe: 'its colour', choices: ['red', 'blue'] }, loud: { type: 'boolean', short: 'l', describe: 'say so' }, tag: { type: 'string', multiple: true, describe: 'a tag' } },
      run(input) {
        seen.push(input);
        return 0;
      },
    }],
  }],
};
const io = () => {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) }, env: {} } };
};

describe('the command line parser', () => {
  it('finds the subcommand by its words and hands it its options and arguments', async () => {
    const { io: streams } = io();
    assert.equal(await runCli(tree, ['thing', 'make', 'big', 'a', 'b', '--colour', 'red', '-l', '--tag', 'x', '--tag=y'], streams), 0);
    assert.deepEqual(seen.at(-1), { values: { colour: 'red', loud: true, tag: ['x', 'y'] }, args: ['big', 'a', 'b'] });
  });

  it('refuses with exit code 2 and a pointer to --help what the declaration does not allow', async () => {
    for (const [argv, message] of [
      [['thing', 'make', 'big', '--size', '1'], /Unknown option '--size'/],
      [['thing', 'make', 'huge'], /kind must be one of big, small/],
      [['thing', 'make', 'big', '--colour', 'green'], /--colour must be one of red, blue/],
      [['thing', 'make'], /Missing kind/],
      [['thing', 'break'], /Unknown command "tool thing break"/],
    ] as const) {
      const { out, io: streams } = io();
      assert.equal(await runCli(tree, argv, streams), 2, argv.join(' '));
      assert.match(out.stderr, message);
      assert.match(out.stderr, /Run `tool thing( make)? --help`/);
    }
  });

  it('writes each command\'s help from its declaration, and prints it for --help or a bare group', async () => {
    const text = helpText([tree, tree.commands![0]!, tree.commands![0]!.commands![0]!]);
    assert.match(text, /^tool thing make: makes a thing/);
    assert.match(text, /Usage: tool thing make \[options\] <kind> \[names…\]/);
    assert.match(text, /--colour <colour> +its colour \(red, blue\)/);
    assert.match(text, /-l, --loud +say so/);
    const { out, io: streams } = io();
    assert.equal(await runCli(tree, ['thing'], streams), 0);
    assert.match(out.stdout, /Commands:\n  make +makes a thing/);
  });

  it('completes commands, fixed choices and options in bash, as the declarations say', () => {
    const script = completionScript(tree, 'bash');
    const complete = (line: string) => {
      const words = line.split(' ');
      const bash = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tool_complete; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' });
      assert.equal(bash.status, 0, bash.stderr);
      return bash.stdout.trim().split(' ').filter(Boolean);
    };
    assert.deepEqual(complete('tool '), ['thing', '--help']);
    assert.deepEqual(complete('tool th'), ['thing']);
    assert.deepEqual(complete('tool thing m'), ['make']);
    assert.deepEqual(complete('tool thing make '), ['big', 'small', '--colour', '--loud', '--tag', '--help']);
    assert.deepEqual(complete('tool thing make --co'), ['--colour']);
  });

  it('writes completions for zsh and fish from the same declarations', () => {
    assert.match(completionScript(tree, 'zsh'), /bashcompinit[\s\S]*complete -F _tool_complete tool/);
    assert.match(completionScript(tree, 'fish'), /complete -c tool -f -n '__fish_seen_subcommand_from make' -a 'big small --colour --loud --tag --help'/);
  });
});

describe('the herald command', () => {
  it('lists its commands, and exits 0', async () => {
    const { code, stdout } = await herald('--help');
    assert.equal(code, 0);
    for (const command of ['serve', 'token', 'completion', 'version', 'help']) assert.match(stdout, new RegExp(`\\n  ${command} `));
  });

  it('describes every setting under serve, with its flag and its variable', async () => {
    const { code, stdout } = await herald('help', 'serve');
    assert.equal(code, 0);
    assert.match(stdout, /--port <HERALD_PORT> +HTTP port \(default 8071\)/);
    // The secrets, environment only, each name apart from what it says, however long.
    for (const name of ['HERALD_ENCRYPTION_KEY', 'OTEL_EXPORTER_OTLP_HEADERS']) assert.match(stdout, new RegExp(`\\n  ${name}  +\\S`));
  });

  it('stops at an unknown flag before starting anything, naming it, with exit code 2', async () => {
    const { code, stderr } = await herald('serve', '--prot', '1');
    assert.equal(code, 2);
    assert.match(stderr, /Unknown option '--prot'/);
  });

  it('stops at a malformed setting with exit code 2, naming the flag and what it expects', async () => {
    const { code, stderr } = await herald('serve', '--port', 'abc');
    assert.equal(code, 2);
    assert.match(stderr, /Invalid --port="abc": expected a port number/);
    const empty = await herald('serve', '--data-dir', '');
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /Invalid --data-dir="": expected a directory path/);
  });

  // A host name that resolves nowhere takes the same path, but resolving it would leave loopback.
  it('stops with exit code 2, naming the settings, at an address it cannot listen on', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const dir = mkdtempSync(join(tmpdir(), 'herald-listen-'));
    try {
      const port = String((taken.address() as AddressInfo).port);
      const busy = await herald('serve', '--port', port, '--data-dir', dir);
      assert.equal(busy.code, 2);
      assert.match(busy.stderr, new RegExp(`^herald: cannot listen on 127\\.0\\.0\\.1:${port} \\(--host, HERALD_HOST; --port, HERALD_PORT\\): listen EADDRINUSE`));
    } finally {
      taken.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints its version for version and --version', async () => {
    assert.match((await herald('version')).stdout, /^\d+\.\d+\.\d+\n$/);
    assert.match((await herald('--version')).stdout, /^\d+\.\d+\.\d+\n$/);
  });

  it('prints a completion script that bash accepts', async () => {
    const { code, stdout } = await herald('completion', 'bash');
    assert.equal(code, 0);
    const bash = spawnSync('bash', ['-n'], { input: stdout, encoding: 'utf8' });
    assert.equal(bash.status, 0, bash.stderr);
    assert.match(stdout, /"serve"\) echo "--port --host/);
  });

  it("completes the API commands' resources, verbs and options in bash", async () => {
    const { stdout: script } = await herald('completion', 'bash');
    const complete = (line: string) => {
      const words = line.split(' ');
      const bash = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _herald_complete; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' });
      assert.equal(bash.status, 0, bash.stderr);
      return bash.stdout.trim().split(' ').filter(Boolean);
    };
    assert.deepEqual(complete('herald ev'), ['event-type']);
    assert.deepEqual(complete('herald endpoint re'), ['recover', 'replay-missing']);
    assert.deepEqual(complete('herald endpoint secret acme main --r'), ['--rotate']);
    assert.deepEqual(complete('herald message send acme invoice.paid --c'), ['--channel', '--count', '--concurrency']);
    assert.deepEqual(complete('herald bin request '), ['get', 'delete', '--help']);
  });
});
