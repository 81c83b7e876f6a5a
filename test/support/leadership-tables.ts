/**
 * The three leadership tables (heartbeats, metadata, log) with the keys, leader index
 * and stream settings of infra/constructs/leadership-tables.ts, for tests that run the
 * DynamoDB adapters against a local DynamoDB, and a reader of their streams.
 */
import { CreateTableCommand, DescribeTableCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { LEADER_INDEX } from '../../functions/adapters/dynamodb/keys.js';
import type { TestAws } from '../../localcloud/testing/aws.js';

export interface LeadershipTables {
  brokers: string;
  metadata: string;
  log: string;
}

export const LEADERSHIP_TABLES: LeadershipTables = { brokers: 'it-brokers', metadata: 'it-metadata', log: 'it-log' };

const definitions = (tables: LeadershipTables): CreateTableCommandInput[] => [
  {
    TableName: tables.brokers,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'brokerId', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'brokerId', AttributeType: 'S' }],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  },
  {
    TableName: tables.metadata,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: LEADER_INDEX.keyAttribute, AttributeType: 'S' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: LEADER_INDEX.indexName,
        KeySchema: [{ AttributeName: LEADER_INDEX.keyAttribute, KeyType: 'HASH' }],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  },
  {
    TableName: tables.log,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [
      { AttributeName: 'replica', KeyType: 'HASH' },
      { AttributeName: 'offset', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'replica', AttributeType: 'S' },
      { AttributeName: 'offset', AttributeType: 'N' },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
  },
];

export async function createLeadershipTables(aws: TestAws, tables: LeadershipTables = LEADERSHIP_TABLES): Promise<void> {
  for (const definition of definitions(tables)) await aws.dynamodb.send(new CreateTableCommand(definition));
}

/**
 * Every record on the table's stream so far, from the trim horizon, shaped like the
 * records of a Lambda event (which carry the same fields as GetRecords, dates aside).
 * Pages through each shard until it returns no more records.
 */
export async function streamRecords(aws: TestAws, table: string): Promise<DynamoDBRecord[]> {
  const { Table } = await aws.dynamodb.send(new DescribeTableCommand({ TableName: table }));
  const StreamArn = Table?.LatestStreamArn;
  if (!StreamArn) throw new Error(`table ${table} has no stream`);
  const { StreamDescription } = await aws.streams.send(new DescribeStreamCommand({ StreamArn }));
  const records: DynamoDBRecord[] = [];
  for (const shard of StreamDescription?.Shards ?? []) {
    let { ShardIterator } = await aws.streams.send(
      new GetShardIteratorCommand({ StreamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    while (ShardIterator) {
      const page = await aws.streams.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
      const fetched = page.Records ?? [];
      records.push(
        ...fetched.map(
          (r) =>
            ({
              eventID: r.eventID,
              eventName: r.eventName,
              dynamodb: {
                Keys: r.dynamodb?.Keys,
                SequenceNumber: r.dynamodb?.SequenceNumber,
                NewImage: r.dynamodb?.NewImage,
                OldImage: r.dynamodb?.OldImage,
              },
            }) as DynamoDBRecord,
        ),
      );
      // An open shard always hands out a next iterator; an empty page means we are at its end.
      ShardIterator = fetched.length > 0 ? page.NextShardIterator : undefined;
    }
  }
  return records;
}
