import { isDeepStrictEqual } from 'node:util';
import type { EventType } from './model.ts';
import { type SchemaValidation, SCHEMA_VALIDATIONS, versionsNewestFirst } from './payload-schemas.ts';

/**
 * Event types to and from an OpenAPI document's `webhooks` section (3.1; 3.0's `x-webhooks` is
 * read too), as Svix's `event-type/import/openapi` takes them: each webhook's key is the event
 * type's name, its operation (`post`, else the first there is) gives the description and
 * `deprecated`, and its JSON request body's schema the payload schema. Pure: no fetching, a `$ref`
 * is followed inside the document only.
 *
 * Herald's extensions on an operation carry what OpenAPI has no place for, so an exported
 * document imports back to the same event types: `x-herald-schemas` (every version, when there is
 * more than version "1"), `x-herald-schema-validation` and `x-herald-feature-flag`.
 */

/** An event type as a document describes it; `undefined` fields are not in the document (an import leaves them as they are). */
export interface EventTypeFromOpenApi {
  name: string;
  description: string;
  deprecated: boolean;
  /** The request body's schema, self-contained (what it `$ref`s copied into its `$defs`); null when it has none. */
  schema: Record<string, unknown> | null;
  /** `x-herald-schemas`: every version, to be stored as they are. */
  versions?: Record<string, unknown>;
  schemaValidation?: SchemaValidation | null;
  featureFlag?: string | null;
}

export interface OpenApiProblem {
  /** Where in the document, as path segments. */
  path: string[];
  message: string;
}

const NAME = /^[a-zA-Z0-9\-_.]{1,256}$/;
const METHODS = ['post', 'put', 'patch', 'get', 'delete', 'head', 'options', 'trace'];

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The event types a document's webhooks describe, or what is wrong with it. */
export function eventTypesFromOpenApi(spec: unknown): { eventTypes: EventTypeFromOpenApi[]; problems: OpenApiProblem[] } {
  const problems: OpenApiProblem[] = [];
  if (!isObject(spec)) return { eventTypes: [], problems: [{ path: [], message: 'must be an OpenAPI document (a JSON object)' }] };
  const section = isObject(spec.webhooks) ? 'webhooks' : isObject(spec['x-webhooks']) ? 'x-webhooks' : null;
  if (!section) return { eventTypes: [], problems: [{ path: ['webhooks'], message: 'is missing: the document has no webhooks (nor x-webhooks) section to import' }] };
  const eventTypes: EventTypeFromOpenApi[] = [];
  for (const [name, rawItem] of Object.entries(spec[section] as Json)) {
    const at = [section, name];
    if (!NAME.test(name)) {
      problems.push({ path: at, message: 'is not a valid event type name (letters, digits, "-", "_" and ".", at most 256)' });
      continue;
    }
    const item = resolve(rawItem, spec);
    const method = isObject(item) ? (METHODS.find((m) => isObject(item[m])) ?? null) : null;
    if (!isObject(item) || !method) {
      problems.push({ path: at, message: 'has no operation (post, put…) to read the event from' });
      continue;
    }
    const operation = item[method] as Json;
    const body = resolve(operation.requestBody, spec);
    const content = isObject(body) && isObject(body.content) ? body.content : {};
    const mediaType = Object.keys(content).find((type) => type === 'application/json') ?? Object.keys(content).find((type) => /[/+]json\b/.test(type));
    const media = mediaType ? content[mediaType] : undefined;
    const rawSchema = isObject(media) ? media.schema : undefined;
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    const eventType: EventTypeFromOpenApi = {
      name,
      description: text(operation.description) ?? text(operation.summary) ?? (isObject(body) ? text(body.description) : undefined) ?? '',
      deprecated: operation.deprecated === true,
      schema: isObject(rawSchema) ? selfContained(rawSchema, spec) : null,
    };
    const versions = operation['x-herald-schemas'];
    if (versions !== undefined) {
      if (isObject(versions) && Object.values(versions).every(isObject)) eventType.versions = versions;
      else problems.push({ path: [...at, method, 'x-herald-schemas'], message: 'must be an object of versions to JSON Schemas' });
    }
    const mode = operation['x-herald-schema-validation'];
    if (mode !== undefined) {
      if (mode === null || SCHEMA_VALIDATIONS.includes(mode as SchemaValidation)) eventType.schemaValidation = mode as SchemaValidation | null;
      else problems.push({ path: [...at, method, 'x-herald-schema-validation'], message: 'must be off, warn, enforce or null' });
    }
    const flag = operation['x-herald-feature-flag'];
    if (flag !== undefined) {
      if (flag === null || (typeof flag === 'string' && NAME.test(flag))) eventType.featureFlag = flag as string | null;
      else problems.push({ path: [...at, method, 'x-herald-feature-flag'], message: 'must be a feature flag name or null' });
    }
    eventTypes.push(eventType);
  }
  return { eventTypes, problems };
}

