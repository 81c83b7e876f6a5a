import { describe, expect, it } from 'vitest';
import type { StackArtifact } from '../../../../cloudformation/deploy/assembly.js';
import { TemplateError, UnsupportedResourceTypeError } from '../../../../cloudformation/deploy/errors.js';
import type { DeployClients } from '../../../../cloudformation/deploy/resources/types.js';
import { StackDeployment } from '../../../../cloudformation/deploy/stack-deployment.js';
import type { DeployTarget } from '../../../../cloudformation/deploy/target.js';
import { parseTemplate } from '../../../../cloudformation/deploy/template.js';

/** Only skipped (control-plane) types below: nothing reaches the target or the clients. */
const target = { region: 'eu-west-1', accountId: '111122223333' } as DeployTarget;
const clients = {} as DeployClients;

function deployment(stackName: string, template: unknown, exports = new Map<string, string>()): StackDeployment {
  const stack: StackArtifact = {
    artifactId: stackName,
    stackName,
    templateFile: `${stackName}.template.json`,
    template: parseTemplate(template, `${stackName}.template.json`),
    assets: new Map(),
  };
  return new StackDeployment(stack, { target, clients, exports });
}

async function deploy(stackName: string, template: unknown, exports?: Map<string, string>) {
  const d = deployment(stackName, template, exports);
  d.validate();
  return d.deploy();
}

