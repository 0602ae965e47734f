import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Random } from './clock.ts';

const PREFIX = 'enc1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals secrets for storage with AES-256-GCM: `enc1:` + base64(iv ‖ ciphertext ‖ tag). The
 * authentication tag means a value altered in the database fails to open rather than decrypting
 * to garbage. A fresh random IV per value: the same secret never seals the same way twice.
 */
export interface SecretBox {
  seal(plaintext: string): string;
  /** Opens a sealed value; a value that was never sealed (stored before encryption) is returned as is. */
  open(stored: string): string;
}

export function createSecretBox(key: Uint8Array, random: Random): SecretBox {
  if (key.length !== 32) throw new Error('The encryption key must be 32 bytes (AES-256).');
  return {
    seal(plaintext) {
      const iv = random.bytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return PREFIX + sealed.toString('base64');
    },
    open(stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      const sealed = Buffer.from(stored.slice(PREFIX.length), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}
