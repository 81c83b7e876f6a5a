/**
 * Readers for untrusted input. Each one either returns a typed value or throws a
 * ValidationError whose message names the field, what it must be, and what it got.
 */
import { ValidationError } from './errors.js';

export type Fields = Readonly<Record<string, unknown>>;

export interface IntegerRange {
  min: number;
  max?: number;
}

export interface StringRule {
  pattern: RegExp;
  /** Completes "must be ...", e.g. "1 to 249 characters of a-z, A-Z, 0-9, '.', '_' or '-'". */
  description: string;
}

const MAX_SHOWN_CHARACTERS = 40;

/** A short, unambiguous rendering of a bad value for an error message. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    const shown = value.length > MAX_SHOWN_CHARACTERS ? `${value.slice(0, MAX_SHOWN_CHARACTERS)}...` : value;
    return JSON.stringify(shown);
  }
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return 'null';
  return `a ${typeof value}`;
}

export function invalid(field: string, requirement: string, value: unknown): ValidationError {
  return new ValidationError(`"${field}" must be ${requirement}, got ${describeValue(value)}`);
}

export function expectObject(value: unknown, field: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, 'an object', value);
  return value as Fields;
}

/** A request's fields, each still unchecked, named as its protocol type names them: reading any other does not compile. */
export type RequestFields<Request> = { readonly [Field in keyof Request]?: unknown };

export const expectRequest = <Request>(value: unknown): RequestFields<Request> => expectObject(value, 'request');

export function expectString(value: unknown, field: string, rule?: StringRule): string {
  if (typeof value !== 'string') throw invalid(field, rule ? `a string of ${rule.description}` : 'a string', value);
  if (rule && !rule.pattern.test(value)) throw invalid(field, rule.description, value);
  return value;
}

export function expectInteger(value: unknown, field: string, range: IntegerRange): number {
  const inRange =
    typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    value >= range.min &&
    (range.max === undefined || value <= range.max);
  if (!inRange) {
    const bounds = range.max === undefined ? `>= ${range.min}` : `between ${range.min} and ${range.max}`;
    throw invalid(field, `an integer ${bounds}`, value);
  }
  return value;
}

export function expectBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(field, 'true or false', value);
  return value;
}

export function expectArray(value: unknown, field: string, length: Required<IntegerRange>): unknown[] {
  if (!Array.isArray(value) || value.length < length.min || value.length > length.max) {
    throw invalid(field, `an array of ${length.min} to ${length.max} items`, value);
  }
  return value;
}

/** Applies `read` only when the field is present; JSON clients often send null for "not given". */
export function optional<T>(value: unknown, read: (present: unknown) => T): T | undefined {
  return value === undefined || value === null ? undefined : read(value);
}
