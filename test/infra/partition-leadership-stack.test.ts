/**
 * Template assertions on the synthesized stack (one synth, bundling included,
 * so a handler that does not bundle fails here too).
 */
import { App, DefaultStackSynthesizer } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEPENDENCIES,
  DEPENDENCY_ENV,
  FUNCTIONS,
  FUNCTION_SPECS,
  INVOKING_AUDIENCES,
  dependenciesOf,
  scheduleEnabled,
  scheduleRateMinutes,
  type Dependency,
  type FunctionSpec,
  type ObjectAccess,
  type StreamFilter,
} from '../../functions/function-table.js';
import { leadershipSettings } from '../../functions/config.js';
import type { LeadershipSettings } from '../../functions/ports/index.js';
import { readLeadershipContext } from '../../infra/context.js';
import { PartitionLeadershipStack, invokePolicyOutput } from '../../infra/stacks/partition-leadership-stack.js';
import { OBJECT_ACTIONS } from '../../infra/constructs/resource-access.js';
import { asLeadershipOutputs } from '../../client/stack-outputs.js';
import { SETTINGS, SETTING_NAMES, defaultSettings } from '../../protocol/settings.js';
import { anotherValue } from '../factories/settings-values.js';
import { RESOURCE_OUTPUTS, STACK_OUTPUT_NAMES } from '../../protocol/functions.js';

const STACK_NAME = 'LeadershipUnderTest';
let template: Template;
let settings: LeadershipSettings;

/** The stack under `context`; `bundle: false` skips the bundling (for tests of the template alone). */
function synthStack(context: Record<string, unknown>, options: { bundle: boolean }): { template: Template; settings: LeadershipSettings } {
  const app = new App({ context: { ...context, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) } });
  const { stackName, ...props } = readLeadershipContext(app);
  const stack = new PartitionLeadershipStack(app, stackName, {
    ...props,
    synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
  });
  return { template: Template.fromStack(stack), settings: props.settings };
}

beforeAll(() => {
  ({ template, settings } = synthStack(
    { stackName: STACK_NAME, sessionTimeoutMs: '3000', produceAckTimeoutMs: 15000, logLevel: 'debug', logRetentionDays: '14' },
    { bundle: true },
  ));
});

/** The logical id of the one resource of `type` whose properties match `props`. */
function logicalIdOf(type: string, props: Record<string, unknown>): string {
  const ids = Object.keys(template.findResources(type, { Properties: Match.objectLike(props) }));
  expect(ids, `exactly one ${type} matching ${JSON.stringify(props)}`).toHaveLength(1);
  return ids[0];
}

/** The logical id of the one function carrying the table entry's description. */
const functionId = (spec: Pick<FunctionSpec, 'description'>): string => logicalIdOf('AWS::Lambda::Function', { Description: spec.description });

const functionProps = <P>(spec: FunctionSpec): P =>
  (template.findResources('AWS::Lambda::Function')[functionId(spec)] as { Properties: P }).Properties;

const ref = (logicalId: string) => ({ Ref: logicalId });
const tableId = (partitionKey: string) =>
  logicalIdOf('AWS::DynamoDB::Table', { KeySchema: Match.arrayWith([{ AttributeName: partitionKey, KeyType: 'HASH' }]) });
const queueId = () => logicalIdOf('AWS::SQS::Queue', { FifoQueue: true });
const bucketId = () => {
  const ids = Object.keys(template.findResources('AWS::S3::Bucket'));
  expect(ids).toHaveLength(1);
  return ids[0];
};

/** Each dependency's resource, found by its own shape in the template (not by anything the stack names). */
const resourceId = (dependency: Dependency): string =>
  ({ brokers: () => tableId('brokerId'), metadata: () => tableId('pk'), log: () => tableId('replica'), events: queueId, objects: bucketId })[dependency]();

/** The entries with a trigger of `kind`, as [name, entry] rows for it.each. */
function entriesTriggeredBy<K extends FunctionSpec['trigger']['kind']>(kind: K) {
  return Object.entries(FUNCTIONS as Record<string, FunctionSpec>)
    .filter(([, spec]) => spec.trigger.kind === kind)
    .map(([name, spec]) => [name, spec as FunctionSpec & { trigger: Extract<FunctionSpec['trigger'], { kind: K }> }] as const);
}
const ENTRIES = Object.entries(FUNCTIONS as Record<string, FunctionSpec>);

