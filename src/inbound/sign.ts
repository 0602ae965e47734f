import { parseJson } from './request.ts';

/**
 * What signing a request takes: the exact bytes to send, where to, when, and a fresh id. Each
 * provider's `sign` (beside its `verify`, so one file knows each scheme both ways) turns this and
 * the same config a source of its type holds into the headers the provider would send.
 */
export interface SignInput {
  /** The body, byte for byte, as it will be sent. */
  body: Buffer;
  /** The URL the request goes to, or null when not known: Twilio signs it, and so may an `hmac` scheme. */
  url: string | null;
  /** Unix seconds, for the schemes that sign a timestamp. */
  timestamp: number;
  /** A fresh id for the delivery, for the headers that name one (X-GitHub-Delivery, webhook-id, …). */
  id: string;
  /** The provider's name for the event, for its event header (X-GitHub-Event, X-Shopify-Topic, …); null for its default. */
  event: string | null;
}

export interface Signed {
  /** The headers, named as the provider writes them, in the order it sends them. */
  headers: Record<string, string>;
  /** The URL to call, when signing changes it (Twilio's `bodySHA256` for a JSON body). */
  url?: string;
  /** What the signer cannot fix but a verifier will check (Linear's timestamp lives in the body). */
  notes?: string[];
}

/** A request that cannot be signed as asked (a scheme that signs the URL, given none; a malformed key). */
export class SigningError extends Error {
  override name = 'SigningError';
}

/** The secret a signing config holds, or a SigningError naming the provider. */
export function secretOf(config: Record<string, unknown>, provider: string): string {
  const secret = config.secret;
  if (typeof secret !== 'string' || secret === '') throw new SigningError(`${provider} signs with a secret: none was given.`);
  return secret;
}

/**
 * The content type a provider would send these bytes with: JSON when they parse as JSON, a form
 * when they read as one (Twilio, Slack's slash commands), plain text otherwise.
 */
export function contentTypeOf(body: Buffer): string {
  if (parseJson(body) !== null || body.toString('utf8').trim() === 'null') return 'application/json';
  return isFormLike(body) ? 'application/x-www-form-urlencoded' : 'text/plain';
}

const isFormLike = (body: Buffer) => /^[\w.%+*~-]+=[^&]*(&[\w.%+*~-]+=[^&]*)*$/.test(body.toString('utf8'));
