import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startTestHerald, type TestHerald } from './support/herald.ts';
import { forEachStore, trackFailures } from './support/stores.ts';

/**
 * Event types from and to OpenAPI: Svix's `POST /api/v1/event-type/import/openapi` (through the
 * SDK's importOpenapi) creates and updates event types from a document's webhooks, and Herald's
 * `GET /api/v1/event-type/export/openapi` writes a document that imports back to the same ones.
 */

const PETS = {
  openapi: '3.1.0',
  info: { title: 'Webhook Example', version: '1.0.0' },
  webhooks: {
    'pet.new': {
      post: {
        requestBody: {
          description: 'Information about a new pet in the system',
          content: { 'application/json': { schema: { properties: { id: { format: 'int64', type: 'integer' }, name: { type: 'string' } }, required: ['id', 'name'] } } },
        },
        responses: { 200: { description: 'OK' } },
      },
    },
    'pet.sold': {
      post: {
        description: 'A pet was sold',
        deprecated: true,
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Sale' } } } },
      },
    },
  },
  components: { schemas: { Sale: { type: 'object', properties: { price: { type: 'number', minimum: 0 } }, required: ['price'] } } },
};

const YAML_SPEC = `
openapi: 3.1.0
info: { title: Y, version: "1" }
webhooks:
  user.created:
    post:
      description: A user signed up
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [email]
              properties:
                email: { type: string, format: email }
`;