describe('tables', () => {
  it('brokers: brokerId key, TTL on expiresAt, NEW_AND_OLD_IMAGES stream, on demand, leases only: destroyed with the stack, no PITR', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'brokerId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'brokerId', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TableName: Match.absent(),
        PointInTimeRecoverySpecification: Match.absent(),
        DeletionProtectionEnabled: Match.absent(),
      }),
      DeletionPolicy: 'Delete',
    });
  });

  it.each(['pk', 'replica'])(
    'the %s-keyed table (Metadata, Log) keeps its data: point-in-time recovery, deletion protection, retained on stack deletion and replacement',
    (partitionKey) => {
      const table = template.findResources('AWS::DynamoDB::Table')[tableId(partitionKey)];
      expect(table).toMatchObject({
        Properties: { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    },
  );

  it('with retainData=false (throwaway stacks) the tables go with the stack and can be deleted, and keep their PITR', () => {
    const throwaway = synthStack({ retainData: 'false' }, { bundle: false }).template;
    const tables = Object.values(throwaway.findResources('AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(3);
    for (const table of tables) {
      expect(table).toMatchObject({ DeletionPolicy: 'Delete' });
      expect((table as { Properties: Record<string, unknown> }).Properties.DeletionProtectionEnabled).not.toBe(true);
    }
    expect(tables.filter((table) => JSON.stringify(table).includes('"PointInTimeRecoveryEnabled":true'))).toHaveLength(2);
    for (const group of Object.values(throwaway.findResources('AWS::Logs::LogGroup'))) expect(group).toMatchObject({ DeletionPolicy: 'Delete' });
  });

  it('metadata: pk + sk strings, no stream, a sparse ByLeader index for failover', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'leaderKey', AttributeType: 'S' },
      ]),
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'ByLeader',
          KeySchema: [{ AttributeName: 'leaderKey', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        }),
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: Match.absent(),
    });
  });

  it('log: replica (S) + offset (N), NEW_IMAGE stream', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'replica', KeyType: 'HASH' },
        { AttributeName: 'offset', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'replica', AttributeType: 'S' },
        { AttributeName: 'offset', AttributeType: 'N' },
      ],
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
    });
  });
});

describe('leadership events queue', () => {
  it('is FIFO, named after the stack, with content-based deduplication off', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: `${STACK_NAME}-leadership-events.fifo`,
      FifoQueue: true,
      ContentBasedDeduplication: false,
    });
  });

  it('every queue (the events and both DLQs) is encrypted at rest with SSE-SQS, explicitly', () => {
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(1 + entriesTriggeredBy('stream').length);
    for (const queue of queues) expect(queue).toMatchObject({ Properties: { SqsManagedSseEnabled: true } });
  });
});

