import { segment } from '../api-client.ts';
import { apiCommand, defined, headersOption, intOption, LIST_OPTIONS, listOption, pairsOption, printDone, printList, printObject, somethingToChange, timeOption } from '../api-command.ts';
import { type Command, UsageError } from '../command.ts';
import { type Column, paint, Progress, when } from '../output.ts';
import { OWNER_ARG, ownerPath, SOURCE_OPTION } from './owner.ts';

interface EndpointOut {
  id: string;
  uid: string | null;
  url: string;
  eventTypes: string[] | null;
  channels: string[] | null;
  disabled: boolean;
  createdAt: string;
}

const ENDPOINT_ARG = { name: 'endpoint', describe: 'endpoint id or uid' } as const;
const KEY_TYPES = ['hmac', 'ed25519'] as const;

const COLUMNS: Column<EndpointOut>[] = [
  { header: 'ID', cell: (e) => e.id, keep: true },
  { header: 'UID', cell: (e) => e.uid },
  { header: 'URL', cell: (e) => e.url },
  { header: 'EVENT TYPES', cell: (e) => (e.eventTypes?.length ? e.eventTypes.join(',') : 'all') },
  { header: 'CHANNELS', cell: (e) => (e.channels?.length ? e.channels.join(',') : 'all') },
  { header: 'STATE', cell: (e) => (e.disabled ? 'disabled' : 'enabled'), tone: (e) => (e.disabled ? 'warn' : 'good') },
  { header: 'CREATED', cell: (e) => when(e.createdAt) },
];

const FIELDS = {
  uid: { type: 'string', describe: 'your own id for it, usable wherever its id is' },
  description: { type: 'string', describe: 'what it is for' },
  'event-type': { type: 'string', multiple: true, value: 'name', describe: 'send only these event types (repeat, or a,b); all when none' },
  channel: { type: 'string', multiple: true, value: 'name', describe: 'send only messages on these channels (repeat, or a,b)' },
  metadata: { type: 'string', multiple: true, value: 'key=value', describe: 'a metadata entry (repeat for more)' },
  'throttle-rate': { type: 'string', value: 'per-second', describe: 'at most this many requests a second' },
} as const;

const endpointPath = (run: Parameters<typeof ownerPath>[0]) => `${ownerPath(run)}/endpoint/${segment(run.args[1]!)}`;

interface TaskOut {
  id: string;
  status: 'running' | 'finished' | 'failed';
  task: string;
  data?: { examined: number; matched: number; queued: number; done: number; canceled?: boolean; error?: string };
}

const REPLAY_OPTIONS = {
  since: { type: 'string', value: 'time', describe: 'a date-time, or a duration ago (2h, 7d); required' },
  until: { type: 'string', value: 'time', describe: 'a date-time, or a duration ago (default now)' },
  'dry-run': { type: 'boolean', describe: 'count what would be sent, and send nothing' },
  pace: { type: 'string', value: 'per-second', describe: 'queue at most this many a second, so the endpoint is not flooded' },
  'no-wait': { type: 'boolean', describe: 'print the background task and return at once' },
} as const;

/**
 * recover, replay-missing and bulk-replay start a background task on the server; the command
 * follows it (with a progress bar on a terminal) until it ends, unless `--no-wait`. Following
 * needs an admin token, as the background-task routes do; with another it stops at the start.
 */
