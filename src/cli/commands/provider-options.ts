import { readFile } from 'node:fs/promises';
import { HttpError } from '../../api/errors.ts';
import { checkSourceConfig } from '../../inbound/source-config.ts';
import { objectOption } from '../api-command.ts';
import { type Option, UsageError, type Values } from '../command.ts';

/**
 * What `herald sign`, `trigger` and `verify` share: each provider is a subcommand of each, whose
 * options say what that provider's scheme takes (a secret, Discord's keys, an `hmac` scheme's
 * settings), so `--help` and completion show only what applies.
 */

/** The providers' names as people write them, for help and messages. */
export const TITLES: Record<string, string> = {
  stripe: 'Stripe', github: 'GitHub', shopify: 'Shopify', slack: 'Slack', svix: 'Svix', 'standard-webhooks': 'Standard Webhooks',
  clerk: 'Clerk', twilio: 'Twilio', gitlab: 'GitLab', discord: 'Discord', paddle: 'Paddle', linear: 'Linear', zoom: 'Zoom', hmac: 'HMAC',
};
export const titleOf = (type: string) => TITLES[type] ?? type;

/** The `hmac` source type's settings, as flags: the same names as its config, in kebab case. */
const HMAC_FIELDS: Record<string, Option & { field: string }> = {
  config: { field: '', type: 'string', value: 'json|@file|-', describe: 'the scheme as an hmac source\'s config (the flags below override it)' },
  // Not `--header`, which `herald verify` takes for the request's headers.
  'signature-header': { field: 'header', type: 'string', value: 'header', describe: 'the header the signature goes in' },
  algorithm: { field: 'algorithm', type: 'string', choices: ['sha1', 'sha256', 'sha512'], describe: 'the HMAC\'s hash (default sha256)' },
  encoding: { field: 'encoding', type: 'string', choices: ['hex', 'base64'], describe: 'how the signature is written (default hex)' },
  prefix: { field: 'prefix', type: 'string', describe: 'what comes before the signature (sha256=)' },
  'signed-content': { field: 'signedContent', type: 'string', value: 'template', describe: 'what is signed, over {body}, {timestamp}, {url}, {id} (default {body})' },
  'timestamp-header': { field: 'timestampHeader', type: 'string', value: 'header', describe: 'the header the timestamp goes in' },
  'id-header': { field: 'idHeader', type: 'string', value: 'header', describe: 'the header the id goes in' },
  'secret-encoding': { field: 'secretEncoding', type: 'string', value: 'how', choices: ['raw', 'base64'], describe: 'the secret used as it is, or base64-decoded after any whsec_ (default raw)' },
};

/** The options naming the key: a secret, Discord's private key to sign or public key to verify, an hmac scheme. */
export function keyOptions(type: string, role: 'sign' | 'verify'): Record<string, Option> {
  if (type === 'discord') {
    return role === 'sign'
      ? { 'private-key': { type: 'string', value: 'hex|pem', describe: 'the ed25519 private key to sign with (see --generate-key)' } }
      : { 'public-key': { type: 'string', value: 'hex', describe: 'the application\'s public key, 64 hex characters' } };
  }
  const secret: Option = { type: 'string', describe: `the signing secret, as the ${type} source is configured with it` };
  if (type !== 'hmac') return { secret };
  return { secret, ...Object.fromEntries(Object.entries(HMAC_FIELDS).map(([name, { field: _, ...option }]) => [name, option])) };
}

/** The config a source of `type` would hold, from the key options; a UsageError when something is missing. */
export async function configOf(type: string, values: Values, role: 'sign' | 'verify'): Promise<Record<string, unknown>> {
  const need = (name: string) => {
    const value = values[name];
    if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required.`);
    return value;
  };
  if (type === 'discord') {
    if (role === 'sign') return { privateKey: need('private-key') };
    const publicKey = need('public-key');
    if (!/^[0-9a-f]{64}$/i.test(publicKey)) throw new UsageError('--public-key must be 64 hex characters.');
    return { publicKey };
  }
  if (type !== 'hmac') return { secret: need('secret') };
  // --config holds the scheme as given to the source, its secret included; --secret overrides it.
  const given = (await objectOption(values, 'config')) ?? {};
  const config: Record<string, unknown> = { ...given, secret: typeof values.secret === 'string' && values.secret !== '' ? values.secret : given.secret ?? need('secret') };
  for (const [name, { field }] of Object.entries(HMAC_FIELDS)) if (field && typeof values[name] === 'string') config[field] = values[name];
  // The same checks as creating an hmac source, so what is signed here is what a source would take.
  try {
    return checkSourceConfig('hmac', config);
  } catch (error) {
    if (!(error instanceof HttpError) || typeof error.detail === 'string') throw error;
    const [item] = error.detail;
    const field = item?.loc.at(-1) ?? '';
    const flag = Object.entries(HMAC_FIELDS).find(([, option]) => option.field === field)?.[0] ?? field;
    throw new UsageError(`--${flag} ${item?.msg ?? 'is invalid'}.`);
  }
}

export const BODY_VALUE = 'text|@file|-';

/** A body option's bytes, exactly: from `@file`, `-` (stdin) or the value itself, never re-encoded. */
export async function bodyOf(values: Values, name = 'body'): Promise<{ bytes: Buffer; file: string | null } | null> {
  const given = values[name];
  if (typeof given !== 'string') return null;
  if (given === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return { bytes: Buffer.concat(chunks), file: null };
  }
  if (!given.startsWith('@')) return { bytes: Buffer.from(given), file: null };
  try {
    return { bytes: await readFile(given.slice(1)), file: given.slice(1) };
  } catch (error) {
    throw new UsageError(`--${name} ${given}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
  }
}

export const TIMESTAMP_OPTION: Option = { type: 'string', value: 'unix', describe: 'the time to sign, in Unix seconds (default now)' };

/** `--timestamp` in Unix seconds, or now. */
export function timestampOf(values: Values): number {
  const given = values.timestamp;
  if (typeof given !== 'string') return Math.floor(Date.now() / 1000);
  if (!/^\d{1,12}$/.test(given)) throw new UsageError(`--timestamp takes Unix seconds; got ${JSON.stringify(given)}.`);
  return Number(given);
}

/** A URL option, checked to be an absolute http(s) URL. */
export function urlOf(values: Values, name: string): string | null {
  const given = values[name];
  if (typeof given !== 'string') return null;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(`--${name} must be a URL; got ${JSON.stringify(given)}.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--${name} must be an http or https URL.`);
  return given;
}
