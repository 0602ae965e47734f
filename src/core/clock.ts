import { randomBytes } from 'node:crypto';

/**
 * Time and randomness are passed in rather than read from globals, so ids, jitter and
 * retry timing can be tested without waiting for minutes (design invariant 8).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface Random {
  /** Cryptographically strong random bytes (ids, secrets, tokens). */
  bytes(length: number): Uint8Array;
  /** A uniform number in [0, 1) for jitter; need not be cryptographic. */
  fraction(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export const systemRandom: Random = {
  bytes: (length) => (length <= POOLED_DRAW ? pooledBytes(length) : randomBytes(length)),
  fraction: () => Math.random(),
};

// Every call to randomBytes goes into OpenSSL: ids and IVs, drawn for each message and each
// attempt, come instead from a pool refilled 4 KiB at a time, as crypto.randomUUID does. Keys
// and tokens (longer draws) never pass through it.
const POOLED_DRAW = 16;
const POOL_SIZE = 4096;
let pool: Uint8Array = new Uint8Array(0);
let used = 0;

function pooledBytes(length: number): Uint8Array {
  if (used + length > pool.length) {
    pool = randomBytes(POOL_SIZE);
    used = 0;
  }
  used += length;
  // A view, not a copy: a pool is never written again once drawn from, a new one replaces it.
  return pool.subarray(used - length, used);
}
