/**
 * An example payload for a JSON Schema, for the event-type catalogue and `send-example`: the
 * schema's own example when it has one (`examples[0]`, OpenAPI's `example`, `const`, `default`,
 * the first of an `enum`), else one made up from its types, formats and bounds, meant to pass the
 * schema it came from. Pure and bounded, as the catalogue makes one per version on every read:
 * `$ref`s are followed inside the schema only, nesting stops after a few levels, and an example
 * holds at most MAX_NODES values (a schema whose properties all `$ref` the root would otherwise
 * grow one exponentially), arrays at most MAX_ITEMS items and strings MAX_LENGTH characters.
 */

type Schema = Record<string, unknown>;

const MAX_DEPTH = 12;
const MAX_NODES = 2_000;
const MAX_ITEMS = 20;
const MAX_LENGTH = 1_000;

/** Samples per string format, each valid for it. */
const FORMAT_SAMPLES: Record<string, string> = {
  'date-time': '2024-01-15T09:30:00Z',
  date: '2024-01-15',
  time: '09:30:00Z',
  duration: 'P1D',
  email: 'user@example.com',
  'idn-email': 'user@example.com',
  hostname: 'example.com',
  'idn-hostname': 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  uri: 'https://example.com/',
  'uri-reference': 'https://example.com/',
  iri: 'https://example.com/',
  'iri-reference': 'https://example.com/',
  url: 'https://example.com/',
  uuid: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
  'json-pointer': '/a',
  'relative-json-pointer': '0',
  regex: '^a$',
  byte: 'aGVsbG8=',
  binary: 'hello',
  password: 'password',
};

/** An example payload for `schema`; `root` is the document its local `$ref`s point into (the schema itself by default). */
export function exampleFor(schema: unknown, root: unknown = schema): unknown {
  budget = MAX_NODES;
  return generate(schema, root, 0, 'example');
}

/** Values the example being made may still hold (one example at a time: this is synchronous). */
let budget = MAX_NODES;

function generate(schema: unknown, root: unknown, depth: number, name: string): unknown {
  if (--budget < 0) return null;
  if (schema === true || schema === undefined) return name;
  if (!isObject(schema) || depth > MAX_DEPTH) return null;
  const own = ownExample(schema);
  if (own !== undefined) return own.value;
  if (typeof schema.$ref === 'string') return generate(resolveRef(schema.$ref, root), root, depth + 1, name);
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    const parts = schema.allOf.map((part) => generate(part, root, depth + 1, name));
    const rest = generate(withoutKeys(schema, ['allOf']), root, depth + 1, name);
    if ([...parts, rest].every((part) => isObject(part) || part === name)) {
      return Object.assign({}, ...[...parts, rest].filter(isObject));
    }
    return parts[0];
  }
  for (const key of ['oneOf', 'anyOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length > 0) {
      // The first branch that is not just null: an example says more with a value in it.
      const branch = branches.find((b) => !(isObject(b) && b.type === 'null')) ?? branches[0];
      return generate({ ...withoutKeys(schema, [key]), ...(isObject(branch) ? branch : {}) }, root, depth + 1, name);
    }
  }
  switch (typeOf(schema)) {
    case 'object': return objectExample(schema, root, depth);
    case 'array': return arrayExample(schema, root, depth, name);
    case 'string': return stringExample(schema, name);
    case 'integer': return numberExample(schema, true);
    case 'number': return numberExample(schema, false);
    case 'boolean': return true;
    case 'null': return null;
    default: return name;
  }
}

function ownExample(schema: Schema): { value: unknown } | undefined {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return { value: schema.examples[0] };
  if ('example' in schema) return { value: schema.example };
  if ('const' in schema) return { value: schema.const };
  if ('default' in schema) return { value: schema.default };
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return { value: schema.enum[0] };
  return undefined;
}

