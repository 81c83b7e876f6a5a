/**
 * The DynamoDB log's reads ask only for the items holding the range (DynamoDB bills every
 * item a Query returns), always strongly consistent. The records they return are the store
 * contract's (test/contract); the units they cost are metered in
 * test/e2e/adapters/log-read-units.test.ts. Here: the Queries themselves, against a fake
 * client that answers them from a list of batch items (and the replica state read first).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { logBatchItem } from '../../../functions/adapters/dynamodb/items.js';
import { DynamoPartitionLog } from '../../../functions/adapters/dynamodb/partition-log.js';
import type { LogRecord } from '../../../functions/domain/model.js';
import { aLogRecord } from '../../factories/entities.js';

interface QueryInput {
  KeyConditionExpression: string;
  ExpressionAttributeValues: Record<string, string | number>;
  ConsistentRead?: boolean;
  ScanIndexForward?: boolean;
  Limit?: number;
  ExclusiveStartKey?: unknown;
}

const batch = (base: number, count: number): LogRecord[] =>
  Array.from({ length: count }, (_, i) => aLogRecord({ topic: 'orders', partition: 1, replica: 'L', offset: base + i, value: `v${base + i}` }));

/** Batches of 1, 98 and 1 records, then 5 of one: [0], [1..98], [99], [100]..[104]. */
const BATCHES = [batch(0, 1), batch(1, 98), batch(99, 1), ...Array.from({ length: 5 }, (_, i) => batch(100 + i, 1))];

/** Answers the log's Queries from BATCHES: `offset <= :x` read backwards, or `offset BETWEEN :a AND :b`, one page. */
function fakeClient() {
  const queries: QueryInput[] = [];
  const items = BATCHES.map((records) => logBatchItem(records));
  // A real document client (the paginator insists on one) whose sends never leave the process.
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const answer = (command: { input: QueryInput | { Key: unknown } }) => {
    // The replica's state, read first: its log end (past the last batch) and no generations (all in generation 0).
    if ('Key' in command.input) {
      return Promise.resolve({ Item: { topic: 'orders', partition: 1, brokerId: 'L', logEndOffset: 105, matchedEpoch: 0, updatedAt: 0 } });
    }
    const input = command.input;
    queries.push(input);
    const values = Object.values(input.ExpressionAttributeValues).filter((value): value is number => typeof value === 'number');
    const between = /BETWEEN/.test(input.KeyConditionExpression);
    const atOrBelow = /<=/.test(input.KeyConditionExpression);
    if (!between && !atOrBelow) throw new Error(`unexpected key condition ${input.KeyConditionExpression}`);
    const [low, high] = between ? values : [Number.NEGATIVE_INFINITY, values[0]];
    const matching = items.filter((item) => (item.offset as number) >= low && (item.offset as number) <= high);
    const ordered = input.ScanIndexForward === false ? [...matching].reverse() : matching;
    return Promise.resolve({ Items: input.Limit === undefined ? ordered : ordered.slice(0, input.Limit) });
  };
  vi.spyOn(client, 'send').mockImplementation(answer as never);
  const log = new DynamoPartitionLog(client, { logTable: 'log', metadataTable: 'metadata' }, { now: () => 0 });
  return { log, queries };
}

const offsets = (records: LogRecord[]) => records.map((record) => record.offset);

describe('DynamoPartitionLog reads', () => {
  it('reads one record with one Query returning one item: the last batch starting at or below it', async () => {
    for (const offset of [0, 1, 50, 98, 99, 104]) {
      const { log, queries } = fakeClient();
      expect(offsets(await log.read('orders', 1, 'L', offset, offset + 1))).toEqual([offset]);
      expect(queries).toHaveLength(1);
      expect(queries[0]).toMatchObject({ ScanIndexForward: false, Limit: 1, ConsistentRead: true });
      expect(queries[0].ExpressionAttributeValues).toMatchObject({ ':from': offset });
    }
  });

  it('reads past the batch holding its first offset with a second Query that starts right after that batch', async () => {
    const { log, queries } = fakeClient();
    expect(offsets(await log.read('orders', 1, 'L', 50, 103))).toEqual(Array.from({ length: 53 }, (_, i) => 50 + i));
    expect(queries).toHaveLength(2);
    expect(queries[1]).toMatchObject({ ConsistentRead: true });
    expect(queries[1].ScanIndexForward).not.toBe(false);
    expect(queries[1].ExpressionAttributeValues).toMatchObject({ ':next': 99, ':highest': 102 });
  });

  it('needs no second Query when the batch holding the first offset holds the whole range', async () => {
    const { log, queries } = fakeClient();
    expect(offsets(await log.read('orders', 1, 'L', 10, 99))).toEqual(Array.from({ length: 89 }, (_, i) => 10 + i));
    expect(queries).toHaveLength(1);
  });

  it('reads nothing past the log end, and reads an empty range without a Query', async () => {
    const { log, queries } = fakeClient();
    expect(await log.read('orders', 1, 'L', 105, 200)).toEqual([]);
    expect(await log.read('orders', 1, 'L', 7, 7)).toEqual([]);
    // The replica's state says the log ends at 105: nothing to query.
    expect(queries).toHaveLength(0);
  });
});
