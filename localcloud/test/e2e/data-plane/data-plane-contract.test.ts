/**
 * The data plane's contract, as DynamoDB gives it and the product relies on it (every
 * append is a conditional transaction; replication and failure detection read streams):
 * through the embedded cloud's edge (DynamoDB Local behind it),
 * - contended conditional transactions from many concurrent clients keep the counter,
 *   the items and the stream in agreement: every acknowledged append happened once;
 * - a cancelled transaction changes nothing, and stream iterators opened before it keep
 *   working: a write after the cancel reaches an iterator opened before it.
 * moto 5.2 broke both (see the project's moto-spike note).
 */
import { GetItemCommand, PutItemCommand, QueryCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, it } from 'vitest';
import { contendedAppends, createLoadTable } from '../../../testing/data-plane-load.js';
import { testClientConfig } from '../../../testing/aws.js';
import { useDataPlane } from '../../../testing/data-plane.js';
import { waitFor } from '../../../testing/wait-for.js';

const aws = useDataPlane();

const CLIENTS = 8;
const APPENDS_PER_CLIENT = 40;

/** An iterator on the stream's only shard, at its beginning. */
async function openIterator(streamArn: string): Promise<string> {
  const { StreamDescription } = await aws.streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const shards = StreamDescription?.Shards ?? [];
  expect(shards).toHaveLength(1);
  const { ShardIterator } = await aws.streams.send(
    new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shards[0]?.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  if (!ShardIterator) throw new Error('no shard iterator');
  return ShardIterator;
}

/** Reads on from `iterator`, collecting records, until `done` says enough or the deadline passes. */
async function readUntil(iterator: string, done: (records: StreamRecord[]) => boolean, what: string) {
  const records: StreamRecord[] = [];
  let next: string | undefined = iterator;
  await waitFor(async () => {
    if (!next) throw new Error('the shard was closed');
    const page = await aws.streams.send(new GetRecordsCommand({ ShardIterator: next }));
    records.push(...(page.Records ?? []));
    next = page.NextShardIterator;
    return done(records);
  }, 30_000, what);
  return { records, next };
}

describe('the data plane keeps DynamoDB promises', () => {
  it(`keeps counter, items and stream in agreement under ${CLIENTS} clients x ${APPENDS_PER_CLIENT} contended conditional transactions`, async () => {
    const tableName = `contract-contended-${Date.now()}`;
    const streamArn = await createLoadTable(aws.dynamodb, tableName);
    const iterator = await openIterator(streamArn); // opened before the run, as a poller's would be

    const result = await contendedAppends(testClientConfig(aws.endpoint), tableName, 'p', CLIENTS, APPENDS_PER_CLIENT);

    const total = CLIENTS * APPENDS_PER_CLIENT;
    expect(result).toMatchObject({ succeeded: total, counter: total, errors: 0 });
    const { Items = [] } = await aws.dynamodb.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND n >= :zero',
        ExpressionAttributeValues: { ':pk': { S: 'p' }, ':zero': { N: '0' } },
        ConsistentRead: true,
      }),
    );
    const offsets = Items.map((item) => Number(item.n?.N));
    expect(offsets).toEqual(Array.from({ length: total }, (_, i) => i));

    const inserted = (records: StreamRecord[]) =>
      records.filter((r) => r.eventName === 'INSERT' && Number(r.dynamodb?.Keys?.n?.N) >= 0).map((r) => Number(r.dynamodb?.Keys?.n?.N));
    const { records } = await readUntil(iterator, (seen) => inserted(seen).length >= total, `${total} INSERTs on the stream`);
    expect(inserted(records)).toEqual(offsets); // each once, in commit order
    const counterChanges = records.filter((r) => r.eventName === 'MODIFY' && r.dynamodb?.Keys?.n?.N === '-1');
    expect(counterChanges.map((r) => Number(r.dynamodb?.NewImage?.end?.N))).toEqual(offsets.map((offset) => offset + 1));
    console.log(
      `[data-plane contract] ${total} contended appends: ${result.perSecond} tx/s, ${result.cancelled} lost races retried, ` +
        `counter ${result.counter}, ${Items.length} items, ${inserted(records).length} stream INSERTs`,
    );
  });

  it('changes nothing on a cancelled transaction, and open stream iterators see the writes after it', async () => {
    const tableName = `contract-cancel-${Date.now()}`;
    const streamArn = await createLoadTable(aws.dynamodb, tableName);
    const key = (n: number) => ({ pk: { S: 'p' }, n: { N: String(n) } });
    await aws.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { ...key(0), version: { N: '1' } } }));
    const before = await readUntil(await openIterator(streamArn), (seen) => seen.length >= 1, 'the first write on the stream');

    const cancelled: unknown = await aws.dynamodb
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: tableName, Item: { ...key(1), from: { S: 'cancelled' } } } },
            {
              Update: {
                TableName: tableName,
                Key: key(0),
                UpdateExpression: 'SET version = :two',
                ConditionExpression: 'version = :wrong',
                ExpressionAttributeValues: { ':two': { N: '2' }, ':wrong': { N: '7' } },
              },
            },
          ],
        }),
      )
      .catch((error: unknown) => error);
    expect(cancelled).toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
    });
    const read = (n: number) => aws.dynamodb.send(new GetItemCommand({ TableName: tableName, Key: key(n), ConsistentRead: true }));
    expect((await read(1)).Item).toBeUndefined();
    expect((await read(0)).Item?.version).toEqual({ N: '1' });

    await aws.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { ...key(2), from: { S: 'after the cancel' } } }));
    const after = await readUntil(before.next ?? '', (seen) => seen.length >= 1, 'the write after the cancel, on the old iterator');
    expect(after.records.map((r) => [r.eventName, r.dynamodb?.Keys?.n?.N])).toEqual([['INSERT', '2']]);
  });
});
