import { describe, expect, it } from 'vitest';
import { TemplateError, UnknownIntrinsicError } from '../../../localcloud/deploy/errors.js';
import { NO_VALUE, resolveValue, scanIntrinsics, type ResolveScope } from '../../../localcloud/deploy/intrinsics.js';

const refs: Record<string, unknown> = {
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '111122223333',
  'AWS::NoValue': NO_VALUE,
  Table: 'my-table',
  Env: 'prod',
};

const scope: ResolveScope = {
  region: 'eu-west-1',
  ref: (name) => {
    if (name in refs) return refs[name];
    throw new TemplateError(`no ${name}`);
  },
  getAtt: (id, attr) => `${id}.${attr}-value`,
  condition: (name) => name === 'IsProd',
  importValue: (name) => `imported:${name}`,
  findInMap: (map, top, second) => `${map}/${top}/${second}`,
};

const resolve = (value: unknown) => resolveValue(value, scope, 'here');

describe('intrinsic functions', () => {
  it('resolves Ref and Fn::GetAtt (list and dotted forms)', () => {
    expect(resolve({ Ref: 'Table' })).toBe('my-table');
    expect(resolve({ 'Fn::GetAtt': ['Table', 'StreamArn'] })).toBe('Table.StreamArn-value');
    expect(resolve({ 'Fn::GetAtt': 'Table.Arn' })).toBe('Table.Arn-value');
  });

  it('resolves Fn::Join, Fn::Select and Fn::Split', () => {
    expect(resolve({ 'Fn::Join': ['-', ['a', { Ref: 'Table' }, 3]] })).toBe('a-my-table-3');
    expect(resolve({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'x/y/z'] }] })).toBe('y');
    expect(() => resolve({ 'Fn::Select': [5, ['a']] })).toThrow(TemplateError);
  });

  it('resolves Fn::Sub in both forms, with pseudo parameters, attributes and escapes', () => {
    expect(resolve({ 'Fn::Sub': 'arn:${AWS::Region}:${AWS::AccountId}:${Table}' })).toBe(
      'arn:eu-west-1:111122223333:my-table',
    );
    expect(resolve({ 'Fn::Sub': '${Table.Arn}/${!Literal}' })).toBe('Table.Arn-value/${Literal}');
    expect(resolve({ 'Fn::Sub': ['${Name}@${AWS::Region}', { Name: { Ref: 'Env' } }] })).toBe('prod@eu-west-1');
  });

  it('resolves Fn::If with conditions, and AWS::NoValue removes the property or element', () => {
    expect(resolve({ 'Fn::If': ['IsProd', 'big', 'small'] })).toBe('big');
    expect(resolve({ 'Fn::If': ['IsDev', 'big', 'small'] })).toBe('small');
    expect(resolve({ a: 1, b: { 'Fn::If': ['IsDev', 2, { Ref: 'AWS::NoValue' }] } })).toEqual({ a: 1 });
    expect(resolve(['x', { Ref: 'AWS::NoValue' }])).toEqual(['x']);
  });

  it('evaluates condition functions', () => {
    expect(resolve({ 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] })).toBe(true);
    expect(resolve({ 'Fn::And': [{ Condition: 'IsProd' }, { 'Fn::Not': [{ Condition: 'IsDev' }] }] })).toBe(true);
    expect(resolve({ 'Fn::Or': [{ Condition: 'IsDev' }, { 'Fn::Equals': ['a', 'b'] }] })).toBe(false);
  });

  it('resolves Fn::ImportValue, Fn::FindInMap, Fn::Base64 and Fn::GetAZs', () => {
    expect(resolve({ 'Fn::ImportValue': 'Stack:Export' })).toBe('imported:Stack:Export');
    expect(resolve({ 'Fn::FindInMap': ['M', 'a', 'b'] })).toBe('M/a/b');
    expect(resolve({ 'Fn::Base64': 'hi' })).toBe('aGk=');
    expect(resolve({ 'Fn::GetAZs': '' })).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
  });

  it('leaves ordinary objects and scalars alone', () => {
    expect(resolve({ Key: 'v', Nested: [{ n: 1 }], Condition: { StringEquals: {} } })).toEqual({
      Key: 'v',
      Nested: [{ n: 1 }],
      Condition: { StringEquals: {} },
    });
  });
});

describe('scanIntrinsics', () => {
  it('collects the names a value references, Sub placeholders included', () => {
    const refs = scanIntrinsics(
      {
        A: { Ref: 'Table' },
        B: { 'Fn::GetAtt': ['Queue', 'Arn'] },
        C: { 'Fn::Sub': ['${Fn.Arn}-${Local}-${AWS::Region}-${!Skip}', { Local: 'x' }] },
      },
      'here',
    );
    expect([...refs].sort()).toEqual(['AWS::Region', 'Fn', 'Queue', 'Table']);
  });

  it('names an unknown intrinsic and its location', () => {
    expect(() => scanIntrinsics({ Props: { List: [{ 'Fn::Transmogrify': 1 }] } }, 'stack S, Resources.R')).toThrow(
      new UnknownIntrinsicError('Fn::Transmogrify', 'stack S, Resources.R.Props.List[0]'),
    );
  });
});