describe('functions', () => {
  /** Each setting's variable, with the value the context gave it. */
  const settingsEnv = () => Object.fromEntries(SETTING_NAMES.map((name) => [SETTINGS[name].env, String(settings[name])]));
  const powertoolsEnv = { POWERTOOLS_SERVICE_NAME: 'partition-leadership', POWERTOOLS_LOG_LEVEL: 'DEBUG' };

  it('are deployed with the settings of the context, the rest at their defaults', () => {
    expect(settings).toEqual(defaultSettings({ sessionTimeoutMs: 3000, produceAckTimeoutMs: 15000 }));
  });

  it('all run Node 22 with 256 MB, ESM bundles exporting `handler`, one per table entry', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(FUNCTION_SPECS.length);
    for (const fn of functions) {
      expect(fn).toMatchObject({ Properties: { Runtime: 'nodejs22.x', MemorySize: 256, Handler: 'index.handler' } });
    }
  });

  it.each(ENTRIES)('%s gets exactly the variables of the resources it uses, plus the settings', (_name, spec) => {
    const expectedEnv = Object.fromEntries(
      dependenciesOf(spec).map((dependency) => [DEPENDENCY_ENV[dependency], ref(resourceId(dependency))]),
    );
    const { Environment } = functionProps<{ Environment: { Variables: Record<string, unknown> } }>(spec);
    expect(Environment.Variables).toEqual({ ...settingsEnv(), ...powertoolsEnv, ...expectedEnv });
  });

  it.each(ENTRIES.filter(([, spec]) => 'seconds' in spec.timeout))('%s has the timeout of its entry', (_name, spec) => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: spec.description,
      Timeout: (spec.timeout as { seconds: number }).seconds,
    });
  });

  it('produce outlives its acks=all wait', () => {
    expect(functionProps<{ Timeout: number }>(FUNCTIONS.produce).Timeout).toBeGreaterThan(15);
  });

  it("groups outlives a JoinGroup or SyncGroup held for the rebalance (groupJoinWaitMs), at its default and as the context sets it", () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.groups.description,
      Timeout: Math.ceil(settings.groupJoinWaitMs / 1000) + 10,
    });
    const longWait = synthStack({ groupJoinWaitMs: '20000' }, { bundle: false }).template;
    longWait.hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.groups.description,
      Timeout: 30,
      Environment: { Variables: Match.objectLike({ GROUP_JOIN_WAIT_MS: '20000' }) },
    });
  });

  it("groups and the group sweep get the metadata table (the groups' items live there) and the group settings", () => {
    const metadata = { [DEPENDENCY_ENV.metadata]: ref(resourceId('metadata')) };
    const groupSettings = Object.fromEntries(
      (['groupMinSessionTimeoutMs', 'groupMaxSessionTimeoutMs', 'groupJoinWaitMs', 'offsetsRetentionMinutes', 'offsetsTopicNumPartitions'] as const).map((name) => [
        SETTINGS[name].env,
        String(settings[name]),
      ]),
    );
    for (const spec of [FUNCTIONS.groups, FUNCTIONS.sweepGroups]) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: spec.description,
        Environment: { Variables: Match.objectLike({ ...metadata, ...groupSettings }) },
      });
    }
    // FindCoordinator creates the offsets topic on first use: over the live brokers, announced on the queue.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: FUNCTIONS.groups.description,
      Environment: { Variables: Match.objectLike({ [DEPENDENCY_ENV.brokers]: ref(resourceId('brokers')), [DEPENDENCY_ENV.events]: ref(resourceId('events')) }) },
    });
  });

  it.each(ENTRIES)('%s logs to a log group of its own, made by the stack with the retention of the context, kept by default', (_name, spec) => {
    const { LoggingConfig } = functionProps<{ LoggingConfig?: { LogGroup?: { Ref: string } } }>(spec);
    const groupId = LoggingConfig?.LogGroup?.Ref;
    expect(groupId).toBeDefined();
    expect(template.findResources('AWS::Logs::LogGroup')[groupId!]).toMatchObject({
      Properties: { RetentionInDays: 14 },
      DeletionPolicy: 'Retain',
    });
    const groupsUsed = FUNCTION_SPECS.map((other) => functionProps<{ LoggingConfig: { LogGroup: { Ref: string } } }>(other).LoggingConfig.LogGroup.Ref);
    expect(groupsUsed.filter((id) => id === groupId)).toHaveLength(1);
  });

  it('no custom-resource function sets log retention (the logRetention prop would add one)', () => {
    expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toHaveLength(FUNCTION_SPECS.length);
    expect(template.findResources('Custom::LogRetention')).toEqual({});
  });

  it('reserves concurrency for the heartbeat and the failure detector (by default 20 and 10), and for no other function', () => {
    expect(functionProps<{ ReservedConcurrentExecutions?: number }>(FUNCTIONS.heartbeat).ReservedConcurrentExecutions).toBe(20);
    expect(functionProps<{ ReservedConcurrentExecutions?: number }>(FUNCTIONS.failureDetector).ReservedConcurrentExecutions).toBe(10);
    const reserved = FUNCTION_SPECS.filter((spec) => functionProps<{ ReservedConcurrentExecutions?: number }>(spec).ReservedConcurrentExecutions !== undefined);
    expect(reserved.map((spec) => spec.id).sort()).toEqual([FUNCTIONS.failureDetector.id, FUNCTIONS.heartbeat.id].sort());
  });

  it('takes the reservations from the context: a number, or "none" for the shared pool; 0 (which would switch a function off) is refused', () => {
    const tuned = synthStack(
      { heartbeatReservedConcurrency: '50', failureDetectorReservedConcurrency: 'none', produceReservedConcurrency: 200 },
      { bundle: false },
    ).template;
    const reservationOf = (spec: FunctionSpec) =>
      (Object.values(tuned.findResources('AWS::Lambda::Function', { Properties: { Description: spec.description } }))[0] as { Properties: { ReservedConcurrentExecutions?: number } })
        .Properties.ReservedConcurrentExecutions;
    expect(reservationOf(FUNCTIONS.heartbeat)).toBe(50);
    expect(reservationOf(FUNCTIONS.failureDetector)).toBeUndefined();
    expect(reservationOf(FUNCTIONS.produce)).toBe(200);
    expect(() => readLeadershipContext(new App({ context: { heartbeatReservedConcurrency: '0' } }))).toThrow(/heartbeatReservedConcurrency/);
  });
});

