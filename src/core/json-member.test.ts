import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { memberRange } from './json-member.ts';

const slice = (text: string, name = 'payload') => {
  const bytes = Buffer.from(text, 'utf8');
  const range = memberRange(bytes, name);
  return range && bytes.toString('utf8', range.start, range.end);
};

describe('the byte range of a top-level JSON member', () => {
  it('finds the value with its own spacing, without the spaces around it', () => {
    assert.equal(slice('{"eventType":"a.b","payload": { "x" : [1, 2] } ,"eventId":null}'), '{ "x" : [1, 2] }');
    assert.equal(slice('\n{ "payload"\t:\r\n12345678901234567890\n}\n'), '12345678901234567890');
    assert.equal(slice('{"payload":1e400}'), '1e400');
    assert.equal(slice('{"a":true,"payload":-1e-400,"b":false}'), '-1e-400');
  });

  it('skips strings that hold quotes, backslashes, braces and the name itself', () => {
    assert.equal(slice('{"a":"\\"payload\\": {","payload":"x\\\\"}'), '"x\\\\"');
    assert.equal(slice('{"a":{"payload":1,"b":"}]"},"payload":[{"c":"\\\\\\""}]}'), '[{"c":"\\\\\\""}]');
    assert.equal(slice('{"a":["payload",{"payload":2}],"payload":{"é😀":"\\u00e9"}}'), '{"é😀":"\\u00e9"}');
  });

  it('takes the last of duplicate members, as JSON.parse does', () => {
    assert.equal(slice('{"payload":{"first":1},"eventType":"x","payload":{"second":2}}'), '{"second":2}');
  });

  it('compares a key written with escapes by what it decodes to', () => {
    assert.equal(slice('{"p\\u0061yload":{"escaped":true}}'), '{"escaped":true}');
    assert.equal(slice('{"payload":1,"\\u0070ayload":2}'), '2');
    assert.equal(slice('{"payload\\"":1}'), null);
  });

  it('finds nothing in an object without the member, or in a value that is not an object', () => {
    assert.equal(slice('{}'), null);
    assert.equal(slice('{"payloads":1,"payloa":2,"x":{"payload":3}}'), null);
    assert.equal(slice('[{"payload":1}]'), null);
    assert.equal(slice('"payload"'), null);
    assert.equal(slice('null'), null);
  });

  it('reads past a byte order mark', () => {
    assert.equal(slice('\ufeff{"payload":{"a":1}}'), '{"a":1}');
  });

  it('finds members by other names too', () => {
    assert.equal(slice('{"eventType":"a.b","payload":{}}', 'eventType'), '"a.b"');
  });
});

// JSON texts written in every way the grammar allows: spacing anywhere, strings with or without
// \u escapes, numbers JSON.parse cannot hold exactly, duplicate keys. Each comes with the text of
// the last top-level `payload` member's value, which is what the scanner must find.

const space = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ', '  ');
const escapeAll = (s: string) => `"${[...s].map((ch) => [...ch].map((_, i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')).join('')}"`;
const stringText = (s: fc.Arbitrary<string>) => fc.tuple(s, fc.boolean()).map(([value, escaped]) => (escaped ? escapeAll(value) : JSON.stringify(value)));
const tricky = fc.constantFrom('"', '\\', '\\"', '}', ']', '{"payload":1}', 'payload', 'é😀', '\u2028', '\u0000');
const anyString = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), tricky);
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom('12345678901234567890', '-98765432109876543210', '1e400', '-1e-400', '1E+2', '0.1e-0', '-0', '1.0', '2.50'),
);

const { value: valueText } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, numberText, stringText(anyString), fc.constantFrom('true', 'false', 'null'), tie('array'), tie('object')),
  array: fc.tuple(space, fc.array(fc.tuple(space, tie('value'), space), { maxLength: 4 })).map(([s, items]) =>
    `[${items.length ? items.map(([a, v, b]) => a + v + b).join(',') : s}]`),
  object: fc.tuple(space, fc.array(fc.tuple(space, stringText(fc.constantFrom('payload', 'a', 'b', 'p"q')), space, space, tie('value'), space), { maxLength: 4 })).map(
    ([s, members]) => `{${members.length ? members.map(([a, k, b, c, v, d]) => `${a}${k}${b}:${c}${v}${d}`).join(',') : s}}`,
  ),
}));

/** A top-level object, with the text of the value of its last `payload` member (or null). */
const document = fc
  .tuple(space, space, fc.array(fc.tuple(space, stringText(fc.constantFrom('payload', 'eventType', 'payloa', 'x')), space, space, valueText, space), { maxLength: 6 }))
  .map(([before, after, members]) => {
    const text = `${before}{${members.map(([a, k, b, c, v, d]) => `${a}${k}${b}:${c}${v}${d}`).join(',')}}${after}`;
    const payloads = members.filter(([, k]) => JSON.parse(k) === 'payload');
    return { text, payload: payloads.length ? payloads.at(-1)![4] : null };
  });

describe('the byte range of a top-level JSON member, against JSON.parse', () => {
  it('finds exactly the text of the last payload member, whose parse is what JSON.parse gives for it', () => {
    fc.assert(
      fc.property(document, ({ text, payload }) => {
        const parsed = JSON.parse(text) as Record<string, unknown>;
        const found = slice(text);
        assert.equal(found, payload);
        if (found !== null) assert.deepEqual(JSON.parse(found), parsed.payload);
        else assert.equal(Object.hasOwn(parsed, 'payload'), false);
      }),
      { numRuns: 2_000 },
    );
  });

  it('agrees with JSON.parse on any JSON value JSON.stringify writes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.boolean(), (value, payload, wrap) => {
        const text = JSON.stringify(wrap ? { before: value, payload, after: value } : value);
        const found = slice(text);
        const parsed = JSON.parse(text) as unknown;
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && Object.hasOwn(parsed, 'payload')) {
          assert.ok(found !== null);
          assert.deepEqual(JSON.parse(found), (parsed as { payload: unknown }).payload);
        } else {
          assert.equal(found, null);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
