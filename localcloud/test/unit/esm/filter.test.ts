import { describe, expect, it } from 'vitest';
import { compileFilterPattern, compileFilterPatterns, FilterPatternError } from '../../../esm/filter.js';

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

  it('matches a field that is there with exists: true, and one that is not with exists: false', () => {
    expect(matches({ dynamodb: { NewImage: { status: { S: [{ exists: true }] } } } })).toBe(true);
    expect(matches({ dynamodb: { NewImage: { status: { S: [{ exists: false }] } } } })).toBe(false);
    expect(matches({ dynamodb: { NewImage: { mark: { BOOL: [{ exists: false }] } } } })).toBe(true);
    expect(matches({ dynamodb: { NewImage: { mark: { BOOL: [{ exists: true }] } } } })).toBe(false);
    expect(matches({ nothing: [{ exists: true }] })).toBe(true);
    expect(matches({ eventName: ['INSERT', { exists: false }] })).toBe(false);
    expect(matches({ missing: ['INSERT', { exists: false }] })).toBe(true);
  });

  it('does not match an array field (array matching is not emulated)', () => {
    expect(matches({ list: ['y'] })).toBe(false);
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
    ['{"eventName": "INSERT"}', 'must be a list of values'],
    ['{"eventName": [{"wildcard": "*"}]}', 'operator "wildcard" is not emulated'],
    ['{"n": [{"prefix": "a"}]}', 'operator "prefix" is not emulated'],
    ['{"n": [{"anything-but": "a"}]}', 'operator "anything-but" is not emulated'],
    ['{"n": [{"numeric": [">", 1]}]}', 'operator "numeric" is not emulated'],
    ['{"n": [{"exists": "yes"}]}', '"exists" takes true or false'],
    ['{"n": [[1]]}', 'unsupported matcher [1]'],
  ])('rejects the invalid pattern %s', (pattern, problem) => {
    expect(() => compileFilterPattern(pattern)).toThrow(FilterPatternError);
    expect(() => compileFilterPattern(pattern)).toThrow(problem);
  });
});
