import type { Clock, Random } from './clock.ts';

/** Every public id is `<prefix>_<22 base62 chars>`, so its kind is visible in logs and URLs. */
export const ID_PREFIX = {
  application: 'app',
  endpoint: 'ep',
  message: 'msg',
  attempt: 'atmpt',
  task: 'qtask',
  token: 'tok',
  source: 'src',
  bin: 'bin',
  binRequest: 'breq',
  /** The one internal application whose endpoints are the operational webhook endpoints. */
  operational: 'ops',
} as const;
export type IdKind = keyof typeof ID_PREFIX;

// Digits, then upper, then lower case: ASCII order, so fixed-width strings sort like the numbers they encode.
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const WIDTH = 22; // 62^22 > 2^128
const TWO_32 = 2 ** 32;

export type IdGenerator = (kind: IdKind) => string;

/**
 * Ids are 48 bits of milliseconds followed by 80 random bits (the ULID layout), base62-encoded.
 * They sort by creation time, which is what keyset pagination and "newest first" lists rely on.
 * Within one millisecond the generator counts up from the previous value instead of drawing new
 * randomness, so ids made by one process are strictly increasing.
 *
 * The 128 bits are held as four 32-bit limbs in plain numbers rather than one BigInt: an id is
 * made for every message and every attempt, and BigInt division made encoding them a few
 * percent of the API's time.
 */
export function createIdGenerator(clock: Clock, random: Random): IdGenerator {
  let lastMs = -1;
  // The random part: 16 high bits, then two 32-bit limbs.
  let high = 0;
  let middle = 0;
  let low = 0;
  return (kind) => {
    const ms = Math.max(clock.now(), lastMs);
    if (ms === lastMs) {
      low = (low + 1) % TWO_32;
      if (low === 0) {
        middle = (middle + 1) % TWO_32;
        if (middle === 0) high = (high + 1) & 0xffff;
      }
    } else {
      lastMs = ms;
      // Ten random bytes shifted right by one: a spare top bit leaves room to count up.
      const b = random.bytes(10);
      const drawnHigh = (b[0]! << 8) | b[1]!;
      const drawnMiddle = ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0;
      const drawnLow = ((b[6]! << 24) | (b[7]! << 16) | (b[8]! << 8) | b[9]!) >>> 0;
      high = drawnHigh >>> 1;
      middle = ((drawnMiddle >>> 1) | ((drawnHigh & 1) << 31)) >>> 0;
      low = ((drawnLow >>> 1) | ((drawnMiddle & 1) << 31)) >>> 0;
    }
    return `${ID_PREFIX[kind]}_${encodeBase62(ms, high, middle, low)}`;
  };
}

/** True when `value` has the shape of an id of this kind (used to tell ids from user-chosen uids). */
export function looksLikeId(kind: IdKind, value: string): boolean {
  const prefix = ID_PREFIX[kind];
  return value.length === prefix.length + 1 + WIDTH && value.startsWith(`${prefix}_`);
}

const ID_BODY = new RegExp(`^[${ALPHABET}]{${WIDTH}}$`);

/** True when `value` is exactly an id of this kind as Herald writes them (a keyset cursor must be one). */
export function isId(kind: IdKind, value: string): boolean {
  return looksLikeId(kind, value) && ID_BODY.test(value.slice(ID_PREFIX[kind].length + 1));
}

/** The smallest id of this kind made at `ms`: every id made earlier sorts below it. */
export function smallestIdAt(kind: IdKind, ms: number): string {
  return `${ID_PREFIX[kind]}_${encodeBase62(Math.max(0, Math.floor(ms)), 0, 0, 0)}`;
}

/** The creation time encoded in an id, in epoch milliseconds. */
export function timestampOfId(id: string): number {
  const limbs = [0, 0, 0, 0];
  for (const char of id.slice(id.indexOf('_') + 1)) {
    let carry = ALPHABET.indexOf(char);
    for (let i = 3; i >= 0; i--) {
      const value = limbs[i]! * 62 + carry;
      limbs[i] = value % TWO_32;
      carry = Math.floor(value / TWO_32);
    }
  }
  // The top 48 bits: all of the first limb and the high half of the second.
  return limbs[0]! * 0x10000 + Math.floor(limbs[1]! / 0x10000);
}

/** Base62 of the 128-bit number `ms` (48 bits), `high` (16), `middle` (32), `low` (32). */
function encodeBase62(ms: number, high: number, middle: number, low: number): string {
  const limbs = [Math.floor(ms / 0x10000), (ms % 0x10000) * 0x10000 + high, middle, low];
  const chars = new Array<string>(WIDTH);
  for (let i = WIDTH - 1; i >= 0; i--) {
    // Long division by 62, most significant limb first; a remainder times 2^32 stays below 2^53.
    let remainder = 0;
    for (let j = 0; j < 4; j++) {
      const value = remainder * TWO_32 + limbs[j]!;
      const quotient = Math.floor(value / 62);
      limbs[j] = quotient;
      remainder = value - quotient * 62;
    }
    chars[i] = ALPHABET[remainder]!;
  }
  return chars.join('');
}
