/**
 * Template assertions on the synthesized stack (one synth, bundling included,
 * so a handler that does not bundle fails here too).
 */
import { App, DefaultStackSynthesizer } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLeadershipContext } from '../../infra/context.js';
import { PartitionLeadershipStack } from '../../infra/stacks/partition-leadership-stack.js';

const STACK_NAME = 'LeadershipUnderTest';
let template: Template;

beforeAll(() => {
  const app = new App({ context: { stackName: STACK_NAME, sessionTimeoutMs: '3000', produceAckTimeoutMs: 15000, logLevel: 'debug' } });
  const { stackName, settings, logLevel } = readLeadershipContext(app);
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
  return ids[0]!;
}

const functionId = (handlerDescription: RegExp): string => {
  const matches = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([, resource]) =>
    handlerDescription.test(String((resource as { Properties: { Description?: string } }).Properties.Description)),
  );
  expect(matches).toHaveLength(1);
  return matches[0]![0];
};

const ref = (logicalId: string) => ({ Ref: logicalId });
const tableId = (partitionKey: string) =>
  logicalIdOf('AWS::DynamoDB::Table', { KeySchema: Match.arrayWith([{ AttributeName: partitionKey, KeyType: 'HASH' }]) });

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
    POWERTOOLS_SERVICE_NAME: 'partition-leadership',
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
  };

  it('all run Node 22 with 256 MB, ESM bundles exporting `handler`', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(9);
    for (const fn of functions) {
      expect(fn).toMatchObject({ Properties: { Runtime: 'nodejs22.x', MemorySize: 256, Handler: 'index.handler' } });
    }
  });

  const expectations: Array<[string, RegExp, Record<string, string>]> = [
    ['heartbeat', /^Broker heartbeat/, { BROKERS_TABLE: 'brokerId' }],
    ['create-topic', /^Creates a topic/, { BROKERS_TABLE: 'brokerId', METADATA_TABLE: 'pk', LEADERSHIP_EVENTS_QUEUE_URL: 'queue' }],
    ['describe', /^Describes/, { BROKERS_TABLE: 'brokerId', METADATA_TABLE: 'pk' }],
    ['produce', /^Appends records/, { METADATA_TABLE: 'pk', LOG_TABLE: 'replica' }],
    ['consume', /^Reads a partition/, { METADATA_TABLE: 'pk', LOG_TABLE: 'replica' }],
    ['sweep', /^Deletes expired heartbeats/, { BROKERS_TABLE: 'brokerId' }],
    ['failure-detector', /^Elects new leaders/, { BROKERS_TABLE: 'brokerId', METADATA_TABLE: 'pk', LOG_TABLE: 'replica', LEADERSHIP_EVENTS_QUEUE_URL: 'queue' }],
    ['replicate', /^Copies leader appends/, { BROKERS_TABLE: 'brokerId', METADATA_TABLE: 'pk', LOG_TABLE: 'replica' }],
    ['reconcile', /^Repairs what no stream record/, { BROKERS_TABLE: 'brokerId', METADATA_TABLE: 'pk', LOG_TABLE: 'replica', LEADERSHIP_EVENTS_QUEUE_URL: 'queue' }],
  ];

  it.each(expectations)('%s gets exactly the variables of the resources it uses, plus the settings', (_name, description, resources) => {
    const queueId = logicalIdOf('AWS::SQS::Queue', { FifoQueue: true });
    const expectedEnv = Object.fromEntries(
      Object.entries(resources).map(([variable, key]) => [variable, key === 'queue' ? ref(queueId) : ref(tableId(key))]),
    );
    const fn = template.findResources('AWS::Lambda::Function')[functionId(description)] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    expect(fn.Properties.Environment.Variables).toEqual({ ...settingsEnv, ...expectedEnv });
  });

  it('produce outlives its acks=all wait', () => {
    const fn = template.findResources('AWS::Lambda::Function')[functionId(/^Appends records/)] as { Properties: { Timeout: number } };
    expect(fn.Properties.Timeout).toBeGreaterThan(15);
  });
});

