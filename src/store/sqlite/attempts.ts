import { smallestIdAt } from '../../core/ids.ts';
import { toPage } from '../paging.ts';
import type { AttemptFilter, AttemptStore, PageRequest } from '../store.ts';
import type { SqliteDatabase } from './database.ts';
import { messageConditions } from './messages.ts';
import { Conditions, keyset } from './keyset.ts';
import { type AttemptRow, toAttempt } from './rows.ts';

export function sqliteAttempts(db: SqliteDatabase): AttemptStore {
  function list(scope: Conditions, filter: AttemptFilter, page: PageRequest) {
    const { where, params, tail } = keyset('a.id', page);
    const codeClass = filter.statusCodeClass;
    const conditions = messageConditions(scope, filter, 'a.created_at')
      .addIf(filter.status !== null, 'a.status = ?', filter.status)
      .addIf(codeClass === 0, 'a.response_status_code = 0')
      .addIf(codeClass !== null && codeClass > 0, 'a.response_status_code >= ? AND a.response_status_code < ?', codeClass, (codeClass ?? 0) + 100)
      .addIf(filter.endpointId, 'a.endpoint_id = ?', filter.endpointId)
      .add(where, ...params);
    const rows = db.all<AttemptRow>(
      `SELECT a.* FROM attempts a JOIN messages m ON m.id = a.message_id WHERE ${conditions} ${tail}`,
      ...conditions.params,
    );
    return toPage(rows, page.limit, toAttempt);
  }

  return {
    async get(messageId, attemptId) {
      const row = db.get<AttemptRow>('SELECT * FROM attempts WHERE id = ? AND message_id = ?', attemptId, messageId);
      return row ? toAttempt(row) : null;
    },
    async listByEndpoint(endpointId, filter, page) {
      return list(new Conditions().add('a.endpoint_id = ?', endpointId), filter, page);
    },
    async listByMessage(messageId, filter, page) {
      return list(new Conditions().add('a.message_id = ?', messageId), filter, page);
    },
    purge(olderThan, limit) {
      return db.write(() =>
        db.run('DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE id < ? LIMIT ?)', smallestIdAt('attempt', olderThan), limit),
      );
    },
  };
}
