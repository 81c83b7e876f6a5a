/**
 * Raw DynamoDB workloads against whatever data plane an endpoint serves: the ceiling the
 * other benchmarks' ratios are measured against, and the contended-transaction workload
 * of the data-plane contract test (test/e2e/data-plane/data-plane-contract.test.ts).
 */
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';

export const CONTENDED_COUNTER_KEY = 'counter';

/** A table with a string hash key `pk`, a number range key `n` and a NEW_AND_OLD_IMAGES stream; returns its stream ARN. */
export async function createLoadTable(client: DynamoDBClient, tableName: string): Promise<string> {
  const { TableDescription } = await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'n', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'n', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const streamArn = TableDescription?.LatestStreamArn;
  if (!streamArn) throw new Error(`${tableName} was created without a stream`);
  return streamArn;
}

export interface RateResult {
  ops: number;
  seconds: number;
  perSecond: number;
}

/** `total` PutItems of ~100-byte items, `inFlight` at a time. */
export async function putItemRate(client: DynamoDBClient, tableName: string, total: number, inFlight: number, prefix: string): Promise<RateResult> {
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < total) {
      const i = next++;
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { pk: { S: `${prefix}-${i % 64}` }, n: { N: String(i) }, payload: { S: 'x'.repeat(80) } },
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const seconds = (performance.now() - started) / 1000;
  return { ops: total, seconds: round3(seconds), perSecond: round3(total / seconds) };
}

export interface ContendedResult extends RateResult {
  clients: number;
  appendsPerClient: number;
  /** Transactions the data plane acknowledged. */
  succeeded: number;
  /** TransactionCanceledException answers (lost races), each retried. */
  cancelled: number;
  /** Other errors (an emulator's HTTP 500...): counted and retried when tolerated, else thrown. */
  errors: number;
  /** The counter's value afterwards. */
  counter: number;
}

/**
 * `clients` independent SDK clients each append `appendsPerClient` items to one partition
 * `pk`, by TransactWriteItems of Put(item n, attribute_not_exists) + Update(counter = n+1,
 * condition counter = n), re-reading the counter after every lost race. Stops early, with
 * what it has, at `deadlineMs` (epoch ms).
 */
export async function contendedAppends(
  config: DynamoDBClientConfig,
  tableName: string,
  pk: string,
  clients: number,
  appendsPerClient: number,
  deadlineMs = Number.POSITIVE_INFINITY,
  tolerateErrors = false,
): Promise<ContendedResult> {
  const setup = new DynamoDBClient(config);
  await setup.send(
    new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk }, n: { N: '-1' }, end: { N: '0' } } }),
  );
  let succeeded = 0;
  let cancelled = 0;
  let errors = 0;
  const started = performance.now();
  const worker = async (clientIndex: number) => {
    const client = new DynamoDBClient({ ...config, maxAttempts: 1 });
    try {
      for (let done = 0; done < appendsPerClient && Date.now() < deadlineMs; ) {
        try {
          const { Item } = await client.send(
            new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, n: { N: '-1' } }, ConsistentRead: true }),
          );
          const end = Number(Item?.end?.N ?? '0');
          await client.send(
            new TransactWriteItemsCommand({
              TransactItems: [
                {
                  Put: {
                    TableName: tableName,
                    Item: { pk: { S: pk }, n: { N: String(end) }, writer: { S: `client-${clientIndex}` } },
                    ConditionExpression: 'attribute_not_exists(n)',
                  },
                },
                {
                  Update: {
                    TableName: tableName,
                    Key: { pk: { S: pk }, n: { N: '-1' } },
                    UpdateExpression: 'SET #end = :next',
                    ConditionExpression: '#end = :end',
                    ExpressionAttributeNames: { '#end': 'end' },
                    ExpressionAttributeValues: { ':end': { N: String(end) }, ':next': { N: String(end + 1) } },
                  },
                },
              ],
            }),
          );
          succeeded += 1;
          done += 1;
        } catch (error) {
          const name = (error as Error).name;
          if (name === 'TransactionCanceledException' || name === 'TransactionConflictException') cancelled += 1;
          else if (tolerateErrors) errors += 1;
          else throw error;
        }
      }
    } finally {
      client.destroy();
    }
  };
  try {
    await Promise.all(Array.from({ length: clients }, (_, i) => worker(i)));
    const seconds = (performance.now() - started) / 1000;
    const { Item } = await setup.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, n: { N: '-1' } }, ConsistentRead: true }),
    );
    return {
      clients,
      appendsPerClient,
      ops: succeeded,
      seconds: round3(seconds),
      perSecond: round3(succeeded / seconds),
      succeeded,
      cancelled,
      errors,
      counter: Number(Item?.end?.N ?? 'NaN'),
    };
  } finally {
    setup.destroy();
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
