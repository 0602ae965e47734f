/**
 * Payload filters (Herald's extension `filter` on an endpoint): a MongoDB-style query over the
 * message, checked at fan-out. The query addresses one document,
 *
 *     { "eventType": "invoice.paid", "channels": ["eu"], "payload": { ...the payload... } }
 *
 * so every path starts with `eventType`, `channels` or `payload` (`{"payload.amount": {"$gt": 100}}`).
 * Naming the payload's fields under `payload.` keeps a payload field that happens to be called
 * `eventType` apart from the message's, and lets a misspelt top-level key be a 422 instead of a
 * filter that silently never matches.
 *
 * Semantics are MongoDB's where it has them:
 * - `{path: value}` is `{path: {$eq: value}}`; an object value is compared whole (key order aside).
 * - A path goes into objects by key and into arrays by index (`items.0`); a path through an array
 *   also reaches that key in each of its objects (`items.price`), so it can name several values,
 *   and the condition holds when any of them (or any element of one that is an array) satisfies it.
 * - `$ne`, `$nin` and `$not` hold when the condition they negate does not: also when the path is missing.
 * - `$eq: null` (and `$in` with null) also holds when the path is missing.
 * - `$gt $gte $lt $lte` compare numbers with numbers and strings with strings (UTF-16 order), nothing else.
 * - `$exists: true` holds when the path names at least one value.
 * - `$regex` (with `$options` of `i`, `m`, `s`) holds for a string that contains a match; it runs
 *   in time linear in the string (core/linear-regex.ts), so no pattern can stall fan-out.
 * - `$and`/`$or` take a non-empty list of queries; `$not` takes an operator object on a path, or
 *   (Herald's extension) a query at the top level.
 * A message whose payload is not JSON (a source's form or XML body) has no `payload` to match.
 *
 * The compiled form holds no user string as an object key and reads documents only through own
 * properties, so neither side can reach a prototype; keys named `__proto__`, `constructor` or
 * `prototype` are refused anyway, as no payload field worth filtering on is called that.
 */

import { compileLinearRegex, type LinearRegex, RegexError } from './linear-regex.ts';

/** Where a filter went wrong, relative to the filter (`["payload.amount", "$gt"]`), and why. */
export interface FilterProblem {
  loc: string[];
  msg: string;
}

export interface FilterDocument {
  eventType: string;
  channels: readonly string[] | null;
  /** The parsed payload; undefined when it is not JSON. */
  payload: unknown;
}

export type CompiledFilter = (document: FilterDocument) => boolean;

/** The bounds a stored filter stays within, so one filter cannot make fan-out slow. */
export const FILTER_LIMITS = {
  /** Its JSON text, in characters. */
  maxLength: 16_384,
  /** How deep it nests (objects and arrays, operands included). */
  maxDepth: 12,
  /** Conditions (one operator on one path) in all. */
  maxConditions: 128,
  /** Segments of one path. */
  maxPathSegments: 32,
  /** Characters of a `$regex` pattern. */
  maxRegexLength: 256,
} as const;

