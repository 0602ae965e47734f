import { segment } from '../api-client.ts';
import { readFile } from 'node:fs/promises';
import { apiCommand, defined, LIST_OPTIONS, objectOption, printDone, printList, printObject, readStdin, somethingToChange } from '../api-command.ts';
import { type Command, UsageError, type Values } from '../command.ts';
import { type Column, when } from '../output.ts';

interface EventTypeOut {
  name: string;
  description: string;
  archived: boolean;
  deprecated: boolean;
  createdAt: string;
}

const NAME_ARG = { name: 'name', describe: 'the event type, e.g. invoice.paid' } as const;

const COLUMNS: Column<EventTypeOut>[] = [
  { header: 'NAME', cell: (e) => e.name, keep: true },
  { header: 'DESCRIPTION', cell: (e) => e.description || null },
  { header: 'STATE', cell: (e) => (e.archived ? 'archived' : e.deprecated ? 'deprecated' : 'active'), tone: (e) => (e.archived || e.deprecated ? 'warn' : undefined) },
  { header: 'CREATED', cell: (e) => when(e.createdAt) },
];

const SCHEMA = { type: 'string', value: 'json|@file|-', describe: "the payload's JSON Schema (stored as version 1)" } as const;
const FEATURE_FLAG = { type: 'string', describe: 'show it only to portal users with this feature flag' } as const;
const SCHEMA_VALIDATION = {
  type: 'string', value: 'off|warn|enforce|default', describe: "how published payloads are checked against its schema (default: the server's HERALD_SCHEMA_VALIDATION)",
} as const;

/** `--schema-validation` as the API's `schemaValidation`: `default` clears it, so the server's setting applies. */
function schemaValidation(values: Values): string | null | undefined {
  const value = values['schema-validation'] as string | undefined;
  if (value === undefined) return undefined;
  if (value === 'default') return null;
  if (!['off', 'warn', 'enforce'].includes(value)) throw new UsageError(`--schema-validation takes off, warn, enforce or default, not ${value}.`);
  return value;
}

/** `--schema` as the API's `schemas`, a schema per version. */
async function schemas(values: Values) {
  const schema = await objectOption(values, 'schema');
  return schema === undefined ? undefined : { 1: schema };
}

/** `--a` sets true, `--b` false, neither leaves it. */
function toggle(values: Values, on: string, off: string): boolean | undefined {
  if (values[on] && values[off]) throw new UsageError(`--${on} and --${off} contradict each other.`);
  return values[on] ? true : values[off] ? false : undefined;
}

