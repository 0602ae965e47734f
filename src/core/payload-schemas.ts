import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * Event types' payload schemas: Svix's `schemas`, one JSON Schema per version ("1", "2", …),
 * checked against published payloads (Herald's addition; Svix stores them and checks nothing).
 * Pure: compiling is code generation in memory, never a fetch (a `$ref` to anywhere but the
 * schema itself fails to compile).
 */

/** How a payload that breaks its schema is treated: not checked, accepted with its violations recorded, or refused. */
export type SchemaValidation = 'off' | 'warn' | 'enforce';
export const SCHEMA_VALIDATIONS: readonly SchemaValidation[] = ['off', 'warn', 'enforce'];

/** One way a payload breaks its schema: where (path segments inside the payload), which rule, in words. */
export interface SchemaViolation {
  path: string[];
  /** The JSON Schema keyword that failed: `required`, `type`, `format`, `additionalProperties`… */
  rule: string;
  message: string;
}

/** What a check found: the version checked against, and what broke (empty when the payload is valid). */
export interface SchemaCheck {
  version: string;
  violations: SchemaViolation[];
}

/** At most this many violations are reported for one payload: enough to fix it, bounded in size. */
export const MAX_VIOLATIONS = 25;

export interface CompiledSchemas {
  /** Versions, newest first; those whose schema does not compile are left out. */
  versions: string[];
  /** Checks a payload against `version`, or the newest; null when there is no such version. */
  check(payload: unknown, version?: string | null): SchemaCheck | null;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
type Dialect = 'draft-07' | '2019-09' | '2020-12';

/**
 * The dialect a schema names in `$schema`: JSON Schema 2020-12 (OpenAPI 3.1's) and 2019-09 are
 * compiled as such; anything else as draft-07, the dialect Svix's examples and most stored schemas
 * are written in (they differ mostly in tuple `items`, which 2020-12 spells `prefixItems`).
 */
function dialectOf(schema: object | boolean): Dialect {
  const named = typeof schema === 'boolean' ? undefined : (schema as { $schema?: unknown }).$schema;
  if (typeof named !== 'string') return 'draft-07';
  if (named.includes('2020-12')) return '2020-12';
  if (named.includes('2019-09')) return '2019-09';
  return 'draft-07';
}

/**
 * One Ajv instance per schema, so two versions sharing an `$id` do not collide and a replaced
 * schema's code is freed with it. Formats are checked (`email`, `date-time`, `uuid`, `int64`…);
 * unknown keywords and formats (OpenAPI's `example`, vendor `x-` fields) are ignored, as a schema
 * written for documentation uses them. Defaults are never filled in: the payload is sent as published.
 */
function compile(schema: object | boolean): ValidateFunction {
  const options = { allErrors: true, strict: false, logger: false, coerceTypes: false, useDefaults: false, validateFormats: true } as const;
  const dialect = dialectOf(schema);
  const ajv = dialect === '2020-12' ? new Ajv2020(options) : dialect === '2019-09' ? new Ajv2019(options) : new Ajv(options);
  return addFormats(ajv).compile(schema);
}

/** Versions newest first: numerically where both are numbers ("10" after "9"), else by text. */
export function versionsNewestFirst(schemas: Record<string, unknown>): string[] {
  return Object.keys(schemas).sort((a, b) => {
    const [x, y] = [Number(a), Number(b)];
    return Number.isFinite(x) && Number.isFinite(y) && x !== y ? y - x : b.localeCompare(a);
  });
}

/** Why each version that cannot be used fails to compile, keyed by version (empty when all compile). */
export function schemaProblems(schemas: Record<string, unknown> | null): Map<string, string> {
  const problems = new Map<string, string>();
  for (const [version, schema] of Object.entries(schemas ?? {})) {
    if (!isSchema(schema)) {
      problems.set(version, 'must be a JSON Schema (an object or a boolean)');
      continue;
    }
    try {
      compile(schema);
    } catch (error) {
      problems.set(version, `is not a usable JSON Schema: ${(error as Error).message}`);
    }
  }
  return problems;
}

const isSchema = (value: unknown): value is object | boolean =>
  typeof value === 'boolean' || (typeof value === 'object' && value !== null && !Array.isArray(value));

/** Compiles every version once; a version that does not compile is skipped (it was stored before schemas were checked). */
export function compileSchemas(schemas: Record<string, unknown> | null): CompiledSchemas {
  const validators = new Map<string, ValidateFunction>();
  for (const version of versionsNewestFirst(schemas ?? {})) {
    const schema = schemas![version];
    if (!isSchema(schema)) continue;
    try {
      validators.set(version, compile(schema));
    } catch {
      // Left out: unusable, so not checked.
    }
  }
  const versions = [...validators.keys()];
  return {
    versions,
    check(payload, version) {
      const chosen = version ?? versions[0];
      const validate = chosen === undefined ? undefined : validators.get(chosen);
      if (!validate || chosen === undefined) return null;
      if (validate(payload)) return { version: chosen, violations: [] };
      return { version: chosen, violations: violationsOf(validate.errors ?? []) };
    },
  };
}

/**
 * Ajv's errors as violations: the path is the instance path's segments, plus the property a
 * `required`, `additionalProperties` or `dependentRequired` rule names, so it points at the field
 * itself. The branches of an `anyOf`/`oneOf` that failed are summed up by the combinator's own error.
 */
export function violationsOf(errors: readonly ErrorObject[]): SchemaViolation[] {
  const seen = new Set<string>();
  const violations: SchemaViolation[] = [];
  const combinators = errors.filter((error) => error.keyword === 'anyOf' || error.keyword === 'oneOf').map((error) => error.schemaPath);
  for (const error of errors) {
    // A branch's own failure, under an anyOf/oneOf reported as a whole.
    if (combinators.some((path) => error.schemaPath.startsWith(`${path}/`))) continue;
    const path = error.instancePath.split('/').slice(1).map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
    const params = error.params as { missingProperty?: string; additionalProperty?: string };
    const named = params.missingProperty ?? params.additionalProperty;
    if (named !== undefined) path.push(named);
    const message = error.keyword === 'required' || (named !== undefined && named === params.missingProperty) ? 'field required'
      : error.keyword === 'additionalProperties' ? 'is not allowed by the schema (additionalProperties)'
      : (error.message ?? 'is invalid');
    const key = `${path.join('\u0000')}\u0001${error.keyword}`;
    if (seen.has(key)) continue;
    seen.add(key);
    violations.push({ path, rule: error.keyword, message });
    if (violations.length === MAX_VIOLATIONS) break;
  }
  return violations;
}
