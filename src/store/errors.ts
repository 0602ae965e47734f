/**
 * The store's one error type; the API maps `code` to an HTTP status. `secret_unavailable`: a value
 * sealed under another encryption key than this process's (a misconfiguration, not the client's).
 */
export type StoreErrorCode = 'conflict' | 'unavailable' | 'secret_unavailable';

export class StoreError extends Error {
  override name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
