import { describe, expect, it } from 'vitest';
import { TemplateError, UnknownIntrinsicError } from '../../../../cloudformation/deploy/errors.js';
import { evaluateCondition, resolveValue, scanIntrinsics, type ResolveScope } from '../../../../cloudformation/deploy/intrinsics.js';

const refs: Record<string, unknown> = {
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '111122223333',
  Table: 'my-table',
  Env: 'prod',
};

const scope: ResolveScope = {
  ref: (name) => {
    if (name in refs) return refs[name];
    throw new TemplateError(`no ${name}`);
  },
  getAtt: (id, attr) => `${id}.${attr}-value`,
  importValue: (name) => `imported:${name}`,
  condition: (name) => name === 'IsProd',
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

  it('evaluates Fn::Equals and Fn::Or, the condition functions of CDK templates', () => {
    expect(resolve({ 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] })).toBe(true);
    expect(resolve({ 'Fn::Or': [{ 'Fn::Equals': ['a', 'b'] }, { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] }] })).toBe(true);
    expect(resolve({ 'Fn::Or': [{ 'Fn::Equals': ['a', 'b'] }] })).toBe(false);
    expect(evaluateCondition({ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] }, scope, 'here')).toBe(false);
    expect(() => evaluateCondition({ Ref: 'Table' }, scope, 'here')).toThrow(TemplateError);
  });

  it('resolves Fn::ImportValue', () => {
    expect(resolve({ 'Fn::ImportValue': 'Stack:Export' })).toBe('imported:Stack:Export');
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

  it('resolves Fn::If (only the branch taken), Fn::Not, Fn::And and the Condition function, as the CDK bootstrap template uses them', () => {
    expect(resolve({ 'Fn::If': ['IsProd', 'yes', { Ref: 'Missing' }] })).toBe('yes');
    expect(resolve({ 'Fn::If': ['IsDev', { Ref: 'Missing' }, { Ref: 'Env' }] })).toBe('prod');
    expect(resolve({ 'Fn::Not': [{ Condition: 'IsProd' }] })).toBe(false);
    expect(resolve({ 'Fn::And': [{ Condition: 'IsProd' }, { 'Fn::Equals': ['a', 'a'] }] })).toBe(true);
  });

  it('drops a property or list item that resolves to AWS::NoValue', async () => {
    const { NO_VALUE } = await import('../../../../cloudformation/deploy/intrinsics.js');
    const withNoValue: ResolveScope = { ...scope, ref: (name) => (name === 'AWS::NoValue' ? NO_VALUE : scope.ref(name, 'here')) };
    const value = { A: { 'Fn::If': ['IsDev', 'x', { Ref: 'AWS::NoValue' }] }, B: ['k', { Ref: 'AWS::NoValue' }] };
    expect(resolveValue(value, withNoValue, 'here')).toEqual({ B: ['k'] });
  });

  it('rejects, as unknown, intrinsics no template of this project uses', () => {
    for (const fn of ['Fn::FindInMap', 'Fn::Base64', 'Fn::GetAZs']) {
      expect(() => scanIntrinsics({ P: { [fn]: [] } }, 'here')).toThrow(new UnknownIntrinsicError(fn, 'here.P'));
    }
  });

  it('names an unknown intrinsic and its location', () => {
    expect(() => scanIntrinsics({ Props: { List: [{ 'Fn::Transmogrify': 1 }] } }, 'stack S, Resources.R')).toThrow(
      new UnknownIntrinsicError('Fn::Transmogrify', 'stack S, Resources.R.Props.List[0]'),
    );
  });
});
