import { smallestIdAt } from '../../core/ids.ts';
import { ERASED_RESPONSE } from '../../core/model.ts';
import { toPage } from '../paging.ts';
import { toAttempt } from '../rows.ts';
import { attemptConditions, Conditions, keyset } from '../sql.ts';
import type { AttemptFilter, AttemptStore, PageRequest } from '../store.ts';
import type { PostgresDatabase } from './database.ts';
import { messageConditions } from './messages.ts';

export function postgresAttempts(db: PostgresDatabase): AttemptStore {
  async function list(scope: Conditions, filter: AttemptFilter, page: PageRequest) {
    const { where, params, tail } = keyset('a.id', page);
    const conditions = attemptConditions(messageConditions(scope, filter, 'a.created_at'), filter).add(where, ...params);
    const rows = await db.query(`SELECT a.* FROM attempts a JOIN messages m ON m.id = a.message_id WHERE ${conditions} ${tail}`, conditions.params);
    return toPage(rows, page.limit, toAttempt);
  }

  return {
    async get(messageId, attemptId) {
      const row = await db.one('SELECT * FROM attempts WHERE id = ? AND message_id = ?', [attemptId, messageId]);
      return row ? toAttempt(row) : null;
    },
    listByEndpoint: (endpointId, filter, page) => list(new Conditions().add('a.endpoint_id = ?', endpointId), filter, page),
    listByMessage: (messageId, filter, page) => list(new Conditions().add('a.message_id = ?', messageId), filter, page),
    eraseResponse: async (messageId, attemptId) =>
      (await db.run('UPDATE attempts SET response = ? WHERE id = ? AND message_id = ?', [ERASED_RESPONSE, attemptId, messageId])) > 0,
    purge: (olderThan, limit) =>
      db.run('DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE id < ? LIMIT ? FOR UPDATE SKIP LOCKED)', [smallestIdAt('attempt', olderThan), limit]),
  };
}
