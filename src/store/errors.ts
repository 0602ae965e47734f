/**
 * The store's one error type; the API maps `code` to an HTTP status.
 * - conflict: a unique key is taken.
 * - limit: a documented maximum is reached.
 * - missing: what the write refers to was deleted meanwhile (a foreign key no longer holds), so
 *   the request is answered as if it had come after the delete.
 * - invalid: a value the database refused to store or compare (PostgreSQL's data exceptions), the
 *   request's fault, never a server error.
 * - unavailable: the database is not there.
 * - secret_unavailable: a value sealed under another encryption key than this process's (a
 *   misconfiguration, not the client's).
 */
export type StoreErrorCode = 'conflict' | 'limit' | 'missing' | 'invalid' | 'unavailable' | 'secret_unavailable';

export class StoreError extends Error {
  override name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