describe('IAM grants', () => {
  type Statement = { Action: string | string[]; Resource: unknown };

  /** The DynamoDB/SQS actions a function's role is allowed on the resource with `logicalId`. */
  function actionsOn(spec: FunctionSpec, logicalId: string): string[] {
    const roleId = functionProps<{ Role: { 'Fn::GetAtt': [string, string] } }>(spec).Role['Fn::GetAtt'][0];
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .map((policy) => (policy as { Properties: { Roles: unknown; PolicyDocument: { Statement: Statement[] } } }).Properties)
      .filter((policy) => JSON.stringify(policy.Roles).includes(roleId))
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .filter((statement) => JSON.stringify(statement.Resource).includes(`"${logicalId}"`))
      .flatMap((statement) => [statement.Action].flat());
  }
  const WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

  it.each(ENTRIES)('%s is granted exactly the access its entry declares, and nothing on what it does not use', (_name, spec) => {
    for (const dependency of DEPENDENCIES) {
      const actions = actionsOn(spec, resourceId(dependency));
      const access = spec.uses[dependency];
      if (access === undefined) expect(actions, dependency).toEqual([]);
      else if (access === 'send') expect(actions, dependency).toContain('sqs:SendMessage');
      else if (dependency === 'objects') expect(actions.filter((action) => action !== 's3:ListBucket').sort(), dependency).toEqual([...OBJECT_ACTIONS[access as ObjectAccess]].sort());
      else if (access === 'readWrite') expect(actions, dependency).toEqual(expect.arrayContaining(['dynamodb:GetItem', ...WRITES]));
      else {
        expect(actions, dependency).toContain('dynamodb:GetItem');
        expect(actions, dependency).not.toEqual(expect.arrayContaining(['dynamodb:PutItem']));
      }
    }
  });

  it('heartbeat writes heartbeats, only reads the metadata table (the brokers\' credentials) and touches nothing else', () => {
    expect(actionsOn(FUNCTIONS.heartbeat, tableId('brokerId'))).toEqual(expect.arrayContaining(WRITES));
    expect(actionsOn(FUNCTIONS.heartbeat, tableId('pk'))).toContain('dynamodb:GetItem');
    expect(actionsOn(FUNCTIONS.heartbeat, tableId('pk'))).not.toEqual(expect.arrayContaining(['dynamodb:PutItem']));
    expect(actionsOn(FUNCTIONS.heartbeat, queueId())).toEqual([]);
  });

  it('register-broker writes the metadata table (credentials) and touches nothing else', () => {
    expect(actionsOn(FUNCTIONS.registerBroker, tableId('pk'))).toContain('dynamodb:PutItem');
    expect(actionsOn(FUNCTIONS.registerBroker, tableId('brokerId'))).toEqual([]);
    expect(actionsOn(FUNCTIONS.registerBroker, tableId('replica'))).toEqual([]);
    expect(actionsOn(FUNCTIONS.registerBroker, queueId())).toEqual([]);
  });

  it('consume only reads: exact-key BatchGetItem on the log, nothing written', () => {
    expect(actionsOn(FUNCTIONS.consume, tableId('replica'))).toContain('dynamodb:BatchGetItem');
    for (const key of ['replica', 'pk']) {
      expect(actionsOn(FUNCTIONS.consume, tableId(key))).not.toEqual(expect.arrayContaining(['dynamodb:PutItem']));
    }
  });

  it('the failure detector reads heartbeats, writes leadership (transactions included) and publishes events', () => {
    expect(actionsOn(FUNCTIONS.failureDetector, tableId('brokerId'))).not.toContain('dynamodb:PutItem');
    expect(actionsOn(FUNCTIONS.failureDetector, tableId('pk'))).toEqual(expect.arrayContaining([...WRITES, 'dynamodb:ConditionCheckItem']));
    expect(actionsOn(FUNCTIONS.failureDetector, queueId())).toContain('sqs:SendMessage');
  });

  /** Every statement of the policies attached to the role of `spec`'s function. */
  function statementsOf(spec: FunctionSpec): Array<Statement & { Effect: string }> {
    const roleId = functionProps<{ Role: { 'Fn::GetAtt': [string, string] } }>(spec).Role['Fn::GetAtt'][0];
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .map((policy) => (policy as { Properties: { Roles: unknown; PolicyDocument: { Statement: Array<Statement & { Effect: string }> } } }).Properties)
      .filter((policy) => JSON.stringify(policy.Roles).includes(roleId))
      .flatMap((policy) => policy.PolicyDocument.Statement);
  }

  it('no role carries an AWS managed policy (AWSLambdaBasicExecutionRole allows logs:* on every log group)', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    expect(roles).toHaveLength(FUNCTION_SPECS.length);
    for (const role of roles) expect((role as { Properties: Record<string, unknown> }).Properties.ManagedPolicyArns).toBeUndefined();
  });

  it.each(ENTRIES)('%s may write logs to its own log group only, and nothing else of CloudWatch Logs', (_name, spec) => {
    const groupId = functionProps<{ LoggingConfig: { LogGroup: { Ref: string } } }>(spec).LoggingConfig.LogGroup.Ref;
    const logStatements = statementsOf(spec).filter((statement) => [statement.Action].flat().some((action) => action.startsWith('logs:')));
    expect(logStatements).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [groupId, 'Arn'] } },
    ]);
  });

  it.each(ENTRIES)('%s is granted no wildcard resource but dynamodb:ListStreams (which takes none) and the diskless objects\' keys, and indexes by name', (_name, spec) => {
    const objectKeys = JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId(), 'Arn'] }, '/objects/*']] });
    for (const statement of statementsOf(spec)) {
      const resources = JSON.stringify(statement.Resource);
      if (resources === '"*"') expect(statement.Action).toBe('dynamodb:ListStreams');
      else if (resources === objectKeys) expect(spec.uses.objects).toBeDefined();
      else expect(resources).not.toContain('*');
    }
    const indexStatements = statementsOf(spec).filter((statement) => JSON.stringify(statement.Resource).includes('/index/'));
    if (spec.uses.metadata === undefined) expect(indexStatements).toEqual([]);
    else expect(indexStatements).toEqual([expect.objectContaining({ Action: 'dynamodb:Query' })]);
  });

  it('groups and the group sweep write the metadata table in transactions fenced on the coordinator partition; only groups reads the brokers', () => {
    for (const spec of [FUNCTIONS.groups, FUNCTIONS.sweepGroups]) {
      expect(actionsOn(spec, tableId('pk')), spec.id).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', ...WRITES, 'dynamodb:ConditionCheckItem']));
      expect(actionsOn(spec, tableId('replica')), spec.id).toEqual([]);
    }
    expect(actionsOn(FUNCTIONS.groups, tableId('brokerId'))).toContain('dynamodb:GetItem');
    expect(actionsOn(FUNCTIONS.groups, tableId('brokerId'))).not.toEqual(expect.arrayContaining(['dynamodb:PutItem']));
    expect(actionsOn(FUNCTIONS.sweepGroups, tableId('brokerId'))).toEqual([]);
    expect(actionsOn(FUNCTIONS.sweepGroups, queueId())).toEqual([]);
  });

  it('produce may append to the log and check the partition in the same transaction', () => {
    expect(actionsOn(FUNCTIONS.produce, tableId('replica'))).toEqual(expect.arrayContaining(WRITES));
    expect(actionsOn(FUNCTIONS.produce, tableId('pk'))).toEqual(expect.arrayContaining(['dynamodb:ConditionCheckItem', 'dynamodb:UpdateItem']));
  });
});

