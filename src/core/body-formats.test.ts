import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toFormData, toXml, withQuery, XmlShapeError } from './body-formats.ts';

describe('form data', () => {
  it('flattens nested objects and arrays to bracketed keys, in the object\'s order, with null as an empty value', () => {
    const text = toFormData({ id: 'o 1', amount: 12.5, paid: true, gift: null, customer: { name: 'Ada', tags: ['a', 'b'] } });
    assert.deepEqual([...new URLSearchParams(text)], [
      ['id', 'o 1'], ['amount', '12.5'], ['paid', 'true'], ['gift', ''], ['customer[name]', 'Ada'], ['customer[tags][0]', 'a'], ['customer[tags][1]', 'b'],
    ]);
  });

  it('escapes what would otherwise split a pair', () => {
    assert.deepEqual(Object.fromEntries(new URLSearchParams(toFormData({ 'a&b': 'c=d&e', ü: '+' }))), { 'a&b': 'c=d&e', ü: '+' });
  });

  it('adds the pairs to a URL\'s own query, keeping what it had', () => {
    assert.equal(withQuery('http://127.0.0.1/x?keep=1', { id: 'o-1', n: [1] }), 'http://127.0.0.1/x?keep=1&id=o-1&n%5B0%5D=1');
  });
});

describe('XML', () => {
  it('makes an object whose only member is an object that element, and anything else a <payload>', () => {
    assert.equal(toXml({ order: { id: 'o-1' } }), '<?xml version="1.0" encoding="UTF-8"?><order><id>o-1</id></order>');
    assert.equal(toXml({ id: 1, ok: true }), '<?xml version="1.0" encoding="UTF-8"?><payload><id>1</id><ok>true</ok></payload>');
    assert.equal(toXml({ items: [1, 2] }), '<?xml version="1.0" encoding="UTF-8"?><payload><items>1</items><items>2</items></payload>');
  });

  it('repeats an array\'s element, writes null as an empty element and escapes text', () => {
    assert.equal(toXml({ o: { item: [{ sku: 'a' }, { sku: 'b' }], gift: null, note: '<b> & c' } }),
      '<?xml version="1.0" encoding="UTF-8"?><o><item><sku>a</sku></item><item><sku>b</sku></item><gift/><note>&lt;b&gt; &amp; c</note></o>');
  });

  it('takes a key of any script XML names allow: letters first, then digits and marks', () => {
    assert.equal(toXml({ x: 1, 'ü': 'é', '日付': '二', 'naïve·2': 3 }), '<?xml version="1.0" encoding="UTF-8"?><payload><x>1</x><ü>é</ü><日付>二</日付><naïve·2>3</naïve·2></payload>');
  });

  it('refuses a key that cannot be an element name, or text XML cannot carry, naming where', () => {
    assert.throws(() => toXml({ order: { '1st': 1 } }), (error: Error) => error instanceof XmlShapeError && /order\.1st: "1st"/.test(error.message));
    assert.throws(() => toXml({ order: { 'a b': 1 } }), XmlShapeError);
    assert.throws(() => toXml({ xmlns: { a: 1 } }), XmlShapeError);
    assert.throws(() => toXml({ order: { 'a:b': 1 } }), XmlShapeError, 'a colon would name a namespace');
    assert.throws(() => toXml({ order: { '·a': 1 } }), XmlShapeError, 'a middle dot may follow a letter, not start a name');
    assert.throws(() => toXml({ order: { note: 'bell \u0007' } }), /control character/);
  });
});
