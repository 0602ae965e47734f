/**
 * Request headers in any of the forms a Node.js service meets: a Fetch `Headers` (Next.js, Hono,
 * undici), Node's `IncomingHttpHeaders` (lower-case names, `string[]` for repeated ones), or a
 * plain object with names in any case.
 */
export type HeadersInput =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | number | undefined>>;

/** The header's value, repeated values joined by a space; undefined when absent or empty. */
export function headerValue(headers: HeadersInput, name: string): string | undefined {
  let value: unknown;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    value = (headers as { get(name: string): string | null }).get(name);
  } else {
    const record = headers as Record<string, unknown>;
    value = Object.hasOwn(record, name) ? record[name] : undefined;
    if (value === undefined) {
      for (const key of Object.keys(record)) {
        if (key.toLowerCase() === name) {
          value = record[key];
          break;
        }
      }
    }
  }
  if (Array.isArray(value)) value = value.join(' ');
  if (typeof value === 'number') value = String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}