describe('invoke permissions by audience', () => {
  /** The functions (logical ids) the managed policy behind `output` lets its holder invoke. */
  function invocableThrough(output: string): string[] {
    const outputValue = (template.findOutputs(output)[output] as { Value: { Ref: string } } | undefined)?.Value;
    expect(outputValue, `output ${output}`).toBeDefined();
    const policy = template.findResources('AWS::IAM::ManagedPolicy')[outputValue!.Ref] as
      | { Properties: { PolicyDocument: { Statement: Array<{ Effect: string; Action: unknown; Resource: unknown }> } } }
      | undefined;
    expect(policy, `the managed policy ${output} gives`).toBeDefined();
    const statements = policy!.Properties.PolicyDocument.Statement;
    for (const statement of statements) expect(statement).toMatchObject({ Effect: 'Allow', Action: 'lambda:InvokeFunction' });
    return statements
      .flatMap((statement) => [statement.Resource].flat() as Array<{ 'Fn::GetAtt': [string, string] }>)
      .map((resource) => {
        expect(resource).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
        return resource['Fn::GetAtt'][0];
      })
      .sort();
  }

  it.each(INVOKING_AUDIENCES)('the %s policy, given as an output, allows invoking exactly the functions of that audience', (audience) => {
    const expected = ENTRIES.filter(([, spec]) => spec.audience === audience).map(([, spec]) => functionId(spec));
    expect(expected.length).toBeGreaterThan(0);
    expect(invocableThrough(invokePolicyOutput(audience))).toEqual(expected.sort());
  });

  it("clients may invoke the groups function (every consumer is a group member); the group sweep is internal, in no policy", () => {
    expect(FUNCTIONS.groups.audience).toBe('client');
    expect(invocableThrough(invokePolicyOutput('client'))).toContain(functionId(FUNCTIONS.groups));
    expect(FUNCTIONS.sweepGroups.audience).toBe('internal');
    for (const audience of INVOKING_AUDIENCES) expect(invocableThrough(invokePolicyOutput(audience))).not.toContain(functionId(FUNCTIONS.sweepGroups));
  });

  it('one managed policy per audience, and none names an internal function', () => {
    expect(Object.keys(template.findResources('AWS::IAM::ManagedPolicy'))).toHaveLength(INVOKING_AUDIENCES.length);
    const named = INVOKING_AUDIENCES.flatMap((audience) => invocableThrough(invokePolicyOutput(audience)));
    const internal = ENTRIES.filter(([, spec]) => spec.audience === 'internal').map(([, spec]) => functionId(spec));
    expect(internal.filter((id) => named.includes(id))).toEqual([]);
  });

  it('the table is consistent: a stream or schedule function is internal, an invoke function has a caller audience', () => {
    for (const [name, spec] of ENTRIES) expect(spec.audience === 'internal', name).toBe(spec.trigger.kind !== 'invoke');
  });

  it('clients may produce, consume, describe and init producer ids; brokers heartbeat and shut down; admins create topics and elect leaders', () => {
    const audienceOf = Object.fromEntries(ENTRIES.map(([name, spec]) => [name, spec.audience]));
    expect(audienceOf).toMatchObject({
      produce: 'client',
      consume: 'client',
      describe: 'client',
      initProducerId: 'client',
      heartbeat: 'broker',
      controlledShutdown: 'broker',
      createTopic: 'admin',
      electLeaders: 'admin',
    });
  });
});

