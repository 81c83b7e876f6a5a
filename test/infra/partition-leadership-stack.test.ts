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
  dependenciesOf,
  scheduleEnabled,
  scheduleRateMinutes,
  type Dependency,
  type FunctionSpec,
  type StreamFilter,
} from '../../functions/function-table.js';
import type { LeadershipSettings } from '../../functions/ports/index.js';
import { readLeadershipContext } from '../../infra/context.js';
import { PartitionLeadershipStack } from '../../infra/stacks/partition-leadership-stack.js';
import { asLeadershipOutputs } from '../../client/stack-outputs.js';

const STACK_NAME = 'LeadershipUnderTest';
let template: Template;
let settings: LeadershipSettings;

beforeAll(() => {
  const app = new App({ context: { stackName: STACK_NAME, sessionTimeoutMs: '3000', produceAckTimeoutMs: 15000, logLevel: 'debug' } });
  const context = readLeadershipContext(app);
  const { stackName, logLevel } = context;
  settings = context.settings;
  const stack = new PartitionLeadershipStack(app, stackName, {
    settings,
    logLevel,
    synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
  });
  template = Template.fromStack(stack);
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

/** Each dependency's resource, found by its own shape in the template (not by anything the stack names). */
const resourceId = (dependency: Dependency): string =>
  ({ brokers: () => tableId('brokerId'), metadata: () => tableId('pk'), log: () => tableId('replica'), events: queueId })[dependency]();

/** The entries with a trigger of `kind`, as [name, entry] rows for it.each. */
function entriesTriggeredBy<K extends FunctionSpec['trigger']['kind']>(kind: K) {
  return Object.entries(FUNCTIONS as Record<string, FunctionSpec>)
    .filter(([, spec]) => spec.trigger.kind === kind)
    .map(([name, spec]) => [name, spec as FunctionSpec & { trigger: Extract<FunctionSpec['trigger'], { kind: K }> }] as const);
}
const ENTRIES = Object.entries(FUNCTIONS as Record<string, FunctionSpec>);

describe('tables', () => {
  it('brokers: brokerId key, TTL on expiresAt, NEW_AND_OLD_IMAGES stream, on demand, destroyed with the stack', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'brokerId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'brokerId', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TableName: Match.absent(),
      }),
      DeletionPolicy: 'Delete',
    });
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
          Projection: { ProjectionType: 'ALL' },
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
});

describe('functions', () => {
  const settingsEnv = {
    SESSION_TIMEOUT_MS: '3000',
    PRODUCE_ACK_TIMEOUT_MS: '15000',
    PRODUCE_ACK_POLL_MS: '50',
    REPLICA_LAG_MAX_MS: '30000',
    AUTO_LEADER_REBALANCE_ENABLE: 'true',
    REPLICATE_ON_PRODUCE: 'true',
    LEADER_IMBALANCE_PER_BROKER_PERCENTAGE: '10',
    LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS: '300',
    POWERTOOLS_SERVICE_NAME: 'partition-leadership',
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
  };

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
    expect(Environment.Variables).toEqual({ ...settingsEnv, ...expectedEnv });
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

  it('produce may append to the log and check the partition in the same transaction', () => {
    expect(actionsOn(FUNCTIONS.produce, tableId('replica'))).toEqual(expect.arrayContaining(WRITES));
    expect(actionsOn(FUNCTIONS.produce, tableId('pk'))).toEqual(expect.arrayContaining(['dynamodb:ConditionCheckItem', 'dynamodb:UpdateItem']));
  });
});

describe('stream triggers', () => {
  /** The Lambda event pattern a table filter stands for, written out independently of the stack's translation. */
  const pattern = (filter: StreamFilter) =>
    JSON.stringify({
      eventName: filter.eventNames,
      ...(filter.newImageEquals && {
        dynamodb: { NewImage: Object.fromEntries(Object.entries(filter.newImageEquals).map(([name, value]) => [name, { S: [value] }])) },
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

  it("replicate hears only of INSERTs of leader copies on the log (the followers' copies are INSERTs too)", () => {
    const { trigger } = FUNCTIONS.replicate;
    expect(trigger.table).toBe('log');
    expect(trigger.filters).toEqual([expect.objectContaining({ eventNames: ['INSERT'], newImageEquals: { copy: 'leader' } })]);
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

  it('names the tables and gives the queue URLs', () => {
    template.hasOutput('BrokersTableName', { Value: ref(tableId('brokerId')) });
    template.hasOutput('MetadataTableName', { Value: ref(tableId('pk')) });
    template.hasOutput('LogTableName', { Value: ref(tableId('replica')) });
    template.hasOutput('LeadershipEventsQueueUrl', { Value: ref(queueId()) });
  });
});

describe('context', () => {
  it('refuses a malformed value, naming the key', () => {
    expect(() => readLeadershipContext(new App({ context: { sessionTimeoutMs: 'soon' } }))).toThrow(/sessionTimeoutMs/);
  });

  it('has the documented defaults', () => {
    expect(readLeadershipContext(new App())).toEqual({
      stackName: 'PartitionLeadership',
      logLevel: 'INFO',
      settings: {
        sessionTimeoutMs: 9000,
        produceAckTimeoutMs: 10000,
        produceAckPollMs: 50,
        replicaLagMaxMs: 30000,
        autoLeaderRebalanceEnable: true,
        replicateOnProduce: true,
        leaderImbalancePerBrokerPercentage: 10,
        leaderImbalanceCheckIntervalSeconds: 300,
      },
    });
  });
});
