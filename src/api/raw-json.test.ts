import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RawJson, serializeAnswer } from './raw-json.ts';

it('writes each RawJson as its text, wherever it stands, and everything else as JSON.stringify does', () => {
  const value = { a: new RawJson('{"big":12345678901234567890, "x":1e400}'), list: [new RawJson('1.50'), 'plain'], n: 1 };
  assert.equal(serializeAnswer(value), '{"a":{"big":12345678901234567890, "x":1e400},"list":[1.50,"plain"],"n":1}');
  assert.equal(serializeAnswer({ s: 'no raw here', nested: { deep: [1, null] } }), JSON.stringify({ s: 'no raw here', nested: { deep: [1, null] } }));
});

it('leaves a string that looks like a marker alone: markers are unique to each answer', () => {
  const lookalike = '\u0000raw-0000000000000000-0';
  assert.equal(serializeAnswer({ s: lookalike, r: new RawJson('2') }), `{"s":${JSON.stringify(lookalike)},"r":2}`);
});

it('is the parsed value when written by JSON.stringify, as a log line would write it', () => {
  assert.equal(JSON.stringify({ p: new RawJson('{"a": [1, 2]}') }), '{"p":{"a":[1,2]}}');
});