describe('stream triggers', () => {
  /** The Lambda event pattern a table filter stands for, written out independently of the stack's translation. */
  const pattern = (filter: StreamFilter) =>
    JSON.stringify({
      eventName: filter.eventNames,
      ...((filter.newImageEquals || filter.newImageWithout) && {
        dynamodb: {
          NewImage: {
            ...Object.fromEntries(Object.entries(filter.newImageEquals ?? {}).map(([name, value]) => [name, { S: [value] }])),
            ...Object.fromEntries((filter.newImageWithout ?? []).map((name) => [name, { BOOL: [{ exists: false }] }])),
          },
        },
      }),
    });
  const streamKey = { brokers: 'brokerId', log: 'replica' } as const;

  it.each(entriesTriggeredBy('stream'))('%s: its table stream, filtered, from the oldest record, bisect, partial failures, DLQ', (_name, spec) => {
    const { trigger } = spec;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: ref(functionId(spec)),
      EventSourceArn: { 'Fn::GetAtt': [tableId(streamKey[trigger.table]), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: trigger.batchSize,
      BisectBatchOnFunctionError: true,
      MaximumRecordAgeInSeconds: trigger.maxRecordAgeSeconds ?? Match.absent(),
      MaximumRetryAttempts: trigger.retryAttempts,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${spec.id}Dlq`), 'Arn'] } } },
      FilterCriteria: { Filters: trigger.filters.map((filter) => ({ Pattern: pattern(filter) })) },
    });
  });

  it('one mapping per stream entry, none for the rest', () => {
    expect(Object.keys(template.findResources('AWS::Lambda::EventSourceMapping'))).toHaveLength(entriesTriggeredBy('stream').length);
  });

  it('the failure detector hears of brokers registering and going (INSERT, REMOVE), not of renewals, within 60 s', () => {
    const { trigger } = FUNCTIONS.failureDetector;
    expect(trigger.table).toBe('brokers');
    expect(trigger.filters.flatMap((filter) => filter.eventNames).sort()).toEqual(['INSERT', 'REMOVE']);
    expect(trigger.maxRecordAgeSeconds).toBe(60);
  });

  it("replicate hears only of INSERTs of leader copies on the log (the followers' copies are INSERTs too) that their writer does not copy itself", () => {
    const { trigger } = FUNCTIONS.replicate;
    expect(trigger.table).toBe('log');
    expect(trigger.filters).toEqual([
      expect.objectContaining({ eventNames: ['INSERT'], newImageEquals: { copy: 'leader' }, newImageWithout: ['writerCopies'] }),
    ]);
  });
});

describe('schedules', () => {
  it.each(entriesTriggeredBy('schedule'))('%s runs by its rate, without retries', (_name, spec) => {
    const rateMinutes = scheduleRateMinutes(spec.trigger, settings);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${rateMinutes} ${rateMinutes === 1 ? 'minute' : 'minutes'})`,
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(spec), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [functionId(spec), 'Arn'] },
    });
  });

  it('one rule per schedule entry, none for the rest', () => {
    expect(Object.keys(template.findResources('AWS::Events::Rule'))).toHaveLength(entriesTriggeredBy('schedule').length);
  });

  it('the group sweep runs every minute, as the broker sweep does: a lapsed member of a group nobody calls goes within a minute of its session', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(FUNCTIONS.sweepGroups), 'Arn'] } })],
    });
  });

  it('the sweep and the reconciler run every minute', () => {
    expect(FUNCTIONS.sweep.trigger).toMatchObject({ kind: 'schedule', rateMinutes: 1 });
    expect(FUNCTIONS.reconcile.trigger).toMatchObject({ kind: 'schedule', rateMinutes: 1 });
  });

  it('the automatic rebalance runs every leader.imbalance.check.interval.seconds (Kafka: 300 s), and can be switched off', () => {
    const trigger = FUNCTIONS.autoRebalance.trigger;
    expect(scheduleRateMinutes(trigger, settings)).toBe(5);
    expect(scheduleRateMinutes(trigger, { ...settings, leaderImbalanceCheckIntervalSeconds: 120 })).toBe(2);
    expect(scheduleEnabled(trigger, { ...settings, autoLeaderRebalanceEnable: false })).toBe(false);
    const off = readLeadershipContext(new App({ context: { autoLeaderRebalanceEnable: 'false', leaderImbalanceCheckIntervalSeconds: 600 } }));
    expect(off.settings).toMatchObject({ autoLeaderRebalanceEnable: false, leaderImbalanceCheckIntervalSeconds: 600 });
    expect(() => readLeadershipContext(new App({ context: { leaderImbalanceCheckIntervalSeconds: 90 } }))).toThrow(
      /leaderImbalanceCheckIntervalSeconds/,
    );
  });

  it('eligible leader replicas (KIP-966) are on by default, and can be switched off', () => {
    expect(readLeadershipContext(new App()).settings.eligibleLeaderReplicasEnabled).toBe(true);
    const off = readLeadershipContext(new App({ context: { eligibleLeaderReplicasEnabled: 'false' } }));
    expect(off.settings.eligibleLeaderReplicasEnabled).toBe(false);
  });
});

