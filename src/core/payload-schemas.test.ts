import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSchemas, MAX_VIOLATIONS, schemaProblems, versionsNewestFirst } from './payload-schemas.ts';

describe('payload schemas', () => {
  it('orders versions newest first, numerically', () => {
    assert.deepEqual(versionsNewestFirst({ 1: {}, 10: {}, 9: {}, 2: {} }), ['10', '9', '2', '1']);
  });

  it('checks against the newest version unless one is named, and answers null for a version it lacks', () => {
    const schemas = compileSchemas({ 1: { type: 'object', required: ['a'] }, 2: { type: 'object', required: ['b'] } });
    assert.deepEqual(schemas.check({ a: 1 }), { version: '2', violations: [{ path: ['b'], rule: 'required', message: 'field required' }] });
    assert.deepEqual(schemas.check({ a: 1 }, '1'), { version: '1', violations: [] });
    assert.equal(schemas.check({ a: 1 }, '3'), null);
  });

  it('names the path of each violation, array indexes and missing or extra properties included', () => {
    const schemas = compileSchemas({
      1: {
        type: 'object',
        properties: { items: { type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } }, required: ['id'] } }, 'a/b': { type: 'string' } },
        additionalProperties: false,
      },
    });
    const found = schemas.check({ items: [{ id: 1, n: 1 }, { n: 'x' }], 'a/b': 1, extra: 0 })!.violations.map((v) => [v.path, v.rule]);
    assert.deepEqual(new Set(found.map((f) => JSON.stringify(f))), new Set([
      [['items', '1', 'n'], 'type'], [['items', '1', 'id'], 'required'], [['a/b'], 'type'], [['extra'], 'additionalProperties'],
    ].map((f) => JSON.stringify(f))));
  });

  it('checks formats, and the 2020-12 dialect when the schema names it', () => {
    const formats = compileSchemas({ 1: { type: 'object', properties: { at: { type: 'string', format: 'date-time' }, id: { type: 'string', format: 'uuid' } } } });
    assert.deepEqual(formats.check({ at: 'yesterday', id: 'x' })!.violations.map((v) => v.rule), ['format', 'format']);
    const tuple = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'string' }], items: false };
    assert.deepEqual(compileSchemas({ 1: tuple }).check(['a', 'b'])!.violations.map((v) => v.path), [[]]);
  });

  it('reports a failing anyOf once, not each of its branches', () => {
    const schemas = compileSchemas({ 1: { type: 'object', properties: { id: { anyOf: [{ type: 'string' }, { type: 'integer' }] } } } });
    assert.deepEqual(schemas.check({ id: 1.5 })!.violations.map((v) => [v.path, v.rule]), [[['id'], 'anyOf']]);
  });

  it('reports at most MAX_VIOLATIONS violations', () => {
    const schemas = compileSchemas({ 1: { type: 'array', items: { type: 'string' } } });
    assert.equal(schemas.check(Array.from({ length: 100 }, (_, i) => i))!.violations.length, MAX_VIOLATIONS);
  });

  it('never fills in defaults: the payload is sent as published', () => {
    const payload: Record<string, unknown> = {};
    compileSchemas({ 1: { type: 'object', properties: { a: { type: 'string', default: 'x' } } } }).check(payload);
    assert.deepEqual(payload, {});
  });

  it('finds schemas that cannot compile, and skips them when checking', () => {
    const schemas = { 1: { type: 'object', required: ['a'] }, 2: { type: 'nonsense' }, 3: { $ref: 'https://example.com/remote.json' } };
    assert.deepEqual([...schemaProblems(schemas).keys()], ['2', '3']);
    const compiled = compileSchemas(schemas);
    assert.deepEqual(compiled.versions, ['1']);
    assert.equal(compiled.check({})!.version, '1');
  });

  it('accepts OpenAPI keywords a documentation schema carries', () => {
    assert.equal(schemaProblems({ 1: { type: 'object', example: { a: 1 }, 'x-internal': true, properties: { a: { type: 'string', nullable: true } } } }).size, 0);
  });
});
