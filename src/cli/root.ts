import { VERSION } from '../version.ts';
import { type Command, completionScript, helpText, UsageError } from './command.ts';
import { app } from './commands/applications.ts';
import { attempt } from './commands/attempts.ts';
import { bin } from './commands/bins.ts';
import { endpoint } from './commands/endpoints.ts';
import { eventType } from './commands/event-types.ts';
import { listen } from './commands/listen.ts';
import { message } from './commands/messages.ts';
import { serve, token } from './commands/server.ts';
import { config } from './commands/config.ts';
import { backup } from './commands/backup.ts';
import { doctor } from './commands/doctor.ts';
import { sign } from './commands/sign.ts';
import { exportCommand, importCommand } from './commands/transfer.ts';
import { source } from './commands/sources.ts';
import { trigger } from './commands/trigger.ts';
import { verify } from './commands/verify.ts';

const version: Command = {
  name: 'version',
  summary: 'print the version',
  run(_input, io) {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  },
};

const SHELLS = ['bash', 'zsh', 'fish'] as const;
const completion: Command = {
  name: 'completion',
  summary: 'print a shell completion script',
  args: [{ name: 'shell', describe: 'the shell to complete in', choices: SHELLS }],
  examples: ['herald completion bash > /etc/bash_completion.d/herald', 'herald completion zsh >> ~/.zshrc', 'herald completion fish > ~/.config/fish/completions/herald.fish'],
  run({ args }, io) {
    io.stdout.write(completionScript(root, args[0] as (typeof SHELLS)[number]));
    return 0;
  },
};

const help: Command = {
  name: 'help',
  summary: 'show the help of herald or of one of its commands',
  args: [{ name: 'command', describe: 'a command, as you would type it', optional: true, variadic: true }],
  run({ args }, io) {
    const path = [root];
    for (const word of args) {
      const next = path.at(-1)!.commands?.find((command) => command.name === word);
      if (!next) throw new UsageError(`No command ${JSON.stringify(args.join(' '))}.`);
      path.push(next);
    }
    io.stdout.write(`${helpText(path)}\n`);
    return 0;
  },
};

/** Every `herald` command. Each is declared once (src/cli/command.ts); this is where they meet. */
export const root: Command = {
  name: 'herald',
  summary: `webhooks, sent and received (Herald ${VERSION})`,
  commands: [serve, doctor, token, config, backup, exportCommand, importCommand, app, endpoint, eventType, message, attempt, source, bin, listen, sign, trigger, verify, completion, version, help],
};
