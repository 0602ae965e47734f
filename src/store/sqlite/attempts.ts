import { smallestIdAt } from '../../core/ids.ts';
import { ERASED_RESPONSE } from '../../core/model.ts';
import { toPage } from '../paging.ts';
import type { AttemptFilter, AttemptStore, PageRequest } from '../store.ts';
import type { SqliteDatabase } from './database.ts';
import { messageConditions } from './messages.ts';
import { attemptConditions, Conditions, keyset } from '../sql.ts';
import { toAttempt } from '../rows.ts';

export function sqliteAttempts(db: SqliteDatabase): AttemptStore {
  function list(scope: Conditions, filter: AttemptFilter, page: PageRequest) {
    const { where, params, tail } = keyset('a.id', page);
    const conditions = attemptConditions(messageConditions(scope, filter, 'a.created_at'), filter).add(where, ...params);
    const rows = db.all(
      `SELECT a.* FROM attempts a JOIN messages m ON m.id = a.message_id WHERE ${conditions} ${tail}`,
      ...conditions.params,
    );
    return toPage(rows, page.limit, toAttempt);
  }

  return {
    async get(messageId, attemptId) {
      const row = db.get('SELECT * FROM attempts WHERE id = ? AND message_id = ?', attemptId, messageId);
      return row ? toAttempt(row) : null;
    },
    async listByEndpoint(endpointId, filter, page) {
      return list(new Conditions().add('a.endpoint_id = ?', endpointId), filter, page);
    },
    async listByMessage(messageId, filter, page) {
      return list(new Conditions().add('a.message_id = ?', messageId), filter, page);
    },
    async eraseResponse(messageId, attemptId) {
      return (await db.write(() => db.run('UPDATE attempts SET response = ? WHERE id = ? AND message_id = ?', ERASED_RESPONSE, attemptId, messageId))) > 0;
    },
    purge(olderThan, limit) {
      return db.write(() =>
        db.run('DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE id < ? LIMIT ?)', smallestIdAt('attempt', olderThan), limit),
      );
    },
  };
}
