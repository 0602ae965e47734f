import { segment } from '../api-client.ts';
import { apiCommand, defined, intOption, jsonOption, LIST_OPTIONS, listOption, printList, printObject, timeOption } from '../api-command.ts';
import { type Command, UsageError } from '../command.ts';
import { type Column, paint, Progress, when } from '../output.ts';
import { OWNER_ARG, ownerPath, SOURCE_OPTION } from './owner.ts';

interface MessageOut {
  id: string;
  eventType: string;
  eventId: string | null;
  channels: string[] | null;
  timestamp: string;
}

const COLUMNS: Column<MessageOut>[] = [
  { header: 'ID', cell: (m) => m.id, keep: true },
  { header: 'EVENT TYPE', cell: (m) => m.eventType },
  { header: 'EVENT ID', cell: (m) => m.eventId },
  { header: 'CHANNELS', cell: (m) => m.channels?.join(',') },
  { header: 'CREATED', cell: (m) => when(m.timestamp) },
];

const DEFAULT_CONCURRENCY = 10;

export const message: Command = {
  name: 'message',
  summary: "send messages; list and show an application's messages",
  commands: [
    apiCommand({
      name: 'list',
      summary: "list an application's messages, newest first",
      args: [OWNER_ARG],
      options: {
        ...LIST_OPTIONS,
        'event-type': { type: 'string', multiple: true, value: 'name', describe: 'only these event types (repeat, or a,b)' },
        channel: { type: 'string', describe: 'only messages on this channel' },
        after: { type: 'string', value: 'time', describe: 'only messages created after: a date-time or a duration ago (1h)' },
        before: { type: 'string', value: 'time', describe: 'only messages created before: a date-time or a duration ago' },
        ...SOURCE_OPTION,
      },
      examples: ['herald message list acme --event-type invoice.paid --after 1h'],
      run: (run) => printList(run, `${ownerPath(run)}/msg`, {
        event_types: listOption(run.values, 'event-type'),
        channel: run.values.channel as string | undefined,
        after: timeOption(run.values, 'after'),
        before: timeOption(run.values, 'before'),
        // A table shows no payloads: leave them on the server.
        with_content: run.json ? undefined : false,
      }, COLUMNS, { one: 'message', many: 'messages' }),
    }),
    apiCommand({
      name: 'events',
      summary: "the application's messages after a cursor, oldest first (for reconciliation)",
      args: [{ name: 'app', describe: 'application id or uid' }],
      options: {
        ...LIST_OPTIONS,
        'event-type': { type: 'string', multiple: true, value: 'name', describe: 'only these event types (repeat, or a,b)' },
        channel: { type: 'string', multiple: true, value: 'name', describe: 'only messages on any of these channels (repeat, or a,b)' },
        after: { type: 'string', value: 'time', describe: 'only messages created after: a date-time or a duration ago (1h)' },
      },
      examples: ['herald message events acme --after 1h --all --json', 'herald message events acme --iterator msg_…'],
      run: (run) => printList(run, `/api/v1/app/${segment(run.args[0]!)}/events`, {
        event_types: listOption(run.values, 'event-type'),
        channels: listOption(run.values, 'channel'),
        after: timeOption(run.values, 'after'),
      }, COLUMNS, { one: 'message', many: 'messages' }),
    }),
    apiCommand({
      name: 'get',
      summary: 'show a message and its payload',
      args: [OWNER_ARG, { name: 'message', describe: 'message id, or the eventId it was sent with' }],
      options: SOURCE_OPTION,
      run: async (run) => printObject(run, await run.client.get(`${ownerPath(run)}/msg/${segment(run.args[1]!)}`)),
    }),
    apiCommand({
      name: 'send',
      summary: "send a message to an application's endpoints",
      description: [
        'The payload is sent as written (its numbers, escapes and spacing are what the endpoints get).',
        'With --count, the same message is sent that many times (to load-test an endpoint), a few at a time, with a progress bar on a terminal;',
        'the first error stops it.',
      ].join('\n'),
      args: [{ name: 'app', describe: 'application id or uid' }, { name: 'event-type', describe: 'its event type, e.g. invoice.paid' }],
      options: {
        data: { type: 'string', short: 'd', value: 'json|@file|-', describe: 'the payload, a JSON object: inline, from a file, or from stdin (default {})' },
        'event-id': { type: 'string', describe: 'your id for it: sending the same eventId again is refused (409)' },
        channel: { type: 'string', multiple: true, value: 'name', describe: 'a channel it is on (repeat, or a,b; at most 5)' },
        'ordering-key': { type: 'string', value: 'key', describe: 'deliver it after every earlier message with this key, to each endpoint (Herald\'s orderingKey)' },
        count: { type: 'string', value: 'n', describe: 'send it n times (default 1)' },
        concurrency: { type: 'string', value: 'n', describe: `with --count: at most n requests at once (default ${DEFAULT_CONCURRENCY})` },
      },
      examples: [
        `herald message send acme invoice.paid --data '{"invoice":"inv_1","amount":4200}' --event-id inv_1`,
        'herald message send acme invoice.paid --data @invoice.json',
        'herald message send acme order.updated --data @order.json --ordering-key order_42',
        'herald message send acme load.test --count 10000 --concurrency 50',
      ],
      async run(run) {
        const [app, eventType] = run.args as [string, string];
        const payload = (await jsonOption(run.values, 'data')) ?? { text: '{}', value: {} };
        if (typeof payload.value !== 'object' || payload.value === null || Array.isArray(payload.value)) throw new UsageError('--data must be a JSON object: a message payload is one.');
        const count = intOption(run.values, 'count', 1) ?? 1;
        const concurrency = intOption(run.values, 'concurrency', 1) ?? DEFAULT_CONCURRENCY;
        const eventId = run.values['event-id'] as string | undefined;
        if (count > 1 && eventId) throw new UsageError('--event-id names one message: it cannot go with --count.');
        // The payload goes into the body as its own text, not parsed and written again.
        const orderingKey = run.values['ordering-key'] as string | undefined;
        const head = JSON.stringify(defined({ eventType, eventId, channels: listOption(run.values, 'channel'), orderingKey }));
        const body = `${head.slice(0, -1)},"payload":${payload.text}}`;
        const path = `/api/v1/app/${segment(app)}/msg`;

        const sent: Array<{ raw: Buffer; body: unknown }> = [];
        const progress = count > 1 ? new Progress(run.io.stderr, run.err, 'sending', count) : null;
        const started = Date.now();
        let next = 0;
        let failure: unknown;
        const worker = async () => {
          while (failure === undefined && next < count) {
            next++;
            try {
              sent.push(await run.client.call('POST', path, { body }));
              progress?.advance();
            } catch (error) {
              failure ??= error;
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
        progress?.finish();

        if (count === 1 && failure === undefined) printObject(run, sent[0]!);
        else if (run.json) run.io.stdout.write(`[${sent.map((answer) => answer.raw.toString('utf8')).join(',')}]\n`);
        if (failure !== undefined) {
          if (count > 1) run.io.stderr.write(`Stopped after ${sent.length} of ${count} messages were sent.\n`);
          throw failure;
        }
        if (count > 1 && !run.json) {
          const seconds = (Date.now() - started) / 1000;
          run.io.stdout.write(`Sent ${count} messages to ${app} in ${seconds.toFixed(1)}s ${paint(run.out, 'dim', `(${Math.round(count / Math.max(seconds, 0.001))} a second)`)}.\n`);
        }
      },
    }),
  ],
};
