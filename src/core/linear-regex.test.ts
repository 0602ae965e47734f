import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileLinearRegex, MAX_PROGRAM } from './linear-regex.ts';

const refusal = (pattern: string, flags = '') => {
  try {
    compileLinearRegex(pattern, flags);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
};

describe('the linear-time matcher', () => {
  it('agrees with RegExp on generated patterns and texts, every flag combination', () => {
    // Patterns built from the supported syntax over a small alphabet, so texts often match.
    const literal = fc.constantFrom('a', 'b', 'A', 'B', '-', ' ', '\\.', '\\-', '\\n', '\\x61', '\\u0042', '.');
    const klass = fc.constantFrom('[ab]', '[^a]', '[a-c]', '[A-Z]', '[\\d\\s]', '[^\\w]', '[.-]', '[-a]', '[\\b]', '\\d', '\\D', '\\w', '\\W', '\\s', '\\S');
    const anchor = fc.constantFrom('^', '$', '\\b', '\\B');
    const quantifier = fc.constantFrom('', '', '*', '+', '?', '{2}', '{1,}', '{0,2}', '*?', '+?', '{1,3}?');
    const pattern = fc.letrec<{ pattern: string; atom: string }>((tie) => ({
      atom: fc.oneof({ maxDepth: 3, depthSize: 'small' },
        literal, klass,
        tie('pattern').map((inner) => `(${inner})`),
        tie('pattern').map((inner) => `(?:${inner})`)),
      pattern: fc.oneof({ maxDepth: 3, depthSize: 'small' },
        fc.array(fc.oneof(fc.tuple(tie('atom'), quantifier).map(([a, q]) => a + q), anchor), { minLength: 0, maxLength: 4 }).map((parts) => parts.join('')),
        fc.tuple(tie('pattern'), tie('pattern')).map(([x, y]) => `${x}|${y}`)),
    })).pattern;
    const text = fc.array(fc.constantFrom('a', 'b', 'A', 'B', 'c', '-', ' ', '.', '\n', '1', '_', 'ſ', 'K'), { maxLength: 10 }).map((chars) => chars.join(''));
    const flags = fc.constantFrom('', 'i', 'm', 's', 'im', 'is', 'ms', 'ims');
    let matched = 0;
    fc.assert(fc.property(pattern, flags, fc.array(text, { minLength: 1, maxLength: 6 }), (source, flag, texts) => {
      let native: RegExp;
      try {
        native = new RegExp(source, flag);
      } catch {
        return; // e.g. a quantifier after an anchor: not a pattern at all
      }
      const linear = compileLinearRegex(source, flag);
      for (const t of texts) {
        const expected = native.test(t);
        if (expected) matched++;
        assert.equal(linear.test(t), expected, `/${source}/${flag} on ${JSON.stringify(t)}`);
      }
    }), { numRuns: 5_000, seed: 17 });
    assert.ok(matched > 2_000, `the generators made matches often enough to mean something (${matched})`);
  });

  it('keeps to linear time where RegExp backtracks for seconds', () => {
    const long = 'a'.repeat(200_000);
    for (const [pattern, flags] of [['\\w+@', ''], ['(a+)+$', ''], ['(a|aa)*b', 'i'], ['.*.*.*x', 's'], ['(x?){30}x{30}', '']] as const) {
      const started = performance.now();
      assert.equal(compileLinearRegex(pattern, flags).test(`${long}!`), false, pattern);
      assert.ok(performance.now() - started < 1_500, `/${pattern}/ took ${performance.now() - started} ms`);
    }
  });

  it('refuses what cannot run in linear time or is not supported, saying what', () => {
    assert.match(refusal('a(?=b)')!, /look-around/);
    assert.match(refusal('(?<!a)b')!, /look-around/);
    assert.match(refusal('(a)\\1')!, /back-reference/);
    assert.match(refusal('(?<n>a)\\k<n>')!, /back-reference/);
    assert.match(refusal('\\p{L}')!, /escape/);
    assert.match(refusal(`a{${MAX_PROGRAM + 1}}`)!, /more than/);
    assert.match(refusal('[a-z]{200}[0-9]{400}')!, /too complex/);
    assert.match(refusal('a', 'g')!, /flags/);
    for (const broken of ['(', 'a)', '[a', '*a', 'a**', 'a{2,1}', '\\', '^*']) assert.ok(refusal(broken), broken);
  });
});