describe('dead-letter queue alarms', () => {
  it.each(entriesTriggeredBy('stream'))('%s: fires on the first message in its DLQ', (_name, { id: construct }) => {
    const dlqId = Object.keys(template.findResources('AWS::SQS::Queue')).find((id) => id.startsWith(`${construct}Dlq`));
    expect(dlqId).toBeDefined();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });
});

describe('outputs', () => {
  it.each(ENTRIES)('%s: its output names its function', (_name, spec) => {
    template.hasOutput(spec.output, { Value: ref(functionId(spec)) });
  });

  it.each(entriesTriggeredBy('stream'))('%s: its DLQ output gives its DLQ URL', (_name, spec) => {
    template.hasOutput(spec.trigger.dlqOutput, { Value: { Ref: Match.stringLikeRegexp(`^${spec.id}Dlq`) } });
  });

  it('has every output the scripts and end-to-end tests read', () => {
    const outputs = Object.fromEntries(Object.keys(template.findOutputs('*')).map((name) => [name, name]));
    expect(() => asLeadershipOutputs(STACK_NAME, outputs)).not.toThrow();
  });

  it("has exactly the protocol's outputs, besides the DLQ URLs and the invoke policies' ARNs", () => {
    const dlqOutputs = entriesTriggeredBy('stream').map(([, spec]) => spec.trigger.dlqOutput);
    const policyOutputs = INVOKING_AUDIENCES.map(invokePolicyOutput);
    expect(Object.keys(template.findOutputs('*')).sort()).toEqual([...STACK_OUTPUT_NAMES, ...dlqOutputs, ...policyOutputs].sort());
  });

  it('names the tables and gives the queue URLs', () => {
    template.hasOutput(RESOURCE_OUTPUTS.brokersTable, { Value: ref(tableId('brokerId')) });
    template.hasOutput(RESOURCE_OUTPUTS.metadataTable, { Value: ref(tableId('pk')) });
    template.hasOutput(RESOURCE_OUTPUTS.logTable, { Value: ref(tableId('replica')) });
    template.hasOutput(RESOURCE_OUTPUTS.leadershipEventsQueue, { Value: ref(queueId()) });
  });
});

describe('context', () => {
  it('refuses a malformed value, naming the key', () => {
    expect(() => readLeadershipContext(new App({ context: { sessionTimeoutMs: 'soon' } }))).toThrow(/sessionTimeoutMs/);
    expect(() => readLeadershipContext(new App({ context: { retainData: 'maybe' } }))).toThrow(/retainData/);
    expect(() => readLeadershipContext(new App({ context: { logRetentionDays: '10' } }))).toThrow(/logRetentionDays/);
  });

  it('has the documented defaults', () => {
    expect(readLeadershipContext(new App())).toEqual({
      stackName: 'PartitionLeadership',
      logLevel: 'INFO',
      retainData: true,
      logRetentionDays: 30,
      reservedConcurrency: { heartbeat: 20, failureDetector: 10, produce: undefined },
      settings: defaultSettings(),
    });
  });
});