describe('StackDeployment', () => {
  it('resolves the pseudo parameters AWS::Region, AWS::AccountId, AWS::Partition and AWS::StackName', async () => {
    const { outputs } = await deploy('S', {
      Resources: {},
      Outputs: {
        All: { Value: { 'Fn::Sub': '${AWS::Partition}:${AWS::Region}:${AWS::AccountId}:${AWS::StackName}' } },
        Region: { Value: { Ref: 'AWS::Region' } },
      },
    });
    expect(outputs).toEqual({ All: 'aws:eu-west-1:111122223333:S', Region: 'eu-west-1' });
  });

  it('rejects, before creating anything, a pseudo parameter it does not provide and a parameter without a value', () => {
    const notifications = deployment('S', { Resources: {}, Outputs: { O: { Value: { Ref: 'AWS::NotificationARNs' } } } });
    expect(() => notifications.validate()).toThrow(
      new TemplateError(
        'stack S, Outputs.O references AWS::NotificationARNs, which is neither a resource, a parameter nor a supported pseudo parameter',
      ),
    );
    const parameter = deployment('S', {
      Parameters: { Size: { Type: 'Number' } },
      Resources: {},
      Outputs: { O: { Value: { Ref: 'Size' } } },
    });
    expect(() => parameter.validate()).toThrow(new TemplateError('stack S: Parameters: [Size] must have values'));
  });

  it('resolves a Ref to a template parameter: its Default, or the value given', async () => {
    const template = {
      Parameters: { Size: { Type: 'Number', Default: 3 }, Names: { Type: 'CommaDelimitedList', Default: 'a,b' } },
      Resources: {},
      Outputs: { O: { Value: { Ref: 'Size' } }, N: { Value: { 'Fn::Select': [1, { Ref: 'Names' }] } } },
    };
    expect((await deploy('S', template)).outputs).toEqual({ O: '3', N: 'b' });
  });

  it('skips the control-plane types, giving them identities others can Ref and GetAtt', async () => {
    const skipped = [
      'AWS::IAM::Role',
      'AWS::IAM::Policy',
      'AWS::Lambda::Permission',
      'AWS::CDK::Metadata',
      'AWS::SQS::QueuePolicy',
      'AWS::CloudWatch::Alarm',
    ];
    const resources = Object.fromEntries(skipped.map((type, i) => [`R${i}`, { Type: type, Properties: { X: { 'Fn::Frobnicate': 1 } } }]));
    const { outputs, resources: deployed } = await deploy('S', {
      Resources: resources,
      Outputs: { RoleArn: { Value: { 'Fn::GetAtt': ['R0', 'Arn'] } }, AlarmRef: { Value: { Ref: 'R5' } } },
    });
    expect(deployed.map((r) => r.type)).toEqual(skipped);
    expect(outputs.RoleArn).toBe('arn:aws:iam::111122223333:role/S-R0');
    expect(outputs.AlarmRef).toBe('S-R5');
  });

  it('rejects a control-plane type no template of this project has', () => {
    const d = deployment('S', { Resources: { Topic: { Type: 'AWS::SNS::Topic', Properties: {} } } });
    expect(() => d.validate()).toThrow(UnsupportedResourceTypeError);
  });

  it('skips an IAM managed policy, whose Ref is its ARN (as on AWS, where it is the ARN an operator attaches)', async () => {
    const { outputs } = await deploy('S', {
      Resources: { Invoke: { Type: 'AWS::IAM::ManagedPolicy', Properties: { PolicyDocument: { Statement: [] } } } },
      Outputs: { Ref: { Value: { Ref: 'Invoke' } }, Arn: { Value: { 'Fn::GetAtt': ['Invoke', 'Arn'] } } },
    });
    expect(outputs).toEqual({ Ref: 'arn:aws:iam::111122223333:policy/S-Invoke', Arn: 'arn:aws:iam::111122223333:policy/S-Invoke' });
  });

  it('creates a log group in the cloud\'s CloudWatch Logs with its retention, keeps its events on redeploy, and deletes it unless retained', async () => {
    const { LogStore } = await import('../../../../logs/store.js');
    const { deleteResources } = await import('../../../../cloudformation/deploy/stack-deployment.js');
    const logs = new LogStore();
    const withLogs = { ...target, logs } as DeployTarget;
    const template = (retention: number) => ({
      Resources: {
        Generated: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: retention }, DeletionPolicy: 'Retain' },
        Named: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/custom/named' } },
      },
      Outputs: { Ref: { Value: { Ref: 'Generated' } }, Arn: { Value: { 'Fn::GetAtt': ['Named', 'Arn'] } } },
    });
    const run = (t: unknown) => {
      const stack: StackArtifact = { artifactId: 'S', stackName: 'S', templateFile: 'S.template.json', template: parseTemplate(t, 'S.template.json'), assets: new Map() };
      return new StackDeployment(stack, { target: withLogs, clients, exports: new Map() }).deploy();
    };
    const first = await run(template(30));
    expect(first.outputs).toEqual({ Ref: 'S-Generated', Arn: 'arn:aws:logs:eu-west-1:111122223333:log-group:/custom/named:*' });
    expect(logs.describeLogGroups(undefined).map((g) => [g.name, g.retentionInDays])).toEqual([
      ['/custom/named', undefined],
      ['S-Generated', 30],
    ]);
    logs.write('S-Generated', 'stream', [{ timestamp: 1, message: 'kept' }]);
    const second = await run(template(14));
    expect(logs.describeLogGroups('S-').map((g) => g.retentionInDays)).toEqual([14]);
    expect(logs.groupEvents('S-Generated').map((e) => e.message)).toEqual(['kept']);

    await deleteResources(second.resources, { stackName: 'S', assembly: { target: withLogs, clients } });
    expect(logs.describeLogGroups(undefined).map((g) => g.name)).toEqual(['S-Generated']);
    await expect(run({ Resources: { Bad: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 10 } } } })).rejects.toThrow(/RetentionInDays 10/);
  });

  it("registers a function with its LoggingConfig's log group and its ReservedConcurrentExecutions", async () => {
    const { LogStore } = await import('../../../../logs/store.js');
    const { FakeLambdaRuntime } = await import('../../../support/fake-runtime.js');
    const runtime = new FakeLambdaRuntime();
    const withRuntime = { ...target, logs: new LogStore(), runtime } as unknown as DeployTarget;
    const fn = (extra: Record<string, unknown>) => ({
      Type: 'AWS::Lambda::Function',
      Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x', Role: 'r', Code: { ZipFile: 'exports.handler = async () => 1;' }, ...extra },
    });
    const stack: StackArtifact = {
      artifactId: 'S',
      stackName: 'S',
      templateFile: 'S.template.json',
      template: parseTemplate(
        {
          Resources: {
            Logs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } },
            Reserved: fn({ LoggingConfig: { LogGroup: { Ref: 'Logs' } }, ReservedConcurrentExecutions: 5 }),
            Plain: fn({}),
          },
        },
        'S.template.json',
      ),
      assets: new Map(),
    };
    await new StackDeployment(stack, { target: withRuntime, clients, exports: new Map() }).deploy();
    expect(runtime.get('S-Reserved')).toMatchObject({ logGroup: 'S-Logs', reservedConcurrency: 5 });
    expect(runtime.get('S-Plain')).not.toHaveProperty('logGroup');
    expect(runtime.get('S-Plain')).not.toHaveProperty('reservedConcurrency');
  });

  it('skips a resource whose Condition (Fn::Or of Fn::Equals, as CDK writes CDKMetadataAvailable) is false', async () => {
    const template = (region: string) => ({
      Conditions: {
        Available: { 'Fn::Or': [{ 'Fn::Equals': [{ Ref: 'AWS::Region' }, region] }, { 'Fn::Equals': ['a', 'b'] }] },
      },
      Resources: { CDKMetadata: { Type: 'AWS::CDK::Metadata', Condition: 'Available', Properties: {} } },
    });
    expect((await deploy('S', template('eu-west-1'))).resources).toHaveLength(1);
    expect((await deploy('S', template('us-east-1'))).resources).toHaveLength(0);
  });

  it('exports outputs and resolves Fn::ImportValue of a stack deployed earlier', async () => {
    const exports = new Map<string, string>();
    await deploy('First', { Resources: {}, Outputs: { O: { Value: 'shared', Export: { Name: 'First:O' } } } }, exports);
    const { outputs } = await deploy('Second', { Resources: {}, Outputs: { I: { Value: { 'Fn::ImportValue': 'First:O' } } } }, exports);
    expect(outputs.I).toBe('shared');
  });
});

describe('deleteResources', () => {
  it('deletes in reverse creation order and leaves a DeletionPolicy Retain resource in place', async () => {
    const { deleteResources } = await import('../../../../cloudformation/deploy/stack-deployment.js');
    const events: string[] = [];
    const resource = (logicalId: string, deletionPolicy?: string) => ({
      logicalId,
      type: 'AWS::IAM::Role',
      physicalId: `S-${logicalId}`,
      attributes: {},
      ...(deletionPolicy ? { deletionPolicy } : {}),
    });
    await deleteResources([resource('First'), resource('Kept', 'Retain'), resource('Last')], {
      stackName: 'S',
      assembly: { target, clients },
      onEvent: (e) => events.push(`${e.logicalId} ${e.status}`),
    });
    expect(events).toEqual([
      'Last DELETE_IN_PROGRESS',
      'Last DELETE_COMPLETE',
      'Kept DELETE_IN_PROGRESS',
      'Kept DELETE_SKIPPED',
      'First DELETE_IN_PROGRESS',
      'First DELETE_COMPLETE',
    ]);
  });
});
