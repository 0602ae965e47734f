import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventType } from './model.ts';
import { eventTypesFromOpenApi, importedSchemas, openApiFromEventTypes } from './openapi-webhooks.ts';
import { compileSchemas } from './payload-schemas.ts';

/** Svix's own example of an import. */
const PETS = {
  openapi: '3.1.0',
  info: { title: 'Webhook Example', version: '1.0.0' },
  webhooks: {
    'pet.new': {
      post: {
        requestBody: {
          description: 'Information about a new pet in the system',
          content: { 'application/json': { schema: { properties: { id: { format: 'int64', type: 'integer' }, name: { type: 'string' }, tag: { type: 'string' } }, required: ['id', 'name'] } } },
        },
        responses: { 200: { description: 'Return a 200 status to indicate that the data was received successfully' } },
      },
    },
  },
};

const anEventType = (over: Partial<EventType>): EventType => ({
  name: 'x', description: '', schemas: null, archived: false, deprecated: false, featureFlag: null, createdAt: 0, updatedAt: 0, ...over,
});

describe('OpenAPI webhooks', () => {
  it("reads Svix's example: the key names the event type, the request body describes it", () => {
    const { eventTypes, problems } = eventTypesFromOpenApi(PETS);
    assert.deepEqual(problems, []);
    assert.deepEqual(eventTypes, [{
      name: 'pet.new',
      description: 'Information about a new pet in the system',
      deprecated: false,
      schema: PETS.webhooks['pet.new'].post.requestBody.content['application/json'].schema,
    }]);
  });

  it("reads 3.0's x-webhooks, the operation's description and deprecated, and $refs to components, recursive ones too", () => {
    const spec = {
      openapi: '3.0.3',
      'x-webhooks': {
        'order.shipped': {
          post: {
            summary: 'Shipped', description: 'An order left the warehouse', deprecated: true,
            requestBody: { $ref: '#/components/requestBodies/Order' },
          },
        },
      },
      components: {
        requestBodies: { Order: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Order' } } } } },
        schemas: {
          Order: { type: 'object', properties: { id: { type: 'string' }, parts: { type: 'array', items: { $ref: '#/components/schemas/Part' } } }, required: ['id'] },
          Part: { type: 'object', properties: { sku: { type: 'string' }, parts: { type: 'array', items: { $ref: '#/components/schemas/Part' } } }, required: ['sku'] },
        },
      },
    };
    const [order] = eventTypesFromOpenApi(spec).eventTypes;
    assert.equal(order!.description, 'An order left the warehouse');
    assert.equal(order!.deprecated, true);
    assert.deepEqual(order!.schema, {
      $ref: '#/$defs/Order',
      $defs: {
        Order: { type: 'object', properties: { id: { type: 'string' }, parts: { type: 'array', items: { $ref: '#/$defs/Part' } } }, required: ['id'] },
        Part: { type: 'object', properties: { sku: { type: 'string' }, parts: { type: 'array', items: { $ref: '#/$defs/Part' } } }, required: ['sku'] },
      },
    });
    const check = compileSchemas({ 1: order!.schema }).check({ id: 'o', parts: [{ sku: 'a', parts: [{}] }] })!;
    assert.deepEqual(check.violations.map((v) => v.path), [['parts', '0', 'parts', '0', 'sku']]);
  });

  it('names what it cannot import', () => {
    assert.deepEqual(eventTypesFromOpenApi({ openapi: '3.1.0', paths: {} }).problems.map((p) => p.path), [['webhooks']]);
    const { problems } = eventTypesFromOpenApi({ webhooks: { 'bad name!': { post: {} }, 'no.operation': {}, 'bad.mode': { post: { 'x-herald-schema-validation': 'loud' } } } });
    assert.deepEqual(problems.map((p) => p.path), [['webhooks', 'bad name!'], ['webhooks', 'no.operation'], ['webhooks', 'bad.mode', 'post', 'x-herald-schema-validation']]);
  });

  it('adds a changed schema as the next version, and keeps an unchanged one', () => {
    const imported = { name: 'a', description: '', deprecated: false, schema: { type: 'object', required: ['b'] } };
    assert.deepEqual(importedSchemas(null, imported), { 1: imported.schema });
    const stored = { 1: { type: 'object' }, 2: { type: 'object', required: ['b'] } };
    assert.equal(importedSchemas(stored, imported), stored);
    assert.deepEqual(importedSchemas(stored, { ...imported, schema: { type: 'object', required: ['c'] } }), { ...stored, 3: { type: 'object', required: ['c'] } });
    assert.equal(importedSchemas(stored, { ...imported, schema: null }), stored);
  });

  it('writes a document that reads back to the same event types, $defs and every version included', () => {
    const eventTypes = [
      anEventType({ name: 'a.one', description: 'One', schemas: { 1: { type: 'object', required: ['x'] } } }),
      anEventType({
        name: 'b.two', description: 'Two', deprecated: true, schemaValidation: 'enforce', featureFlag: 'beta',
        schemas: { 1: { type: 'object' }, 2: { type: 'object', properties: { p: { $ref: '#/$defs/P' } }, $defs: { P: { type: 'string' } } } },
      }),
      anEventType({ name: 'c.bare', description: 'No schema' }),
      anEventType({ name: 'd.defs', description: 'Another P', schemas: { 1: { properties: { q: { $ref: '#/$defs/P' } }, $defs: { P: { type: 'integer' } } } } }),
    ];
    const document = openApiFromEventTypes(eventTypes, { title: 'T', version: '1' }) as { webhooks: Record<string, any>; components: any };
    assert.equal(document.webhooks['b.two'].post.requestBody.content['application/json'].schema.properties.p.$ref, '#/components/schemas/P');
    assert.equal(document.webhooks['d.defs'].post.requestBody.content['application/json'].schema.properties.q.$ref, '#/components/schemas/d.defs.P');
    assert.equal(document.webhooks['a.one'].post['x-herald-schemas'], undefined);
    const { eventTypes: read, problems } = eventTypesFromOpenApi(JSON.parse(JSON.stringify(document)));
    assert.deepEqual(problems, []);
    for (const original of eventTypes) {
      const back = read.find((e) => e.name === original.name)!;
      assert.deepEqual([back.description, back.deprecated, importedSchemas(null, back), back.schemaValidation ?? null, back.featureFlag ?? null],
        [original.description, original.deprecated, original.schemas, original.schemaValidation ?? null, original.featureFlag], original.name);
    }
    // The schema as OpenAPI tools read it (the document's components) checks as the stored one does.
    const asRead = read.find((e) => e.name === 'd.defs')!;
    const inDocument = eventTypesFromOpenApi({ webhooks: { 'd.defs': { post: { requestBody: document.webhooks['d.defs'].post.requestBody } } }, components: document.components }).eventTypes[0]!;
    assert.ok(asRead.versions);
    assert.deepEqual(compileSchemas({ 1: inDocument.schema }).check({ q: 'text' })!.violations.map((v) => v.path), [['q']]);
  });
});
