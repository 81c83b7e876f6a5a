import { describe, expect, it } from 'vitest';
import { AssemblyError, TemplateLimitError } from '../../../../cloudformation/deploy/errors.js';
import { MAX_RESOURCES, parseTemplate } from '../../../../cloudformation/deploy/template.js';

const withQueues = (count: number) => ({
  Resources: Object.fromEntries(Array.from({ length: count }, (_, i) => [`Queue${i}`, { Type: 'AWS::SQS::Queue' }])),
});

describe('parseTemplate', () => {
  it('reads a template with as many resources as CloudFormation allows', () => {
    expect(MAX_RESOURCES).toBe(500);
    expect(Object.keys(parseTemplate(withQueues(500), 't.json').Resources)).toHaveLength(500);
  });

  it('refuses more resources than CloudFormation allows, naming the count and the limit, as AWS does', () => {
    const parse = () => parseTemplate(withQueues(501), 'cdk.out/Big.template.json');
    expect(parse).toThrow(TemplateLimitError);
    expect(parse).toThrow(AssemblyError);
    expect(parse).toThrow('cdk.out/Big.template.json: Number of resources, 501, is greater than maximum allowed, 500');
  });
});
