import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Reads `NNNN_name.sql` files in version order; the numbers must run 1, 2, 3… without gaps. */
export function readMigrations(directory: string): Migration[] {
  const migrations = readdirSync(directory)
    .filter((file) => /^\d{4}_[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: readFileSync(join(directory, file), 'utf8'),
    }));
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`Migration ${migration.version}_${migration.name} is out of sequence in ${directory}; expected version ${index + 1}.`);
    }
  });
  return migrations;
}

/** Thrown when the database was migrated by a newer Herald than this one. */
export function schemaTooNew(databaseVersion: number, knownVersion: number): Error {
  return new Error(
    `The database schema is at version ${databaseVersion}, but this Herald only knows versions up to ${knownVersion}. ` +
      'A newer Herald has migrated it; run that version, or restore a backup taken before the upgrade.',
  );
}
