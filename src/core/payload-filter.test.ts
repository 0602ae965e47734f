import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileFilter, FILTER_LIMITS, type FilterDocument } from './payload-filter.ts';

const compiled = (filter: unknown) => {
  const result = compileFilter(filter);
  if ('problem' in result) throw new Error(`${result.problem.loc.join('.')}: ${result.problem.msg}`);
  return result.filter;
};
const problemOf = (filter: unknown) => {
  const result = compileFilter(filter);
  return 'problem' in result ? result.problem : null;
};
const doc = (payload: unknown, over: Partial<FilterDocument> = {}): FilterDocument => ({ eventType: 'invoice.paid', channels: null, payload, ...over });
const nestedAnd = (levels: number): Record<string, unknown> => (levels === 0 ? { 'payload.a': 1 } : { $and: [nestedAnd(levels - 1)] });
const matches = (filter: unknown, document: FilterDocument) => compiled(filter)(document);

describe('a payload filter', () => {
  it('matches the event type, the channels and the payload\'s fields under payload.', () => {
    const filter = { eventType: 'invoice.paid', channels: 'eu', 'payload.amount': { $gt: 100 } };
    assert.equal(matches(filter, doc({ amount: 150 }, { channels: ['us', 'eu'] })), true);
    assert.equal(matches(filter, doc({ amount: 50 }, { channels: ['eu'] })), false);
    assert.equal(matches(filter, doc({ amount: 150 }, { channels: ['us'] })), false);
    assert.equal(matches(filter, doc({ amount: 150 }, { eventType: 'invoice.sent', channels: ['eu'] })), false);
  });

  it('tells a payload field called eventType from the message\'s event type', () => {
    assert.equal(matches({ 'payload.eventType': 'x' }, doc({ eventType: 'x' })), true);
    assert.equal(matches({ eventType: 'x' }, doc({ eventType: 'x' })), false);
  });

  it('follows a path through an array into each of its objects, and by index', () => {
    const payload = { items: [{ sku: 'a', price: 5 }, { sku: 'b', price: 50 }] };
    assert.equal(matches({ 'payload.items.price': { $gt: 20 } }, doc(payload)), true);
    assert.equal(matches({ 'payload.items.price': { $gt: 60 } }, doc(payload)), false);
    assert.equal(matches({ 'payload.items.0.sku': 'a' }, doc(payload)), true);
    assert.equal(matches({ 'payload.items.1.sku': 'a' }, doc(payload)), false);
    assert.equal(matches({ 'payload.items.sku': { $in: ['c', 'b'] } }, doc(payload)), true);
  });

  it('matches an array value when one of its elements does, or when it equals the operand whole', () => {
    assert.equal(matches({ 'payload.tags': 'vip' }, doc({ tags: ['new', 'vip'] })), true);
    assert.equal(matches({ 'payload.tags': ['new', 'vip'] }, doc({ tags: ['new', 'vip'] })), true);
    assert.equal(matches({ 'payload.tags': ['vip', 'new'] }, doc({ tags: ['new', 'vip'] })), false);
    assert.equal(matches({ 'payload.tags': { $ne: 'vip' } }, doc({ tags: ['new', 'vip'] })), false);
  });

  it('compares objects whole, whatever their key order', () => {
    assert.equal(matches({ 'payload.customer': { id: 1, tier: 'gold' } }, doc({ customer: { tier: 'gold', id: 1 } })), true);
    assert.equal(matches({ 'payload.customer': { id: 1 } }, doc({ customer: { tier: 'gold', id: 1 } })), false);
  });

  it('treats a missing path as MongoDB does: $ne, $nin, $not and $eq null hold, comparisons do not', () => {
    const empty = doc({});
    assert.equal(matches({ 'payload.x': { $ne: 1 } }, empty), true);
    assert.equal(matches({ 'payload.x': { $nin: [1] } }, empty), true);
    assert.equal(matches({ 'payload.x': { $not: { $gt: 1 } } }, empty), true);
    assert.equal(matches({ 'payload.x': null }, empty), true);
    assert.equal(matches({ 'payload.x': { $in: [null, 2] } }, empty), true);
    assert.equal(matches({ 'payload.x': { $lt: 1 } }, empty), false);
    assert.equal(matches({ 'payload.x': { $exists: false } }, empty), true);
    assert.equal(matches({ 'payload.x': { $exists: true } }, doc({ x: null })), true);
  });

  it('compares numbers with numbers and strings with strings only', () => {
    assert.equal(matches({ 'payload.n': { $gt: 5 } }, doc({ n: '9' })), false);
    assert.equal(matches({ 'payload.s': { $gte: 'b' } }, doc({ s: 'c' })), true);
    assert.equal(matches({ 'payload.s': { $lt: 'b' } }, doc({ s: 5 })), false);
  });

  it('combines conditions with $and, $or and $not, and several operators on one path', () => {
    const filter = { $or: [{ 'payload.amount': { $gte: 100, $lt: 200 } }, { $not: { eventType: { $regex: '^invoice\\.' } } }] };
    assert.equal(matches(filter, doc({ amount: 150 })), true);
    assert.equal(matches(filter, doc({ amount: 250 })), false);
    assert.equal(matches(filter, doc({ amount: 250 }, { eventType: 'order.made' })), true);
    assert.equal(matches({ $and: [{ 'payload.a': 1 }, { 'payload.b': 2 }] }, doc({ a: 1, b: 2 })), true);
    assert.equal(matches({ $and: [{ 'payload.a': 1 }, { 'payload.b': 2 }] }, doc({ a: 1, b: 3 })), false);
  });

  it('runs $regex in time linear in the string, even for patterns that make RegExp backtrack', () => {
    const long = 'a'.repeat(100_000);
    const started = performance.now();
    assert.equal(matches({ 'payload.s': { $regex: '\\w+@' } }, doc({ s: long })), false);
    assert.equal(matches({ 'payload.s': { $regex: '^(a+)+$' } }, doc({ s: `${long}!` })), false);
    assert.equal(matches({ 'payload.s': { $regex: '.*.*.*x' } }, doc({ s: long })), false);
    // RegExp takes seconds on the first and longer than anyone waits on the others.
    assert.ok(performance.now() - started < 2_000, `took ${performance.now() - started} ms`);
  });

  it('matches $regex against strings, with the i, m and s options', () => {
    assert.equal(matches({ 'payload.email': { $regex: '@example\\.com$' } }, doc({ email: 'a@example.com' })), true);
    assert.equal(matches({ 'payload.email': { $regex: '@EXAMPLE\\.com$', $options: 'i' } }, doc({ email: 'a@example.com' })), true);
    assert.equal(matches({ 'payload.email': { $regex: '@EXAMPLE\\.com$' } }, doc({ email: 'a@example.com' })), false);
    assert.equal(matches({ 'payload.n': { $regex: '1' } }, doc({ n: 1 })), false);
  });

  it('sees no payload in a message whose body is not JSON, yet still its event type', () => {
    assert.equal(matches({ eventType: 'invoice.paid' }, doc(undefined)), true);
    assert.equal(matches({ payload: { $exists: false } }, doc(undefined)), true);
    assert.equal(matches({ 'payload.a': 1 }, doc(undefined)), false);
  });

  it('reads only a document\'s own properties, never its prototype\'s', () => {
    assert.equal(matches({ 'payload.toString': { $exists: true } }, doc({})), false);
    assert.equal(matches({ 'payload.length': 2 }, doc('ab')), false);
    assert.equal(matches({ 'payload.items.length': 2 }, doc({ items: [1, 2] })), false);
  });

  it('matches everything when empty', () => {
    assert.equal(matches({}, doc(1)), true);
  });
});