const ROOTS = new Set(['eventType', 'channels', 'payload']);
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const COMPARISONS = new Set(['$gt', '$gte', '$lt', '$lte']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** One test of one value a path names (an array's elements are tried too by the caller). */
type Test = (value: unknown) => boolean;
/** A condition on the set of values a path names. */
type Condition = (values: unknown[]) => boolean;
type Query = (root: unknown) => boolean;

class Invalid extends Error {
  readonly loc: string[];
  constructor(loc: string[], msg: string) {
    super(msg);
    this.loc = loc;
  }
}

/** Compiles a filter once (regexes included), or says what is wrong with it. */
export function compileFilter(filter: unknown): { filter: CompiledFilter } | { problem: FilterProblem } {
  try {
    checkShape(filter);
    const budget = { conditions: 0 };
    const query = compileQuery(filter, [], budget);
    return { filter: (document) => query(rootOf(document)) };
  } catch (error) {
    if (error instanceof Invalid) return { problem: { loc: error.loc, msg: error.message } };
    throw error;
  }
}

function rootOf(document: FilterDocument): Record<string, unknown> {
  const root: Record<string, unknown> = { eventType: document.eventType };
  if (document.channels !== null) root.channels = document.channels;
  if (document.payload !== undefined) root.payload = document.payload;
  return root;
}

function checkShape(filter: unknown): void {
  if (!isPlainObject(filter)) throw new Invalid([], 'must be a JSON object, such as {"payload.amount": {"$gt": 100}}');
  let text: string;
  try {
    text = JSON.stringify(filter);
  } catch {
    throw new Invalid([], 'must be plain JSON');
  }
  if (text.length > FILTER_LIMITS.maxLength) throw new Invalid([], `is ${text.length} characters of JSON; at most ${FILTER_LIMITS.maxLength} are allowed`);
  const deepest = (value: unknown, depth: number, loc: string[]): void => {
    if (value === null || typeof value !== 'object') return;
    if (depth > FILTER_LIMITS.maxDepth) throw new Invalid(loc, `nests deeper than ${FILTER_LIMITS.maxDepth} levels`);
    for (const [key, child] of Object.entries(value)) deepest(child, depth + 1, [...loc, key]);
  };
  deepest(filter, 1, []);
}

function compileQuery(query: unknown, loc: string[], budget: { conditions: number }): Query {
  if (!isPlainObject(query)) throw new Invalid(loc, 'must be an object of conditions');
  const parts: Query[] = [];
  for (const [key, value] of Object.entries(query)) {
    const here = [...loc, key];
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) throw new Invalid(here, `takes a non-empty array of queries`);
      const queries = value.map((item, i) => compileQuery(item, [...here, String(i)], budget));
      parts.push(key === '$and' ? (root) => queries.every((q) => q(root)) : (root) => queries.some((q) => q(root)));
    } else if (key === '$not') {
      const inner = compileQuery(value, here, budget);
      parts.push((root) => !inner(root));
    } else if (key.startsWith('$')) {
      throw new Invalid(here, `is not an operator here: a query takes $and, $or, $not and paths such as "payload.amount"`);
    } else {
      const path = compilePath(key, here);
      const condition = compileClause(value, here, budget);
      parts.push((root) => condition(resolve(root, path)));
    }
  }
  return parts.length === 1 ? parts[0]! : (root) => parts.every((part) => part(root));
}

function compilePath(path: string, loc: string[]): string[] {
  const segments = path.split('.');
  if (segments.some((segment) => segment === '')) throw new Invalid(loc, 'is not a path: segments are separated by single dots');
  if (segments.length > FILTER_LIMITS.maxPathSegments) throw new Invalid(loc, `has more than ${FILTER_LIMITS.maxPathSegments} segments`);
  if (!ROOTS.has(segments[0]!)) throw new Invalid(loc, `must start with eventType, channels or payload (a payload field is "payload.${path}")`);
  const forbidden = segments.find((segment) => FORBIDDEN_KEYS.has(segment));
  if (forbidden) throw new Invalid(loc, `names ${forbidden}, which filters may not use`);
  return segments;
}

/** A path's value: an operator object (every key `$`), or a value it must equal. */
function compileClause(clause: unknown, loc: string[], budget: { conditions: number }): Condition {
  if (isPlainObject(clause)) {
    const keys = Object.keys(clause);
    const operators = keys.filter((key) => key.startsWith('$'));
    if (operators.length > 0 && operators.length < keys.length) {
      throw new Invalid([...loc, keys.find((key) => !key.startsWith('$'))!], 'mixes a field with operators: use either {"$op": …} or a value to equal');
    }
    if (operators.length > 0) return compileOperators(clause, loc, budget);
  }
  return compileOperator('$eq', clause, loc, budget, null);
}

function compileOperators(operators: Record<string, unknown>, loc: string[], budget: { conditions: number }): Condition {
  if ('$options' in operators && !('$regex' in operators)) throw new Invalid([...loc, '$options'], 'goes with $regex');
  const conditions = Object.entries(operators)
    .filter(([operator]) => operator !== '$options')
    .map(([operator, operand]) => compileOperator(operator, operand, [...loc, operator], budget, operators.$options));
  return conditions.length === 1 ? conditions[0]! : (values) => conditions.every((condition) => condition(values));
}

