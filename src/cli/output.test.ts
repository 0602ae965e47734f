import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { details, indentJson, printable, Progress, type Screen, screenOf, table, when } from './output.ts';

const plain = (width: number | null): Screen => ({ tty: false, width, color: false });
const NOW = Date.parse('2025-06-01T12:00:00Z');

describe('the command line output', () => {
  const rows = [
    { id: 'ep_0357Z2gNmrgLzBN6aCevti', url: 'https://hooks.example.test/a/very/long/path/to/the/receiver', at: when('2025-06-01T11:55:00Z', NOW) },
    { id: 'ep_0357Z2gNmrgLzBN6aCevtj', url: 'https://b.test/', at: when('2025-05-30T12:00:00Z', NOW) },
  ];
  const columns = [
    { header: 'ID', cell: (r: (typeof rows)[number]) => r.id, keep: true },
    { header: 'URL', cell: (r: (typeof rows)[number]) => r.url },
    { header: 'CREATED', cell: (r: (typeof rows)[number]) => r.at },
  ];

  it('lays a table out in columns, whole when nothing limits its width', () => {
    const lines = table(rows, columns, plain(null)).split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^ID +URL +CREATED$/);
    assert.equal(lines[0]!.indexOf('URL'), lines[1]!.indexOf('https:'));
    assert.equal(lines[0]!.indexOf('CREATED'), lines[1]!.indexOf('5m ago'));
    assert.ok(lines[1]!.includes(rows[0]!.url));
    assert.ok(lines[1]!.endsWith('5m ago (2025-06-01 11:55:00Z)'));
  });

  it('fits a table into the width by cutting the widest columns, never an id', () => {
    for (const width of [100, 70, 50]) {
      const lines = table(rows, columns, plain(width)).split('\n');
      for (const line of lines) assert.ok([...line].length <= width, `${JSON.stringify(line)} is wider than ${width}`);
      assert.ok(lines[1]!.startsWith('ep_0357Z2gNmrgLzBN6aCevti  '), 'the id stays whole');
    }
    // Times give up their absolute form first, then the URL is cut.
    const timesShort = table(rows, columns, plain(95)).split('\n');
    assert.ok(timesShort[1]!.includes(rows[0]!.url));
    assert.match(timesShort[2]!, /2d ago$/);
    const narrow = table(rows, columns, plain(70)).split('\n');
    assert.match(narrow[1]!, /https:\/\/hooks\.example\.test\/\S*… +5m ago$/);
    assert.equal([...narrow[0]!].length, 70, 'the room freed by the times goes to the URL');
    // Shortened to how long ago, a time is cut no further, even under a shorter header.
    const at = [columns[0]!, columns[1]!, { header: 'AT', cell: (r: (typeof rows)[number]) => r.at }];
    const narrowest = table(rows, at, plain(36)).split('\n');
    assert.match(narrowest[1]!, / 5m ago$/);
    assert.match(narrowest[2]!, / 2d ago$/);
  });

  it('colours only when the screen takes colour', () => {
    const coloured = table(rows, columns, { tty: true, width: null, color: true });
    assert.match(coloured, /\x1b\[1mID/);
    assert.doesNotMatch(table(rows, columns, plain(null)), /\x1b/);
  });

  it('shows control characters from the API escaped, so a name cannot drive the terminal', () => {
    assert.equal(printable('evil\x1b[2Jname\nnext'), 'evil\\x1b[2Jname next');
    const lines = table([{ id: 'x', url: '\x1b]0;title\x07', at: null }], columns, plain(null)).split('\n');
    assert.doesNotMatch(lines[1]!, /\x1b|\x07/);
  });

  it('says times relatively and absolutely, in the past and the future', () => {
    assert.equal(when('2025-06-01T12:00:00.400Z', NOW), 'just now (2025-06-01 12:00:00Z)');
    assert.equal(when('2025-06-01T11:59:15Z', NOW), '45s ago (2025-06-01 11:59:15Z)');
    assert.equal(when('2025-06-01T09:00:00Z', NOW), '3h ago (2025-06-01 09:00:00Z)');
    assert.equal(when('2025-06-01T12:10:00Z', NOW), 'in 10m (2025-06-01 12:10:00Z)');
    assert.equal(when(null, NOW), null);
  });

  it('lays JSON out again without parsing it, so numbers and escapes stay as written', () => {
    const text = '{ "big": 12345678901234567890, "s": "a\\"b,{c}", "list": [1, {}, []], "e": {} }';
    assert.equal(indentJson(text, null), '{"big":12345678901234567890,"s":"a\\"b,{c}","list":[1,{},[]],"e":{}}');
    assert.equal(indentJson(text, '  '), '{\n  "big": 12345678901234567890,\n  "s": "a\\"b,{c}",\n  "list": [\n    1,\n    {},\n    []\n  ],\n  "e": {}\n}');
  });

  it("shows an object's fields, times and nested values, from the JSON as it came", () => {
    const raw = Buffer.from('{"id":"msg_1","payload":{"n":12345678901234567890,"deep":{"a":[1,2]}},"channels":["a","b"],"eventId":null,"timestamp":"2025-06-01T11:00:00Z"}');
    const text = details(JSON.parse(raw.toString()), plain(null), raw, NOW);
    assert.equal(text, [
      'id         msg_1',
      'payload',
      '  {',
      '    "n": 12345678901234567890,',
      '    "deep": {',
      '      "a": [',
      '        1,',
      '        2',
      '      ]',
      '    }',
      '  }',
      'channels   a, b',
      'eventId    -',
      'timestamp  1h ago (2025-06-01 11:00:00Z)',
    ].join('\n'));
  });

  it('draws a progress bar only on a terminal, and wipes it when done', () => {
    let written = '';
    const stream = { write: (text: string) => (written += text) };
    const bar = new Progress(stream, { tty: true, width: 80, color: false }, 'sending', 4);
    for (let i = 0; i < 4; i++) bar.advance();
    bar.finish();
    assert.match(written, /sending \[#+\] 4\/4 \d+\.\ds/);
    assert.ok(written.endsWith('\r\x1b[2K'));
    written = '';
    const quiet = new Progress(stream, screenOf(stream, {}), 'sending', 4);
    quiet.advance(4);
    quiet.finish();
    assert.equal(written, '');
  });

  it('takes colour and width from a terminal, never colour with NO_COLOR or off a terminal', () => {
    const tty = { write: () => true, isTTY: true, columns: 120 };
    assert.deepEqual(screenOf(tty, {}), { tty: true, width: 120, color: true });
    assert.deepEqual(screenOf(tty, { NO_COLOR: '1' }), { tty: true, width: 120, color: false });
    assert.deepEqual(screenOf({ write: () => true }, {}), { tty: false, width: null, color: false });
    assert.deepEqual(screenOf({ write: () => true }, { COLUMNS: '64' }), { tty: false, width: 64, color: false });
  });
});
