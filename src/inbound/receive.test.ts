import assert from 'node:assert/strict';
import { it } from 'node:test';
import { withoutToken } from './receive.ts';

it('takes a source URL token out of text however it is written: as is, percent-encoded once or twice, or in part', () => {
  const token = '1Ab_c-Def';
  const cases: Array<[string, string]> = [
    ['/in/1Ab_c-Def?x=1', '/in/{token}?x=1'],
    ['/in/%31Ab_c-Def', '/in/{token}'],
    ['/in/%31%41b%5Fc-Def', '/in/{token}'],
    ['%2Fin%2F1Ab_c-Def%3Fx%3D1', '/in/{token}?x=1'],
    ['/in/%2531Ab_c-Def', '/in/{token}'],
    ['https://h/in/1Ab_c-Def, https://h/in/%31Ab_c-Def', 'https://h/in/{token}, https://h/in/{token}'],
  ];
  for (const [text, expected] of cases) assert.equal(withoutToken(text, token), expected, text);
});

it('leaves text without the token as it came, escapes and malformed ones included', () => {
  for (const text of ['/in/other?q=a%20b', '100%', '%E0%A4%A', '/in/%zz1Ab']) assert.equal(withoutToken(text, '1Ab_c-Def'), text);
});
