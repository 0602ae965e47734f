import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nestsDeeperThan } from './json-depth.ts';

const bytes = (text: string) => Buffer.from(text);

describe('nestsDeeperThan', () => {
  it('counts arrays and objects together, up to the limit and past it', () => {
    assert.equal(nestsDeeperThan(bytes('[{"a":[1]}]'), 3), false);
    assert.equal(nestsDeeperThan(bytes('[{"a":[[1]]}]'), 3), true);
    assert.equal(nestsDeeperThan(bytes(`${'['.repeat(256)}${']'.repeat(256)}`)), false);
    assert.equal(nestsDeeperThan(bytes(`${'['.repeat(257)}${']'.repeat(257)}`)), true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    assert.equal(nestsDeeperThan(bytes('["[[[[", "\\"[[[[", {"k[[[": "{{{{"}]'), 2), false);
  });

  it('counts depth reached, not depth closed, so unclosed text counts too', () => {
    assert.equal(nestsDeeperThan(bytes('['.repeat(100_000)), 256), true);
    assert.equal(nestsDeeperThan(bytes('[][][][][][]'), 1), false);
  });
});
