import { randomUUID } from 'node:crypto';
import { FIXTURES } from '../../inbound/fixtures/index.ts';
import { SIGNING_TYPES } from '../../inbound/providers/index.ts';
import { type Command, type Option, UsageError } from '../command.ts';
import { BODY_VALUE, bodyOf, keyOptions, TIMESTAMP_OPTION, timestampOf, titleOf, urlOf } from './provider-options.ts';
import { signAs } from './sign.ts';

/** How much of an answer's body is printed. */
const SHOWN = 500;

function triggerCommand(type: string): Command {
  const title = titleOf(type);
  const fixtures = FIXTURES[type] ?? [];
  const options: Record<string, Option> = {
    ...keyOptions(type, 'sign'),
    to: { type: 'string', value: 'url', describe: 'where to send it: your service, or a Herald source\'s URL' },
    body: { type: 'string', value: BODY_VALUE, describe: 'send this body instead of the sample event\'s' },
    timestamp: TIMESTAMP_OPTION,
    list: { type: 'boolean', describe: 'list the sample events instead' },
  };
  const key = type === 'discord' ? '--private-key <hex>' : '--secret <secret>';
  return {
    name: type,
    summary: `send a sample ${title} event, signed, to a URL`,
    args: [{ name: 'event', describe: 'which sample event (default: the first)', optional: true, choices: fixtures.map((fixture) => fixture.event) }],
    options,
    examples: [`herald trigger ${type} ${fixtures.at(-1)?.event ?? ''} ${key} --to http://127.0.0.1:3000/hooks`, `herald trigger ${type} --list`],
    async run({ values, args }, io) {
      if (values.list) {
        const width = Math.max(...fixtures.map((fixture) => fixture.event.length)) + 2;
        io.stdout.write(fixtures.map((fixture) => `${fixture.event.padEnd(width)}${fixture.summary}\n`).join(''));
        return 0;
      }
      const to = urlOf(values, 'to');
      if (to === null) throw new UsageError('--to is required: the URL to send the event to.');
      const fixture = args[0] ? fixtures.find((f) => f.event === args[0])! : fixtures[0]!;
      const timestamp = timestampOf(values);
      const given = await bodyOf(values);
      const body = given?.bytes ?? Buffer.from(fixture.body({ id: randomUUID(), now: timestamp }));
      const signed = await signAs(type, values, { body, url: to, timestamp, event: fixture.event });
      for (const note of signed.notes ?? []) io.stderr.write(`Note: ${note}\n`);
      const url = signed.url ?? to;
      const started = performance.now();
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, { method: 'POST', headers: signed.headers, body, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
        text = await response.text();
      } catch (error) {
        const cause = (error as Error & { cause?: Error }).cause;
        io.stderr.write(`herald: could not send to ${url}: ${cause?.message ?? (error as Error).message}\n`);
        return 1;
      }
      const ms = Math.round(performance.now() - started);
      const ok = response.status >= 200 && response.status < 300;
      io.stdout.write(`${type} ${fixture.event} → ${url}\n${response.status} ${response.statusText} in ${ms} ms\n`);
      const shown = text.length > SHOWN ? `${text.slice(0, SHOWN)}…` : text;
      if (shown) (ok ? io.stdout : io.stderr).write(`${shown}\n`);
      return ok ? 0 : 1;
    },
  };
}

export const trigger: Command = {
  name: 'trigger',
  summary: 'send a provider\'s sample event, signed offline, to a URL',
  description: 'Each provider has sample events (--list) with fresh ids and times. Exits 1 when the answer is not 2xx.',
  commands: SIGNING_TYPES.map(triggerCommand),
};
