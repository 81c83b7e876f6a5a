import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  PutItemCommand,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeCache } from '../../../cloudformation/deploy/code-cache.js';
import { DeployError } from '../../../cloudformation/deploy/errors.js';
import type { DeployedStack } from '../../../cloudformation/deploy/target.js';
import { CloudFormationService } from '../../../cloudformation/service.js';
import {
  FIXTURE_CONSUMER_STACK,
  FIXTURE_FIFO_QUEUE_NAME,
  FIXTURE_STACK,
  synthFixture,
} from '../../fixtures/cdk-app/app.js';
import { ACCOUNT_ID, n, queueAttribute, REGION, s } from '../../../testing/aws.js';
import { useDataPlane } from '../../../testing/data-plane.js';
import { writeAssembly } from '../../support/assembly.js';
import { testTarget, type TestTarget } from '../../support/target.js';

const TABLE = `${FIXTURE_STACK}-Heartbeats740CD8B8`;
const FUNCTION = `${FIXTURE_STACK}-Worker11F36D0F`;
const RULE = `${FIXTURE_STACK}-Tick6513F4AE`;

const aws = useDataPlane();
let target: TestTarget;
let codeCache: CodeCache;
/** The path every deploy takes: `npm start`'s cdk.out and `cdk deploy` alike become CloudFormation stacks. */
let cloudFormation: CloudFormationService;
let tmp: string;
let assemblyDir: string;
let deployed: DeployedStack[];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'localcloud-deploy-'));
  assemblyDir = synthFixture(path.join(tmp, 'cdk.out'));
  target = testTarget(aws.endpoint);
  codeCache = CodeCache.create();
  cloudFormation = new CloudFormationService({ target, clients: { dynamodb: aws.dynamodb, sqs: aws.sqs }, codeCache });
  deployed = await cloudFormation.deployAssembly(assemblyDir);
}, 60_000);

