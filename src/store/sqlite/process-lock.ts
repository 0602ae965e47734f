import { DatabaseSync } from 'node:sqlite';
import { StoreError } from '../errors.ts';

/**
 * Holds `<database>.lock` for the life of the process, so a second Herald on the same data
 * directory stops at start instead of corrupting the queue. It is a tiny SQLite file in EXCLUSIVE
 * locking mode: the operating system's file lock goes away with the process however it dies, so
 * a `kill -9` never leaves a stale lock behind.
 */
export function acquireProcessLock(databasePath: string): () => void {
  const lock = new DatabaseSync(`${databasePath}.lock`, { timeout: 0 });
  try {
    lock.exec('PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS held (pid INTEGER); COMMIT');
  } catch (error) {
    lock.close();
    throw new StoreError(
      'unavailable',
      `Another process holds the SQLite database ${databasePath}. SQLite serves one Herald process per data directory; ` +
        'stop the other one, give this one its own --data-dir, or use PostgreSQL (--database-url) to run several.',
      { cause: error },
    );
  }
  return () => lock.close();
}
