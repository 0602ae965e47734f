import type { BinRequest } from '../../core/bins.ts';
import { smallestIdAt } from '../../core/ids.ts';
import { Batcher } from '../batcher.ts';
import { StoreError } from '../errors.ts';
import { toPage } from '../paging.ts';
import { BIN_REQUEST_COLUMNS, toBin, toBinRequest } from '../rows.ts';
import { keyset } from '../sql.ts';
import type { BinStore } from '../store.ts';
import { BIN_CHANNEL, CONFIG_CHANNEL, DELETED_MARK, type PostgresDatabase } from './database.ts';

const REQUEST_COLUMNS = BIN_REQUEST_COLUMNS.join(', ');

/**
 * A changed or deleted bin is announced on the config channel, so other processes drop its cached
 * URL token and answer; a capture is announced on the bin channel once committed.
 */
export function postgresBins(db: PostgresDatabase): BinStore {
  const batcher = new Batcher(captureBatch(db), { maxBatch: 500, maxConcurrent: 4 });
  return {
    async create(bin, tokenDigest) {
      await db.query(
        `INSERT INTO bins (id, name, token, token_digest, response, rules, request_seq, last_request_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 0, NULL, ?, ?)`,
        [bin.id, bin.name, bin.token, tokenDigest, JSON.stringify(bin.response), JSON.stringify(bin.rules), bin.createdAt, bin.updatedAt],
      );
      return bin;
    },
    async get(id) {
      const row = await db.one('SELECT * FROM bins WHERE id = ?', [id]);
      return row ? toBin(row) : null;
    },
    async getByTokenDigest(digest) {
      const row = await db.one('SELECT * FROM bins WHERE token_digest = ?', [digest]);
      return row ? toBin(row) : null;
    },
    async list(page) {
      const { where, params, tail } = keyset('id', page);
      return toPage(await db.query(`SELECT * FROM bins WHERE ${where} ${tail}`, params), page.limit, toBin);
    },
    async update(bin, tokenDigest) {
      const rows = await db.query(
        `WITH changed AS (
           UPDATE bins SET name = ?, token = ?, token_digest = ?, response = ?, rules = ?, updated_at = ? WHERE id = ? RETURNING id
         )
         SELECT pg_notify('${CONFIG_CHANNEL}', id) FROM changed`,
        [bin.name, bin.token, tokenDigest, JSON.stringify(bin.response), JSON.stringify(bin.rules), bin.updatedAt, bin.id],
      );
      if (rows.length === 0) throw new StoreError('missing', `Bin ${bin.id} was deleted.`);
      return bin;
    },
    async delete(id) {
      const rows = await db.query(
        // Caches drop the bin; its live streams, on whichever process, end (see onBinChange).
        `WITH deleted AS (DELETE FROM bins WHERE id = ? RETURNING id)
         SELECT pg_notify('${CONFIG_CHANNEL}', id), pg_notify('${BIN_CHANNEL}', '${DELETED_MARK}' || id) FROM deleted`,
        [id],
      );
      return rows.length > 0;
    },
    capture: (request, keep) => batcher.add({ request, keep }),
    async getRequest(binId, requestId) {
      const row = await db.one(`SELECT ${REQUEST_COLUMNS}, body FROM bin_requests WHERE id = ? AND bin_id = ?`, [requestId, binId]);
      return row ? toBinRequest(row) : null;
    },
    async listRequests(binId, page, withContent) {
      const { where, params, tail } = keyset('id', page);
      const body = withContent ? 'body' : "''::bytea AS body";
      return toPage(await db.query(`SELECT ${REQUEST_COLUMNS}, ${body} FROM bin_requests WHERE bin_id = ? AND ${where} ${tail}`, [binId, ...params]), page.limit, toBinRequest);
    },
    async requestsAfter(binId, seq, limit) {
      return (await db.query(`SELECT ${REQUEST_COLUMNS}, body FROM bin_requests WHERE bin_id = ? AND seq > ? ORDER BY seq LIMIT ?`, [binId, seq, limit])).map(toBinRequest);
    },
    async deleteRequest(binId, requestId) {
      return (await db.run('DELETE FROM bin_requests WHERE id = ? AND bin_id = ?', [requestId, binId])) > 0;
    },
    // Ids sort by time, so "captured before" is a primary-key range; SKIP LOCKED lets several
    // processes purge side by side.
    purgeRequests(olderThan, limit) {
      return db.run(
        'DELETE FROM bin_requests WHERE id IN (SELECT id FROM bin_requests WHERE id < ? LIMIT ? FOR UPDATE SKIP LOCKED)',
        [smallestIdAt('binRequest', olderThan), limit],
      );
    },
    purgeIdle(olderThan, limit) {
      return db.run(
        `DELETE FROM bins WHERE id IN (
           SELECT id FROM bins WHERE updated_at < ? AND coalesce(last_request_at, 0) < ? LIMIT ? FOR UPDATE SKIP LOCKED)`,
        [olderThan, olderThan, limit],
      );
    },
  };
}

