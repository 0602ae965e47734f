import { isDeepStrictEqual } from 'node:util';
import type { EventType } from '../core/model.ts';
import { compileSchemas, type CompiledSchemas, type SchemaCheck, schemaProblems, type SchemaValidation, type SchemaViolation } from '../core/payload-schemas.ts';
import type { ApiContext } from './context.ts';
import { HttpError, invalid, type ValidationItem } from './errors.ts';

/**
 * Compiled schemas by event type name, kept while the event type's `updatedAt` is unchanged: the
 * config cache hands out a fresh copy of an unchanged event type after its TTL, which must not cost
 * a compile. Every change sets `updatedAt`, so a changed schema is compiled again when next used.
 */
const compiled = new Map<string, { updatedAt: number; schemas: EventType['schemas']; compiled: CompiledSchemas }>();
const MAX_COMPILED = 1_000;

export function compiledFor(eventType: EventType): CompiledSchemas {
  const entry = compiled.get(eventType.name);
  if (entry && entry.updatedAt === eventType.updatedAt && (entry.schemas === eventType.schemas || sameJson(entry.schemas, eventType.schemas))) {
    entry.schemas = eventType.schemas;
    return entry.compiled;
  }
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  const fresh = compileSchemas(eventType.schemas);
  compiled.set(eventType.name, { updatedAt: eventType.updatedAt, schemas: eventType.schemas, compiled: fresh });
  return fresh;
}

// Only when the copy is new (once per TTL per event type), never per message.
const sameJson = (a: unknown, b: unknown) => isDeepStrictEqual(a, b);

/** The mode that applies to an event type's payloads: its own, else the server's. */
export const modeOf = (ctx: ApiContext, eventType: EventType): SchemaValidation => eventType.schemaValidation ?? ctx.schemaValidation;

/** A violation in Svix's `ValidationError` shape, under `prefix` (["body", "payload"] in a request's answer). */
export const violationItem = (prefix: string[], violation: SchemaViolation): ValidationItem =>
  ({ loc: [...prefix, ...violation.path], msg: violation.message, type: `value_error.jsonschema.${violation.rule}` });

/**
 * The schema check of a message create against its event type (null: none registered), and of
 * send-example's payload, whose 422 says `loc` ["example", ...] since the request held no payload.
 * Returns what to record on the message (null: nothing wrong, or not checked), or throws the 422
 * that `enforce` answers. Not checked: an event type nobody registered, one without a usable
 * schema, and `off`. A `schemaVersion` the event type does not have is the request's own mistake,
 * refused whenever the check is on.
 */
export function checkPublished(
  ctx: ApiContext,
  eventType: EventType | null,
  payload: unknown,
  version: string | null,
  loc: string[] = ['body', 'payload'],
): SchemaCheck | null {
  if (!eventType?.schemas) return null;
  const mode = modeOf(ctx, eventType);
  if (mode === 'off') return null;
  const check = checkAgainst(eventType, payload, version);
  if (!check || check.violations.length === 0) return null;
  if (mode === 'enforce') throw new HttpError(422, 'validation', check.violations.map((violation) => violationItem(loc, violation)));
  return check;
}

/** Checks a payload against a version of the event type's schemas, or the newest; null when it has none. */
export function checkAgainst(eventType: EventType, payload: unknown, version: string | null): SchemaCheck | null {
  const schemas = compiledFor(eventType);
  if (schemas.versions.length === 0) return null;
  if (version !== null && !schemas.versions.includes(version)) {
    throw invalid(['body', 'schemaVersion'], `names no schema of ${eventType.name}, which has version${schemas.versions.length > 1 ? 's' : ''} ${schemas.versions.join(', ')}`);
  }
  return schemas.check(payload, version);
}

/** Refuses schemas that cannot be compiled, naming each version: they would check nothing. */
export function checkSchemas(schemas: Record<string, unknown> | null | undefined, loc: string[] = ['body', 'schemas']): void {
  const problems = schemaProblems(schemas ?? null);
  if (problems.size === 0) return;
  throw new HttpError(422, 'validation', [...problems].map(([version, msg]) => ({ loc: [...loc, version], msg, type: 'value_error.jsonschema' })));
}
