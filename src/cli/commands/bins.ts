import { segment } from '../api-client.ts';
import { type ApiRun, apiCommand, headersOption, intOption, LIST_OPTIONS, numberOption, printDone, printList, printObject, somethingToChange } from '../api-command.ts';
import { type Command, UsageError, type Values } from '../command.ts';
import { type Column, details, paint, printable, when } from '../output.ts';

interface BinOut {
  id: string;
  name: string | null;
  url: string;
  lastRequestAt: string | null;
  createdAt: string;
}

interface BinRequestOut {
  id: string;
  method: string;
  path: string;
  query: string | null;
  headers: Array<{ name: string; value: string | null; masked?: boolean }>;
  body: string | null;
  bodyBase64: string | null;
  size: number;
  ip: string | null;
  responseStatusCode: number | null;
  createdAt: string;
}

const BASE = '/api/v1/bin';
const BIN_ARG = { name: 'bin', describe: 'bin id' } as const;
const REQUEST_ARG = { name: 'request', describe: 'captured request id, or `latest`' } as const;
const REVEAL = { reveal: { type: 'boolean', describe: 'show secret-looking headers (authorization, cookie, *-signature, *-token) too' } } as const;

const BIN_COLUMNS: Column<BinOut>[] = [
  { header: 'ID', cell: (b) => b.id, keep: true },
  { header: 'NAME', cell: (b) => b.name },
  { header: 'URL', cell: (b) => b.url },
  { header: 'LAST REQUEST', cell: (b) => when(b.lastRequestAt) },
  { header: 'CREATED', cell: (b) => when(b.createdAt) },
];

const REQUEST_COLUMNS: Column<BinRequestOut>[] = [
  { header: 'ID', cell: (r) => r.id, keep: true },
  { header: 'METHOD', cell: (r) => r.method },
  { header: 'PATH', cell: (r) => `${r.path || '/'}${r.query === null ? '' : `?${r.query}`}` },
  { header: 'SIZE', cell: (r) => `${r.size}B` },
  { header: 'ANSWER', cell: (r) => (r.responseStatusCode === null ? null : String(r.responseStatusCode)), tone: (r) => (r.responseStatusCode !== null && r.responseStatusCode < 300 ? 'good' : 'bad') },
  { header: 'FROM', cell: (r) => r.ip },
  { header: 'WHEN', cell: (r) => when(r.createdAt) },
];

/** How a bin answers: for create and update alike. */
const ANSWER_OPTIONS = {
  name: { type: 'string', describe: 'a name to know it by' },
  status: { type: 'string', describe: 'the status it answers with (default 200)' },
  header: { type: 'string', multiple: true, value: 'Name: value', describe: 'a header it answers with (repeat for more)' },
  body: { type: 'string', describe: 'the body it answers with' },
  'delay-ms': { type: 'string', value: 'ms', describe: 'wait this long before answering' },
  'fail-rate': { type: 'string', value: '0..1', describe: 'the share of requests answered --fail-status instead' },
  'fail-status': { type: 'string', describe: 'the status of those (default 500)' },
  'rate-limit-rate': { type: 'string', value: '0..1', describe: 'the share answered 429 with Retry-After' },
  'retry-after': { type: 'string', value: 'seconds', describe: 'the Retry-After of those' },
  'timeout-rate': { type: 'string', value: '0..1', describe: 'the share held open until the client gives up' },
} as const;

function binBody(values: Values) {
  const strip = <T extends Record<string, unknown>>(object: T) => {
    const kept = Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
    return Object.keys(kept).length ? kept : undefined;
  };
  return {
    name: values.name as string | undefined,
    response: strip({
      status: intOption(values, 'status', 200),
      headers: headersOption(values, 'header'),
      body: values.body as string | undefined,
      delayMs: intOption(values, 'delay-ms', 0),
    }),
    rules: strip({
      failRate: numberOption(values, 'fail-rate', 0, 1),
      failStatus: intOption(values, 'fail-status', 300),
      rateLimitRate: numberOption(values, 'rate-limit-rate', 0, 1),
      retryAfterSeconds: intOption(values, 'retry-after', 0),
      timeoutRate: numberOption(values, 'timeout-rate', 0, 1),
    }),
  };
}

