import { isSecretLookingHeader } from '../core/bins.ts';
import { type Attempt, type Endpoint, type Message, sentNothing } from '../core/model.ts';
import { deliveryHeaders } from '../delivery/request-headers.ts';

/** Svix's `MessageAttemptHeadersOut`, with the rest of the request line and body (Herald's extension). */
export interface AttemptHeadersOut {
  sentHeaders: Record<string, string>;
  /** Not kept: storing every response's headers would cost each attempt's write. */
  responseHeaders: Array<[string, string]> | null;
  sensitive: string[];
  /** The request's method: POST, a received request's own, or the one a transformation chose. */
  method: string;
  /**
   * The body sent, as text: the payload's bytes, or those a transformation made; null once the
   * payload is erased, or when nothing was sent. Text, not JSON, so it reads as the bytes went.
   */
  body: string | null;
  /**
   * The endpoint was changed after the attempt: the headers, rebuilt from it as it is now (its
   * custom headers, its secrets), may differ from those sent. False when it has not changed.
   */
  endpointChanged: boolean;
  /** Only where a transformation made the body: the same as `body` (kept for older readers). */
  transformedBody?: string | null;
}

const MASK = '****';
const SIGNATURE_HEADERS = new Set(['webhook-signature', 'svix-signature']);

/**
 * The headers an attempt was sent with, rebuilt rather than stored: they are made by the same
 * function the sender uses, from what the attempt's request was made of. The timestamp is the
 * attempt's start (`createdAt`, the moment the sender signed at), so `webhook-timestamp` is exact;
 * the message id, the payload and a received request's headers never change. What may have
 * changed since is the endpoint: its custom headers are its current ones (none once it is
 * deleted), and the signature is made with its secrets valid at the attempt's time, which after
 * a rotation include the new secret and may leave out one that has since expired. A request an
 * endpoint's transformation made is kept with its attempt (model.ts TransformedRequest): its
 * headers and body stand in for the endpoint's and the payload, and once its body is erased with
 * the payload its signature can no longer be rebuilt.
 *
 * Sensitive, and masked unless `reveal` (an admin token, or an application token with
 * ViewEndpointSecret, which can read the secret that makes them anyway): the signatures (masked
 * as `v1,****`, keeping each signature's scheme) and every header named like a credential (the
 * rule request bins use). Always masked, whoever asks: a received request's headers that carry
 * its source's secret, which the API never shows, and signatures that cannot be rebuilt (the
 * payload was erased, the endpoint deleted or its secrets unreadable). An attempt that sent
 * nothing (a disabled endpoint, an unreadable secret) has no headers.
 */
export function attemptHeaders(attempt: Attempt, message: Message, endpoint: Endpoint | null, reveal: boolean): AttemptHeadersOut {
  const transformed = attempt.transformed;
  const method = transformed?.method ?? message.inbound?.method ?? 'POST';
  if (sentNothing(attempt.failureReason)) {
    return { sentHeaders: {}, responseHeaders: null, sensitive: [], method, body: null, endpointChanged: false };
  }
  const usable = endpoint !== null && !endpoint.unavailable;
  const signable = usable && message.payloadErasedAt == null && endpoint.secrets.length > 0 && transformed?.body !== null;
  // A transformed request's own headers and body stand in for the endpoint's and the payload.
  const sent = deliveryHeaders({
    message,
    endpoint: { headers: usable ? endpoint.headers : {}, secrets: usable ? endpoint.secrets : [] },
  }, attempt.createdAt, transformed ? { ...transformed, body: transformed.body ?? new Uint8Array() } : undefined);
  const sealed = new Set(message.inbound?.secretHeaders ?? []);
  const sensitive: string[] = [];
  const sentHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(sent)) {
    const signature = SIGNATURE_HEADERS.has(name);
    // A forwarded header keeps its name, or takes `x-original-` before a provider's `webhook-*`.
    const secret = sealed.has(name) || (name.startsWith('x-original-') && sealed.has(name.slice(11)));
    if (!signature && !secret && !isSecretLookingHeader(name)) {
      sentHeaders[name] = value;
      continue;
    }
    sensitive.push(name);
    const shown = reveal && !secret && (!signature || signable);
    sentHeaders[name] = shown ? value : signature ? maskSignature(value) : MASK;
  }
  const text = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('utf8'));
  const body = transformed ? text(transformed.body) : message.payloadErasedAt == null ? text(message.payload) : null;
  const endpointChanged = endpoint === null || endpoint.updatedAt > attempt.createdAt;
  return { sentHeaders, responseHeaders: null, sensitive, method, body, endpointChanged, ...(transformed ? { transformedBody: body } : {}) };
}

/** `v1,abc v1a,def` as `v1,**** v1a,****`: which schemes signed shows, the signatures do not. */
function maskSignature(value: string): string {
  if (value === '') return MASK;
  return value.split(' ').map((part) => (part.includes(',') ? `${part.slice(0, part.indexOf(',') + 1)}${MASK}` : MASK)).join(' ');
}
