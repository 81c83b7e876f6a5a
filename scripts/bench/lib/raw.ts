/**
 * The embedded data plane's raw rates, measured through the edge (what the functions
 * reach) in the same run as the benchmark they bound: PutItem/s of items the size of a
 * record, and conditional UpdateItem/s (what one leadership change costs at least).
 */
import {
  BatchExecuteStatementCommand,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import type { LocalCloud } from '../../../localcloud/index.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface RawRate {
  operation: 'PutItem' | 'ConditionalUpdateItem' | 'ConditionalUpdateItem+GSI' | 'BatchExecuteStatement(25 conditional UPDATE)+GSI';
  ops: number;
  inFlight: number;
  valueBytes: number;
  seconds: number;
  perSecond: number;
}

export function edgeConfig(cloud: LocalCloud): DynamoDBClientConfig {
  return { endpoint: cloud.endpoint, region: cloud.region, credentials };
}

async function createRawTable(client: DynamoDBClient, tableName: string, leaderIndex = false): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'n', AttributeType: 'N' },
        ...(leaderIndex ? [{ AttributeName: 'leaderKey', AttributeType: 'S' as const }] : []),
      ],
      // Like the metadata table's sparse ByLeader index (all attributes projected), which
      // every leader change also updates.
      ...(leaderIndex
        ? {
            GlobalSecondaryIndexes: [
              { IndexName: 'ByLeader', KeySchema: [{ AttributeName: 'leaderKey', KeyType: 'HASH' as const }], Projection: { ProjectionType: 'ALL' as const } },
            ],
          }
        : {}),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'n', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      // Like the log table: the raw rate pays for a stream too.
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
}

/** Runs `total` operations, `inFlight` at a time, each on its own SDK client lane. */
async function lanes(config: DynamoDBClientConfig, total: number, inFlight: number, op: (client: DynamoDBClient, i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const clients = Array.from({ length: inFlight }, () => new DynamoDBClient({ ...config, maxAttempts: 3 }));
  const started = performance.now();
  try {
    await Promise.all(
      clients.map(async (client) => {
        while (next < total) {
          const i = next++;
          await op(client, i);
        }
      }),
    );
    return (performance.now() - started) / 1000;
  } finally {
    for (const client of clients) client.destroy();
  }
}

/** PutItem/s of items carrying a `valueBytes` value, `inFlight` at a time (after a short warm-up). */
export async function rawPutItemRate(cloud: LocalCloud, options: { ops: number; inFlight: number; valueBytes: number }): Promise<RawRate> {
  const config = edgeConfig(cloud);
  const setup = new DynamoDBClient(config);
  const tableName = `bench-raw-put-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  try {
    await createRawTable(setup, tableName);
  } finally {
    setup.destroy();
  }
  const value = 'v'.repeat(options.valueBytes);
  const put = (prefix: string) => (client: DynamoDBClient, i: number) =>
    client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: `${prefix}-${i % 64}` }, n: { N: String(i) }, value: { S: value } } }));
  await lanes(config, Math.min(200, options.ops), options.inFlight, put('warm'));
  const seconds = await lanes(config, options.ops, options.inFlight, put('run'));
  return { operation: 'PutItem', ops: options.ops, inFlight: options.inFlight, valueBytes: options.valueBytes, seconds: round3(seconds), perSecond: round3(options.ops / seconds) };
}

/**
 * Conditional UpdateItem/s: each op bumps one of `ops` distinct items' version on the
 * condition that it still holds the version it was given (as a leadership change does on
 * its partition item), `inFlight` at a time.
 */
export async function rawConditionalUpdateRate(cloud: LocalCloud, options: { ops: number; inFlight: number; leaderIndex?: boolean }): Promise<RawRate> {
  const config = edgeConfig(cloud);
  const setup = new DynamoDBClient(config);
  const tableName = `bench-raw-cond-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  try {
    await createRawTable(setup, tableName, options.leaderIndex);
  } finally {
    setup.destroy();
  }
  const seed = (client: DynamoDBClient, i: number) =>
    client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: `p-${i}` }, n: { N: '0' }, version: { N: '0' }, leader: { S: 'A' }, leaderKey: { S: 'A' } } }));
  await lanes(config, options.ops, options.inFlight, seed);
  const update = (client: DynamoDBClient, i: number) =>
    client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: `p-${i}` }, n: { N: '0' } },
        UpdateExpression: 'SET #version = :next, #leader = :leader, #leaderKey = :leader',
        ConditionExpression: '#version = :version',
        ExpressionAttributeNames: { '#version': 'version', '#leader': 'leader', '#leaderKey': 'leaderKey' },
        ExpressionAttributeValues: { ':version': { N: '0' }, ':next': { N: '1' }, ':leader': { S: 'B' } },
      }),
    );
  const seconds = await lanes(config, options.ops, options.inFlight, update);
  return { operation: options.leaderIndex ? 'ConditionalUpdateItem+GSI' : 'ConditionalUpdateItem', ops: options.ops, inFlight: options.inFlight, valueBytes: 0, seconds: round3(seconds), perSecond: round3(options.ops / seconds) };
}

export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * The same conditional writes as rawConditionalUpdateRate with the leader index, as PartiQL
 * UPDATEs conditional on the version, 25 per BatchExecuteStatement, `inFlight` batches at a
 * time (an alternative to single UpdateItems for the failure detector's elections, slower through the edge). Also warms DynamoDB Local's PartiQL
 * path (its first statement after a start costs a few hundred ms of JVM warm-up), as the
 * raw UpdateItem runs warm theirs.
 */
export async function rawBatchedConditionalUpdateRate(cloud: LocalCloud, options: { ops: number; inFlight: number }): Promise<RawRate> {
  const config = edgeConfig(cloud);
  const setup = new DynamoDBClient(config);
  const tableName = `bench-raw-batch-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  try {
    await createRawTable(setup, tableName, true);
  } finally {
    setup.destroy();
  }
  const batchSize = 25;
  const batches = Math.ceil(options.ops / batchSize);
  const seed = (client: DynamoDBClient, i: number) =>
    client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: `p-${i}` }, n: { N: '0' }, version: { N: '0' }, leader: { S: 'A' }, leaderKey: { S: 'A' } } }));
  await lanes(config, batches * batchSize, 16, seed);
  const update = (from: number) => (client: DynamoDBClient, b: number) =>
    client.send(
      new BatchExecuteStatementCommand({
        Statements: Array.from({ length: batchSize }, (_, j) => ({
          Statement: `UPDATE "${tableName}" SET "version" = ? SET "leader" = ? SET "leaderKey" = ? WHERE "pk" = ? AND "n" = ? AND "version" = ?`,
          Parameters: [{ N: String(from + 1) }, { S: 'B' }, { S: 'B' }, { S: `p-${b * batchSize + j}` }, { N: '0' }, { N: String(from) }],
        })),
      }),
    );
  await lanes(config, 1, 1, update(0)); // warm-up: the first batch only
  const seconds = await lanes(config, batches, options.inFlight, (client, b) => update(b === 0 ? 1 : 0)(client, b));
  return {
    operation: 'BatchExecuteStatement(25 conditional UPDATE)+GSI',
    ops: batches * batchSize,
    inFlight: options.inFlight,
    valueBytes: 0,
    seconds: round3(seconds),
    perSecond: round3((batches * batchSize) / seconds),
  };
}