/** A captured request: its fields, then its headers as they came, then its body. */
function printRequest(run: ApiRun, answer: { raw: Buffer; body: unknown }): void {
  if (run.json) return printObject(run, answer);
  const { headers, body, bodyBase64, ...fields } = answer.body as BinRequestOut;
  const lines = [details(fields, run.out, answer.raw), paint(run.out, 'bold', 'headers')];
  for (const header of headers) lines.push(`  ${printable(header.name)}: ${header.masked ? paint(run.out, 'dim', '(masked; --reveal shows it)') : printable(header.value ?? '')}`);
  lines.push(paint(run.out, 'bold', 'body'));
  if (body !== null) lines.push(printable(body, false).replace(/^/gm, '  '));
  else if (bodyBase64) lines.push(`  ${paint(run.out, 'dim', '(not UTF-8; base64:)')} ${bodyBase64}`);
  run.io.stdout.write(`${lines.join('\n')}\n`);
}

const binPath = (run: ApiRun) => `${BASE}/${segment(run.args[0]!)}`;

export const bin: Command = {
  name: 'bin',
  summary: 'request bins: URLs that keep every request they get, and answer as told',
  commands: [
    apiCommand({
      name: 'create',
      summary: 'create a bin, and print its URL',
      options: ANSWER_OPTIONS,
      examples: ['herald bin create --name stripe-test', 'herald bin create --status 503 --fail-rate 0.5 --fail-status 500'],
      async run(run) {
        const body = binBody(run.values);
        printObject(run, await run.client.call('POST', BASE, { body: Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) }));
      },
    }),
    apiCommand({
      name: 'list',
      summary: 'list bins, oldest first',
      options: LIST_OPTIONS,
      run: (run) => printList(run, BASE, {}, BIN_COLUMNS, { one: 'bin', many: 'bins' }),
    }),
    apiCommand({
      name: 'get',
      summary: 'show a bin',
      args: [BIN_ARG],
      run: async (run) => printObject(run, await run.client.get(binPath(run))),
    }),
    apiCommand({
      name: 'update',
      summary: 'change how a bin answers, leaving what is not given',
      args: [BIN_ARG],
      options: ANSWER_OPTIONS,
      async run(run) {
        const body = binBody(run.values);
        somethingToChange(body, Object.keys(ANSWER_OPTIONS));
        printObject(run, await run.client.call('PATCH', binPath(run), { body: Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) }));
      },
    }),
    apiCommand({
      name: 'delete',
      summary: 'delete a bin and its requests',
      args: [BIN_ARG],
      async run(run) {
        const answer = await run.client.call('DELETE', binPath(run));
        printDone(run, `Deleted bin ${run.args[0]}.`, answer);
      },
    }),
    apiCommand({
      name: 'rotate-token',
      summary: 'give a bin a new URL; the old one stops capturing at once',
      args: [BIN_ARG],
      async run(run) {
        const answer = await run.client.call<{ url: string }>('POST', `${binPath(run)}/token/rotate`);
        if (run.json) printObject(run, answer);
        else run.io.stdout.write(`${answer.body.url}\n`);
      },
    }),
    apiCommand({
      name: 'requests',
      summary: "list a bin's captured requests, newest first",
      args: [BIN_ARG],
      options: { ...LIST_OPTIONS, ...REVEAL },
      examples: ['herald bin requests bin_… --limit 10'],
      run: (run) => printList(run, `${binPath(run)}/request`, { reveal: run.values.reveal === true || undefined, with_content: run.json ? undefined : false }, REQUEST_COLUMNS, { one: 'request', many: 'requests' }),
    }),
    {
      name: 'request',
      summary: 'show or delete one captured request',
      commands: [
        apiCommand({
          name: 'get',
          summary: 'show a captured request: its headers as they came, and its body',
          args: [BIN_ARG, REQUEST_ARG],
          options: REVEAL,
          async run(run) {
            let id = run.args[1]!;
            if (id === 'latest') {
              const newest = await run.client.get<{ data: Array<{ id: string }> }>(`${binPath(run)}/request`, { limit: 1 });
              const first = newest.body.data[0];
              if (!first) throw new UsageError(`Bin ${run.args[0]} has captured no request yet.`);
              id = first.id;
            }
            printRequest(run, await run.client.get(`${binPath(run)}/request/${segment(id)}`, { reveal: run.values.reveal === true || undefined }));
          },
        }),
        apiCommand({
          name: 'delete',
          summary: 'delete a captured request',
          args: [BIN_ARG, REQUEST_ARG],
          async run(run) {
            const answer = await run.client.call('DELETE', `${binPath(run)}/request/${segment(run.args[1]!)}`);
            printDone(run, `Deleted request ${run.args[1]}.`, answer);
          },
        }),
      ],
    },
  ],
};