/** Where an imported event type's schema sits in the document, for naming it in an error. */
export function schemaPathOf(spec: unknown, name: string): string[] {
  const section = isObject(spec) && isObject(spec.webhooks) ? 'webhooks' : 'x-webhooks';
  const item = isObject(spec) ? resolve((spec[section] as Json | undefined)?.[name], spec) : undefined;
  const method = isObject(item) ? (METHODS.find((m) => isObject(item[m])) ?? 'post') : 'post';
  return [section, name, method, 'requestBody', 'content', 'application/json', 'schema'];
}

/**
 * The schemas an event type stores after an import. The document's `x-herald-schemas` are taken
 * as they are. Otherwise its schema is the newest version: kept when it equals the newest stored,
 * else added as the next version, so publishers naming an older version keep being checked by it.
 */
export function importedSchemas(existing: Record<string, unknown> | null, imported: EventTypeFromOpenApi): Record<string, unknown> | null {
  if (imported.versions) return imported.versions;
  if (!imported.schema) return existing;
  const versions = versionsNewestFirst(existing ?? {});
  if (versions.length === 0) return { 1: imported.schema };
  if (sameJson(existing![versions[0]!], imported.schema)) return existing;
  const numbers = versions.map(Number).filter(Number.isInteger);
  return { ...existing, [String((numbers.length > 0 ? Math.max(...numbers) : 0) + 1)]: imported.schema };
}

/** An OpenAPI 3.1 document whose `webhooks` describe these event types, each with its newest schema. */
export function openApiFromEventTypes(eventTypes: readonly EventType[], info: { title: string; version: string }): Json {
  const webhooks: Json = {};
  const components: Json = {};
  for (const eventType of eventTypes) {
    const versions = versionsNewestFirst(eventType.schemas ?? {});
    const newest = versions[0] === undefined ? undefined : eventType.schemas![versions[0]];
    const hoisted = isObject(newest) ? hoistDefs(newest, eventType.name, components) : null;
    const exact = versions.length === 1 && versions[0] === '1' && hoisted !== null && sameJson(hoisted, newest);
    webhooks[eventType.name] = {
      post: {
        operationId: eventType.name,
        summary: eventType.name,
        description: eventType.description,
        ...(eventType.deprecated ? { deprecated: true } : {}),
        ...(hoisted ? { requestBody: { required: true, content: { 'application/json': { schema: hoisted } } } } : {}),
        responses: { '2XX': { description: 'Return any 2XX status to indicate that the data was received successfully' } },
        ...(versions.length > 0 && !exact ? { 'x-herald-schemas': eventType.schemas } : {}),
        ...(eventType.schemaValidation ? { 'x-herald-schema-validation': eventType.schemaValidation } : {}),
        ...(eventType.featureFlag ? { 'x-herald-feature-flag': eventType.featureFlag } : {}),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info,
    webhooks,
    ...(Object.keys(components).length > 0 ? { components: { schemas: components } } : {}),
  };
}

/**
 * A schema as it reads inside the document: its `$defs` (which it `$ref`s as `#/$defs/…`, relative
 * to itself) moved to `components/schemas`, where such a `$ref` points in the document, renamed
 * when another event type's take the name.
 */
function hoistDefs(schema: Json, eventTypeName: string, components: Json): Json {
  if (!isObject(schema.$defs)) return schema;
  const renames = new Map<string, string>();
  for (const [key, def] of Object.entries(schema.$defs)) {
    let name = key;
    if (name in components && !sameJson(components[name], def)) name = `${eventTypeName}.${key}`;
    renames.set(key, name);
  }
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!isObject(node)) return node;
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/$defs/')) {
        const [def, ...rest] = value.slice('#/$defs/'.length).split('/');
        const renamed = renames.get(decodePointer(def!));
        out[key] = renamed === undefined ? value : ['#/components/schemas', encodePointer(renamed), ...rest].join('/');
      } else out[key] = DATA_KEYWORDS.has(key) ? value : rewrite(value);
    }
    return out;
  };
  const { $defs, ...rest } = schema;
  for (const [key, def] of Object.entries($defs as Json)) components[renames.get(key)!] = rewrite(def);
  return rewrite(rest) as Json;
}