describe('a payload filter that cannot be used', () => {
  const cases: Array<[string, unknown, string[]]> = [
    ['is not an object', ['payload.a'], []],
    ['starts a path elsewhere than eventType, channels or payload', { amount: 1 }, ['amount']],
    ['has an empty path segment', { 'payload..a': 1 }, ['payload..a']],
    ['names __proto__ in a path', { 'payload.__proto__.x': 1 }, ['payload.__proto__.x']],
    ['names constructor in a path', { 'payload.constructor': 1 }, ['payload.constructor']],
    ['names __proto__ in an operand', JSON.parse('{"payload.a": {"$eq": {"__proto__": {"x": 1}}}}'), ['payload.a', '$eq', '__proto__']],
    ['uses an unknown operator', { 'payload.a': { $where: 'x' } }, ['payload.a', '$where']],
    ['uses an unknown top-level operator', { $nor: [] }, ['$nor']],
    ['mixes operators and fields', { 'payload.a': { $gt: 1, b: 2 } }, ['payload.a', 'b']],
    ['gives $and no list', { $and: { 'payload.a': 1 } }, ['$and']],
    ['gives $or an empty list', { $or: [] }, ['$or']],
    ['puts a non-query in $or', { $or: [{ 'payload.a': 1 }, 3] }, ['$or', '1']],
    ['gives $in no array', { 'payload.a': { $in: 1 } }, ['payload.a', '$in']],
    ['compares with an object', { 'payload.a': { $gt: {} } }, ['payload.a', '$gt']],
    ['gives $exists a non-boolean', { 'payload.a': { $exists: 1 } }, ['payload.a', '$exists']],
    ['gives $not a value', { 'payload.a': { $not: 5 } }, ['payload.a', '$not']],
    ['gives $regex an invalid pattern', { 'payload.a': { $regex: '(' } }, ['payload.a', '$regex']],
    ['gives $regex a look-around', { 'payload.a': { $regex: 'a(?=b)' } }, ['payload.a', '$regex']],
    ['gives $regex a pattern that compiles too large', { 'payload.a': { $regex: '[a-z]{300}[0-9]{300}' } }, ['payload.a', '$regex']],
    ['gives $regex a back-reference', { 'payload.a': { $regex: '(a)\\1' } }, ['payload.a', '$regex']],
    ['gives $regex too long a pattern', { 'payload.a': { $regex: 'a'.repeat(FILTER_LIMITS.maxRegexLength + 1) } }, ['payload.a', '$regex']],
    ['gives $options an unknown flag', { 'payload.a': { $regex: 'a', $options: 'g' } }, ['payload.a', '$options']],
    ['gives $options without $regex', { 'payload.a': { $options: 'i' } }, ['payload.a', '$options']],
    // Each $and is two levels (its list, then the query in it); the first level past the limit is named.
    ['nests too deep', nestedAnd(FILTER_LIMITS.maxDepth / 2 + 1), Array.from({ length: FILTER_LIMITS.maxDepth / 2 }, () => ['$and', '0']).flat()],
    ['has too many conditions', Object.fromEntries(Array.from({ length: FILTER_LIMITS.maxConditions + 1 }, (_, i) => [`payload.f${i}`, i])), [`payload.f${FILTER_LIMITS.maxConditions}`]],
    ['is too long', { 'payload.a': { $in: Array.from({ length: 5_000 }, (_, i) => i) } }, []],
    ['has too long a path', { [`payload${'.a'.repeat(FILTER_LIMITS.maxPathSegments)}`]: 1 }, [`payload${'.a'.repeat(FILTER_LIMITS.maxPathSegments)}`]],
  ];
  for (const [what, filter, loc] of cases) {
    it(`is refused, naming the failing part, when it ${what}`, () => {
      const problem = problemOf(filter);
      assert.ok(problem, 'refused');
      assert.deepEqual(problem.loc, loc);
      assert.ok(problem.msg.length > 0);
    });
  }

  it('accepts the usual bounded patterns', () => {
    for (const pattern of ['^invoice\\.', '^[A-Z]{3}-\\d+$', '^(INV|CRN)-\\d{4,8}$', '(?:ab){2}', '[(|)]+', 'a?b?', '^(a+)+$', '(a|ab)*c']) {
      assert.equal(problemOf({ 'payload.a': { $regex: pattern } }), null, pattern);
    }
  });
});