function replayCommand(name: string, summary: string, what: string, extra: Record<string, { type: 'string' | 'boolean'; value?: string; multiple?: boolean; describe: string }> = {}): Command {
  return apiCommand({
    name,
    summary,
    args: [OWNER_ARG, ENDPOINT_ARG],
    options: { ...REPLAY_OPTIONS, ...extra, ...SOURCE_OPTION },
    examples: [`herald endpoint ${name} acme main --since 6h`, `herald endpoint ${name} acme main --since 2025-06-01T00:00:00Z --until 2025-06-02T00:00:00Z --pace 20`],
    async run(run) {
      const since = timeOption(run.values, 'since');
      if (!since) throw new UsageError(`Missing --since: the time to replay ${what} from.`);
      const status = run.values.status;
      if (status !== undefined && status !== 'success' && status !== 'fail') throw new UsageError(`--status must be success or fail; got ${JSON.stringify(status)}.`);
      const pace = run.values.pace;
      if (pace !== undefined && !(Number(pace) > 0)) throw new UsageError(`--pace must be a positive number; got ${JSON.stringify(pace)}.`);
      const body = defined({
        since,
        until: timeOption(run.values, 'until'),
        dryRun: run.values['dry-run'] === true ? true : undefined,
        pace: pace === undefined ? undefined : Number(pace),
        status: status === undefined ? undefined : status === 'success' ? 0 : 2,
        eventTypes: listOption(run.values, 'event-type'),
        channel: run.values.channel,
      });
      const started = await run.client.call<TaskOut>('POST', `${endpointPath(run)}/${name}`, { body });
      if (run.values['no-wait']) return printDone(run, `Started background task ${started.body.id}.`, started);
      const progress = new Progress(run.io.stderr, run.err, `${name} (messages looked at)`, null);
      let task = started;
      let seen = 0;
      while (task.body.status === 'running') {
        await new Promise((resolve) => setTimeout(resolve, 250));
        task = await run.client.call<TaskOut>('GET', `/api/v1/background-task/${segment(task.body.id)}`);
        const examined = task.body.data?.examined ?? 0;
        progress.advance(examined - seen);
        seen = examined;
      }
      progress.finish();
      const data = task.body.data!;
      const verb = run.values['dry-run'] ? 'Would send' : 'Queued';
      const text = data.canceled ? `Canceled after queueing ${data.queued} of ${data.matched} ${what}.`
        : data.error ? `Stopped: ${data.error}`
        : `${verb} ${run.values['dry-run'] ? data.matched : data.queued} ${what} (of ${data.examined} messages since ${since}).`;
      printDone(run, text, task);
      if (task.body.status === 'failed') process.exitCode = 1;
    },
  });
}