/**
 * Captures a batch in one statement: each bin's count goes up by its requests in the batch (under
 * the bin's row lock, taken in id order so two batches never wait on each other in a circle), the
 * requests take the numbers in between, the bin's requests older than its newest `keep` go (the
 * statement's DELETE sees only what was there before it, so a new request already outside the
 * newest `keep` is simply not inserted), and the bin channel is notified on commit. A request
 * whose bin is gone gets no number and fails alone with 'missing'.
 *
 * The bodies travel as one binary parameter that the statement slices, as message payloads do.
 */
function captureBatch(db: PostgresDatabase) {
  return async (batch: Array<{ request: BinRequest; keep: number }>): Promise<Array<BinRequest | Error>> => {
    const requests = batch.map((entry) => entry.request);
    let at = 1;
    const bodyStarts = requests.map((r) => {
      const start = at;
      at += r.body.byteLength;
      return start;
    });
    const rows = await db.query<{ id: string; seq: number }>(
      `WITH input AS (
         SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[], ?::int[], ?::text[],
           ?::int[], ?::text[], ?::bigint[], ?::int[])
           WITH ORDINALITY AS r(id, bin_id, method, path, query, headers, secret_headers, body_at, size, ip, response_status, rule, created_at, keep, ord)
       ), locked AS (
         SELECT id FROM bins WHERE id IN (SELECT bin_id FROM input) ORDER BY id FOR UPDATE
       ), bumped AS (
         UPDATE bins b SET request_seq = b.request_seq + c.n, last_request_at = greatest(coalesce(b.last_request_at, 0), c.at)
         FROM (SELECT bin_id, count(*) AS n, max(created_at) AS at, min(keep) AS keep FROM input GROUP BY bin_id) c
         WHERE b.id = c.bin_id AND b.id IN (SELECT id FROM locked)
         RETURNING b.id, b.request_seq AS last_seq, c.n, c.keep
       ), numbered AS (
         SELECT i.*, bm.last_seq - bm.n + row_number() OVER (PARTITION BY i.bin_id ORDER BY i.ord) AS seq, bm.last_seq, bm.keep AS bin_keep
         FROM input i JOIN bumped bm ON bm.id = i.bin_id
       ), inserted AS (
         INSERT INTO bin_requests (${REQUEST_COLUMNS}, body)
         SELECT id, bin_id, seq, method, path, query, headers::jsonb, secret_headers::jsonb, size, ip, response_status, rule, created_at,
           substring(?::bytea FROM body_at FOR size)
         FROM numbered WHERE seq > last_seq - bin_keep
       ), trimmed AS (
         DELETE FROM bin_requests r USING bumped bm WHERE r.bin_id = bm.id AND r.seq <= bm.last_seq - bm.keep
       ), notified AS (
         SELECT pg_notify('${BIN_CHANNEL}', id) FROM bumped
       )
       SELECT n.id, n.seq FROM numbered n, (SELECT count(*) FROM notified) AS announced`,
      [
        requests.map((r) => r.id), requests.map((r) => r.binId), requests.map((r) => r.method), requests.map((r) => r.path),
        requests.map((r) => r.query), requests.map((r) => JSON.stringify(r.headers)), requests.map((r) => JSON.stringify(r.secretHeaders)),
        bodyStarts, requests.map((r) => r.body.byteLength), requests.map((r) => r.ip), requests.map((r) => r.responseStatus),
        requests.map((r) => r.rule), requests.map((r) => r.createdAt), batch.map((entry) => entry.keep),
        Buffer.concat(requests.map((r) => r.body)),
      ],
      { prepared: true },
    );
    const numbers = new Map(rows.map((row) => [row.id, Number(row.seq)]));
    return requests.map((request) => {
      const seq = numbers.get(request.id);
      return seq === undefined ? new StoreError('missing', `Bin ${request.binId} was deleted.`) : { ...request, seq };
    });
  };
}
