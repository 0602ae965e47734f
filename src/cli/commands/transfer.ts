import { chmod, open, readFile } from 'node:fs/promises';
import { ConfigError } from '../../config/config.ts';
import { systemClock, systemRandom } from '../../core/clock.ts';
import type { Command, Io } from '../command.ts';
import { UsageError } from '../command.ts';
import { readStdin } from '../api-command.ts';
import { Progress, screenOf } from '../output.ts';
import { configFrom, SETTING_OPTIONS } from '../settings.ts';

// As for serve: the server's modules (and the database drivers) load only when these run.
const server = () => import('../../herald.ts');
const transfer = () => import('../../transfer.ts');

/** The store the settings name, opened with its encryption key, or null after saying why not. */
async function sealedStore(values: Parameters<typeof configFrom>[0], io: Io) {
  const config = configFrom(values, io);
  if (!config) return null;
  const { openSealedStore } = await server();
  try {
    return await openSealedStore(config, systemClock, systemRandom);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`herald: ${error.message}\n`);
    return null;
  }
}

const SETTINGS_NOTE = 'The database is the one `herald serve` would use with the same flags and environment (--database-url, --data-dir, HERALD_ENCRYPTION_KEY).';

export const exportCommand: Command = {
  name: 'export',
  summary: 'write event types, applications, sources and endpoints (with secrets) to a file',
  description: [
    'Writes the configuration as JSON lines, each record with its id, for `herald import` into another database (e.g. from SQLite to PostgreSQL).',
    'Endpoint secrets and custom header values are written in clear, so the file is readable by its owner only: keep it like a password.',
    'Messages, attempts, tokens and bins are not exported (`herald backup` copies a whole SQLite database).',
    SETTINGS_NOTE,
  ].join('\n'),
  args: [{ name: 'file', describe: 'where to write it; - for stdout' }],
  options: SETTING_OPTIONS,
  examples: ['herald export herald-export.jsonl', 'herald export - --database-url postgres://herald@db/herald | gzip > export.jsonl.gz'],
  async run({ args, values }, io) {
    const [file] = args as [string];
    const store = await sealedStore(values, io);
    if (!store) return 2;
    const { exportRecords } = await transfer();
    const progress = new Progress(io.stderr, screenOf(io.stderr, io.env), 'exporting', null);
    const handle = file === '-' ? null : await open(file, 'w', 0o600);
    try {
      // A file that existed keeps its mode on open: it holds secrets, so it is narrowed either way.
      if (handle) await chmod(file, 0o600);
      const write = async (text: string) => (handle ? handle.write(text) : io.stdout.write(text));
      let count = 0;
      let lines: string[] = [];
      for await (const record of exportRecords(store, Date.now())) {
        lines.push(JSON.stringify(record));
        if (record.kind !== 'header') {
          count++;
          progress.advance();
        }
        if (lines.length >= 200) {
          await write(`${lines.join('\n')}\n`);
          lines = [];
        }
      }
      if (lines.length > 0) await write(`${lines.join('\n')}\n`);
      progress.finish();
      if (handle) io.stderr.write(`Exported ${count} records to ${file}.\n`);
    } finally {
      await handle?.close();
      await store.close();
    }
    return 0;
  },
};

export const importCommand: Command = {
  name: 'import',
  summary: 'create what a `herald export` file holds in this database',
  description: [
    'Creates each event type, application, source and endpoint of the file that this database does not have yet, with its id;',
    'those it already has (same id) are left as they are, so an interrupted import can be run again.',
    'Secrets are sealed with this database\'s encryption key. A record this database refuses (a uid another one holds) is named, and the exit code is 1.',
    SETTINGS_NOTE,
  ].join('\n'),
  args: [{ name: 'file', describe: 'a file `herald export` wrote; - for stdin' }],
  options: SETTING_OPTIONS,
  examples: ['herald import herald-export.jsonl --database-url postgres://herald@db/herald'],
  async run({ args, values }, io) {
    const [file] = args as [string];
    const { importRecords, parseRecord } = await transfer();
    let text: string;
    try {
      text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(`Cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
    }
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    let records;
    try {
      records = lines.map((line, i) => parseRecord(line, i + 1));
    } catch (error) {
      io.stderr.write(`herald: ${file}: ${(error as Error).message}.\n`);
      return 2;
    }
    const store = await sealedStore(values, io);
    if (!store) return 2;
    const progress = new Progress(io.stderr, screenOf(io.stderr, io.env), 'importing', records.length);
    try {
      const outcome = await importRecords(store, records, () => progress.advance());
      progress.finish();
      const line = (counts: Record<string, number>) => Object.entries(counts).map(([kind, n]) => `${n} ${kind}${n === 1 ? '' : 's'}`).join(', ');
      io.stdout.write(`Created ${line(outcome.created)}.\nAlready there (left as they were): ${line(outcome.existing)}.\n`);
      for (const refusal of outcome.refused) io.stderr.write(`herald: refused ${refusal}\n`);
      return outcome.refused.length > 0 ? 1 : 0;
    } finally {
      await store.close();
    }
  },
};
