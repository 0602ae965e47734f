import { createHash } from 'node:crypto';
import { applicationOf, type InboundEnvelope, type Source } from '../core/model.ts';
import type { Publisher } from '../delivery/publish.ts';
import { StoreError } from '../store/errors.ts';
import type { Store } from '../store/store.ts';
import { PROVIDERS, UNVERIFIED_TYPES, verify } from './providers/index.ts';
import { secretHeadersOf } from './source-config.ts';
import type { HandshakeReply, InboundRequest } from './request.ts';

export type ReceiveOutcome =
  | { kind: 'accepted'; messageId: string; duplicateOf: string | null }
  | { kind: 'rejected'; messageId: string; diagnosis: string }
  | { kind: 'handshake'; reply: HandshakeReply };

/** What a stored request's URL shows in place of the source's token. */
export const URL_TOKEN_PLACEHOLDER = '{token}';

/** Ids and types become a message's eventId and eventType, whose characters the API restricts. */
const NAME = /^[a-zA-Z0-9\-_.]{1,256}$/;

/**
 * What a source does with a request: verify it on its raw bytes, answer a handshake, or store it
 * (byte for byte, with its headers and URL) and fan it out to the source's endpoints through the
 * same queue as every other message. A request whose provider event id was seen before is kept as
 * a duplicate linked to the first and goes nowhere; so is a rejected one, with the diagnosis.
 * Resolves once what was stored is committed, so the provider's 2xx means "kept".
 */
export async function receive(store: Store, publisher: Publisher, source: Source, request: InboundRequest): Promise<ReceiveOutcome> {
  const provider = PROVIDERS[source.type];
  if (!provider) throw new Error(`Source ${source.id} has an unknown type ${source.type}.`);
  const verification = verify(provider, request, source.config);
  const app = applicationOf(source);
  const eventType = clean(readField(() => provider.eventType?.(request))) ?? `${source.type}.webhook`;
  const secretHeaders = secretHeadersOf(source.type, source.config, request.headers);
  const envelope: InboundEnvelope = {
    method: request.method,
    // The URL token is a credential, and nothing after verification needs it: not in the URL, nor
    // in a header a proxy added that repeats the path (x-forwarded-uri, x-original-url...).
    url: withoutToken(request.url, source.token),
    headers: headersWithoutToken(request.headers, source.token),
    ...(secretHeaders.length > 0 ? { secretHeaders } : {}),
    verified: UNVERIFIED_TYPES.has(source.type) ? null : verification.ok,
    diagnosis: verification.ok ? null : verification.diagnosis,
    duplicateOf: null,
  };
  const input = { eventType, eventId: null, channels: null, payload: request.body, inbound: envelope };

  if (!verification.ok) {
    const rejected = await publisher.record(app, input);
    return { kind: 'rejected', messageId: rejected.id, diagnosis: verification.diagnosis };
  }
  const handshake = readField(() => provider.handshake?.(request, source.config));
  if (handshake) return { kind: 'handshake', reply: handshake };

  // Providers retry until they see a 2xx, so the same event arrives again: its id (or, without
  // one, the body's hash) is the eventId, unique per source for as long as messages are kept.
  const providerId = readField(() => provider.eventId?.(request, source.config));
  const eventId = typeof providerId !== 'string' || providerId === ''
    ? `sha256-${sha256(request.body)}`
    : NAME.test(providerId) ? providerId : `sha256-${sha256(providerId)}`;
  try {
    const message = await publisher.publish(app, { ...input, eventId });
    return { kind: 'accepted', messageId: message.id, duplicateOf: null };
  } catch (error) {
    if (!(error instanceof StoreError && error.code === 'conflict')) throw error;
    const first = await store.messages.get(source.id, eventId);
    const duplicate = await publisher.record(app, { ...input, inbound: { ...envelope, duplicateOf: first?.id ?? null } });
    return { kind: 'accepted', messageId: duplicate.id, duplicateOf: first?.id ?? null };
  }
}

/**
 * The text with the token replaced by URL_TOKEN_PLACEHOLDER, as written or percent-encoded
 * (`/in/%51Lu...` reaches the same source as `/in/QLu...`): each piece between URL delimiters that
 * decodes to the token, once or twice encoded, is replaced whole. Text without `%` costs a search.
 */
export function withoutToken(text: string, token: string): string {
  // Encoded pieces first: `%3` + `1abc…` holds the token `1abc…` as written, but reads `%31abc…`.
  const pieces = text.includes('%') ? text.replace(ENCODED_PIECE, (piece) => decodedWithoutToken(piece, token) ?? piece) : text;
  return pieces.includes(token) ? pieces.replaceAll(token, URL_TOKEN_PLACEHOLDER) : pieces;
}

/** A run between URL delimiters holding a `%`. */
const ENCODED_PIECE = /[^/?&=#;,\s]*%[^/?&=#;,\s]*/g;

/** The piece decoded with the token replaced, if it decodes (once or twice) to text holding the token. */
function decodedWithoutToken(piece: string, token: string): string | null {
  let decoded = piece;
  for (let i = 0; i < 2 && decoded.includes('%'); i++) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      break;
    }
  }
  return decoded !== piece && decoded.includes(token) ? decoded.replaceAll(token, URL_TOKEN_PLACEHOLDER) : null;
}

function headersWithoutToken(headers: Record<string, string>, token: string): Record<string, string> {
  let copy: Record<string, string> | null = null;
  for (const [name, value] of Object.entries(headers)) {
    const cleaned = withoutToken(value, token);
    if (cleaned !== value) (copy ??= { ...headers })[name] = cleaned;
  }
  return copy ?? headers;
}

const sha256 = (value: string | Buffer) => createHash('sha256').update(value).digest('hex');

/** What a provider reads from a request (an id, a type, a handshake), or null if reading it fails. */
function readField<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

/** A provider's id or type made fit for a message's eventId or eventType; null when it is no string. */
function clean(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  if (NAME.test(value)) return value;
  const replaced = value.replace(/[^a-zA-Z0-9\-_.]/g, '_').slice(0, 256);
  return replaced || null;
}