export const eventType: Command = {
  name: 'event-type',
  summary: 'list, show, create, change and archive event types',
  commands: [
    apiCommand({
      name: 'list',
      summary: 'list event types by name',
      options: { ...LIST_OPTIONS, 'include-archived': { type: 'boolean', describe: 'archived ones too' } },
      run: (run) => printList(run, '/api/v1/event-type', { include_archived: run.values['include-archived'] === true ? true : undefined }, COLUMNS, { one: 'event type', many: 'event types' }),
    }),
    apiCommand({
      name: 'get',
      summary: 'show an event type',
      args: [NAME_ARG],
      run: async (run) => printObject(run, await run.client.get(`/api/v1/event-type/${segment(run.args[0]!)}`)),
    }),
    apiCommand({
      name: 'create',
      summary: 'create an event type (creating an archived one brings it back)',
      args: [NAME_ARG],
      options: {
        description: { type: 'string', describe: 'what it means' },
        schema: SCHEMA,
        deprecated: { type: 'boolean', describe: 'create it deprecated' },
        'feature-flag': FEATURE_FLAG,
        'schema-validation': SCHEMA_VALIDATION,
      },
      examples: ['herald event-type create invoice.paid --description "An invoice was paid" --schema @invoice.schema.json'],
      async run(run) {
        const body = defined({
          name: run.args[0],
          description: (run.values.description as string | undefined) ?? '',
          schemas: await schemas(run.values),
          deprecated: run.values.deprecated === true ? true : undefined,
          featureFlag: run.values['feature-flag'] as string | undefined,
          schemaValidation: schemaValidation(run.values),
        });
        printObject(run, await run.client.call('POST', '/api/v1/event-type', { body }));
      },
    }),
    apiCommand({
      name: 'update',
      summary: 'change the fields given, leaving the others',
      args: [NAME_ARG],
      options: {
        description: { type: 'string', describe: 'what it means' },
        schema: SCHEMA,
        deprecate: { type: 'boolean', describe: 'mark it deprecated' },
        undeprecate: { type: 'boolean', describe: 'mark it not deprecated' },
        archive: { type: 'boolean', describe: 'archive it' },
        unarchive: { type: 'boolean', describe: 'bring it back from the archive' },
        'feature-flag': FEATURE_FLAG,
        'schema-validation': SCHEMA_VALIDATION,
      },
      async run(run) {
        const body = {
          description: run.values.description as string | undefined,
          schemas: await schemas(run.values),
          deprecated: toggle(run.values, 'deprecate', 'undeprecate'),
          archived: toggle(run.values, 'archive', 'unarchive'),
          featureFlag: run.values['feature-flag'] as string | undefined,
          schemaValidation: schemaValidation(run.values),
        };
        somethingToChange(body, ['description', 'schema', 'deprecate', 'undeprecate', 'archive', 'unarchive', 'feature-flag', 'schema-validation']);
        printObject(run, await run.client.call('PATCH', `/api/v1/event-type/${segment(run.args[0]!)}`, { body: defined(body) }));
      },
    }),
    apiCommand({
      name: 'import',
      summary: "create and update event types from an OpenAPI document's webhooks (JSON or YAML)",
      args: [{ name: 'file', describe: 'the document, or - for stdin' }],
      options: {
        'dry-run': { type: 'boolean', describe: 'say what would change, changing nothing' },
        'replace-all': { type: 'boolean', describe: 'archive the event types the document does not describe' },
      },
      examples: ['herald event-type import openapi.yaml --dry-run', 'herald event-type export | herald event-type import - --url https://other.example.com'],
      async run(run) {
        const file = run.args[0]!;
        let specRaw: string;
        try {
          specRaw = file === '-' ? await readStdin() : await readFile(file, 'utf8');
        } catch (error) {
          throw new UsageError(`${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
        }
        const dryRun = run.values['dry-run'] === true;
        const body = defined({ specRaw: specRaw.replace(/^\uFEFF/, ''), dryRun: dryRun || undefined, replaceAll: run.values['replace-all'] === true ? true : undefined });
        const answer = await run.client.call<{ data: { modified: string[]; to_modify: Array<{ name: string }> | null } }>('POST', '/api/v1/event-type/import/openapi', { body });
        const names = dryRun ? (answer.body.data.to_modify ?? []).map((e) => e.name) : answer.body.data.modified;
        const text = names.length === 0 ? 'Nothing to change.' : `${dryRun ? 'Would change' : 'Changed'} ${names.length} event type${names.length === 1 ? '' : 's'}: ${names.join(', ')}.`;
        printDone(run, text, answer);
      },
    }),
    apiCommand({
      name: 'export',
      summary: 'print the event types as an OpenAPI 3.1 document (webhooks), which import reads back',
      options: { 'include-archived': { type: 'boolean', describe: 'archived ones too' } },
      async run(run) {
        const answer = await run.client.call('GET', '/api/v1/event-type/export/openapi', { query: { include_archived: run.values['include-archived'] === true ? true : undefined } });
        run.io.stdout.write(`${JSON.stringify(answer.body, null, 2)}\n`);
      },
    }),
    apiCommand({
      name: 'delete',
      summary: 'archive an event type, or with --expunge remove it',
      args: [NAME_ARG],
      options: { expunge: { type: 'boolean', describe: 'remove it instead of archiving it' } },
      async run(run) {
        const expunge = run.values.expunge === true;
        const answer = await run.client.call('DELETE', `/api/v1/event-type/${segment(run.args[0]!)}`, { query: { expunge: expunge || undefined } });
        printDone(run, `${expunge ? 'Removed' : 'Archived'} event type ${run.args[0]}.`, answer);
      },
    }),
  ],
};