/** Keywords whose values are data, not schemas: never walked for `$ref`s. */
const DATA_KEYWORDS = new Set(['examples', 'example', 'const', 'enum', 'default']);

/** Follows a `$ref` (to a path item, a request body…) inside the document; anything else as it is. */
function resolve(value: unknown, spec: Json, depth = 0): unknown {
  if (!isObject(value) || typeof value.$ref !== 'string' || depth > 16) return value;
  return resolve(pointer(spec, value.$ref), spec, depth + 1);
}

function pointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node = document;
  for (const segment of ref.slice(1).split('/').slice(1)) {
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Json)[decodePointer(segment)];
  }
  return node;
}

const decodePointer = (segment: string) => decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~');
const encodePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * A schema that stands alone: each part of the document it `$ref`s (`#/components/schemas/Order`…)
 * copied into its `$defs` under the last segment's name and the `$ref` pointed there, transitively,
 * so a recursive schema stays one. A `$ref` to outside the document stays, and fails to compile.
 */
function selfContained(schema: Json, spec: Json): Json {
  const defs = new Map<string, { name: string; value: unknown }>();
  const names = new Set<string>(isObject(schema.$defs) ? Object.keys(schema.$defs) : []);
  const nameFor = (ref: string): string | null => {
    const known = defs.get(ref);
    if (known) return known.name;
    const target = pointer(spec, ref);
    if (target === undefined) return null;
    const base = decodePointer(ref.split('/').pop() ?? 'def') || 'def';
    let name = base;
    for (let n = 2; names.has(name); n++) name = `${base}_${n}`;
    names.add(name);
    const entry = { name, value: undefined as unknown };
    defs.set(ref, entry);
    entry.value = rewrite(target);
    return name;
  };
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!isObject(node)) return node;
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/') && !value.startsWith('#/$defs/')) {
        const name = nameFor(value);
        out[key] = name === null ? value : `#/$defs/${encodePointer(name)}`;
      } else out[key] = DATA_KEYWORDS.has(key) ? value : rewrite(value);
    }
    return out;
  };
  const result = rewrite(schema) as Json;
  if (defs.size === 0) return result;
  return { ...result, $defs: { ...(isObject(result.$defs) ? result.$defs : {}), ...Object.fromEntries([...defs.values()].map((d) => [d.name, d.value])) } };
}

/** Equal as JSON, whatever the order of keys (PostgreSQL's jsonb keeps its own). */
const sameJson = (a: unknown, b: unknown) => isDeepStrictEqual(a, b);
