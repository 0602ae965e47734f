/**
 * Numbers as the API wrote them. Herald answers with a payload's own bytes, and a number such as
 * `12345678901234567890` or `4200.50` does not survive JSON.parse; shown or copied from a parse,
 * the payload would not be the one sent. `parseExact` keeps each number whose text a parse would
 * change as an ExactNumber holding that text (JSON.parse's source text access), and `prettyExact`
 * writes it back as it came. Elsewhere an ExactNumber reads as the nearest number (`toJSON`).
 */
export class ExactNumber {
  readonly source: string;

  constructor(source: string) {
    this.source = source;
  }

  toJSON(): number {
    return Number(this.source);
  }
}

type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;

const keepExact: Reviver = (_key, value, context) =>
  typeof value === 'number' && context?.source !== undefined && String(value) !== context.source ? new ExactNumber(context.source) : value;

export function parseExact(text: string): unknown {
  return JSON.parse(text, keepExact as (key: string, value: unknown) => unknown);
}

/** JSON.stringify(value, null, 2), with each ExactNumber written as its own text. */
export function prettyExact(value: unknown): string {
  const sources: string[] = [];
  const marker = `\u0000exact-${Math.random().toString(36).slice(2)}-`;
  const text = JSON.stringify(value, function replacer(this: Record<string, unknown>, key: string, current: unknown) {
    const own = this[key];
    if (!(own instanceof ExactNumber)) return current;
    sources.push(own.source);
    return `${marker}${sources.length - 1}`;
  }, 2);
  if (sources.length === 0 || text === undefined) return text ?? '';
  const quoted = JSON.stringify(marker).slice(0, -1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`${quoted}(\\d+)"`, 'g'), (_, index: string) => sources[Number(index)]!);
}
