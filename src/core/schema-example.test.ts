import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSchemas } from './payload-schemas.ts';
import { exampleFor } from './schema-example.ts';

/** Whether `payload` passes `schema`, by the same check publishing makes. */
const violations = (schema: object, payload: unknown) => compileSchemas({ 1: schema }).check(payload)!.violations;

describe('schema examples', () => {
  it("uses the schema's own example first", () => {
    assert.deepEqual(exampleFor({ type: 'object', examples: [{ a: 1 }, { a: 2 }] }), { a: 1 });
    assert.deepEqual(exampleFor({ type: 'object', example: { b: 1 } }), { b: 1 });
    assert.equal(exampleFor({ enum: ['gold', 'silver'] }), 'gold');
    assert.equal(exampleFor({ const: 7 }), 7);
    assert.equal(exampleFor({ type: 'string', default: 'eur' }), 'eur');
  });

  it('makes one up that names each property, and that passes its schema', () => {
    const schema = {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        email: { type: 'string', format: 'email' },
        at: { type: 'string', format: 'date-time' },
        site: { type: 'string', format: 'uri' },
        amount: { type: 'integer', minimum: 100, multipleOf: 25 },
        ratio: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        negative: { type: 'integer', maximum: -5 },
        code: { type: 'string', minLength: 12, maxLength: 12 },
        paid: { type: 'boolean' },
        note: { type: ['string', 'null'] },
        tags: { type: 'array', items: { type: 'string' }, minItems: 2 },
        lines: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } }, required: ['sku', 'qty'] } },
        status: { enum: ['open', 'closed'] },
        choice: { oneOf: [{ type: 'null' }, { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] }] },
        both: { allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { type: 'object', properties: { b: { type: 'integer' } }, required: ['b'] }] },
      },
      required: ['id', 'email', 'amount', 'undocumented'],
      additionalProperties: { type: 'string' },
    };
    const example = exampleFor(schema) as Record<string, unknown>;
    assert.deepEqual(violations(schema, example), []);
    assert.equal(example.amount, 100);
    assert.equal(example.email, 'user@example.com');
    assert.deepEqual(example.tags, ['tags', 'tags']);
    assert.equal(typeof example.undocumented, 'string');
  });

  it('follows local $refs, OpenAPI components included, and stops a recursive one', () => {
    const document = {
      components: { schemas: { Address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
    };
    const schema = { type: 'object', properties: { address: { $ref: '#/components/schemas/Address' } } };
    assert.deepEqual(exampleFor(schema, { ...document, ...schema }), { address: { city: 'city' } });
    const tree = { $defs: { node: { type: 'object', properties: { children: { type: 'array', items: { $ref: '#/$defs/node' } } } } }, $ref: '#/$defs/node' };
    assert.ok(JSON.stringify(exampleFor(tree)).length < 10_000);
  });

  it('stays small whatever the schema asks: a root every property refers back to, huge minItems and minLength', () => {
    const explosive = { type: 'object', properties: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`p${i}`, { $ref: '#' }])) };
    const started = performance.now();
    assert.ok(JSON.stringify(exampleFor(explosive)).length < 200_000);
    assert.ok(performance.now() - started < 1_000);
    assert.equal((exampleFor({ type: 'array', items: { type: 'integer' }, minItems: 1e9 }) as unknown[]).length, 20);
    assert.equal((exampleFor({ type: 'string', minLength: 1e9 }) as string).length, 1_000);
  });

  it('passes the 2020-12 tuple form', () => {
    const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false };
    assert.deepEqual(violations(schema, exampleFor(schema)), []);
  });
});
