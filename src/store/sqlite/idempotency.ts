import { CLAIM_SQL, COMPLETE_SQL, FIND_SQL, type FoundRow, foundState, RELEASE_SQL } from '../idempotency-sql.ts';
import type { IdempotencyStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';

/**
 * Records commit without waiting for the disk: losing the last ones to a power cut only lets a
 * retried request run again, while their requests' own writes (a message) are durable as ever.
 */
export function sqliteIdempotency(db: SqliteDatabase): IdempotencyStore {
  const write = <T>(work: () => T) => db.write(work, { durable: false });
  return {
    // One job of the single writer: the claim and the look at what holds the key are atomic.
    claim({ key, claim, now, lockedUntil, notBefore }) {
      return write(() => {
        if (db.get(CLAIM_SQL, key, claim, lockedUntil, now, now, notBefore)) return { state: 'claimed' as const };
        return foundState(db.get<FoundRow>(FIND_SQL, key)) ?? { state: 'pending' as const, lockedUntil: now };
      });
    },
    async complete(key, claim, response, now) {
      return (await write(() => db.run(COMPLETE_SQL, response.statusCode, response.body, now, key, claim))) > 0;
    },
    async release(key, claim) {
      await write(() => db.run(RELEASE_SQL, key, claim));
    },
    purge(olderThan, limit) {
      return write(() =>
        db.run('DELETE FROM idempotency_keys WHERE digest IN (SELECT digest FROM idempotency_keys WHERE created_at < ? LIMIT ?)', olderThan, limit),
      );
    },
  };
}
