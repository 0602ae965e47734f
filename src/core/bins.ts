/**
 * Request bins: a URL that keeps every request made to it, byte for byte, and answers as its
 * owner configured (a status, headers, a body, after a delay) or by rules that fail a share of
 * requests on purpose, so a sender's retries and timeouts can be tested.
 */

/** The answer a bin gives when no rule fires. */
export interface BinResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  delayMs: number;
}

/**
 * Shares of requests a bin answers otherwise than configured, drawn per request: held open until
 * the client gives up (`timeoutRate`), 429 with `Retry-After` (`rateLimitRate`), `failStatus`
 * (`failRate`). They add up to at most 1; the rest get the configured response.
 */
export interface BinRules {
  failRate: number;
  failStatus: number;
  rateLimitRate: number;
  retryAfterSeconds: number;
  timeoutRate: number;
}

export interface Bin {
  id: string;
  name: string | null;
  /** The secret last segment of the bin's capture URL. */
  token: string;
  response: BinResponse;
  rules: BinRules;
  createdAt: number;
  updatedAt: number;
  /** When the last request was captured; null before the first. */
  lastRequestAt: number | null;
  /**
   * How many requests the bin has captured in all: each capture takes the next number, in commit
   * order, so "after number n" is a cursor no capture committed later can fall behind.
   */
  requestSeq: number;
}

/** Which rule decided a captured request's answer. */
export type BinRule = 'configured' | 'fail' | 'rateLimit' | 'timeout';

/** A header as it came: its name in the case it was sent, and its value as Node read it (one character per byte). */
export type RawHeader = [name: string, value: string];

export interface BinRequest {
  id: string;
  binId: string;
  /** The bin's count of captures when this one was taken (see Bin.requestSeq); 0 until stored. */
  seq: number;
  method: string;
  /** What followed the bin's URL before any `?`: `''` for none, else starting with `/`. */
  path: string;
  /** What followed the first `?`, as sent; null without a `?`. */
  query: string | null;
  /** Every header in the order received, repeated ones included. */
  headers: RawHeader[];
  /**
   * Positions in `headers` of the secret-looking ones (see `isSecretLookingHeader`): sealed at
   * rest, masked when listed unless revealed.
   */
  secretHeaders: number[];
  /**
   * Positions of secret headers that could not be opened with this process's key; their values
   * are empty, and they are never shown. Set only when reading.
   */
  unopenedHeaders?: number[];
  body: Uint8Array;
  /** The body's length in bytes (kept when a listing leaves the body out). */
  size: number;
  /** The address the request came from, as the socket saw it. */
  ip: string;
  /** The status the bin answered with; null when it held the request open (timeout). */
  responseStatus: number | null;
  rule: BinRule;
  createdAt: number;
}

export const DEFAULT_BIN_RESPONSE: BinResponse = { status: 200, headers: {}, body: '', delayMs: 0 };
export const DEFAULT_BIN_RULES: BinRules = { failRate: 0, failStatus: 500, rateLimitRate: 0, retryAfterSeconds: 5, timeoutRate: 0 };

/** How the bin answers one request, given a uniform draw in [0, 1). */
export type BinAnswer =
  | { rule: 'configured'; status: number }
  | { rule: 'fail'; status: number }
  | { rule: 'rateLimit'; status: 429; retryAfterSeconds: number }
  | { rule: 'timeout'; status: null };

/**
 * Picks the answer from one draw: the rules' shares lie side by side on [0, 1), timeout first, so
 * a share of 0 never fires and a share of 1 always does.
 */
export function pickAnswer(rules: BinRules, response: BinResponse, draw: number): BinAnswer {
  let edge = rules.timeoutRate;
  if (draw < edge) return { rule: 'timeout', status: null };
  edge += rules.rateLimitRate;
  if (draw < edge) return { rule: 'rateLimit', status: 429, retryAfterSeconds: rules.retryAfterSeconds };
  edge += rules.failRate;
  if (draw < edge) return { rule: 'fail', status: rules.failStatus };
  return { rule: 'configured', status: response.status };
}

const SECRET_NAMES = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
const SECRET_WORDS = new Set(['signature', 'token', 'secret', 'password', 'apikey', 'hmac']);

/**
 * Whether a captured header looks like it carries a credential: `Authorization`, `Cookie`, and
 * any name with one of the words signature, token, secret, password, hmac, or api-key/apikey
 * (`X-Hub-Signature-256`, `X-Gitlab-Token`, `X-Api-Key`, `X-Shopify-Hmac-Sha256`). A signature is
 * not a secret itself, but it is what a replay needs.
 */
export function isSecretLookingHeader(name: string): boolean {
  const lower = name.toLowerCase();
  if (SECRET_NAMES.has(lower)) return true;
  const words = lower.split(/[-_.]/);
  if (words.some((word) => SECRET_WORDS.has(word))) return true;
  return words.some((word, i) => word === 'key' && words[i - 1] === 'api');
}

/** The positions of the secret-looking headers in a request's header list. */
export function secretHeaderPositions(headers: readonly RawHeader[]): number[] {
  const positions: number[] = [];
  headers.forEach(([name], i) => {
    if (isSecretLookingHeader(name)) positions.push(i);
  });
  return positions;
}
