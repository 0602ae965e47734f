import { CLAIM_SQL, COMPLETE_SQL, FIND_SQL, type FoundRow, foundState, RELEASE_SQL } from '../idempotency-sql.ts';
import type { IdempotencyStore } from '../store.ts';
import type { PostgresDatabase } from './database.ts';

/**
 * Records commit without waiting for the log flush (`durable: false`): a PostgreSQL crash that
 * loses the last ones only lets a retried request run again. Other processes see them at once.
 */
const RECORD = { durable: false, prepared: true } as const;

export function postgresIdempotency(db: PostgresDatabase): IdempotencyStore {
  return {
    // INSERT … ON CONFLICT decides who holds the key, waiting for a concurrent insert of the same
    // key to commit. When it is held, a second statement reads the holder's record; if that record
    // went meanwhile (released), the claim is tried again.
    async claim({ key, claim, now, lockedUntil, notBefore }) {
      for (let tries = 0; tries < 3; tries++) {
        if (await db.one(CLAIM_SQL, [key, claim, lockedUntil, now, now, notBefore], RECORD)) return { state: 'claimed' };
        const found = foundState(await db.one<FoundRow>(FIND_SQL, [key], RECORD));
        if (found) return found;
      }
      return { state: 'pending', lockedUntil: now };
    },
    async complete(key, claim, response, now) {
      return (await db.run(COMPLETE_SQL, [response.statusCode, response.body, now, key, claim], RECORD)) > 0;
    },
    async release(key, claim) {
      await db.run(RELEASE_SQL, [key, claim], RECORD);
    },
    purge(olderThan, limit) {
      return db.run(
        `DELETE FROM idempotency_keys WHERE digest IN (
           SELECT digest FROM idempotency_keys WHERE created_at < ? LIMIT ? FOR UPDATE SKIP LOCKED)`,
        [olderThan, limit],
      );
    },
  };
}
