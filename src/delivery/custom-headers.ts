/**
 * Which custom headers an endpoint may carry. Herald sends them with every delivery, through
 * undici, so a header that undici refuses, or that speaks about the connection rather than the
 * event, would make every attempt fail or misbehave: the API refuses those names when they are
 * set, rather than keeping an endpoint that can never be delivered to. Each entry says why;
 * custom-headers.test.ts shows undici failing on the ones it refuses.
 */
export const REFUSED_HEADERS: ReadonlyMap<string, string> = new Map([
  // Herald's own.
  ['content-type', 'is set by Herald: deliveries are always application/json'],
  ['user-agent', 'is set by Herald'],
  // Framing: the body's length and coding are the HTTP client's to state.
  ['content-length', 'is set by the HTTP client from the body; another value makes undici fail the request'],
  ['transfer-encoding', 'is refused by undici (a delivery is sent with a Content-Length)'],
  ['trailer', 'announces trailer fields (RFC 9110 §6.6.2), which a delivery sent with a Content-Length never carries'],
  // Hop-by-hop (RFC 9110 §7.6.1): they describe Herald's connection to the next hop, not the event.
  ['host', 'names the server the URL already names; another value would route the request elsewhere (RFC 9110 §7.2)'],
  ['connection', 'is hop-by-hop (RFC 9110 §7.6.1): undici manages its own connections'],
  ['keep-alive', 'is refused by undici: it manages its own connections'],
  ['upgrade', 'is refused by undici: a delivery is one request, never a protocol switch'],
  ['expect', 'is refused by undici (Expect is not supported)'],
  ['te', 'is hop-by-hop (RFC 9110 §10.1.4): it asks for transfer codings Herald\'s client does not decode'],
]);

/** Name prefixes refused in any case, and why. */
export const REFUSED_PREFIXES: ReadonlyMap<string, string> = new Map([
  ['webhook-', 'is a Standard Webhooks header name, which Herald sets to sign each delivery'],
  ['svix-', 'is a Svix header name, which Herald sets to sign each delivery'],
  ['proxy-', 'is meant for a proxy (RFC 9110 §7.6.1, §11.7), not the receiver: Herald connects to endpoints directly'],
]);

// undici's own rules (lib/core/util.js): a header name is an RFC 9110 token...
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// ...and a value may hold tab, visible ASCII, space and bytes above 0x7f. Herald keeps to ASCII:
// bytes above 0x7f would be sent as Latin-1, which receivers read in as many ways as they decode.
const VALUE = /^[\t\x20-\x7e]*$/;

/** Why Herald refuses a custom header name, or null when it may be used. */
export function refusedHeaderName(name: string): string | null {
  if (!TOKEN.test(name)) return 'is not a valid header name (RFC 9110 token characters only)';
  const lower = name.toLowerCase();
  const refused = REFUSED_HEADERS.get(lower);
  if (refused) return refused;
  for (const [prefix, why] of REFUSED_PREFIXES) if (lower.startsWith(prefix)) return why;
  return null;
}

/** Why Herald refuses a custom header value, or null when it may be used. */
export function refusedHeaderValue(value: string): string | null {
  return VALUE.test(value) ? null : 'must be printable ASCII without line breaks';
}
