/**
 * The usage meter bills what AWS documents: DynamoDB units per KB (transactions twice, each
 * ConditionCheck included, refused conditional writes too, index writes separately, Query
 * summed then rounded to 4 KB), Lambda's billed duration and memory, SQS requests per 64 KiB.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../../cloud.js';
import { fixtureFunction } from '../../../testing/lambdas/function-specs.js';
import { testClientConfig } from '../../../testing/aws.js';

const TABLE = 'metered';

/** An item of about `bytes` bytes by DynamoDB's size rules (the key's few bytes on top). */
const item = (pk: string, sk: number, bytes: number, extra: Record<string, AttributeValue> = {}): Record<string, AttributeValue> => ({
  pk: { S: pk },
  sk: { N: String(sk) },
  v: { S: 'x'.repeat(bytes) },
  ...extra,
});

describe('usage meter', () => {
  let cloud: LocalCloud;
  let dynamodb: DynamoDBClient;
  const meter = () => {
    if (!cloud.usage) throw new Error('cloud started without meterUsage');
    return cloud.usage;
  };
  /** Write or read units that `call` alone cost. */
  const unitsOf = async (call: () => Promise<unknown>) => {
    meter().reset();
    await call();
    // The answer is billed as it passes the edge, before the SDK returns it.
    return meter().report().dynamodb.total;
  };

  beforeAll(async () => {
    cloud = await startLocalCloud({ port: 0, ttlPeriodMs: 0, meterUsage: true });
    dynamodb = new DynamoDBClient(testClientConfig(cloud.endpoint));
    await dynamodb.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'N' },
          { AttributeName: 'g', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [{ IndexName: 'ByG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
      }),
    );
  });

  afterAll(async () => {
    dynamodb?.destroy();
    await cloud?.stop();
  });

  it('bills a 1.5 KB put 2 write units, and 2 more when it is written to an index', async () => {
    expect(await unitsOf(() => dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item('a', 1, 1500) })))).toMatchObject({ writeUnits: 2, indexWriteUnits: 0 });
    expect(await unitsOf(() => dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item('a', 2, 1500, { g: { S: 'k' } }) })))).toMatchObject({
      writeUnits: 4,
      indexWriteUnits: 2,
    });
  });

  it('bills every item of a transaction twice, a ConditionCheck at the size of the item it checks', async () => {
    const twoPuts = await unitsOf(() =>
      dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: TABLE, Item: item('b', 1, 1500) } }, { Put: { TableName: TABLE, Item: item('b', 2, 3000) } }],
        }),
      ),
    );
    expect(twoPuts.writeUnits).toBe(2 * 2 + 2 * 3);
    const checkAndPut = await unitsOf(() =>
      dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { ConditionCheck: { TableName: TABLE, Key: { pk: { S: 'b' }, sk: { N: '2' } }, ConditionExpression: 'attribute_exists(pk)' } },
            { Put: { TableName: TABLE, Item: item('b', 3, 10) } },
          ],
        }),
      ),
    );
    // The checked item is 3 KB: 2 x 3; the small put 2 x 1. DynamoDB Local itself reports only the put.
    expect(checkAndPut.writeUnits).toBe(2 * 3 + 2 * 1);
  });

  describe('rounds each item of a multi-item call up on its own, as AWS does', () => {
    const key = (pk: string, sk: number) => ({ pk: { S: pk }, sk: { N: String(sk) } });
    const put = (pk: string, sk: number, bytes: number) => ({ Put: { TableName: TABLE, Item: item(pk, sk, bytes) } });
    const transact = (TransactItems: NonNullable<ConstructorParameters<typeof TransactWriteItemsCommand>[0]['TransactItems']>) =>
      unitsOf(() => dynamodb.send(new TransactWriteItemsCommand({ TransactItems })));
    const grow = (pk: string, sk: number, bytes: number) => ({
      TableName: TABLE,
      Key: key(pk, sk),
      UpdateExpression: 'SET v = :v',
      ExpressionAttributeValues: { ':v': { S: 'y'.repeat(bytes) } },
    });

    it('bills two 100-byte transactional puts 2 units each, not 2 for their 200 bytes together', async () => {
      expect((await transact([put('t', 1, 100), put('t', 2, 100)])).writeUnits).toBe(2 * 1 + 2 * 1);
    });

    it('bills a transaction of mixed sizes item by item', async () => {
      // 100 B, 1.5 KB and 600 B: 1 + 2 + 1 KB started, twice; summed first they would be 3 KB.
      expect((await transact([put('m', 1, 100), put('m', 2, 1500), put('m', 3, 600)])).writeUnits).toBe(2 * (1 + 2 + 1));
    });

    it('bills a transactional update on the larger of the item before and after it, a delete on the item it removes', async () => {
      await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item('u', 1, 500) }));
      await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item('u', 2, 1500) }));
      // 500 B grown to 1.5 KB: 2 KB; the 100 B put 1 KB.
      expect((await transact([{ Update: grow('u', 1, 1500) }, put('u', 3, 100)])).writeUnits).toBe(2 * 2 + 2 * 1);
      // 1.5 KB shrunk to 100 B is still billed at 1.5 KB; the 1.5 KB item deleted at 2 KB.
      expect((await transact([{ Update: grow('u', 1, 100) }, { Delete: { TableName: TABLE, Key: key('u', 2) } }])).writeUnits).toBe(2 * 2 + 2 * 2);
    });

    it('bills a transactional put over a larger item on the larger of the two', async () => {
      await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item('o', 1, 2500) }));
      expect((await transact([put('o', 1, 100), put('o', 2, 100)])).writeUnits).toBe(2 * 3 + 2 * 1);
    });

    it('bills a cancelled transaction item by item too, as the writes it would have been', async () => {
      await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item('x', 1, 1500) }));
      const refused = await unitsOf(() =>
        dynamodb
          .send(
            new TransactWriteItemsCommand({
              TransactItems: [
                { ConditionCheck: { TableName: TABLE, Key: key('x', 1), ConditionExpression: 'attribute_not_exists(pk)' } },
                put('x', 2, 100),
                put('x', 3, 100),
              ],
            }),
          )
          .then(
            () => expect.fail('the transaction should have been cancelled'),
            (error: Error) => expect(error.name).toBe('TransactionCanceledException'),
          ),
      );
      expect(refused).toMatchObject({ refusedWrites: 3, refusedWriteUnits: 2 * 2 + 2 * 1 + 2 * 1 });
    });

    it('bills a plain update and a plain put on the larger of the item before and after', async () => {
      await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item('p', 1, 500) }));
      expect((await unitsOf(() => dynamodb.send(new UpdateItemCommand(grow('p', 1, 1500))))).writeUnits).toBe(2);
      expect((await unitsOf(() => dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item('p', 1, 100) })))).writeUnits).toBe(2);
    });

    it('bills each put and delete of a BatchWriteItem on its own item', async () => {
      await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item('w', 9, 1500) }));
      const batch = await unitsOf(() =>
        dynamodb.send(
          new BatchWriteItemCommand({
            RequestItems: {
              [TABLE]: [
                { PutRequest: { Item: item('w', 1, 100) } },
                { PutRequest: { Item: item('w', 2, 100) } },
                { PutRequest: { Item: item('w', 3, 100) } },
                { DeleteRequest: { Key: key('w', 9) } },
              ],
            },
          }),
        ),
      );
      expect(batch.writeUnits).toBe(1 + 1 + 1 + 2);
    });

    it('bills each item a TransactGetItems or BatchGetItem reads on its own 4 KB', async () => {
      for (const [sk, bytes] of [[1, 100], [2, 100], [3, 3000]] as const) await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item('r', sk, bytes) }));
      const transactGet = await unitsOf(() =>
        dynamodb.send(new TransactGetItemsCommand({ TransactItems: [1, 2, 3].map((sk) => ({ Get: { TableName: TABLE, Key: key('r', sk) } })) })),
      );
      expect(transactGet.readUnits).toBe(2 * 3);
      const batchGet = (ConsistentRead: boolean) =>
        unitsOf(() => dynamodb.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { ConsistentRead, Keys: [1, 2, 3].map((sk) => key('r', sk)) } } })));
      expect((await batchGet(true)).readUnits).toBe(3);
      expect((await batchGet(false)).readUnits).toBe(1.5);
    });
  });

  it('bills a write its condition refused as the write it would have been', async () => {
    const refused = await unitsOf(() =>
      dynamodb
        .send(new PutItemCommand({ TableName: TABLE, Item: item('a', 1, 1500), ConditionExpression: 'attribute_not_exists(pk)' }))
        .then(
          () => expect.fail('the put should have been refused'),
          (error: Error) => expect(error.name).toBe('ConditionalCheckFailedException'),
        ),
    );
    expect(refused).toMatchObject({ requests: 1, refusedWrites: 1, refusedWriteUnits: 2, writeUnits: 2 });
  });

  it('bills a query on the sum of the items it returns, rounded up to 4 KB, half for an eventually consistent one', async () => {
    for (let sk = 0; sk < 10; sk++) await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item('q', sk, 1000) }));
    const query = (consistent: boolean) =>
      unitsOf(() =>
        dynamodb.send(new QueryCommand({ TableName: TABLE, ConsistentRead: consistent, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'q' } } })),
      );
    // Ten items of about 1 KB: 10 KB rounds up to 12 KB, 3 units.
    expect((await query(true)).readUnits).toBe(3);
    expect((await query(false)).readUnits).toBe(1.5);
  });

  it('keeps the answer the caller asked for: no ConsumedCapacity unless it asked, its own when it did', async () => {
    const plain = await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item('c', 1, 10) }));
    expect(plain.ConsumedCapacity === undefined || plain.ConsumedCapacity.CapacityUnits === 1).toBe(true);
    const asked = await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item('c', 2, 10), ReturnConsumedCapacity: 'TOTAL' }));
    expect(asked.ConsumedCapacity?.CapacityUnits).toBe(1);
  });

  it("bills a Lambda invocation's duration rounded up to the millisecond at its memory size", async () => {
    cloud.runtime.register(fixtureFunction('metered-echo', 'echo', { memoryMb: 512 }));
    const lambda = new LambdaClient(testClientConfig(cloud.endpoint));
    try {
      await lambda.send(new InvokeCommand({ FunctionName: 'metered-echo', Payload: JSON.stringify({ hello: 'world' }) }));
      meter().reset();
      await lambda.send(new InvokeCommand({ FunctionName: 'metered-echo', Payload: JSON.stringify({ hello: 'again' }) }));
      const usage = meter().report().lambda.byFunction['metered-echo'];
      expect(usage).toMatchObject({ invocations: 1, memoryMb: 512 });
      expect(Number.isInteger(usage?.billedMs)).toBe(true);
      expect(usage?.gbSeconds).toBeCloseTo((0.5 * (usage?.billedMs ?? 0)) / 1000, 9);
      expect(usage?.logBytes).toBeGreaterThan(0);
    } finally {
      lambda.destroy();
    }
  });

  it('bills an SQS request per 64 KiB of its payload', async () => {
    const sqs = new SQSClient(testClientConfig(cloud.endpoint));
    try {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'metered-queue' }));
      meter().reset();
      await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'small', MessageBody: 'x' }] }));
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: [
            { Id: 'a', MessageBody: 'y'.repeat(60_000) },
            { Id: 'b', MessageBody: 'z'.repeat(60_000) },
          ],
        }),
      );
      expect(meter().report().sqs.byAction.SendMessageBatch).toMatchObject({ requests: 2, billedRequests: 1 + 2 });
    } finally {
      sqs.destroy();
    }
  });
});
