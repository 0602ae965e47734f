import { segment } from '../api-client.ts';
import { apiCommand, defined, headersOption, intOption, LIST_OPTIONS, listOption, pairsOption, printDone, printList, printObject, somethingToChange, timeOption } from '../api-command.ts';
import { type Command, UsageError } from '../command.ts';
import { type Column, paint, when } from '../output.ts';
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
    apiCommand({
      name: 'recover',
      summary: 'send again, once each, the failed deliveries of messages created since a time',
      args: [OWNER_ARG, ENDPOINT_ARG],
      options: {
        since: { type: 'string', value: 'time', describe: 'a date-time, or a duration ago (2h, 7d); required' },
        until: { type: 'string', value: 'time', describe: 'a date-time, or a duration ago (default now)' },
        ...SOURCE_OPTION,
      },
      examples: ['herald endpoint recover acme main --since 6h', 'herald endpoint recover acme main --since 2025-06-01T00:00:00Z --until 2025-06-02T00:00:00Z'],
      async run(run) {
        const since = timeOption(run.values, 'since');
        if (!since) throw new UsageError('Missing --since: the time to recover failed deliveries from.');
        const answer = await run.client.call<{ recovered?: number }>('POST', `${endpointPath(run)}/recover`, { body: defined({ since, until: timeOption(run.values, 'until') }) });
        const count = answer.body.recovered;
        printDone(run, count === undefined ? `Recovering failed deliveries since ${since}.` : `Recovering ${count} failed ${count === 1 ? 'delivery' : 'deliveries'} since ${since}.`, answer);
      },
    }),
  ],
};
