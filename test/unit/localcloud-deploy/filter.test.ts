import { describe, expect, it } from 'vitest';
import { compileFilterPattern, compileFilterPatterns, FilterPatternError } from '../../../localcloud/esm/filter.js';

const record = {
  eventName: 'MODIFY',
  dynamodb: {
    Keys: { pk: { S: 'broker#7' } },
    NewImage: { status: { S: 'ALIVE' }, score: { N: '5' }, tags: { SS: ['a', 'b'] } },
  },
  count: 42,
  flag: true,
  nothing: null,
  empty: '',
  list: ['x', 'y'],
};

const matches = (pattern: unknown, value: unknown = record): boolean => compileFilterPattern(JSON.stringify(pattern))(value);

describe('Lambda event filter patterns', () => {
  it('matches exact values, with a list meaning OR', () => {
    expect(matches({ eventName: ['MODIFY'] })).toBe(true);
    expect(matches({ eventName: ['INSERT', 'MODIFY'] })).toBe(true);
    expect(matches({ eventName: ['INSERT'] })).toBe(false);
    expect(matches({ count: [42], flag: [true] })).toBe(true);
    expect(matches({ count: ['42'] })).toBe(false);
  });

  it('requires every key of a (nested) pattern', () => {
    expect(matches({ eventName: ['MODIFY'], dynamodb: { NewImage: { status: { S: ['ALIVE'] } } } })).toBe(true);
    expect(matches({ eventName: ['MODIFY'], dynamodb: { NewImage: { status: { S: ['DEAD'] } } } })).toBe(false);
  });

  it('supports null and empty-string values', () => {
    expect(matches({ nothing: [null] })).toBe(true);
    expect(matches({ empty: [''] })).toBe(true);
    expect(matches({ eventName: [null] })).toBe(false);
  });

  it('supports prefix, suffix and equals-ignore-case', () => {
    expect(matches({ dynamodb: { Keys: { pk: { S: [{ prefix: 'broker#' }] } } } })).toBe(true);
    expect(matches({ dynamodb: { Keys: { pk: { S: [{ suffix: '#7' }] } } } })).toBe(true);
    expect(matches({ eventName: [{ 'equals-ignore-case': 'modify' }] })).toBe(true);
    expect(matches({ eventName: [{ prefix: 'INS' }] })).toBe(false);
  });

  it('supports anything-but with a value, a list and a prefix', () => {
    expect(matches({ eventName: [{ 'anything-but': 'REMOVE' }] })).toBe(true);
    expect(matches({ eventName: [{ 'anything-but': ['MODIFY', 'REMOVE'] }] })).toBe(false);
    expect(matches({ eventName: [{ 'anything-but': { prefix: 'MOD' } }] })).toBe(false);
    expect(matches({ missing: [{ 'anything-but': 'x' }] })).toBe(false);
  });

  it('compares numbers (only JSON numbers: DynamoDB N strings do not match)', () => {
    expect(matches({ count: [{ numeric: ['>', 40, '<=', 42] }] })).toBe(true);
    expect(matches({ count: [{ numeric: ['=', 41] }] })).toBe(false);
    expect(matches({ dynamodb: { NewImage: { score: { N: [{ numeric: ['>', 1] }] } } } })).toBe(false);
  });

  it('tests existence', () => {
    expect(matches({ dynamodb: { NewImage: { status: [{ exists: true }] } } })).toBe(true);
    expect(matches({ dynamodb: { OldImage: [{ exists: false }] } })).toBe(true);
    expect(matches({ dynamodb: { OldImage: [{ exists: true }] } })).toBe(false);
    expect(matches({ list: [{ exists: true }] })).toBe(true);
  });

  it('matches an array in the record when any element matches', () => {
    expect(matches({ list: ['y'] })).toBe(true);
    expect(matches({ dynamodb: { NewImage: { tags: { SS: ['b'] } } } })).toBe(true);
    expect(matches({ list: ['z'] })).toBe(false);
  });

  it('passes everything without patterns, and ORs several patterns', () => {
    expect(compileFilterPatterns([])({})).toBe(true);
    const either = compileFilterPatterns([JSON.stringify({ eventName: ['INSERT'] }), JSON.stringify({ count: [42] })]);
    expect(either(record)).toBe(true);
    expect(either({ eventName: 'REMOVE' })).toBe(false);
  });

  it.each([
    ['not json', 'not valid JSON'],
    ['["a"]', 'must be a JSON object'],
    ['{"eventName": "INSERT"}', 'must be a list of matchers'],
    ['{"eventName": [{"wildcard": "*"}]}', 'unsupported operator "wildcard"'],
    ['{"n": [{"numeric": [">"]}]}', 'numeric needs'],
  ])('rejects the invalid pattern %s', (pattern, problem) => {
    expect(() => compileFilterPattern(pattern)).toThrow(FilterPatternError);
    expect(() => compileFilterPattern(pattern)).toThrow(problem);
  });
});
