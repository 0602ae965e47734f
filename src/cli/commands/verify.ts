import { PROVIDERS, SIGNING_TYPES, verify as verifyRequest } from '../../inbound/providers/index.ts';
import { parseJson } from '../../inbound/request.ts';
import { type Command, type Option, UsageError, type Values } from '../command.ts';
import { BODY_VALUE, bodyOf, configOf, keyOptions, titleOf, urlOf } from './provider-options.ts';

/** `Name: value` options as the gateway sees headers: names in lower case, repeats joined with ", ". */
function headersOf(values: Values): Record<string, string> {
  const given = (values.header as string[] | undefined) ?? [];
  const headers: Record<string, string> = {};
  for (const line of given) {
    const at = line.indexOf(':');
    const name = line.slice(0, at).trim().toLowerCase();
    if (at < 1 || !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name)) throw new UsageError(`--header takes 'Name: value'; got ${JSON.stringify(line)}.`);
    const value = line.slice(at + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

/** A request as Herald captured it: a bin's (`herald bin request get --reveal --json`) or a source's. */
interface Captured {
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Reads `--request`: the JSON of a captured request, whose `headers` are `[{name, value}]` in the
 * order they came (or an object) and whose body is `bodyBase64` (or `body` as text). A header the
 * API masked cannot be checked, so it is refused with the way to reveal it.
 */
async function capturedOf(values: Values): Promise<Captured | null> {
  const given = await bodyOf(values, 'request');
  if (!given) return null;
  let request: { headers?: unknown; bodyBase64?: unknown; body?: unknown };
  try {
    request = JSON.parse(given.bytes.toString('utf8'));
  } catch {
    throw new UsageError('--request takes the JSON of a captured request, as `herald bin request get <bin> <request> --reveal --json` prints it.');
  }
  const entries: Array<[string, unknown]> = Array.isArray(request.headers)
    ? request.headers.map((header: { name?: unknown; value?: unknown; masked?: unknown }) => {
        if (header.masked || header.value === null) throw new UsageError(`--request: the header ${String(header.name)} is masked; get the request with --reveal.`);
        return [String(header.name), header.value];
      })
    : Object.entries((request.headers ?? {}) as Record<string, unknown>);
  const headers: Record<string, string> = {};
  for (const [name, value] of entries) {
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? String(value) : `${headers[key]}, ${String(value)}`;
  }
  const body = typeof request.bodyBase64 === 'string' ? Buffer.from(request.bodyBase64, 'base64') : Buffer.from(typeof request.body === 'string' ? request.body : '');
  return { headers, body };
}

function verifyCommand(type: string): Command {
  const signsUrl = type === 'twilio' || type === 'hmac';
  const options: Record<string, Option> = {
    ...keyOptions(type, 'verify'),
    body: { type: 'string', value: BODY_VALUE, describe: 'the body as received, byte for byte' },
    header: { type: 'string', short: 'H', multiple: true, value: 'Name: value', describe: 'a header as received (repeat for each)' },
    request: { type: 'string', value: BODY_VALUE, describe: 'a request Herald captured, as JSON (`herald bin request get … --reveal --json`): its headers and body; --body and -H win over it' },
    url: { type: 'string', describe: signsUrl ? 'the URL the provider called, which it may sign' : 'the URL the provider called' },
    tolerance: { type: 'string', value: 'seconds', describe: 'how old (or early) a signed timestamp may be; 0 checks none (default: the provider\'s)' },
  };
  const key = type === 'discord' ? '--public-key <hex>' : '--secret <secret>';
  return {
    name: type,
    summary: `check a request's ${titleOf(type)} signature, and say why it fails`,
    options,
    examples: [`herald verify ${type} ${key} --body @body.json -H 'Name: value' -H 'Other: value'`],
    async run({ values }, io) {
      const captured = await capturedOf(values);
      const body = (await bodyOf(values)) ?? (captured ? { bytes: captured.body, file: null } : null);
      if (!body) throw new UsageError('--body (or --request) is required.');
      const config = await configOf(type, values, 'verify');
      if (typeof values.tolerance === 'string') {
        if (!/^\d{1,9}$/.test(values.tolerance)) throw new UsageError(`--tolerance takes whole seconds; got ${JSON.stringify(values.tolerance)}.`);
        config.toleranceSeconds = Number(values.tolerance);
      }
      const url = urlOf(values, 'url');
      if (url === null && (type === 'twilio' || (type === 'hmac' && String(config.signedContent ?? '').includes('{url}')))) {
        throw new UsageError('--url is required: the scheme signs the URL the provider called.');
      }
      const verdict = verifyRequest(PROVIDERS[type]!, {
        method: 'POST',
        url: url ?? 'http://localhost/',
        headers: { ...captured?.headers, ...headersOf(values) },
        body: body.bytes,
        json: parseJson(body.bytes),
        nowSeconds: Math.floor(Date.now() / 1000),
      }, config);
      if (verdict.ok) {
        io.stdout.write('verified\n');
        return 0;
      }
      io.stderr.write(`not verified: ${verdict.diagnosis}\n`);
      return 1;
    },
  };
}

export const verify: Command = {
  name: 'verify',
  summary: 'check a received request\'s signature, and say why it fails',
  description: 'Judges as a Herald source of the same type does, with the same diagnosis: exit 0 verified, 1 not.',
  commands: SIGNING_TYPES.map(verifyCommand),
};
