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

function verifyCommand(type: string): Command {
  const signsUrl = type === 'twilio' || type === 'hmac';
  const options: Record<string, Option> = {
    ...keyOptions(type, 'verify'),
    body: { type: 'string', value: BODY_VALUE, describe: 'the body as received, byte for byte' },
    header: { type: 'string', short: 'H', multiple: true, value: 'Name: value', describe: 'a header as received (repeat for each)' },
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
      const body = await bodyOf(values);
      if (!body) throw new UsageError('--body is required.');
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
        headers: headersOf(values),
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
