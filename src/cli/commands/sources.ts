import { segment } from '../api-client.ts';
import { apiCommand, defined, LIST_OPTIONS, objectOption, pairsOption, printDone, printList, printObject, somethingToChange } from '../api-command.ts';
import { type Command, UsageError, type Values } from '../command.ts';
import { type Column, when } from '../output.ts';

interface SourceOut {
  id: string;
  uid: string | null;
  name: string;
  type: string;
  config: Record<string, unknown> | null;
  ingestUrl: string;
  metadata: Record<string, string>;
  createdAt: string;
}

const SOURCE_ARG = { name: 'source', describe: 'source id or uid' } as const;
const BASE = '/ingest/api/v1/source';

const COLUMNS: Column<SourceOut>[] = [
  { header: 'ID', cell: (s) => s.id, keep: true },
  { header: 'UID', cell: (s) => s.uid },
  { header: 'NAME', cell: (s) => s.name },
  { header: 'TYPE', cell: (s) => s.type },
  { header: 'INGEST URL', cell: (s) => s.ingestUrl },
  { header: 'CREATED', cell: (s) => when(s.createdAt) },
];

const FIELDS = {
  uid: { type: 'string', describe: 'your own id for it, usable wherever its id is' },
  secret: { type: 'string', describe: "the provider's signing secret (sets config.secret)" },
  config: { type: 'string', value: 'json|@file|-', describe: "the type's settings, a JSON object (for hmac: header, algorithm, …)" },
  metadata: { type: 'string', multiple: true, value: 'key=value', describe: 'a metadata entry (repeat for more)' },
} as const;

/** `--config` with `--secret` laid over it. */
async function configOf(values: Values): Promise<Record<string, unknown> | undefined> {
  const config = await objectOption(values, 'config');
  const secret = values.secret as string | undefined;
  return secret === undefined ? config : { ...config, secret };
}

export const source: Command = {
  name: 'source',
  summary: 'list, show, create, change and delete sources (URLs that receive webhooks); rotate their URL',
  description: "A source's endpoints, received requests and forwarding attempts are under herald endpoint, message and attempt with --source.",
  commands: [
    apiCommand({
      name: 'list',
      summary: 'list sources, oldest first',
      options: LIST_OPTIONS,
      run: (run) => printList(run, BASE, {}, COLUMNS, { one: 'source', many: 'sources' }),
    }),
    apiCommand({
      name: 'get',
      summary: 'show a source (its secret is never shown)',
      args: [SOURCE_ARG],
      run: async (run) => printObject(run, await run.client.get(`${BASE}/${segment(run.args[0]!)}`)),
    }),
    apiCommand({
      name: 'create',
      summary: 'create a source, and print the URL to give the provider',
      args: [{ name: 'name', describe: 'its name, as people see it' }],
      options: { type: { type: 'string', describe: 'which provider signs its requests: stripe, github, svix, hmac, … (required)' }, ...FIELDS },
      examples: ['herald source create Stripe --type stripe --secret whsec_…', `herald source create Partner --type hmac --config '{"secret":"s3cret","header":"X-Signature"}'`],
      async run(run) {
        if (typeof run.values.type !== 'string') throw new UsageError('Missing --type: which provider signs its requests (stripe, github, svix, hmac, generic-webhook, …).');
        const body = defined({
          name: run.args[0],
          uid: run.values.uid as string | undefined,
          type: run.values.type,
          config: await configOf(run.values),
          metadata: pairsOption(run.values, 'metadata'),
        });
        printObject(run, await run.client.call('POST', BASE, { body }));
      },
    }),
    apiCommand({
      name: 'update',
      summary: 'change the fields given, leaving the others (the secret stays unless given)',
      args: [SOURCE_ARG],
      options: { name: { type: 'string', describe: 'a new name' }, type: { type: 'string', describe: 'another provider (give its --secret too)' }, ...FIELDS },
      async run(run) {
        const changes = {
          name: run.values.name as string | undefined,
          uid: run.values.uid as string | undefined,
          type: run.values.type as string | undefined,
          config: await configOf(run.values),
          metadata: pairsOption(run.values, 'metadata'),
        };
        somethingToChange(changes, ['name', 'uid', 'type', 'secret', 'config', 'metadata']);
        // The API replaces a source whole (PUT): what is not changed is sent as it is. Its shown
        // config has no secret, which the API then keeps.
        const path = `${BASE}/${segment(run.args[0]!)}`;
        const current = (await run.client.get<SourceOut>(path)).body;
        const typeChanged = changes.type !== undefined && changes.type !== current.type;
        const body = {
          name: changes.name ?? current.name,
          uid: changes.uid ?? current.uid,
          type: changes.type ?? current.type,
          config: { ...(typeChanged ? {} : current.config), ...changes.config },
          metadata: changes.metadata ?? current.metadata,
        };
        printObject(run, await run.client.call('PUT', path, { body }));
      },
    }),
    apiCommand({
      name: 'delete',
      summary: 'delete a source: its URL stops taking requests',
      args: [SOURCE_ARG],
      async run(run) {
        const answer = await run.client.call('DELETE', `${BASE}/${segment(run.args[0]!)}`);
        printDone(run, `Deleted source ${run.args[0]}.`, answer);
      },
    }),
    apiCommand({
      name: 'rotate-token',
      summary: 'give a source a new URL; the old one stops working at once',
      args: [SOURCE_ARG],
      async run(run) {
        const answer = await run.client.call<{ ingestUrl: string }>('POST', `${BASE}/${segment(run.args[0]!)}/token/rotate`);
        if (run.json) printObject(run, answer);
        else run.io.stdout.write(`${answer.body.ingestUrl}\n`);
      },
    }),
  ],
};
