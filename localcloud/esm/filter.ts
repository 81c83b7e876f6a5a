/**
 * Lambda event filtering (FilterCriteria), as far as this project's mappings use it:
 * a record passes when any filter matches; within a filter every key must match,
 * nested objects included; a leaf is a list of literal alternatives (string, number,
 * boolean or null; "" matches the empty string), or `{"exists": true|false}` (the
 * field is there, or is not: a missing field matches only `exists: false`). The other
 * content operators (prefix, anything-but, numeric...) are rejected rather than half-emulated. Patterns
 * are compiled once, at upsert, so a bad pattern is reported when the mapping is
 * created, as Lambda does.
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

function compileLeaf(alternatives: unknown[], fail: (problem: string) => never): Matcher {
  const values: unknown[] = [];
  const existence: boolean[] = [];
  for (const alternative of alternatives) {
    if (alternative === null || ['string', 'number', 'boolean'].includes(typeof alternative)) {
      values.push(alternative);
      continue;
    }
    const operator = isRecord(alternative) ? Object.keys(alternative)[0] : undefined;
    if (operator === 'exists' && isRecord(alternative) && Object.keys(alternative).length === 1) {
      if (typeof alternative.exists !== 'boolean') fail(`"exists" takes true or false, got ${JSON.stringify(alternative.exists)}`);
      existence.push(alternative.exists);
      continue;
    }
    fail(operator === undefined ? `unsupported matcher ${JSON.stringify(alternative)}` : `operator "${operator}" is not emulated`);
  }
  return (value) => existence.includes(value !== ABSENT) || (value !== ABSENT && values.includes(value));
}

function compileObject(pattern: Record<string, unknown>, fail: (problem: string) => never): Matcher {
  const fields = Object.entries(pattern).map(([key, sub]): [string, Matcher] => {
    if (Array.isArray(sub)) return [key, compileLeaf(sub, fail)];
    if (isRecord(sub)) return [key, compileObject(sub, fail)];
    return fail(`the value of "${key}" must be a list of values or a nested object`);
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
