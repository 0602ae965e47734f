import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Random } from './core/clock.ts';

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The admin token from the data directory, created on first start with owner-only permissions.
 * `created` tells the caller to show it once.
 */
export function loadOrCreateAdminToken(dataDir: string, random: Random): { token: string; created: boolean } {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(path)) return { token: readFileSync(path, 'utf8').trim(), created: false };
  const token = `hrld_${Buffer.from(random.bytes(32)).toString('base64url')}`;
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, created: true };
}
