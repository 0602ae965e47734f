/**
 * Why a request was refused, as a stable code a program can switch on. The first six are the
 * sender's fault (or an attacker's); `invalid_secret` and `raw_body_unavailable` are the
 * receiving service's own configuration, which no retry of the sender can fix.
 */
export type VerificationFailure =
  | 'missing_header'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature'
  | 'invalid_json'
  | 'invalid_secret'
  | 'raw_body_unavailable';

const STATUS: Record<VerificationFailure, number> = {
  missing_header: 400,
  invalid_timestamp: 400,
  invalid_json: 400,
  timestamp_too_old: 401,
  timestamp_too_new: 401,
  no_matching_signature: 401,
  invalid_secret: 500,
  raw_body_unavailable: 500,
};

/** A request that is not an authentic Standard Webhooks delivery, or that cannot be checked. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  readonly reason: VerificationFailure;
  /** The HTTP status the adapters answer with: 400 malformed, 401 not authentic, 500 misconfigured. */
  readonly status: number;

  constructor(reason: VerificationFailure, message: string) {
    super(message);
    this.reason = reason;
    this.status = STATUS[reason];
  }
}

/**
 * A duplicate of a delivery whose handler is still running elsewhere, after waiting for it as
 * long as allowed. The adapters answer 409 with `Retry-After`, so the sender tries again later
 * rather than counting the event as handled before it is.
 */
export class WebhookInProgressError extends Error {
  override readonly name = 'WebhookInProgressError';
  readonly id: string;

  constructor(id: string) {
    super(`Delivery ${id} is being handled by another request; try again later.`);
    this.id = id;
  }
}