afterAll(async () => {
  await target?.esm.stop();
  await target?.scheduler.stop();
  await target?.ttl.stop();
  await cloudFormation?.idle();
  codeCache?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const stack = (name: string): DeployedStack => {
  const found = deployed.find((d) => d.stackName === name);
  if (!found) throw new Error(`stack ${name} not deployed`);
  return found;
};

describe('deployAssembly of the fixture CDK app, through CloudFormation', () => {
  it('deploys both stacks, the exporting one first', () => {
    expect(deployed.map((d) => d.stackName)).toEqual([FIXTURE_STACK, FIXTURE_CONSUMER_STACK]);
    const types = stack(FIXTURE_STACK).resources.map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['AWS::DynamoDB::Table', 'AWS::Lambda::EventSourceMapping']));
  });

  it('creates the table with keys, GSI, billing mode, stream and TTL', async () => {
    const { Table } = await aws.dynamodb.send(new DescribeTableCommand({ TableName: TABLE }));
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['byBroker']);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    const ttl = await aws.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: TABLE }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    expect(stack(FIXTURE_STACK).outputs.TableStreamArn).toBe(Table?.LatestStreamArn);
  });

  it('registers the table with the TTL reaper', async () => {
    expect(target.ttl.registered()).toContainEqual({ tableName: TABLE, attributeName: 'expiresAt' });
    const past = Math.floor(Date.now() / 1000) - 60;
    await aws.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { pk: s('ttl'), sk: n(1), expiresAt: n(past) } }));
    // DynamoDB Local's own TTL job may delete the item first; either way it is gone after a sweep.
    expect(await target.ttl.sweepOnce()).toBeLessThanOrEqual(1);
    const { Item } = await aws.dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: s('ttl'), sk: n(1) }, ConsistentRead: true }),
    );
    expect(Item).toBeUndefined();
  });

  it('creates the queues: redrive to the DLQ, and the named FIFO queue', async () => {
    const workUrl = stack(FIXTURE_STACK).outputs.WorkQueueUrl;
    expect(await queueAttribute(aws, workUrl, 'VisibilityTimeout')).toBe('10');
    const redrive: unknown = JSON.parse(await queueAttribute(aws, workUrl, 'RedrivePolicy'));
    expect(redrive).toMatchObject({
      deadLetterTargetArn: expect.stringMatching(new RegExp(`^arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${FIXTURE_STACK}-WorkDlq`)),
      maxReceiveCount: 3,
    });
    const { QueueUrl: fifoUrl } = await aws.sqs.send(new GetQueueUrlCommand({ QueueName: FIXTURE_FIFO_QUEUE_NAME }));
    expect(await queueAttribute(aws, fifoUrl ?? '', 'FifoQueue')).toBe('true');
    expect(await queueAttribute(aws, fifoUrl ?? '', 'ContentBasedDeduplication')).toBe('true');
  });

  it('registers the function with its asset directory and resolved environment', async () => {
    const fn = target.runtime.get(FUNCTION);
    expect(fn).toMatchObject({
      name: FUNCTION,
      logicalId: 'Worker11F36D0F',
      arn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${FUNCTION}`,
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      timeoutSeconds: 10,
      memoryMb: 256,
    });
    expect(fs.existsSync(path.join(fn?.codeDir ?? '', 'index.mjs'))).toBe(true);
    const workQueueUrl = stack(FIXTURE_STACK).outputs.WorkQueueUrl;
    expect(fn?.environment).toEqual({
      TABLE_NAME: TABLE,
      // The data plane's own ARN: DynamoDB Local names region "ddblocal" and account 000000000000.
      TABLE_ARN: (await aws.dynamodb.send(new DescribeTableCommand({ TableName: TABLE }))).Table?.TableArn,
      WORK_QUEUE_URL: workQueueUrl,
      FIFO_QUEUE_ARN: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${FIXTURE_FIFO_QUEUE_NAME}`,
      JOINED: `${TABLE}:${REGION}`,
      SUBBED: `${FIXTURE_STACK}/${FIXTURE_FIFO_QUEUE_NAME}`,
    });
  });

  it('hands both event source mappings to the pollers with every setting', () => {
    const mappings = target.esm.list();
    const stream = mappings.find((m) => m.source.kind === 'dynamodb');
    expect(stream).toMatchObject({
      functionName: FUNCTION,
      source: { kind: 'dynamodb', tableName: TABLE, eventSourceArn: stack(FIXTURE_STACK).outputs.TableStreamArn },
      batchSize: 5,
      maximumBatchingWindowInSeconds: 1,
      startingPosition: 'TRIM_HORIZON',
      maximumRetryAttempts: 2,
      maximumRecordAgeInSeconds: 300,
      bisectBatchOnFunctionError: true,
      onFailureDestinationArn: expect.stringContaining(`:${FIXTURE_STACK}-StreamFailures`),
      reportBatchItemFailures: true,
      filterPatterns: ['{"eventName":["REMOVE"]}'],
      enabled: true,
    });
    const sqs = mappings.find((m) => m.source.kind === 'sqs');
    expect(sqs).toMatchObject({
      functionName: FUNCTION,
      source: { kind: 'sqs', queueUrl: stack(FIXTURE_STACK).outputs.WorkQueueUrl },
      batchSize: 7,
      maximumBatchingWindowInSeconds: 0,
      reportBatchItemFailures: true,
      filterPatterns: [],
    });
  });

  it('schedules the rate rule with its constant input', async () => {
    const [schedule] = target.scheduler.list();
    expect(schedule).toEqual({
      name: RULE,
      scheduleExpression: 'rate(1 minute)',
      targetFunctionNames: [FUNCTION],
      input: { kind: 'tick' },
    });
    await target.scheduler.invokeNow(RULE);
    expect(target.runtime.invocationsOf(FUNCTION).map((i) => i.payload)).toContainEqual({ kind: 'tick' });
  });

  it('resolves cross-stack imports and writes inline code for the consumer stack', () => {
    const inline = target.runtime.get('localcloud-fixture-inline');
    const streamLabel = stack(FIXTURE_STACK).outputs.TableStreamArn.split('/')[3];
    expect(inline?.environment).toEqual({ HEARTBEATS_TABLE: TABLE, STREAM_LABEL: streamLabel });
    expect(fs.readFileSync(path.join(inline?.codeDir ?? '', 'index.js'), 'utf8')).toContain('exports.handler');
  });

  it('redeploys idempotently: same names, data kept, mappings updated not duplicated', async () => {
    await aws.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { pk: s('kept'), sk: n(1) } }));
    const mappingIds = target.esm.list().map((m) => m.uuid).sort();
    const queuesBefore = (await aws.sqs.send(new ListQueuesCommand({}))).QueueUrls?.length;

    const again = await cloudFormation.deployAssembly(assemblyDir);

    expect(again.map((d) => d.outputs)).toEqual(deployed.map((d) => d.outputs));
    expect(target.esm.list().map((m) => m.uuid).sort()).toEqual(mappingIds);
    expect((await aws.sqs.send(new ListQueuesCommand({}))).QueueUrls?.length).toBe(queuesBefore);
    const { Item } = await aws.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: s('kept'), sk: n(1) } }));
    expect(Item).toBeDefined();
  });
});

describe('deployAssembly rolls back a stack it cannot emulate, before creating anything', () => {
  const queue = (name: string) => ({ Type: 'AWS::SQS::Queue', Properties: { QueueName: name } });

  const queueExists = async (name: string): Promise<boolean> =>
    aws.sqs.send(new GetQueueUrlCommand({ QueueName: name })).then(
      () => true,
      () => false,
    );

  it('names an unsupported resource type, its logical id and stack', async () => {
    const dir = writeAssembly(path.join(tmp, 'unsupported'), {
      Unsupported: {
        Resources: {
          Early: queue('created-too-early'),
          Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
        },
      },
    });
    const error: unknown = await cloudFormation.deployAssembly(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeployError);
    expect((error as Error).message).toBe(
      'stack Unsupported: ROLLBACK_COMPLETE: Unsupported resource type AWS::SNS::Topic (logical id Topic) in stack Unsupported',
    );
    expect(await queueExists('created-too-early')).toBe(false);
  });

  it('names an unknown intrinsic and where it is', async () => {
    const dir = writeAssembly(path.join(tmp, 'intrinsic'), {
      Bad: {
        Resources: {
          Early: queue('also-too-early'),
          Q: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::Frobnicate': ['x'] } } },
        },
      },
    });
    const error: unknown = await cloudFormation.deployAssembly(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeployError);
    expect((error as Error).message).toBe('stack Bad: ROLLBACK_COMPLETE: Unknown intrinsic function Fn::Frobnicate at Resources.Q.QueueName');
    expect(await queueExists('also-too-early')).toBe(false);
  });
});
