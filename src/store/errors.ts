/**
 * The store's one error type; the API maps `code` to an HTTP status. `invalid` is a value the
 * database refused to store or compare (PostgreSQL's data exceptions): the request's fault, never
 * a server error.
 */
export type StoreErrorCode = 'conflict' | 'unavailable' | 'invalid';

export class StoreError extends Error {
  override name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