describe('IAM grants', () => {
  type Statement = { Action: string | string[]; Resource: unknown };

  /** The DynamoDB/SQS actions a function's role is allowed on the resource with `logicalId`. */
  function actionsOn(description: RegExp, logicalId: string): string[] {
    const fn = template.findResources('AWS::Lambda::Function')[functionId(description)] as {
      Properties: { Role: { 'Fn::GetAtt': [string, string] } };
    };
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .map((policy) => (policy as { Properties: { Roles: unknown; PolicyDocument: { Statement: Statement[] } } }).Properties)
      .filter((policy) => JSON.stringify(policy.Roles).includes(roleId))
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .filter((statement) => JSON.stringify(statement.Resource).includes(`"${logicalId}"`))
      .flatMap((statement) => [statement.Action].flat());
  }
  const WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
  const queueId = () => logicalIdOf('AWS::SQS::Queue', { FifoQueue: true });

  it('heartbeat writes heartbeats and touches nothing else', () => {
    expect(actionsOn(/^Broker heartbeat/, tableId('brokerId'))).toEqual(expect.arrayContaining(WRITES));
    expect(actionsOn(/^Broker heartbeat/, tableId('pk'))).toEqual([]);
    expect(actionsOn(/^Broker heartbeat/, queueId())).toEqual([]);
  });

  it('consume only reads: exact-key BatchGetItem on the log, nothing written', () => {
    expect(actionsOn(/^Reads a partition/, tableId('replica'))).toContain('dynamodb:BatchGetItem');
    for (const key of ['replica', 'pk']) {
      expect(actionsOn(/^Reads a partition/, tableId(key))).not.toEqual(expect.arrayContaining(['dynamodb:PutItem']));
    }
  });

  it('the failure detector reads heartbeats, writes leadership (transactions included) and publishes events', () => {
    expect(actionsOn(/^Elects new leaders/, tableId('brokerId'))).not.toContain('dynamodb:PutItem');
    expect(actionsOn(/^Elects new leaders/, tableId('pk'))).toEqual(expect.arrayContaining([...WRITES, 'dynamodb:ConditionCheckItem']));
    expect(actionsOn(/^Elects new leaders/, queueId())).toContain('sqs:SendMessage');
  });

  it('produce may append to the log and check the partition in the same transaction', () => {
    expect(actionsOn(/^Appends records/, tableId('replica'))).toEqual(expect.arrayContaining(WRITES));
    expect(actionsOn(/^Appends records/, tableId('pk'))).toEqual(expect.arrayContaining(['dynamodb:ConditionCheckItem', 'dynamodb:UpdateItem']));
  });
});

describe('stream triggers', () => {
  it('heartbeat stream -> failure detector: INSERT and REMOVE only, 60 s max age, bisect, partial failures, DLQ', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: ref(functionId(/^Elects new leaders/)),
      EventSourceArn: { 'Fn::GetAtt': [tableId('brokerId'), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRecordAgeInSeconds: 60,
      MaximumRetryAttempts: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailureDetectorDlq'), 'Arn'] } } },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT', 'REMOVE'] }) }] },
    });
  });

  it('log stream -> replicate: only INSERTs of leader copies, bisect, partial failures, DLQ', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: ref(functionId(/^Copies leader appends/)),
      EventSourceArn: { 'Fn::GetAtt': [tableId('replica'), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReplicateDlq'), 'Arn'] } } },
      FilterCriteria: {
        Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { copy: { S: ['leader'] } } } }) }],
      },
    });
  });
});

describe('sweep schedule', () => {
  it('invokes the sweep every minute, without retries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(/^Deletes expired heartbeats/), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [functionId(/^Deletes expired heartbeats/), 'Arn'] },
    });
  });
});

describe('reconcile schedule', () => {
  it('invokes the reconciler every minute, without retries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(/^Repairs what no stream record/), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
  });
});

describe('dead-letter queue alarms', () => {
  it.each([['FailureDetector'], ['Replicate']])('%s: fires on the first message in its DLQ', (construct) => {
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
  it.each([
    ['HeartbeatFunctionName', /^Broker heartbeat/],
    ['CreateTopicFunctionName', /^Creates a topic/],
    ['DescribeFunctionName', /^Describes/],
    ['ProduceFunctionName', /^Appends records/],
    ['ConsumeFunctionName', /^Reads a partition/],
    ['FailureDetectorFunctionName', /^Elects new leaders/],
    ['ReplicateFunctionName', /^Copies leader appends/],
    ['SweepFunctionName', /^Deletes expired heartbeats/],
    ['ReconcileFunctionName', /^Repairs what no stream record/],
  ])('%s names its function', (output, description) => {
    template.hasOutput(output, { Value: ref(functionId(description)) });
  });

  it('names the tables and gives the queue URLs', () => {
    template.hasOutput('BrokersTableName', { Value: ref(tableId('brokerId')) });
    template.hasOutput('MetadataTableName', { Value: ref(tableId('pk')) });
    template.hasOutput('LogTableName', { Value: ref(tableId('replica')) });
    template.hasOutput('LeadershipEventsQueueUrl', { Value: ref(logicalIdOf('AWS::SQS::Queue', { FifoQueue: true })) });
    template.hasOutput('FailureDetectorDlqUrl', { Value: { Ref: Match.stringLikeRegexp('^FailureDetectorDlq') } });
    template.hasOutput('ReplicateDlqUrl', { Value: { Ref: Match.stringLikeRegexp('^ReplicateDlq') } });
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
      settings: { sessionTimeoutMs: 9000, produceAckTimeoutMs: 10000, produceAckPollMs: 50, replicaLagMaxMs: 30000 },
    });
  });
});
