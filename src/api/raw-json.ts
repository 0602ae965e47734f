import { randomBytes } from 'node:crypto';

/**
 * JSON text written into an answer as it is, not parsed and written again: a payload's bytes are
 * the bytes published (design invariant 3), and parsing them as JavaScript values would change
 * what a client reads back (an integer past 2^53 rounded, `1e400` written as null, `1.50` as
 * 1.5). Only text known to be JSON may be wrapped: a published payload was parsed on the way in,
 * a received body is parsed before it is shown as JSON.
 *
 * Serialised with anything but `serializeAnswer` (a log line, a test's JSON.stringify), it is the
 * parsed value, as answers were before: never `{"text": ...}`.
 */
export class RawJson {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * JSON.stringify for answers, writing each RawJson's text in its place. The replacer sees values
 * after `toJSON`, so it looks at the holder's own value (`this[key]`) and leaves a marker there;
 * the markers, unique to this call, are then swapped for the texts. Answers without a RawJson
 * are written as JSON.stringify writes them.
 */
export function serializeAnswer(value: unknown): string {
  const texts: string[] = [];
  let marker: string | null = null;
  const json = JSON.stringify(value, function replacer(this: Record<string, unknown>, key: string, current: unknown) {
    const own = this[key];
    if (!(own instanceof RawJson)) return current;
    marker ??= `\u0000raw-${randomBytes(8).toString('hex')}-`;
    texts.push(own.text);
    return `${marker}${texts.length - 1}`;
  });
  if (marker === null) return json;
  // A marker's NUL is written `\u0000` inside its quotes, so the quoted marker is matched whole.
  const quoted = JSON.stringify(marker).slice(0, -1);
  return json.replace(new RegExp(`${escapeRegExp(quoted)}(\\d+)"`, 'g'), (_, index: string) => texts[Number(index)]!);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
