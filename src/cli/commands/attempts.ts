import { segment } from '../api-client.ts';
import { apiCommand, LIST_OPTIONS, printDone, printList, printObject } from '../api-command.ts';
import { type Command, UsageError } from '../command.ts';
import { type Column, type Tone, when } from '../output.ts';
import { OWNER_ARG, ownerPath, SOURCE_OPTION } from './owner.ts';

interface AttemptOut {
  id: string;
  msgId: string;
  endpointId: string;
  status: number;
  statusText?: string;
  responseStatusCode: number;
  responseDurationMs?: number;
  triggerType: number;
  failureReason?: string | null;
  timestamp: string;
}

/** Svix's MessageStatus numbers. */
const STATUSES = ['success', 'pending', 'fail', 'sending'] as const;
const TONE: Record<string, Tone> = { success: 'good', fail: 'bad', pending: 'warn', sending: 'warn' };
const statusOf = (a: AttemptOut) => a.statusText ?? STATUSES[a.status] ?? String(a.status);

const COLUMNS: Column<AttemptOut>[] = [
  { header: 'ID', cell: (a) => a.id, keep: true },
  { header: 'MESSAGE', cell: (a) => a.msgId, keep: true },
  { header: 'ENDPOINT', cell: (a) => a.endpointId, keep: true },
  { header: 'STATUS', cell: statusOf, tone: (a) => TONE[statusOf(a)] },
  { header: 'CODE', cell: (a) => (a.responseStatusCode ? String(a.responseStatusCode) : (a.failureReason ?? null)), tone: (a) => (a.responseStatusCode >= 200 && a.responseStatusCode < 300 ? 'good' : 'bad') },
  { header: 'TIME', cell: (a) => (a.responseDurationMs === undefined ? null : `${a.responseDurationMs}ms`) },
  { header: 'TRIGGER', cell: (a) => (a.triggerType === 1 ? 'manual' : 'scheduled') },
  { header: 'WHEN', cell: (a) => when(a.timestamp) },
];

const MESSAGE_ARG = { name: 'message', describe: 'message id, or the eventId it was sent with' } as const;

export const attempt: Command = {
  name: 'attempt',
  summary: "list and show delivery attempts; resend a message to an endpoint",
  commands: [
    apiCommand({
      name: 'list',
      summary: "list the attempts of a message, or to an endpoint, newest first",
      args: [OWNER_ARG],
      options: {
        msg: { type: 'string', value: 'message', describe: "this message's attempts (with --endpoint: only to that endpoint)" },
        endpoint: { type: 'string', describe: "the attempts to this endpoint" },
        status: { type: 'string', choices: STATUSES, describe: 'only attempts that ended so' },
        ...LIST_OPTIONS,
        ...SOURCE_OPTION,
      },
      examples: ['herald attempt list acme --msg inv_1', 'herald attempt list acme --endpoint main --status fail --all'],
      run(run) {
        const msg = run.values.msg as string | undefined;
        const endpoint = run.values.endpoint as string | undefined;
        if (!msg && !endpoint) throw new UsageError('Say whose attempts: --msg <message> or --endpoint <endpoint>.');
        const status = run.values.status === undefined ? undefined : STATUSES.indexOf(run.values.status as (typeof STATUSES)[number]);
        const path = msg ? `${ownerPath(run)}/attempt/msg/${segment(msg)}` : `${ownerPath(run)}/attempt/endpoint/${segment(endpoint!)}`;
        // The message, or the endpoint, the list is of is the same on every line.
        const columns = COLUMNS.filter((column) => !(msg && column.header === 'MESSAGE') && !(endpoint && column.header === 'ENDPOINT'));
        return printList(run, path, { status, endpoint_id: msg ? endpoint : undefined, with_content: run.json ? undefined : false }, columns, { one: 'attempt', many: 'attempts' });
      },
    }),
    apiCommand({
      name: 'get',
      summary: 'show an attempt, with what the endpoint answered',
      args: [OWNER_ARG, MESSAGE_ARG, { name: 'attempt', describe: 'attempt id' }],
      options: SOURCE_OPTION,
      run: async (run) => printObject(run, await run.client.get(`${ownerPath(run)}/msg/${segment(run.args[1]!)}/attempt/${segment(run.args[2]!)}`)),
    }),
    apiCommand({
      name: 'resend',
      summary: 'send a message to an endpoint again now, once (not retried if it fails)',
      args: [OWNER_ARG, MESSAGE_ARG, { name: 'endpoint', describe: 'endpoint id or uid' }],
      options: SOURCE_OPTION,
      examples: ['herald attempt resend acme inv_1 main'],
      async run(run) {
        const [, msg, endpoint] = run.args as [string, string, string];
        const answer = await run.client.call('POST', `${ownerPath(run)}/msg/${segment(msg)}/endpoint/${segment(endpoint)}/resend`);
        printDone(run, `Resending ${msg} to ${endpoint}.`, answer);
      },
    }),
  ],
};
