import { nestsDeeperThan } from '../core/json-depth.ts';
import type { SignInput, Signed } from './sign.ts';

/** A request as a provider sent it to a source, before anything touched it. */
export interface InboundRequest {
  method: string;
  /** The URL as the provider called it, with scheme, host and query: Twilio and others sign it. */
  url: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body, byte for byte. */
  body: Buffer;
  /** The body parsed as JSON, or null when it is not JSON: parsed once, when the request arrives. */
  json: unknown;
  /** Seconds since the epoch when it arrived. */
  nowSeconds: number;
}

export type Verification =
  | { ok: true }
  | { ok: false; diagnosis: string };

/** An answer to a provider's handshake, sent instead of accepting an event. */
export interface HandshakeReply {
  status: number;
  body: unknown;
}

/**
 * What Herald knows about one provider: how to check its signatures, how it names an event and
 * its type (for deduplication and endpoint filters), and any handshake to answer on its behalf.
 */
export interface Provider {
  /** Checks the request against the source's config; null config fields fail with a diagnosis. */
  verify(request: InboundRequest, config: Record<string, unknown>): Verification;
  /** The provider's own id for the event, if it gives one (read with `stringAt`: bodies are untrusted). */
  eventId?(request: InboundRequest, config: Record<string, unknown>): string | null | undefined;
  /** The event's type, for endpoint filters (read with `stringAt`). */
  eventType?(request: InboundRequest): string | null | undefined;
  /** A verification handshake (Slack, Zoom, Discord) to answer rather than forward. */
  handshake?(request: InboundRequest, config: Record<string, unknown>): HandshakeReply | null;
  /**
   * The headers the provider would send with this body, given the config a source of this type
   * holds (Discord: `privateKey` in place of `publicKey`). Throws a SigningError when it cannot.
   */
  sign?(input: SignInput, config: Record<string, unknown>): Signed;
}

/**
 * The body as JSON, or null when it is not JSON. A body nested deeper than Herald writes JSON out
 * again counts as not JSON: diagnoses re-serialise what was parsed, and nothing a provider sends
 * nests that deep.
 */
export function parseJson(body: Buffer): unknown {
  if (nestsDeeperThan(body)) return null;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
}

/**
 * The string at `path` in a parsed body, or null when there is none or it is not a string. Bodies
 * come from anyone who knows the URL, so a field a provider always sends as a string may hold a
 * number, an object or an array, before and after verification alike.
 */
export function stringAt(json: unknown, ...path: string[]): string | null {
  let value = json;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'string' ? value : null;
}

export const pass: Verification = { ok: true };
export const fail = (diagnosis: string): Verification => ({ ok: false, diagnosis });
