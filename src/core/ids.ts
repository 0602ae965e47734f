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
} as const;
export type IdKind = keyof typeof ID_PREFIX;

// Digits, then upper, then lower case: ASCII order, so fixed-width strings sort like the numbers they encode.
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const WIDTH = 22; // 62^22 > 2^128
const RANDOM_BITS = 80n;
const RANDOM_MASK = (1n << RANDOM_BITS) - 1n;

export type IdGenerator = (kind: IdKind) => string;

/**
 * Ids are 48 bits of milliseconds followed by 80 random bits (the ULID layout), base62-encoded.
 * They sort by creation time, which is what keyset pagination and "newest first" lists rely on.
 * Within one millisecond the generator counts up from the previous value instead of drawing new
 * randomness, so ids made by one process are strictly increasing.
 */
export function createIdGenerator(clock: Clock, random: Random): IdGenerator {
  let lastMs = -1;
  let lastRandom = 0n;
  return (kind) => {
    const ms = Math.max(clock.now(), lastMs);
    if (ms === lastMs) {
      lastRandom = (lastRandom + 1n) & RANDOM_MASK;
    } else {
      lastMs = ms;
      lastRandom = bytesToBigInt(random.bytes(10)) >> 1n; // a spare top bit leaves room to count up
    }
    return `${ID_PREFIX[kind]}_${encodeBase62((BigInt(ms) << RANDOM_BITS) | lastRandom)}`;
  };
}

/** True when `value` has the shape of an id of this kind (used to tell ids from user-chosen uids). */
export function looksLikeId(kind: IdKind, value: string): boolean {
  const prefix = ID_PREFIX[kind];
  return value.length === prefix.length + 1 + WIDTH && value.startsWith(`${prefix}_`);
}

/** The smallest id of this kind made at `ms`: every id made earlier sorts below it. */
export function smallestIdAt(kind: IdKind, ms: number): string {
  return `${ID_PREFIX[kind]}_${encodeBase62(BigInt(Math.max(0, Math.floor(ms))) << RANDOM_BITS)}`;
}

/** The creation time encoded in an id, in epoch milliseconds. */
export function timestampOfId(id: string): number {
  const encoded = id.slice(id.indexOf('_') + 1);
  let value = 0n;
  for (const char of encoded) value = value * 62n + BigInt(ALPHABET.indexOf(char));
  return Number(value >> RANDOM_BITS);
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function encodeBase62(value: bigint): string {
  const chars = new Array<string>(WIDTH);
  for (let i = WIDTH - 1; i >= 0; i--) {
    chars[i] = ALPHABET[Number(value % 62n)]!;
    value /= 62n;
  }
  return chars.join('');
}
