import { describe, expect, it } from 'vitest';
import { useRouteServer } from '../../support/serve-route.js';
import { cloudFormationApi } from '../../../cloudformation/api.js';
import { QueryInput, toXml } from '../../../cloudformation/query.js';
import { parseTemplateUrl } from '../../../cloudformation/s3-objects.js';
import { CloudFormationService } from '../../../cloudformation/service.js';
import { parseTemplateText } from '../../../cloudformation/template-text.js';
import type { DeployClients } from '../../../cloudformation/deploy/resources/types.js';
import type { DeployTarget } from '../../../cloudformation/deploy/target.js';

describe('the Query protocol', () => {
  it('reads member lists and structures, and writes XML with member lists and escaping', () => {
    const input = QueryInput.parse(
      'Action=CreateChangeSet&Capabilities.member.1=CAPABILITY_IAM&Parameters.member.1.ParameterKey=A&Parameters.member.1.ParameterValue=x%26y',
    );
    expect(input.action).toBe('CreateChangeSet');
    expect(input.stringList('Capabilities')).toEqual(['CAPABILITY_IAM']);
    expect(input.structList('Parameters')).toEqual([{ ParameterKey: 'A', ParameterValue: 'x&y' }]);
    expect(toXml({ Stacks: [{ StackName: 'a<b', Skipped: undefined, At: new Date(0) }] })).toBe(
      '<Stacks><member><StackName>a&lt;b</StackName><At>1970-01-01T00:00:00.000Z</At></member></Stacks>',
    );
  });

  it('finds the bucket and key of a TemplateURL, path style or virtual-hosted', () => {
    expect(parseTemplateUrl('http://localhost:4566/cdk-assets/abc.json')).toEqual({ bucket: 'cdk-assets', key: 'abc.json' });
    expect(parseTemplateUrl('https://s3.us-east-1.amazonaws.com/b/dir/t.json')).toEqual({ bucket: 'b', key: 'dir/t.json' });
    expect(parseTemplateUrl('https://b.s3.us-east-1.amazonaws.com/t.json')).toEqual({ bucket: 'b', key: 't.json' });
    expect(() => parseTemplateUrl('not a url')).toThrow(/TemplateURL must be a supported URL/);
  });

  it('reads YAML templates with the short-form intrinsics', () => {
    const template = parseTemplateText(
      ['Resources:', '  Q:', '    Type: AWS::SQS::Queue', '    Properties:', '      QueueName: !Sub "${AWS::StackName}-q"', 'Outputs:', '  A:', '    Value: !GetAtt Q.Arn', '  B:', '    Value: !If [C, !Ref Q, x]'].join('\n'),
    );
    expect(template).toEqual({
      Resources: { Q: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::Sub': '${AWS::StackName}-q' } } } },
      Outputs: { A: { Value: { 'Fn::GetAtt': ['Q', 'Arn'] } }, B: { Value: { 'Fn::If': ['C', { Ref: 'Q' }, 'x'] } } },
    });
  });
});

/** A template of `count` queues (short: well under the TemplateBody limit). */
function queues(count: number): string {
  return JSON.stringify({ Resources: Object.fromEntries(Array.from({ length: count }, (_, i) => [`Q${i}`, { Type: 'AWS::SQS::Queue' }])) });
}

/** Only control-plane types below: nothing reaches the data plane, which these tests do not start. */
describe('the CloudFormation API', () => {
  const target = { region: 'us-east-1', accountId: '123456789012', awsEndpoint: 'http://127.0.0.1:9' } as DeployTarget;
  const service = new CloudFormationService({ target, clients: {} as DeployClients });
  const template = (description: string) =>
    JSON.stringify({
      Description: description,
      Parameters: { Env: { Type: 'String', Default: 'dev' } },
      Resources: { Role: { Type: 'AWS::IAM::Role', Properties: {} } },
      Outputs: { RoleArn: { Value: { 'Fn::GetAtt': ['Role', 'Arn'] }, Export: { Name: { 'Fn::Sub': '${Env}-role' } } } },
    });

  const server = useRouteServer(() => cloudFormationApi(service));

  async function call(params: Record<string, string>): Promise<{ status: number; body: string }> {
    const response = await fetch(server.url(), {
      method: 'POST',
      headers: {
        authorization: 'AWS4-HMAC-SHA256 Credential=test/20261201/us-east-1/cloudformation/aws4_request, SignedHeaders=host, Signature=0',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(params).toString(),
    });
    return { status: response.status, body: await response.text() };
  }

  it('creates through a change set: REVIEW_IN_PROGRESS, then CREATE_COMPLETE with outputs and exports', async () => {
    const created = await call({ Action: 'CreateChangeSet', StackName: 'S', ChangeSetName: 'cs', ChangeSetType: 'CREATE', TemplateBody: template('one') });
    expect(created.status).toBe(200);
    expect((await call({ Action: 'DescribeStacks', StackName: 'S' })).body).toContain('<StackStatus>REVIEW_IN_PROGRESS</StackStatus>');
    const described = await call({ Action: 'DescribeChangeSet', StackName: 'S', ChangeSetName: 'cs' });
    expect(described.body).toContain('<Action>Add</Action><LogicalResourceId>Role</LogicalResourceId>');
    expect(described.body).toContain('<ExecutionStatus>AVAILABLE</ExecutionStatus>');
    expect((await call({ Action: 'ExecuteChangeSet', StackName: 'S', ChangeSetName: 'cs' })).status).toBe(200);
    await service.idle();
    const stack = (await call({ Action: 'DescribeStacks', StackName: 'S' })).body;
    expect(stack).toContain('<StackStatus>CREATE_COMPLETE</StackStatus>');
    expect(stack).toContain('<OutputKey>RoleArn</OutputKey><OutputValue>arn:aws:iam::123456789012:role/S-Role</OutputValue>');
    expect(stack).toContain('<ParameterKey>Env</ParameterKey><ParameterValue>dev</ParameterValue>');
    expect((await call({ Action: 'ListExports' })).body).toContain('<Name>dev-role</Name>');
    const events = (await call({ Action: 'DescribeStackEvents', StackName: 'S' })).body;
    const statuses = [...events.matchAll(/<LogicalResourceId>S<\/LogicalResourceId>.*?<ResourceStatus>(\w+)<\/ResourceStatus>/g)].map((m) => m[1]);
    expect(statuses).toEqual(['CREATE_COMPLETE', 'CREATE_IN_PROGRESS', 'REVIEW_IN_PROGRESS']);
    expect((await call({ Action: 'GetTemplate', StackName: 'S' })).body).toContain('one');
  });

  it('reports a change set without changes as FAILED with the reason the CDK CLI looks for', async () => {
    await call({ Action: 'CreateChangeSet', StackName: 'S', ChangeSetName: 'same', ChangeSetType: 'UPDATE', TemplateBody: template('one') });
    const described = (await call({ Action: 'DescribeChangeSet', StackName: 'S', ChangeSetName: 'same' })).body;
    expect(described).toContain('<Status>FAILED</Status>');
    expect(described).toContain("The submitted information didn&apos;t contain changes.");
    expect((await call({ Action: 'DeleteChangeSet', StackName: 'S', ChangeSetName: 'same' })).status).toBe(200);
  });

  it.each([
    [{ Action: 'CreateStack', StackName: 'T' }, 'ValidationError', 'Either Template URL or Template Body must be specified.'],
    [{ Action: 'CreateStack', StackName: 'T', TemplateBody: '{"Resources": [' }, 'ValidationError', 'Template format error'],
    [{ Action: 'CreateStack', StackName: 'T', TemplateBody: '{"Resources":{},"Parameters":{"P":{"Type":"String"}}}' }, 'ValidationError', 'Parameters: [P] must have values'],
    [
      { Action: 'CreateStack', StackName: 'T', TemplateBody: '{"Resources":{}}', 'Parameters.member.1.ParameterKey': 'X', 'Parameters.member.1.ParameterValue': '1' },
      'ValidationError',
      'Parameters: [X] do not exist in the template',
    ],
    [{ Action: 'CreateStack', StackName: '1bad', TemplateBody: '{"Resources":{}}' }, 'ValidationError', "failed to satisfy constraint"],
    [{ Action: 'CreateStack', StackName: 'S', TemplateBody: '{"Resources":{}}' }, 'AlreadyExistsException', 'Stack [S] already exists'],
    [{ Action: 'DescribeStacks', StackName: 'Nope' }, 'ValidationError', 'Stack with id Nope does not exist'],
    [{ Action: 'ExecuteChangeSet', StackName: 'S', ChangeSetName: 'nope' }, 'ChangeSetNotFound', 'ChangeSet [nope] does not exist'],
    [{ Action: 'CreateStackSet', StackSetName: 'x' }, 'InvalidAction', 'not emulated locally'],
  ])('%o: %s, and nothing is recorded', async (params, code, message) => {
    const before = service.allStacks().length;
    const answer = await call(params);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.body).toContain(`<Code>${code}</Code>`);
    expect(answer.body).toContain(message.replace(/'/g, '&apos;').replace(/\[/g, '['));
    expect(service.allStacks()).toHaveLength(before);
  });

  it.each([
    ['over 500 resources', queues(501), 'Template format error: Number of resources, 501, is greater than maximum allowed, 500'],
    [
      'a TemplateBody over 51,200 characters',
      JSON.stringify({ Description: 'x'.repeat(51_200), Resources: {} }),
      "1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to 51200",
    ],
  ])('refuses a template with %s as AWS does (ValidationError), and records nothing', async (_what, templateBody, message) => {
    const before = service.allStacks().length;
    const requests: Array<Record<string, string>> = [
      { Action: 'CreateStack', StackName: 'T', TemplateBody: templateBody },
      { Action: 'CreateChangeSet', StackName: 'T', ChangeSetName: 'cs', ChangeSetType: 'CREATE', TemplateBody: templateBody },
      { Action: 'ValidateTemplate', TemplateBody: templateBody },
    ];
    for (const params of requests) {
      const answer = await call(params);
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('<Code>ValidationError</Code>');
      expect(answer.body).toContain(`<Message>${message.replace(/'/g, '&apos;')}</Message>`);
    }
    expect(service.allStacks()).toHaveLength(before);
  });

  it('reads a TemplateBody of 51,200 characters, some of them beyond ASCII, and a template of 500 resources', async () => {
    const body = JSON.stringify({ Description: '', Resources: {} });
    // 51,200 code points: 102 KB of UTF-8, and ten of them two UTF-16 units each.
    const longest = JSON.stringify({ Description: `${'é'.repeat(51_200 - body.length - 10)}${'😀'.repeat(10)}`, Resources: {} });
    expect([...longest]).toHaveLength(51_200);
    await expect(service.loadTemplate({ templateBody: longest, parameters: [] }, undefined)).resolves.toMatchObject({ body: longest });
    const version = await service.loadTemplate({ templateBody: queues(500), parameters: [] }, undefined);
    expect(Object.keys(version.template.Resources)).toHaveLength(500);
  });

  it('deletes a stack: DELETE_COMPLETE, gone by name, still described by id, its exports gone', async () => {
    const stackId = service.get('S').stackId;
    await call({ Action: 'DeleteStack', StackName: 'S' });
    await service.idle();
    expect((await call({ Action: 'DescribeStacks', StackName: 'S' })).body).toContain('does not exist');
    expect((await call({ Action: 'DescribeStacks', StackName: stackId })).body).toContain('<StackStatus>DELETE_COMPLETE</StackStatus>');
    expect((await call({ Action: 'ListExports' })).body).not.toContain('dev-role');
  });
});

describe('CloudFormation exports', () => {
  const target = { region: 'us-east-1', accountId: '123456789012', awsEndpoint: 'http://127.0.0.1:9' } as DeployTarget;

  it('refuses a second stack exporting a name another stack exports, and rolls it back', async () => {
    const service = new CloudFormationService({ target, clients: {} as DeployClients });
    const template = JSON.stringify({
      Resources: { Role: { Type: 'AWS::IAM::Role', Properties: {} } },
      Outputs: { Arn: { Value: { 'Fn::GetAtt': ['Role', 'Arn'] }, Export: { Name: 'shared' } } },
    });
    const version = async () => service.loadTemplate({ templateBody: template, parameters: [] }, undefined);
    service.createStack('A', await version(), { capabilities: [], tags: [] });
    const b = service.createStack('B', await version(), { capabilities: [], tags: [] });
    await service.idle();
    expect(service.get('A').status).toBe('CREATE_COMPLETE');
    expect(b.status).toBe('ROLLBACK_COMPLETE');
    expect(b.statusReason).toMatch(/Export with name shared is already exported by another stack/);
    expect([...service.get('A').exports]).toEqual([['shared', 'arn:aws:iam::123456789012:role/A-Role']]);
  });
});
