import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { freePort, type HeraldProcess, kill, spawnHerald } from './process.ts';
import { dropSchema, postgresUrl, trackFailures, uniqueSchema } from './stores.ts';

export interface ProcessPair {
  here: HeraldProcess;
  there: HeraldProcess;
}

/**
 * Two API processes sharing a fresh PostgreSQL schema, each with a data directory of its own as
 * on separate machines, and so given the same encryption key. Called inside a describe: they are
 * started before its tests, so `here` and `there` are set only once those run, and stopped after
 * them, the schema and the directories (named herald-<name>-…) kept when a test failed.
 */
export function processPair(name: string): ProcessPair {
  const failures = trackFailures();
  const schema = uniqueSchema();
  const dirs: string[] = [];
  const pair = {} as ProcessPair;

  before(async () => {
    const env = { HERALD_DATABASE_URL: postgresUrl(schema), HERALD_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), HERALD_ROLE: 'api' };
    const start = async () => {
      const dir = mkdtempSync(join(tmpdir(), `herald-${name}-`));
      dirs.push(dir);
      return spawnHerald(dir, await freePort(), env);
    };
    [pair.here, pair.there] = await Promise.all([start(), start()]);
  });
  after(async () => {
    await Promise.all([pair.here, pair.there].filter(Boolean).map((p) => kill(p)));
    if (!failures.any()) {
      await dropSchema(schema);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });

  return pair;
}
