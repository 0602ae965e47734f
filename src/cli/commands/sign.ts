import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { FIXTURES } from '../../inbound/fixtures/index.ts';
import { discordKeyPair } from '../../inbound/providers/discord.ts';
import { PROVIDERS, SIGNING_TYPES } from '../../inbound/providers/index.ts';
import { type Signed, SigningError } from '../../inbound/sign.ts';
import { type Command, type Io, type Option, UsageError, type Values } from '../command.ts';
import { BODY_VALUE, bodyOf, configOf, keyOptions, TIMESTAMP_OPTION, timestampOf, titleOf, urlOf } from './provider-options.ts';

/** Signs `body` as `type` would, turning what cannot be signed as asked into a usage error. */
export async function signAs(type: string, values: Values, input: { body: Buffer; url: string | null; timestamp: number; event: string | null }): Promise<Signed> {
  const config = await configOf(type, values, 'sign');
  try {
    return PROVIDERS[type]!.sign!({ ...input, id: randomUUID() }, config);
  } catch (error) {
    if (error instanceof SigningError) throw new UsageError(error.message);
    throw error;
  }
}

/** Shell quoting: one word, whatever it holds. */
const quote = (text: string) => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`);

function curl(url: string, headers: Record<string, string>, body: { bytes: Buffer; file: string | null }): string {
  // A file is sent by curl itself, byte for byte; a literal body, as the shell word it was.
  const data = body.file !== null ? `@${quote(body.file)}` : quote(body.bytes.toString('utf8'));
  return [`curl -sS -X POST ${quote(url)}`, ...Object.entries(headers).map(([name, value]) => `-H ${quote(`${name}: ${value}`)}`), `--data-binary ${data}`].join(' \\\n  ') + '\n';
}

function generateKey(values: Values, io: Io): number {
  const { publicKey, privateKey } = discordKeyPair();
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ publicKey, privateKey }, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(`Public key:  ${publicKey}\nPrivate key: ${privateKey}\n`);
  io.stderr.write('Configure the discord source with the public key ({"publicKey": "…"}); sign with the private key (--private-key).\n');
  return 0;
}

function signCommand(type: string): Command {
  const title = titleOf(type);
  const event = FIXTURES[type]?.[0]?.event;
  const options: Record<string, Option> = {
    ...keyOptions(type, 'sign'),
    body: { type: 'string', value: BODY_VALUE, describe: 'the body, byte for byte: inline, from a file, or from stdin' },
    url: { type: 'string', describe: type === 'twilio' ? 'the URL the request goes to, which Twilio signs (required)' : 'the URL the request goes to (for --curl, and schemes that sign it)' },
    timestamp: TIMESTAMP_OPTION,
    ...(event ? { event: { type: 'string', describe: `the event the provider's headers name (default ${event})` } } : {}),
    json: { type: 'boolean', describe: 'print {url, headers} as JSON' },
    curl: { type: 'boolean', describe: 'print a curl command that sends the request (needs --url)' },
    ...(type === 'discord' ? { 'generate-key': { type: 'boolean', describe: 'print a new ed25519 key pair instead: configure the source with the public key' } } : {}),
  };
  const key = type === 'discord' ? '--private-key <hex>' : '--secret <secret>';
  return {
    name: type,
    summary: `the headers ${title} would send with a body`,
    options,
    examples: [
      `herald sign ${type} ${key} --body @event.json${type === 'twilio' ? ' --url https://example.com/sms' : ''}`,
      `herald sign ${type} ${key} --body @event.json --url http://127.0.0.1:3000/hooks --curl | sh`,
      ...(type === 'discord' ? ['herald sign discord --generate-key'] : []),
    ],
    async run({ values }, io) {
      if (values['generate-key']) return generateKey(values, io);
      if (values.json && values.curl) throw new UsageError('Give --json or --curl, not both.');
      const body = await bodyOf(values);
      if (!body) throw new UsageError('--body is required.');
      const url = urlOf(values, 'url');
      if (values.curl && url === null) throw new UsageError('--curl needs --url: the command sends the request there.');
      // A shell word cannot carry a NUL, and bytes that are not UTF-8 would come out changed.
      if (values.curl && body.file === null && (!isUtf8(body.bytes) || body.bytes.includes(0))) {
        throw new UsageError('--curl writes the body into the command as text, and this one is not: give it as --body @file, which curl sends byte for byte.');
      }
      const signed = await signAs(type, values, { body: body.bytes, url, timestamp: timestampOf(values), event: (values.event as string | undefined) ?? event ?? null });
      for (const note of signed.notes ?? []) io.stderr.write(`Note: ${note}\n`);
      const to = signed.url ?? url;
      if (values.json) io.stdout.write(`${JSON.stringify({ ...(to ? { url: to } : {}), headers: signed.headers }, null, 2)}\n`);
      else if (values.curl) io.stdout.write(curl(to!, signed.headers, body));
      else {
        if (signed.url) io.stderr.write(`Send it to ${signed.url} (the signed URL).\n`);
        io.stdout.write(Object.entries(signed.headers).map(([name, value]) => `${name}: ${value}\n`).join(''));
      }
      return 0;
    },
  };
}

export const sign: Command = {
  name: 'sign',
  summary: 'print the headers a provider would send with a body, signed offline',
  description: 'Signs with the secret you give, as the provider does, so a receiver (or a Herald source) can be tested without the provider.',
  commands: SIGNING_TYPES.map(signCommand),
};