function compileOperator(operator: string, operand: unknown, loc: string[], budget: { conditions: number }, options: unknown): Condition {
  if (++budget.conditions > FILTER_LIMITS.maxConditions) throw new Invalid(loc, `makes more than ${FILTER_LIMITS.maxConditions} conditions`);
  switch (operator) {
    case '$eq':
    case '$ne': {
      checkOperandKeys(operand, loc);
      const holds = equalsCondition([operand as Json]);
      return operator === '$eq' ? holds : (values) => !holds(values);
    }
    case '$in':
    case '$nin': {
      if (!Array.isArray(operand)) throw new Invalid(loc, 'takes an array of values');
      checkOperandKeys(operand, loc);
      const holds = equalsCondition(operand as Json[]);
      return operator === '$in' ? holds : (values) => !holds(values);
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      if (typeof operand !== 'number' && typeof operand !== 'string') throw new Invalid(loc, 'takes a number or a string');
      const compare = comparison(operator, operand);
      return anyValue((value) => typeof value === typeof operand && compare(value as number | string));
    }
    case '$exists':
      if (typeof operand !== 'boolean') throw new Invalid(loc, 'takes true or false');
      return (values) => (values.length > 0) === operand;
    case '$regex': {
      const regex = compileRegex(operand, options, loc);
      return anyValue((value) => typeof value === 'string' && regex.test(value));
    }
    case '$not': {
      if (!isPlainObject(operand) || Object.keys(operand).length === 0 || !Object.keys(operand).every((key) => key.startsWith('$'))) {
        throw new Invalid(loc, 'takes an object of operators, such as {"$gt": 5}');
      }
      const inner = compileOperators(operand, loc, budget);
      return (values) => !inner(values);
    }
    default:
      throw new Invalid(loc, 'is not a supported operator: use $eq $ne $gt $gte $lt $lte $in $nin $exists $regex $not (and $and $or on queries)');
  }
}

/** A value equal to one of `operands`, or null among them and nothing at the path. */
function equalsCondition(operands: readonly Json[]): Condition {
  const matchesMissing = operands.includes(null);
  const holds = anyValue((value) => operands.some((operand) => deepEqual(value, operand)));
  return (values) => (matchesMissing && values.length === 0) || holds(values);
}

/** A condition that holds when some value at the path, or some element of one that is an array, passes. */
function anyValue(test: Test): Condition {
  return (values) => values.some((value) => test(value) || (Array.isArray(value) && value.some(test)));
}

function comparison(operator: string, operand: number | string): (value: number | string) => boolean {
  switch (operator) {
    case '$gt': return (value) => value > operand;
    case '$gte': return (value) => value >= operand;
    case '$lt': return (value) => value < operand;
    default: return (value) => value <= operand;
  }
}

/** Operands are compared with payloads, never walked as paths; their keys are checked all the same. */
function checkOperandKeys(operand: unknown, loc: string[]): void {
  if (operand === null || typeof operand !== 'object') return;
  for (const [key, value] of Object.entries(operand)) {
    if (FORBIDDEN_KEYS.has(key)) throw new Invalid([...loc, key], `names ${key}, which filters may not use`);
    checkOperandKeys(value, [...loc, key]);
  }
}

function compileRegex(pattern: unknown, options: unknown, loc: string[]): LinearRegex {
  if (typeof pattern !== 'string') throw new Invalid(loc, 'takes a pattern string');
  if (pattern.length > FILTER_LIMITS.maxRegexLength) throw new Invalid(loc, `is longer than ${FILTER_LIMITS.maxRegexLength} characters`);
  if (options !== undefined && (typeof options !== 'string' || !/^[ims]*$/.test(options) || new Set(options).size !== options.length)) {
    throw new Invalid([...loc.slice(0, -1), '$options'], 'takes the letters i, m and s, each at most once');
  }
  try {
    return compileLinearRegex(pattern, (options as string | undefined) ?? '');
  } catch (error) {
    if (error instanceof RegexError) throw new Invalid(loc, error.message);
    throw error;
  }
}

/** The values a path names in `root`, following MongoDB through arrays (see the module's comment). */
function resolve(root: unknown, path: readonly string[]): unknown[] {
  let current: unknown[] = [root];
  for (const segment of path) {
    const next: unknown[] = [];
    const index = /^(0|[1-9]\d*)$/.test(segment) ? Number(segment) : -1;
    for (const value of current) {
      if (Array.isArray(value)) {
        if (index >= 0 && index < value.length) next.push(value[index]);
        for (const element of value) if (isPlainObject(element) && Object.hasOwn(element, segment)) next.push(element[segment]);
      } else if (isPlainObject(value) && Object.hasOwn(value, segment)) {
        next.push(value[segment]);
      }
    }
    if (next.length === 0) return next;
    current = next;
  }
  return current;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** JSON equality: arrays in order, objects whatever their key order. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => Object.hasOwn(right, key) && deepEqual(left[key], right[key]));
}