/**
 * The reference: MongoDB's rules as written in the module's comment, read straight off the raw
 * filter each time (no compiling), with equality through canonical JSON.
 */
function referenceMatches(query: Record<string, unknown>, document: FilterDocument): boolean {
  const root: Record<string, unknown> = { eventType: document.eventType };
  if (document.channels !== null) root.channels = document.channels;
  if (document.payload !== undefined) root.payload = document.payload;
  return queryHolds(query, root);
}

function queryHolds(query: Record<string, unknown>, root: unknown): boolean {
  return Object.entries(query).every(([key, value]) => {
    if (key === '$and') return (value as Array<Record<string, unknown>>).every((q) => queryHolds(q, root));
    if (key === '$or') return (value as Array<Record<string, unknown>>).some((q) => queryHolds(q, root));
    if (key === '$not') return !queryHolds(value as Record<string, unknown>, root);
    const values = valuesAt(root, key.split('.'));
    const isOperators = isObject(value) && Object.keys(value).length > 0 && Object.keys(value).every((k) => k.startsWith('$'));
    return isOperators ? operatorsHold(value, values) : operatorsHold({ $eq: value }, values);
  });
}

function valuesAt(value: unknown, path: string[]): unknown[] {
  if (path.length === 0) return [value];
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(value)) {
    const byIndex = String(Number(head)) === head && Number(head) >= 0 && Number(head) < value.length ? valuesAt(value[Number(head)], rest) : [];
    return [...byIndex, ...value.flatMap((element) => (isObject(element) && Object.hasOwn(element, head) ? valuesAt(element[head], rest) : []))];
  }
  return isObject(value) && Object.hasOwn(value, head) ? valuesAt(value[head], rest) : [];
}

