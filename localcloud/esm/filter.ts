/**
 * Lambda event filtering (FilterCriteria): the EventBridge-style pattern language
 * Lambda supports. A record passes when any filter matches; within a filter every
 * key must match; a leaf is a list of alternatives. Patterns are compiled once, at
 * upsert, so a bad pattern is reported when the mapping is created, as Lambda does.
 *
 * Leaf alternatives: literal (string / number / boolean / null; "" matches empty),
 * {prefix}, {suffix}, {equals-ignore-case}, {anything-but: value | [values] | {prefix} | {suffix}},
 * {numeric: [op, n, (op, n)]}, {exists: boolean}. Numeric matchers only match JSON
 * numbers (EventBridge semantics): DynamoDB "N" values are strings and do not match.
 */
import { isRecord } from '../shared/guards.js';

export class FilterPatternError extends Error {
  constructor(pattern: string, problem: string) {
    super(`Invalid filter pattern ${pattern}: ${problem}`);
    this.name = 'FilterPatternError';
  }
}

export type RecordPredicate = (record: unknown) => boolean;

/** Passed to matchers for a missing field: distinct from null, which is a value. */
const ABSENT = Symbol('absent');
type Matcher = (value: unknown) => boolean;

const NUMERIC_OPS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function compileNumeric(spec: unknown, fail: (problem: string) => never): Matcher {
  if (!Array.isArray(spec) || spec.length === 0 || spec.length % 2 !== 0 || spec.length > 4) {
    return fail('numeric needs [op, number] or [op, number, op, number]');
  }
  const checks: Array<(n: number) => boolean> = [];
  for (let i = 0; i < spec.length; i += 2) {
    const op = NUMERIC_OPS[String(spec[i])];
    const bound = spec[i + 1];
    if (!op || typeof bound !== 'number') return fail(`bad numeric comparison ${JSON.stringify(spec.slice(i, i + 2))}`);
    checks.push((n) => op(n, bound));
  }
  return (value) => typeof value === 'number' && checks.every((check) => check(value));
}

/** String-only operators usable directly and inside anything-but. */
function compileStringOperator(key: string, arg: unknown, fail: (problem: string) => never): Matcher | undefined {
  if (key !== 'prefix' && key !== 'suffix' && key !== 'equals-ignore-case') return undefined;
  if (typeof arg !== 'string') return fail(`${key} needs a string`);
  if (key === 'prefix') return (value) => typeof value === 'string' && value.startsWith(arg);
  if (key === 'suffix') return (value) => typeof value === 'string' && value.endsWith(arg);
  return (value) => typeof value === 'string' && value.toLowerCase() === arg.toLowerCase();
}

function compileAnythingBut(arg: unknown, fail: (problem: string) => never): Matcher {
  if (isRecord(arg)) {
    const [key, inner] = Object.entries(arg)[0] ?? [];
    const matcher = key === undefined ? undefined : compileStringOperator(key, inner, fail);
    if (!matcher || Object.keys(arg).length !== 1) return fail('anything-but takes a value, a list, or one of prefix/suffix/equals-ignore-case');
    return (value) => typeof value === 'string' && !matcher(value);
  }
  const excluded = Array.isArray(arg) ? arg : [arg];
  // Like EventBridge: anything-but never matches a missing field.
  return (value) => value !== ABSENT && !excluded.some((e) => e === value);
}

function compileAlternative(alternative: unknown, fail: (problem: string) => never): Matcher {
  if (alternative === null || ['string', 'number', 'boolean'].includes(typeof alternative)) {
    return (value) => value === alternative;
  }
  if (!isRecord(alternative) || Object.keys(alternative).length !== 1) {
    return fail(`unsupported matcher ${JSON.stringify(alternative)}`);
  }
  const [key, arg] = Object.entries(alternative)[0];
  const stringMatcher = compileStringOperator(key, arg, fail);
  if (stringMatcher) return stringMatcher;
  switch (key) {
    case 'anything-but':
      return compileAnythingBut(arg, fail);
    case 'numeric':
      return compileNumeric(arg, fail);
    case 'exists':
      if (typeof arg !== 'boolean') return fail('exists needs true or false');
      return (value) => (value !== ABSENT) === arg;
    default:
      return fail(`unsupported operator "${key}"`);
  }
}

function compileLeaf(alternatives: unknown[], fail: (problem: string) => never): Matcher {
  const matchers = alternatives.map((alternative) => compileAlternative(alternative, fail));
  const existence = alternatives.some((a) => isRecord(a) && 'exists' in a);
  return (value) => {
    // An array in the record matches when any element does (EventBridge semantics),
    // except for exists, which asks about the field itself.
    if (Array.isArray(value) && !existence) return value.some((element) => matchers.some((m) => m(element)));
    return matchers.some((m) => m(value));
  };
}

function compileObject(pattern: Record<string, unknown>, fail: (problem: string) => never): Matcher {
  const fields = Object.entries(pattern).map(([key, sub]): [string, Matcher] => {
    if (Array.isArray(sub)) return [key, compileLeaf(sub, fail)];
    if (isRecord(sub)) return [key, compileObject(sub, fail)];
    return fail(`the value of "${key}" must be a list of matchers or a nested object`);
  });
  return (value) =>
    fields.every(([key, matcher]) => {
      const field = isRecord(value) && key in value ? value[key] : ABSENT;
      return matcher(field);
    });
}

export function compileFilterPattern(pattern: string): RecordPredicate {
  const fail = (problem: string): never => {
    throw new FilterPatternError(pattern, problem);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(pattern);
  } catch {
    return fail('not valid JSON');
  }
  if (!isRecord(parsed)) return fail('a pattern must be a JSON object');
  const matcher = compileObject(parsed, fail);
  return (record) => matcher(record);
}

/** No patterns: everything passes. Several: a record passes when any pattern matches. */
export function compileFilterPatterns(patterns: readonly string[]): RecordPredicate {
  if (patterns.length === 0) return () => true;
  const predicates = patterns.map(compileFilterPattern);
  return (record) => predicates.some((predicate) => predicate(record));
}
