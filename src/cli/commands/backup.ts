import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { backup as sqliteBackup, DatabaseSync } from 'node:sqlite';
import type { Command } from '../command.ts';
import { sqliteFile } from '../../config/config.ts';
import { configFrom, SETTING_OPTIONS } from '../settings.ts';

/**
 * A consistent copy of a SQLite database while Herald runs on it: SQLite's online backup API
 * (node:sqlite's `backup`) copies the pages a few at a time on its own read-only connection, and
 * starts over on its own if a write lands meanwhile, so the copy is one committed state, never a
 * file copied half before and half after a commit (which `cp` of a database in WAL mode can be).
 * It takes no process lock: the running Herald keeps its own.
 */
export const backup: Command = {
  name: 'backup',
  summary: 'copy the SQLite database to a file, consistently, while Herald runs',
  description: 'Uses the same settings as `herald serve` to find the database. For PostgreSQL, use pg_dump.\nRestore: stop Herald, put the copy in place of herald.db in the data directory (removing herald.db-wal and herald.db-shm), start Herald.',
  args: [{ name: 'file', describe: 'where to write the copy (must not exist yet)' }],
  options: SETTING_OPTIONS,
  examples: ['herald backup /backups/herald-$(date +%F).db', 'herald backup copy.db --data-dir /var/lib/herald'],
  async run({ values, args }, io) {
    const config = configFrom(values, io);
    if (!config) return 2;
    const source = sqliteFile(config);
    if (source === null) {
      io.stderr.write('herald: backup copies a SQLite database; for PostgreSQL use pg_dump (e.g. pg_dump -Fc -f herald.dump "$HERALD_DATABASE_URL").\n');
      return 2;
    }
    const target = resolve(args[0]!);
    if (!existsSync(source)) {
      io.stderr.write(`herald: no database at ${resolve(source)}; give --data-dir or --database-url as \`herald serve\` has them.\n`);
      return 1;
    }
    if (existsSync(target)) {
      io.stderr.write(`herald: ${target} exists; give a new file name.\n`);
      return 1;
    }
    const db = new DatabaseSync(source, { readOnly: true, timeout: 5_000 });
    try {
      const started = Date.now();
      const pages = await sqliteBackup(db, target, {
        rate: 1_000,
        progress: ({ totalPages, remainingPages }) => {
          if (process.stderr.isTTY) io.stderr.write(`\rcopying: ${Math.round(((totalPages - remainingPages) / Math.max(1, totalPages)) * 100)}%`);
        },
      });
      if (process.stderr.isTTY) io.stderr.write('\n');
      io.stdout.write(`Copied ${resolve(source)} to ${target} (${pages} pages) in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
    } finally {
      db.close();
    }
    return 0;
  },
};