describe('settings: every row of the table travels from its context key to every function', () => {
  /** Every setting away from its default, so none can pass by falling back to it. */
  const tuned = Object.fromEntries(SETTING_NAMES.map((name) => [name, anotherValue(name)])) as unknown as LeadershipSettings;
  const tunedContext = Object.fromEntries(SETTING_NAMES.map((name) => [SETTINGS[name].context, String(tuned[name])]));
  let tunedTemplate: Template;

  beforeAll(() => {
    ({ template: tunedTemplate } = synthStack(tunedContext, { bundle: false }));
  });

  it.each(SETTING_NAMES)('%s is read from its context key', (name) => {
    const value = anotherValue(name);
    expect(readLeadershipContext(new App({ context: { [SETTINGS[name].context]: String(value) } })).settings).toEqual(defaultSettings({ [name]: value }));
  });

  it.each(SETTING_NAMES)('a malformed %s fails the synth naming its context key', (name) => {
    const { context: key, kind } = SETTINGS[name];
    expect(() => readLeadershipContext(new App({ context: { [key]: 'soon' } }))).toThrow(`Context ${key} must be ${kind.expected}, got "soon".`);
  });

  it.each(ENTRIES)('%s: its environment gives every setting, as its cold start reads them', (_name, spec) => {
    const fn = Object.values(tunedTemplate.findResources('AWS::Lambda::Function', { Properties: { Description: spec.description } }))[0] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const strings = Object.fromEntries(Object.entries(fn.Properties.Environment.Variables).filter(([, value]) => typeof value === 'string')) as Record<string, string>;
    expect(leadershipSettings(strings)).toEqual(tuned);
  });
});

describe('diskless objects bucket', () => {
  it('is private, S3-encrypted, TLS only, unversioned, and kept with the data tables', () => {
    const bucket = template.findResources('AWS::S3::Bucket')[bucketId()];
    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect((bucket as { Properties: Record<string, unknown> }).Properties.VersioningConfiguration).toBeUndefined();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(bucketId()),
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      }),
    });
    template.hasOutput(RESOURCE_OUTPUTS.objectsBucket, { Value: ref(bucketId()) });
  });

  it('with retainData=false goes with the stack (no auto-delete custom resource: CloudFormation deletes it once empty)', () => {
    const throwaway = synthStack({ retainData: 'false' }, { bundle: false }).template;
    const buckets = Object.values(throwaway.findResources('AWS::S3::Bucket'));
    expect(buckets).toHaveLength(1);
    expect(buckets[0]).toMatchObject({ DeletionPolicy: 'Delete' });
    expect(Object.keys(throwaway.findResources('AWS::Lambda::Function'))).toHaveLength(FUNCTION_SPECS.length);
  });

  it('only the sweep lists (under the objects prefix) and deletes; produce alone puts; every log reader gets', () => {
    const s3Statements = (spec: FunctionSpec) =>
      statementsOfRole(spec).filter((statement) => [statement.Action].flat().some((action) => action.startsWith('s3:')));
    for (const [, spec] of ENTRIES) {
      const actions = s3Statements(spec).flatMap((statement) => [statement.Action].flat());
      expect(actions.includes('s3:DeleteObject'), spec.id).toBe(spec === FUNCTIONS.sweepObjects);
      expect(actions.includes('s3:ListBucket'), spec.id).toBe(spec === FUNCTIONS.sweepObjects);
      expect(actions.includes('s3:PutObject'), spec.id).toBe(spec === FUNCTIONS.produce);
      if (spec.uses.log !== undefined) expect(actions, spec.id).toContain('s3:GetObject');
    }
    expect(s3Statements(FUNCTIONS.sweepObjects)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucketId(), 'Arn'] }, Condition: { StringLike: { 's3:prefix': ['objects/*'] } } }),
      ]),
    );
  });
});

function statementsOfRole(spec: FunctionSpec): Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }> {
  const roleId = functionProps<{ Role: { 'Fn::GetAtt': [string, string] } }>(spec).Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .map((policy) => (policy as { Properties: { Roles: unknown; PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }).Properties)
    .filter((policy) => JSON.stringify(policy.Roles).includes(roleId))
    .flatMap((policy) => policy.PolicyDocument.Statement);
}
