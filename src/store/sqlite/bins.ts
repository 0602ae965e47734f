import { smallestIdAt } from '../../core/ids.ts';
import { StoreError } from '../errors.ts';
import { toPage } from '../paging.ts';
import { BIN_REQUEST_COLUMNS, toBin, toBinRequest } from '../rows.ts';
import { keyset } from '../sql.ts';
import type { BinChange, BinStore } from '../store.ts';
import type { SqliteDatabase } from './database.ts';

const REQUEST_COLUMNS = BIN_REQUEST_COLUMNS.join(', ');

/**
 * `announce(binId, change)` runs once a capture or the bin's deletion is committed: this process
 * is the only one on the file.
 */
export function sqliteBins(db: SqliteDatabase, announce: (binId: string, change: BinChange) => void): BinStore {
  return {
    async create(bin, tokenDigest) {
      await db.write(() => db.run(
        `INSERT INTO bins (id, name, token, token_digest, response, rules, request_seq, last_request_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 0, NULL, ?, ?)`,
        bin.id, bin.name, bin.token, tokenDigest, JSON.stringify(bin.response), JSON.stringify(bin.rules), bin.createdAt, bin.updatedAt,
      ));
      return bin;
    },
    async get(id) {
      const row = db.get('SELECT * FROM bins WHERE id = ?', id);
      return row ? toBin(row) : null;
    },
    async getByTokenDigest(digest) {
      const row = db.get('SELECT * FROM bins WHERE token_digest = ?', digest);
      return row ? toBin(row) : null;
    },
    async list(page) {
      const { where, params, tail } = keyset('id', page);
      return toPage(db.all(`SELECT * FROM bins WHERE ${where} ${tail}`, ...params), page.limit, toBin);
    },
    async update(bin, tokenDigest) {
      const changed = await db.write(() => db.run(
        'UPDATE bins SET name = ?, token = ?, token_digest = ?, response = ?, rules = ?, updated_at = ? WHERE id = ?',
        bin.name, bin.token, tokenDigest, JSON.stringify(bin.response), JSON.stringify(bin.rules), bin.updatedAt, bin.id,
      ));
      if (changed === 0) throw new StoreError('missing', `Bin ${bin.id} was deleted.`);
      return bin;
    },
    async delete(id) {
      const deleted = (await db.write(() => db.run('DELETE FROM bins WHERE id = ?', id))) > 0;
      if (deleted) announce(id, 'deleted');
      return deleted;
    },

    // Three statements in one job of the group commit: number the request under the bin, drop
    // what falls out of the newest `keep` (a range of numbers, so at most one row at a time once
    // the bin is full), and insert.
    async capture(request, keep) {
      const stored = await db.write(() => {
        const bumped = db.get<{ request_seq: number }>(
          'UPDATE bins SET request_seq = request_seq + 1, last_request_at = max(coalesce(last_request_at, 0), ?) WHERE id = ? RETURNING request_seq',
          request.createdAt, request.binId,
        );
        if (!bumped) throw new StoreError('missing', `Bin ${request.binId} was deleted.`);
        const seq = Number(bumped.request_seq);
        if (seq > keep) db.run('DELETE FROM bin_requests WHERE bin_id = ? AND seq <= ?', request.binId, seq - keep);
        db.run(
          `INSERT INTO bin_requests (${REQUEST_COLUMNS}, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          request.id, request.binId, seq, request.method, request.path, request.query, JSON.stringify(request.headers),
          JSON.stringify(request.secretHeaders), request.size, request.ip, request.responseStatus, request.rule, request.createdAt, request.body,
        );
        return { ...request, seq };
      });
      announce(request.binId, 'captured');
      return stored;
    },
    async getRequest(binId, requestId) {
      const row = db.get(`SELECT ${REQUEST_COLUMNS}, body FROM bin_requests WHERE id = ? AND bin_id = ?`, requestId, binId);
      return row ? toBinRequest(row) : null;
    },
    async listRequests(binId, page, withContent) {
      const { where, params, tail } = keyset('id', page);
      const body = withContent ? 'body' : "x'' AS body";
      return toPage(db.all(`SELECT ${REQUEST_COLUMNS}, ${body} FROM bin_requests WHERE bin_id = ? AND ${where} ${tail}`, binId, ...params), page.limit, toBinRequest);
    },
    async requestsAfter(binId, seq, limit) {
      return db.all(`SELECT ${REQUEST_COLUMNS}, body FROM bin_requests WHERE bin_id = ? AND seq > ? ORDER BY seq LIMIT ?`, binId, seq, limit).map(toBinRequest);
    },
    async deleteRequest(binId, requestId) {
      return (await db.write(() => db.run('DELETE FROM bin_requests WHERE id = ? AND bin_id = ?', requestId, binId))) > 0;
    },
    // Ids sort by time, so "captured before" is a primary-key range.
    purgeRequests(olderThan, limit) {
      return db.write(() => db.run(
        'DELETE FROM bin_requests WHERE id IN (SELECT id FROM bin_requests WHERE id < ? LIMIT ?)',
        smallestIdAt('binRequest', olderThan), limit,
      ));
    },
    purgeIdle(olderThan, limit) {
      return db.write(() => db.run(
        'DELETE FROM bins WHERE id IN (SELECT id FROM bins WHERE updated_at < ? AND coalesce(last_request_at, 0) < ? LIMIT ?)',
        olderThan, olderThan, limit,
      ));
    },
  };
}
