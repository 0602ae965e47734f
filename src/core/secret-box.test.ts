import assert from 'node:assert/strict';
import { it } from 'node:test';
import { systemRandom } from './clock.ts';
import { createSecretBox } from './secret-box.ts';

const box = createSecretBox(Buffer.alloc(32, 1), systemRandom);

it('seals a value so that only the key opens it, differently each time', () => {
  const sealed = box.seal('whsec_secret');
  assert.match(sealed, /^enc1:/);
  assert.equal(sealed.includes('whsec_secret'), false);
  assert.notEqual(box.seal('whsec_secret'), sealed);
  assert.equal(box.open(sealed), 'whsec_secret');
  assert.throws(() => createSecretBox(Buffer.alloc(32, 2), systemRandom).open(sealed));
});

it('refuses a sealed value that was altered', () => {
  const sealed = Buffer.from(box.seal('value').slice(5), 'base64');
  sealed[14]! ^= 1;
  assert.throws(() => box.open(`enc1:${sealed.toString('base64')}`));
});

it('passes through a value stored before encryption', () => {
  assert.equal(box.open('whsec_plain'), 'whsec_plain');
});
