import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config/config.ts';
import type { Random } from './core/clock.ts';
import type { SecretBox } from './core/secret-box.ts';
import { StoreError } from './store/errors.ts';
import type { Store } from './store/store.ts';

export const ENCRYPTION_KEY_FILE = 'encryption-key';

/** Where a process's key came from, for the message that refuses a wrong one. */
export interface EncryptionKey {
  key: Uint8Array;
  /** The generated key file, or null when the key is HERALD_ENCRYPTION_KEY. */
  file: string | null;
}

/**
 * The key that seals secrets at rest: HERALD_ENCRYPTION_KEY when set (base64 of 32 bytes, and the
 * same for every process sharing a database), else one generated into the data directory with
 * owner-only permissions on first start. Processes starting together agree on the first one
 * written.
 */
export function loadEncryptionKey(configured: Uint8Array | null, dataDir: string, random: Random): EncryptionKey {
  if (configured) return { key: configured, file: null };
  const path = join(dataDir, ENCRYPTION_KEY_FILE);
  try {
    writeFileSync(path, `${Buffer.from(random.bytes(32)).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${path} does not hold a base64 32-byte key; restore it from a backup, or remove it only if no endpoint exists yet.`);
  return { key, file: path };
}

/** The setting holding a known text sealed with the database's key: what tells a wrong key. */
export const KEY_CHECK = 'encryption_key_check';
const KNOWN_TEXT = 'herald encryption key check';

/** Whether `sealed` (the KEY_CHECK setting) was sealed with this box's key. */
export function opensKeyCheck(box: SecretBox, sealed: string): boolean {
  try {
    return box.open(sealed) === KNOWN_TEXT;
  } catch {
    return false;
  }
}

/**
 * One key per database: the first start seals a known text with its key and stores it (the key
 * check value); a process whose key cannot open it refuses to start, since every secret it read
 * would fail and every secret it wrote would be lost to the others. A database written before the
 * check value existed is judged by a few of the secrets it already holds.
 */
export async function checkEncryptionKey(store: Store, box: SecretBox, key: EncryptionKey): Promise<void> {
  const stored = await store.settings.get(KEY_CHECK);
  if (stored !== null) {
    if (!opensKeyCheck(box, stored)) throw wrongKey(key);
    return;
  }
  if (!(await opensExistingSecrets(store))) throw wrongKey(key);
  if (!opensKeyCheck(box, await store.settings.claim(KEY_CHECK, box.seal(KNOWN_TEXT)))) throw wrongKey(key);
}

/** Opens the first source and the first endpoint among the first applications, if there are any. */
async function opensExistingSecrets(store: Store): Promise<boolean> {
  try {
    await store.sources.list({ limit: 1, after: null, order: 'asc' });
    for (const app of (await store.apps.list({ limit: 20, after: null, order: 'asc' })).items) {
      const [endpoint] = (await store.endpoints.list(app.id, { limit: 1, after: null, order: 'asc' })).items;
      if (endpoint) return endpoint.unavailable === undefined;
    }
    return true;
  } catch (error) {
    if (error instanceof StoreError && error.code === 'secret_unavailable') return false;
    throw error;
  }
}

function wrongKey(key: EncryptionKey): ConfigError {
  const which = key.file
    ? `The encryption key generated into ${key.file} (HERALD_ENCRYPTION_KEY is not set)`
    : 'HERALD_ENCRYPTION_KEY';
  return new ConfigError(
    `${which} cannot open the secrets in this database: they were sealed with another key. Every process sharing a ` +
      'database needs the same key: set HERALD_ENCRYPTION_KEY to the one the other processes use (or the one the ' +
      'first start generated into its data directory\'s encryption-key file).',
  );
}
