/** Reads OTEL_EXPORTER_OTLP_HEADERS (`k=v,k2=v2`, values URL-encoded, as the specification says). */
export function parseOtlpHeaders(text: string): Record<string, string> | null {
  if (text.trim() === '') return {};
  const headers: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) return null;
    try {
      headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      return null;
    }
  }
  return headers;
}