export const endpoint: Command = {
  name: 'endpoint',
  summary: "list, show, create, change and delete an application's endpoints; their secrets; recover",
  commands: [
    apiCommand({
      name: 'list',
      summary: "list an application's endpoints, oldest first",
      args: [OWNER_ARG],
      options: { ...LIST_OPTIONS, ...SOURCE_OPTION },
      run: (run) => printList(run, `${ownerPath(run)}/endpoint`, {}, COLUMNS, { one: 'endpoint', many: 'endpoints' }),
    }),
    apiCommand({
      name: 'get',
      summary: 'show an endpoint',
      args: [OWNER_ARG, ENDPOINT_ARG],
      options: SOURCE_OPTION,
      run: async (run) => printObject(run, await run.client.get(endpointPath(run))),
    }),
    apiCommand({
      name: 'create',
      summary: 'add an endpoint: a URL the application’s messages are sent to',
      args: [OWNER_ARG, { name: 'url', describe: 'where to send its messages' }],
      options: {
        ...FIELDS,
        disabled: { type: 'boolean', describe: 'create it disabled' },
        secret: { type: 'string', describe: 'its signing secret (whsec_…); generated when not given' },
        'key-type': { type: 'string', choices: KEY_TYPES, describe: 'the kind of secret to generate (Herald: ed25519 signs v1a)' },
        header: { type: 'string', multiple: true, value: 'Name: value', describe: 'a custom header sent with every request (repeat for more)' },
        ...SOURCE_OPTION,
      },
      examples: ['herald endpoint create acme https://example.test/webhooks --uid main --event-type invoice.paid'],
      async run(run) {
        const body = defined({
          url: run.args[1],
          uid: run.values.uid as string | undefined,
          description: run.values.description as string | undefined,
          eventTypes: listOption(run.values, 'event-type'),
          channels: listOption(run.values, 'channel'),
          disabled: run.values.disabled === true ? true : undefined,
          metadata: pairsOption(run.values, 'metadata'),
          throttleRate: intOption(run.values, 'throttle-rate', 1),
          secret: run.values.secret as string | undefined,
          keyType: run.values['key-type'] as string | undefined,
          headers: headersOption(run.values, 'header'),
        });
        printObject(run, await run.client.call('POST', `${ownerPath(run)}/endpoint`, { body }));
      },
    }),
    apiCommand({
      name: 'update',
      summary: 'change the fields given, leaving the others',
      args: [OWNER_ARG, ENDPOINT_ARG, { name: 'url', describe: 'a new URL', optional: true }],
      options: {
        ...FIELDS,
        disable: { type: 'boolean', describe: 'stop sending to it' },
        enable: { type: 'boolean', describe: 'send to it again' },
        ...SOURCE_OPTION,
      },
      examples: ['herald endpoint update acme main --event-type invoice.paid,invoice.voided', 'herald endpoint update acme main --disable'],
      async run(run) {
        if (run.values.disable && run.values.enable) throw new UsageError('--disable and --enable contradict each other.');
        const body = {
          url: run.args[2],
          uid: run.values.uid as string | undefined,
          description: run.values.description as string | undefined,
          eventTypes: listOption(run.values, 'event-type'),
          channels: listOption(run.values, 'channel'),
          disabled: run.values.disable ? true : run.values.enable ? false : undefined,
          metadata: pairsOption(run.values, 'metadata'),
          throttleRate: intOption(run.values, 'throttle-rate', 1),
        };
        somethingToChange(body, ['uid', 'description', 'event-type', 'channel', 'disable', 'enable', 'metadata', 'throttle-rate', 'or a url']);
        printObject(run, await run.client.call('PATCH', endpointPath(run), { body: defined(body) }));
      },
    }),
    apiCommand({
      name: 'delete',
      summary: 'delete an endpoint: nothing more is sent to it',
      args: [OWNER_ARG, ENDPOINT_ARG],
      options: SOURCE_OPTION,
      async run(run) {
        const answer = await run.client.call('DELETE', endpointPath(run));
        printDone(run, `Deleted endpoint ${run.args[1]}.`, answer);
      },
    }),
    apiCommand({
      name: 'secret',
      summary: "print an endpoint's signing secret, or rotate it first",
      description: 'With --rotate, a new secret signs from now on, and the old one beside it for the grace period (24 hours unless told), so receivers can roll over.',
      args: [OWNER_ARG, ENDPOINT_ARG],
      options: {
        rotate: { type: 'boolean', describe: 'replace it with a new one, then print the new one' },
        key: { type: 'string', describe: 'with --rotate: the new secret (whsec_…); generated when not given' },
        'key-type': { type: 'string', choices: KEY_TYPES, describe: 'with --rotate: the kind of secret to generate' },
        'grace-period': { type: 'string', value: 'seconds', describe: 'with --rotate: how long the old secret keeps signing (default 86400)' },
        ...SOURCE_OPTION,
      },
      examples: ['SECRET=$(herald endpoint secret acme main)', 'herald endpoint secret acme main --rotate --grace-period 3600'],
      async run(run) {
        const rotation = defined({
          key: run.values.key as string | undefined,
          keyType: run.values['key-type'] as string | undefined,
          gracePeriodSeconds: intOption(run.values, 'grace-period', 0),
        });
        if (!run.values.rotate && Object.keys(rotation).length > 0) throw new UsageError('--key, --key-type and --grace-period go with --rotate.');
        if (run.values.rotate) await run.client.call('POST', `${endpointPath(run)}/secret/rotate`, { body: rotation });
        const answer = await run.client.get<{ key: string }>(`${endpointPath(run)}/secret`);
        if (run.json) printObject(run, answer);
        else run.io.stdout.write(`${answer.body.key}\n`);
        if (run.values.rotate && !run.json) {
          const grace = rotation.gracePeriodSeconds ?? 86_400;
          run.io.stderr.write(`${paint(run.err, 'dim', grace > 0 ? `Rotated: the old secret also signs for ${grace} more seconds.` : 'Rotated: the old secret no longer signs.')}\n`);
        }
      },
    }),
    replayCommand('recover', 'send again, once each, the failed deliveries of messages created since a time', 'failed deliveries'),
    replayCommand('replay-missing', 'send the messages created since a time that this endpoint never got (it was disabled, or created later)', 'missing messages'),
    replayCommand('bulk-replay', 'send again, once each, the messages this endpoint got since a time, filtered by status, event type or channel', 'messages', {
      status: { type: 'string', value: 'success|fail', describe: 'only deliveries that ended so' },
      'event-type': { type: 'string', multiple: true, value: 'name', describe: 'only these event types (repeat, or a,b)' },
      channel: { type: 'string', value: 'name', describe: 'only messages on this channel' },
    }),
  ],
};