/** The type to make: the first named that is not null, else guessed from the keywords present. */
function typeOf(schema: Schema): string | undefined {
  const named = Array.isArray(schema.type) ? (schema.type.find((t) => t !== 'null') ?? schema.type[0]) : schema.type;
  if (typeof named === 'string') return named;
  if (isObject(schema.properties) || Array.isArray(schema.required) || isObject(schema.additionalProperties)) return 'object';
  if ('items' in schema || Array.isArray(schema.prefixItems)) return 'array';
  if (typeof schema.format === 'string' || typeof schema.pattern === 'string' || typeof schema.minLength === 'number') return 'string';
  if (typeof schema.minimum === 'number' || typeof schema.maximum === 'number') return 'number';
  return undefined;
}

function objectExample(schema: Schema, root: unknown, depth: number): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const properties = isObject(schema.properties) ? schema.properties : {};
  for (const [key, property] of Object.entries(properties)) result[key] = generate(property, root, depth + 1, key);
  // A required property the schema does not describe still has to be there.
  for (const key of Array.isArray(schema.required) ? schema.required : []) {
    if (typeof key === 'string' && !(key in result)) result[key] = generate(isObject(schema.additionalProperties) ? schema.additionalProperties : true, root, depth + 1, key);
  }
  return result;
}

function arrayExample(schema: Schema, root: unknown, depth: number, name: string): unknown[] {
  const listed = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : null;
  const tuple = listed ? listed.slice(0, MAX_ITEMS) : null;
  const items = tuple
    ? tuple.map((item) => generate(item, root, depth + 1, name))
    : [generate(isObject(schema.items) || schema.items === true ? schema.items : true, root, depth + 1, name)];
  const minItems = typeof schema.minItems === 'number' ? Math.min(schema.minItems, MAX_ITEMS) : 0;
  while (items.length < minItems) items.push(items[items.length - 1] ?? name);
  if (typeof schema.maxItems === 'number') items.length = Math.min(items.length, schema.maxItems);
  return items;
}

function stringExample(schema: Schema, name: string): string {
  const format = typeof schema.format === 'string' ? FORMAT_SAMPLES[schema.format] : undefined;
  let text = format ?? name;
  const minLength = typeof schema.minLength === 'number' ? Math.min(schema.minLength, MAX_LENGTH) : 0;
  const maxLength = typeof schema.maxLength === 'number' ? Math.max(0, schema.maxLength) : Number.POSITIVE_INFINITY;
  if (format === undefined) {
    text = text.padEnd(minLength, 'x');
    if (text.length > maxLength) text = text.slice(0, maxLength);
  }
  return text;
}

function numberExample(schema: Schema, integer: boolean): number {
  const step = typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : 1;
  let low = typeof schema.minimum === 'number' ? schema.minimum : Number.NEGATIVE_INFINITY;
  if (typeof schema.exclusiveMinimum === 'number') low = Math.max(low, schema.exclusiveMinimum + (integer ? 1 : step / 2));
  let high = typeof schema.maximum === 'number' ? schema.maximum : Number.POSITIVE_INFINITY;
  if (typeof schema.exclusiveMaximum === 'number') high = Math.min(high, schema.exclusiveMaximum - (integer ? 1 : step / 2));
  // The smallest multiple of the step at or above the lower bound, or 0 (or the bound nearest it).
  const start = Number.isFinite(low) ? Math.ceil(low / step) * step : Number.isFinite(high) && high < 0 ? Math.floor(high / step) * step : 0;
  const value = Math.min(Math.max(start, low), high);
  return integer ? Math.ceil(value) : value;
}

/** A `$ref` inside the document: `#` or a JSON pointer such as `#/$defs/Address` or `#/components/schemas/Order`. */
function resolveRef(ref: string, root: unknown): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

const isObject = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

function withoutKeys(schema: Schema, keys: string[]): Schema {
  const copy = { ...schema };
  for (const key of keys) delete copy[key];
  return copy;
}
