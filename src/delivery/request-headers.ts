import { secretKey, sign } from '../core/signing.ts';
import type { ClaimedDelivery } from '../store/store.ts';
import { VERSION } from '../version.ts';

export const USER_AGENT = `Herald/${VERSION}`;

/** Hop-by-hop and framing headers of a received request, which describe that connection, not the event. */
const NOT_FORWARDED = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer',
  'upgrade', 'expect', 'proxy-authorization', 'proxy-connection', 'accept-encoding']);

/** What the headers are made of: also what the API rebuilds an attempt's headers from. */
export interface DeliveryToSign {
  message: Pick<ClaimedDelivery['message'], 'id' | 'appId' | 'payload' | 'inbound'>;
  endpoint: Pick<ClaimedDelivery['endpoint'], 'headers' | 'secrets'>;
}

/** What a transformation made of the request: its headers and body replace the delivery's own. */
export interface TransformedContent {
  headers: Record<string, string>;
  /** Null for a request without a body (a GET). */
  contentType: string | null;
  body: Uint8Array;
}

/**
 * Signs at send time (design invariant 4): the timestamp is this attempt's, so a retry or a
 * replay days later still verifies within the receiver's tolerance. Herald's own headers go
 * last, so no custom header overrides them (the API refuses their names: custom-headers.ts).
 * With a transformation, the signature is made over the bytes the transformation produced, which
 * are the bytes sent (for a GET, none).
 */
export function deliveryHeaders(delivery: DeliveryToSign, nowMs: number, transformed?: TransformedContent): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  const keys = delivery.endpoint.secrets
    .filter((secret) => secret.expiresAt === null || secret.expiresAt > nowMs)
    .map((secret) => secretKey(secret.key));
  const signature = sign(keys, delivery.message.id, timestamp, transformed ? transformed.body : delivery.message.payload);
  if (transformed) return transformedHeaders(delivery, transformed, String(timestamp), signature);
  if (delivery.message.inbound) return forwardedHeaders(delivery, String(timestamp), signature);
  return {
    ...delivery.endpoint.headers,
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'webhook-id': delivery.message.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature,
    'svix-id': delivery.message.id,
    'svix-timestamp': String(timestamp),
    'svix-signature': signature,
  };
}

/**
 * The headers the transformation returned (which began as the endpoint's custom headers, or a
 * received request's forwarded ones), the content type it chose, then Herald's own, as always last.
 */
function transformedHeaders(delivery: DeliveryToSign, transformed: TransformedContent, timestamp: string, signature: string): Record<string, string> {
  const headers: Record<string, string> = { ...transformed.headers };
  if (transformed.contentType !== null) headers['content-type'] = transformed.contentType;
  headers['user-agent'] = USER_AGENT;
  headers['webhook-id'] = delivery.message.id;
  headers['webhook-timestamp'] = timestamp;
  headers['webhook-signature'] = signature;
  if (delivery.message.inbound) Object.assign(headers, sourceHeaders(delivery));
  else {
    headers['svix-id'] = delivery.message.id;
    headers['svix-timestamp'] = timestamp;
    headers['svix-signature'] = signature;
  }
  return headers;
}

/**
 * A received request as `herald listen --source` hands it to the local service: the provider's
 * headers as they came (its `webhook-*` among them, under their own names), and where it came
 * from, but no signature of Herald's, whose names would shadow a Standard Webhooks or Svix
 * sender's; the CLI fetched it with its token, so it needs none.
 */
export function receivedHeaders(delivery: DeliveryToSign): Record<string, string> {
  const inbound = delivery.message.inbound!;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(inbound.headers)) if (!NOT_FORWARDED.has(name)) headers[name] = value;
  return { ...headers, ...sourceHeaders(delivery) };
}

/** Which source received a forwarded request, and whether its signature held there. */
function sourceHeaders(delivery: DeliveryToSign): Record<string, string> {
  const verified = delivery.message.inbound!.verified;
  return { 'x-herald-source': delivery.message.appId, 'x-herald-verified': verified === null ? 'unchecked' : String(verified) };
}

/** The headers a received request is forwarded with, before Herald's own: what a transformation of it starts from. */
export function forwardedRequestHeaders(delivery: DeliveryToSign): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(delivery.message.inbound?.headers ?? {})) {
    if (NOT_FORWARDED.has(name)) continue;
    headers[name.startsWith('webhook-') ? `x-original-${name}` : name] = value;
  }
  return { ...headers, ...delivery.endpoint.headers };
}

/**
 * A received request goes on with the provider's own headers, so the user's service can still
 * check the provider's signature on the untouched body, and with Herald's Standard Webhooks
 * signature beside them. Where the provider itself sent `webhook-*` headers (a Standard Webhooks
 * sender), they go on as `x-original-webhook-*`, since Herald's take those names.
 */
function forwardedHeaders(delivery: DeliveryToSign, timestamp: string, signature: string): Record<string, string> {
  return {
    ...forwardedRequestHeaders(delivery),
    'user-agent': USER_AGENT,
    'webhook-id': delivery.message.id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signature,
    ...sourceHeaders(delivery),
  };
}
