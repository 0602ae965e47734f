/** The store's one error type; the API maps `code` to an HTTP status. */
export type StoreErrorCode = 'conflict' | 'unavailable';

export class StoreError extends Error {
  override name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