function operatorsHold(operators: Record<string, unknown>, values: unknown[]): boolean {
  const candidates = [...values, ...values.flatMap((value) => (Array.isArray(value) ? value : []))];
  const some = (test: (value: unknown) => boolean) => candidates.some(test);
  const eq = (operand: unknown) => (operand === null && values.length === 0) || some((value) => canonical(value) === canonical(operand));
  return Object.entries(operators).every(([operator, operand]) => {
    switch (operator) {
      case '$eq': return eq(operand);
      case '$ne': return !eq(operand);
      case '$in': return (operand as unknown[]).some(eq);
      case '$nin': return !(operand as unknown[]).some(eq);
      case '$gt': return some((v) => typeof v === typeof operand && (v as number) > (operand as number));
      case '$gte': return some((v) => typeof v === typeof operand && (v as number) >= (operand as number));
      case '$lt': return some((v) => typeof v === typeof operand && (v as number) < (operand as number));
      case '$lte': return some((v) => typeof v === typeof operand && (v as number) <= (operand as number));
      case '$exists': return (values.length > 0) === operand;
      case '$regex': return some((v) => typeof v === 'string' && new RegExp(operand as string, (operators.$options as string | undefined) ?? '').test(v));
      case '$options': return true;
      case '$not': return !operatorsHold(operand as Record<string, unknown>, values);
      default: throw new Error(`the generator made ${operator}`);
    }
  });
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const canonical = (value: unknown): string => JSON.stringify(value, (_, v) => (isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v));

describe('the evaluator against the reference', () => {
  const keys = ['a', 'b', '0', '1'];
  const scalar = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', 'y', 'xy', 'X', ''), fc.boolean(), fc.constant(null));
  const json = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', maxDepth: 3, withCrossShrink: true },
      scalar,
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom(...keys), tie('value'), { maxKeys: 3 })),
  })).value;
  const document = fc.record({
    eventType: fc.constantFrom('a.b', 'a.c'),
    channels: fc.option(fc.uniqueArray(fc.constantFrom('eu', 'us'), { maxLength: 2 }), { nil: null }),
    payload: fc.option(json, { nil: undefined }),
  });
  const path = fc.oneof(
    fc.constant('eventType'),
    fc.constant('channels'),
    fc.array(fc.constantFrom(...keys), { maxLength: 3 }).map((segments) => ['payload', ...segments].join('.')),
  );
  const operand = fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }), fc.dictionary(fc.constantFrom(...keys), scalar, { maxKeys: 2 }), fc.constantFrom('a.b', 'eu'));
  const leaf = fc.oneof(
    fc.record({ $eq: operand }), fc.record({ $ne: operand }),
    fc.record({ $in: fc.array(operand, { maxLength: 3 }) }), fc.record({ $nin: fc.array(operand, { maxLength: 3 }) }),
    fc.constantFrom('$gt', '$gte', '$lt', '$lte').chain((op) => fc.record({ [op]: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', 'y', 'a.b')) })),
    fc.record({ $exists: fc.boolean() }),
    fc.record({ $regex: fc.constantFrom('^x', 'y$', 'x?y', '^$', 'a\\.b', 'X'), $options: fc.constantFrom('i', 's') }, { requiredKeys: ['$regex'] }),
  );
  const clause = fc.oneof(
    operand.filter((value) => !isObject(value) || !Object.keys(value).some((key) => key.startsWith('$'))),
    leaf,
    fc.tuple(leaf, leaf).map(([x, y]) => ({ ...x, ...y })),
    leaf.map((inner) => ({ $not: inner })),
  );
  const query = fc.letrec<{ query: Record<string, unknown> }>((tie) => ({
    query: fc.oneof({ depthSize: 'small', maxDepth: 3 },
      fc.dictionary(path, clause, { minKeys: 1, maxKeys: 3 }),
      fc.array(tie('query'), { minLength: 1, maxLength: 3 }).map((queries) => ({ $and: queries })),
      fc.array(tie('query'), { minLength: 1, maxLength: 3 }).map((queries) => ({ $or: queries })),
      tie('query').map((inner) => ({ $not: inner }))),
  })).query;

  it('agrees on every generated document and query', () => {
    let matched = 0;
    fc.assert(fc.property(query, fc.array(document, { minLength: 1, maxLength: 8 }), (filter, documents) => {
      const evaluate = compiled(filter);
      for (const d of documents) {
        const expected = referenceMatches(filter, d);
        if (expected) matched++;
        assert.equal(evaluate(d), expected, JSON.stringify({ filter, document: d }));
      }
    }), { numRuns: 3_000, seed: 17 });
    assert.ok(matched > 1_000, `the generators made matches often enough to mean something (${matched})`);
  });
});