await forEachStore((store) => describe(`event types from and to OpenAPI (${store})`, () => {
  const failures = trackFailures();
  const heralds: TestHerald[] = [];
  after(async () => Promise.all(heralds.map((h) => h.close(failures.any()))));
  const fresh = async () => {
    const h = await startTestHerald({ store });
    heralds.push(h);
    return h;
  };

  it("imports Svix's example through the SDK, and checks payloads against the imported schemas", async () => {
    const h = await fresh();
    const answer = await h.svix.eventType.importOpenapi({ spec: PETS });
    assert.deepEqual(answer.data.modified.sort(), ['pet.new', 'pet.sold']);
    const created = await h.svix.eventType.get('pet.new');
    assert.equal(created.description, 'Information about a new pet in the system');
    assert.deepEqual(created.schemas, { 1: PETS.webhooks['pet.new'].post.requestBody.content['application/json'].schema });
    const sold = await h.svix.eventType.get('pet.sold');
    assert.deepEqual([sold.description, sold.deprecated], ['A pet was sold', true]);
    assert.deepEqual(sold.schemas, { 1: { $ref: '#/$defs/Sale', $defs: { Sale: PETS.components.schemas.Sale } } });
    const dry = await h.api('POST', '/api/v1/event-type/pet.sold/validate', { payload: { price: -1 } });
    assert.deepEqual(dry.body.detail.map((d: { loc: string[] }) => d.loc), [['body', 'payload', 'price']]);
    // The same document again changes nothing.
    assert.deepEqual((await h.svix.eventType.importOpenapi({ spec: PETS })).data.modified, []);
  });

  it('answers a dry run with what would change, changing nothing', async () => {
    const h = await fresh();
    const answer = await h.svix.eventType.importOpenapi({ spec: PETS, dryRun: true });
    assert.deepEqual(answer.data.modified, []);
    assert.deepEqual(answer.data.toModify?.map((e) => e.name).sort(), ['pet.new', 'pet.sold']);
    assert.equal((await h.api('GET', '/api/v1/event-type/pet.new')).status, 404);
  });

  it('adds a changed schema as a new version, brings an archived event type back, and archives the rest with replaceAll', async () => {
    const h = await fresh();
    await h.svix.eventType.importOpenapi({ spec: PETS });
    await h.svix.eventType.create({ name: 'other.kept', description: 'not in the document' });
    await h.svix.eventType.delete('pet.new');
    const changed = structuredClone(PETS);
    changed.webhooks['pet.new'].post.requestBody.content['application/json'].schema.required = ['id'];
    const answer = await h.svix.eventType.importOpenapi({ spec: changed, replaceAll: true });
    assert.deepEqual(answer.data.modified.sort(), ['other.kept', 'pet.new']);
    const petNew = await h.svix.eventType.get('pet.new');
    assert.equal(petNew.archived, false);
    assert.deepEqual(Object.keys(petNew.schemas!), ['1', '2']);
    assert.deepEqual((petNew.schemas as Record<string, { required: string[] }>)['2']!.required, ['id']);
    assert.equal((await h.svix.eventType.get('other.kept')).archived, true);
  });

  it('reads specRaw as YAML or JSON, and refuses both, neither, text that is neither, and what it cannot import', async () => {
    const h = await fresh();
    assert.deepEqual((await h.svix.eventType.importOpenapi({ specRaw: YAML_SPEC })).data.modified, ['user.created']);
    assert.deepEqual((await h.svix.eventType.importOpenapi({ specRaw: JSON.stringify(PETS) })).data.modified.sort(), ['pet.new', 'pet.sold']);
    assert.equal((await h.api('POST', '/api/v1/event-type/import/openapi', { spec: PETS, specRaw: YAML_SPEC })).status, 400);
    assert.equal((await h.api('POST', '/api/v1/event-type/import/openapi', {})).status, 400);
    const garbage = await h.api('POST', '/api/v1/event-type/import/openapi', { specRaw: '{ not: [json' });
    assert.deepEqual([garbage.status, garbage.body.detail[0].loc], [422, ['body', 'specRaw']]);
    const noWebhooks = await h.api('POST', '/api/v1/event-type/import/openapi', { spec: { openapi: '3.1.0', paths: {} } });
    assert.deepEqual([noWebhooks.status, noWebhooks.body.detail[0].loc], [422, ['body', 'spec', 'webhooks']]);
    const badSchema = await h.api('POST', '/api/v1/event-type/import/openapi', {
      spec: { webhooks: { 'ok.one': { post: {} }, 'bad.one': { post: { requestBody: { content: { 'application/json': { schema: { type: 'nope' } } } } } } } },
    });
    assert.equal(badSchema.status, 422);
    assert.deepEqual(badSchema.body.detail.map((d: { loc: string[] }) => d.loc), [['body', 'spec', 'webhooks', 'bad.one', 'post', 'requestBody', 'content', 'application/json', 'schema']]);
    // Nothing of a refused document is written.
    assert.equal((await h.api('GET', '/api/v1/event-type/ok.one')).status, 404);
    const deep = await h.api('POST', '/api/v1/event-type/import/openapi', { specRaw: '['.repeat(5000) + ']'.repeat(5000) });
    assert.deepEqual([deep.status, deep.body.detail[0].loc], [422, ['body', 'specRaw']]);
  });

  it('exports a document that imports into another Herald as the same event types', async () => {
    const source = await fresh();
    await source.svix.eventType.importOpenapi({ spec: PETS });
    await source.api('POST', '/api/v1/event-type', {
      name: 'order.placed', description: 'An order', featureFlag: 'beta', schemaValidation: 'enforce',
      schemas: { 1: { type: 'object' }, 2: { type: 'object', properties: { lines: { type: 'array', items: { $ref: '#/$defs/Line' } } }, $defs: { Line: { type: 'object', required: ['sku'] } } } },
    });
    await source.svix.eventType.create({ name: 'gone.away', description: 'archived' });
    await source.svix.eventType.delete('gone.away');
    const exported = await source.api('GET', '/api/v1/event-type/export/openapi');
    assert.equal(exported.status, 200);
    assert.equal(exported.body.openapi, '3.1.0');
    assert.deepEqual(Object.keys(exported.body.webhooks).sort(), ['order.placed', 'pet.new', 'pet.sold']);

    const target = await fresh();
    const imported = await target.svix.eventType.importOpenapi({ spec: exported.body });
    assert.deepEqual(imported.data.modified.sort(), ['order.placed', 'pet.new', 'pet.sold']);
    const shape = (e: any) => ({ name: e.name, description: e.description, deprecated: e.deprecated, schemas: e.schemas, featureFlag: e.featureFlag, schemaValidation: e.schemaValidation });
    const list = async (h: TestHerald) => (await h.api('GET', '/api/v1/event-type?limit=250')).body.data.map(shape);
    assert.deepEqual(await list(target), await list(source));
    // Exported again, the same document.
    assert.deepEqual((await target.api('GET', '/api/v1/event-type/export/openapi')).body, exported.body);
    const withArchived = await source.api('GET', '/api/v1/event-type/export/openapi?include_archived=true');
    assert.ok('gone.away' in withArchived.body.webhooks);
  });
}));
