import { segment } from '../api-client.ts';
import { apiCommand, defined, intOption, LIST_OPTIONS, pairsOption, printDone, printList, printObject, somethingToChange } from '../api-command.ts';
import type { Command } from '../command.ts';
import type { Column } from '../output.ts';
import { when } from '../output.ts';

interface ApplicationOut {
  id: string;
  uid: string | null;
  name: string;
  throttleRate: number | null;
  createdAt: string;
}

export const APP_ARG = { name: 'app', describe: 'application id or uid' } as const;

const COLUMNS: Column<ApplicationOut>[] = [
  { header: 'ID', cell: (a) => a.id, keep: true },
  { header: 'UID', cell: (a) => a.uid },
  { header: 'NAME', cell: (a) => a.name },
  { header: 'CREATED', cell: (a) => when(a.createdAt) },
];

const FIELDS = {
  uid: { type: 'string', describe: 'your own id for it, usable wherever its id is' },
  metadata: { type: 'string', multiple: true, value: 'key=value', describe: 'a metadata entry (repeat for more)' },
  'throttle-rate': { type: 'string', value: 'per-second', describe: 'at most this many messages a second to each endpoint' },
} as const;

const path = (app: string) => `/api/v1/app/${segment(app)}`;

export const app: Command = {
  name: 'app',
  summary: 'list, show, create, change and delete applications',
  commands: [
    apiCommand({
      name: 'list',
      summary: 'list applications, oldest first',
      options: LIST_OPTIONS,
      examples: ['herald app list', 'herald app list --all --json'],
      run: (run) => printList(run, '/api/v1/app', {}, COLUMNS, { one: 'application', many: 'applications' }),
    }),
    apiCommand({
      name: 'get',
      summary: 'show an application',
      args: [APP_ARG],
      run: async (run) => printObject(run, await run.client.get(path(run.args[0]!))),
    }),
    apiCommand({
      name: 'create',
      summary: 'create an application',
      args: [{ name: 'name', describe: 'its name, as people see it' }],
      options: FIELDS,
      examples: ['herald app create Acme --uid acme --metadata plan=pro'],
      async run(run) {
        const body = defined({
          name: run.args[0],
          uid: run.values.uid as string | undefined,
          metadata: pairsOption(run.values, 'metadata'),
          throttleRate: intOption(run.values, 'throttle-rate', 1),
        });
        printObject(run, await run.client.call('POST', '/api/v1/app', { body }));
      },
    }),
    apiCommand({
      name: 'update',
      summary: 'change the fields given, leaving the others',
      args: [APP_ARG],
      options: { name: { type: 'string', describe: 'a new name' }, ...FIELDS },
      examples: ['herald app update acme --name "Acme Inc."'],
      async run(run) {
        const body = {
          name: run.values.name as string | undefined,
          uid: run.values.uid as string | undefined,
          metadata: pairsOption(run.values, 'metadata'),
          throttleRate: intOption(run.values, 'throttle-rate', 1),
        };
        somethingToChange(body, ['name', 'uid', 'metadata', 'throttle-rate']);
        printObject(run, await run.client.call('PATCH', path(run.args[0]!), { body: defined(body) }));
      },
    }),
    apiCommand({
      name: 'delete',
      summary: 'delete an application with its endpoints and messages',
      args: [APP_ARG],
      async run(run) {
        const answer = await run.client.call('DELETE', path(run.args[0]!));
        printDone(run, `Deleted application ${run.args[0]}.`, answer);
      },
    }),
  ],
};
