import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Random } from './core/clock.ts';

export const ENCRYPTION_KEY_FILE = 'encryption-key';

/**
 * The key that seals secrets at rest: HERALD_ENCRYPTION_KEY when set (base64 of 32 bytes, and the
 * same for every process sharing a database), else one generated into the data directory with
 * owner-only permissions on first start. Processes starting together agree on the first one
 * written.
 */
export function loadEncryptionKey(configured: Uint8Array | null, dataDir: string, random: Random): Uint8Array {
  if (configured) return configured;
  const path = join(dataDir, ENCRYPTION_KEY_FILE);
  try {
    writeFileSync(path, `${Buffer.from(random.bytes(32)).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${path} does not hold a base64 32-byte key; restore it from a backup, or remove it only if no endpoint exists yet.`);
  return key;
}
