/**
 * The DynamoDB adapters against a real (moto) DynamoDB: every port method, and
 * every lost condition surfacing as the named domain outcome (false /
 * StaleEpochError / TopicExistsError). Tables are created with the same keys
 * and stream settings as infra/constructs/leadership-tables.ts.
 */
import { CreateTableCommand, DescribeTableCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoBrokerRegistry,
  DynamoMetadataStore,
  DynamoPartitionLog,
  MAX_RECORDS_PER_APPEND,
  decodeHeartbeatChange,
  decodeLogInsert,
} from '../../../functions/adapters/dynamodb/index.js';
import { StaleEpochError, TopicExistsError, UnknownTopicError, ValidationError } from '../../../functions/domain/errors.js';
import type {
  BrokerHeartbeat,
  PartitionMetadata,
  ReplicaState,
  TopicConfig,
} from '../../../functions/domain/model.js';
import { LEADER_INDEX } from '../../../functions/adapters/dynamodb/keys.js';
import type { LeadershipUpdate } from '../../../functions/ports/index.js';
import { useDataPlane } from '../../support/data-plane.js';

const TABLES = { brokers: 'it-brokers', metadata: 'it-metadata', log: 'it-log' };
const LOG_TOPIC = 'events';

const tableDefinitions: CreateTableCommandInput[] = [
  {
    TableName: TABLES.brokers,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'brokerId', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'brokerId', AttributeType: 'S' }],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  },
  {
    TableName: TABLES.metadata,
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
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  },
  {
    TableName: TABLES.log,
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

const aws = useDataPlane();
let documents: DynamoDBDocumentClient;
let brokers: DynamoBrokerRegistry;
let metadata: DynamoMetadataStore;
let log: DynamoPartitionLog;
let clockNow = 1_000_000;
const clock = { now: () => clockNow };

beforeAll(async () => {
  documents = DynamoDBDocumentClient.from(aws.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  for (const definition of tableDefinitions) await aws.dynamodb.send(new CreateTableCommand(definition));
  brokers = new DynamoBrokerRegistry(documents, TABLES.brokers);
  metadata = new DynamoMetadataStore(documents, TABLES.metadata);
  log = new DynamoPartitionLog(documents, { logTable: TABLES.log, metadataTable: TABLES.metadata }, clock);
}, 30_000);

const heartbeatOf = (brokerId: string, incarnation: number, lastHeartbeatAt: number, sessionMs = 9000): BrokerHeartbeat => ({
  brokerId,
  incarnation,
  lastHeartbeatAt,
  deadlineMs: lastHeartbeatAt + sessionMs,
  expiresAt: Math.ceil((lastHeartbeatAt + sessionMs) / 1000),
});

/** A topic with `partitions` partitions on `replicas` (same assignment each), led by replicas[0]. */
function topicFixture(topic: string, partitions: number, replicas: string[]) {
  const config: TopicConfig = {
    topic,
    partitions,
    replicationFactor: replicas.length,
    minInsyncReplicas: 1,
    uncleanLeaderElection: false,
    createdAt: 1,
  };
  const partitionItems: PartitionMetadata[] = Array.from({ length: partitions }, (_, i) => ({
    topic,
    partition: i + 1,
    replicas,
    leader: replicas[0] ?? null,
    leaderEpoch: 0,
    isr: replicas,
    state: 'ONLINE',
    highWatermark: 0,
    version: 0,
    lastChange: { reason: 'CREATED', previousLeader: null, causeBrokerId: null, causeIncarnation: null, unclean: false, at: 1 },
  }));
  const replicaStates: ReplicaState[] = partitionItems.flatMap((p) =>
    replicas.map((brokerId) => ({ topic, partition: p.partition, brokerId, logEndOffset: 0, updatedAt: 1 })),
  );
  return { config, partitions: partitionItems, replicas: replicaStates };
}

async function createTopic(topic: string, partitions: number, replicas: string[]) {
  const fixture = topicFixture(topic, partitions, replicas);
  await metadata.createTopic(fixture.config, fixture.partitions, fixture.replicas);
  return fixture;
}

const values = (n: number, prefix = 'v') => Array.from({ length: n }, (_, i) => ({ key: i % 2 ? `k${i}` : null, value: `${prefix}${i}` }));

async function leoOf(topic: string, partition: number, brokerId: string): Promise<number | undefined> {
  const states = await metadata.getReplicaStates(topic, partition);
  return states.find((s) => s.brokerId === brokerId)?.logEndOffset;
}

describe('DynamoBrokerRegistry', () => {
  it('registers a new broker once: a second first-registration loses', async () => {
    const hb = heartbeatOf('b-new', 1, 1000);
    expect(await brokers.register(hb, null, 1000)).toBe(true);
    expect(await brokers.register(heartbeatOf('b-new', 2, 1000), null, 1000)).toBe(false);
    expect(await brokers.get('b-new')).toEqual(hb);
    expect(await brokers.get('nobody')).toBeNull();
  });

  it('renews only the same incarnation while its lease is live', async () => {
    const hb = heartbeatOf('b-renew', 1, 1000);
    await brokers.register(hb, null, 1000);
    expect(await brokers.renew(heartbeatOf('b-renew', 1, 2000), 2000)).toBe(true);
    expect((await brokers.get('b-renew'))?.lastHeartbeatAt).toBe(2000);
    expect(await brokers.renew(heartbeatOf('b-renew', 2, 3000), 3000)).toBe(false); // other incarnation
    expect(await brokers.renew(heartbeatOf('b-renew', 1, 20_000), 20_000)).toBe(false); // lease lapsed at 11_000
    expect((await brokers.get('b-renew'))?.lastHeartbeatAt).toBe(2000);
  });

  it('re-registers over exactly the lapsed incarnation, and not over a live one', async () => {
    const first = heartbeatOf('b-rejoin', 1, 1000); // deadline 10_000
    await brokers.register(first, null, 1000);
    expect(await brokers.register(heartbeatOf('b-rejoin', 2, 5000), first, 5000)).toBe(false); // still live
    expect(await brokers.register(heartbeatOf('b-rejoin', 2, 20_000), heartbeatOf('b-rejoin', 7, 0), 20_000)).toBe(false); // wrong previous
    expect(await brokers.register(heartbeatOf('b-rejoin', 2, 20_000), first, 20_000)).toBe(true);
    expect((await brokers.get('b-rejoin'))?.incarnation).toBe(2);
  });

  it('deletes only the expired incarnation named', async () => {
    await brokers.register(heartbeatOf('b-gone', 3, 1000), null, 1000); // deadline 10_000
    expect(await brokers.deleteIfExpired('b-gone', 3, 5000)).toBe(false); // live
    expect(await brokers.deleteIfExpired('b-gone', 2, 20_000)).toBe(false); // other incarnation
    expect(await brokers.deleteIfExpired('b-absent', 1, 20_000)).toBe(false); // no item
    expect(await brokers.deleteIfExpired('b-gone', 3, 20_000)).toBe(true);
    expect(await brokers.get('b-gone')).toBeNull();
  });

  it('lists every stored heartbeat', async () => {
    const listed = (await brokers.list()).map((hb) => hb.brokerId).sort();
    expect(listed).toEqual(['b-new', 'b-rejoin', 'b-renew']);
  });
});

describe('DynamoMetadataStore', () => {
  it('creates a topic with its partitions and replica states, and reads them back', async () => {
    const fixture = await createTopic('orders', 2, ['A', 'B']);
    expect(await metadata.getTopic('orders')).toEqual(fixture.config);
    expect(await metadata.getTopic('ghost')).toBeNull();
    expect(await metadata.getPartition('orders', 2)).toEqual(fixture.partitions[1]);
    expect(await metadata.getPartition('orders', 3)).toBeNull();
    expect(await metadata.listPartitions('orders')).toEqual(fixture.partitions);
    expect(await metadata.getReplicaStates('orders', 1)).toEqual(fixture.replicas.filter((r) => r.partition === 1));
  });

  it('refuses an existing topic with TopicExistsError and writes nothing', async () => {
    const again = topicFixture('orders', 3, ['C']);
    await expect(metadata.createTopic(again.config, again.partitions, again.replicas)).rejects.toThrow(TopicExistsError);
    expect((await metadata.getTopic('orders'))?.partitions).toBe(2);
    expect(await metadata.getPartition('orders', 3)).toBeNull();
  });

  it('creates a topic larger than one transaction (40 partitions x RF 3 = 161 items)', async () => {
    await createTopic('wide', 40, ['A', 'B', 'C']);
    const partitions = await metadata.listPartitions('wide');
    expect(partitions.map((p) => p.partition)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await metadata.getReplicaStates('wide', 40)).toHaveLength(3);
    expect((await metadata.listTopics()).map((t) => t.topic)).toEqual(['orders', 'wide']);
    expect((await metadata.listPartitions()).length).toBe(42);
  });

  it('updates leadership only at the expected version (partitionVersionIs), bumping it and keeping the HW', async () => {
    await metadata.advanceHighWatermark('orders', 1, 0, 5);
    const update: LeadershipUpdate = {
      leader: 'B',
      leaderEpoch: 1,
      isr: ['B'],
      state: 'ONLINE',
      lastChange: { reason: 'LEADER_FAILED', previousLeader: 'A', causeBrokerId: 'A', causeIncarnation: 1, unclean: false, at: 2 },
    };
    const updated = await metadata.updateLeadership('orders', 1, 0, update);
    expect(updated).toMatchObject({ ...update, version: 1, highWatermark: 5, replicas: ['A', 'B'] });
    expect(await metadata.getPartition('orders', 1)).toEqual(updated);

    const stale = metadata.updateLeadership('orders', 1, 0, { ...update, leader: 'A', leaderEpoch: 2 });
    await expect(stale).rejects.toThrow(StaleEpochError);
    await expect(stale).rejects.toThrow(/version is no longer 0/);
    await expect(metadata.updateLeadership('ghost', 1, 0, update)).rejects.toThrow(StaleEpochError);
    expect((await metadata.getPartition('orders', 1))?.leader).toBe('B');

    expect((await metadata.listPartitionsLedBy('B')).map((p) => [p.topic, p.partition])).toContainEqual(['orders', 1]);
    expect((await metadata.listPartitionsLedBy('A')).map((p) => [p.topic, p.partition])).not.toContainEqual(['orders', 1]);

    const offline = await metadata.updateLeadership('orders', 1, 1, { ...update, leader: null, isr: [], state: 'OFFLINE' });
    expect(offline).toMatchObject({ leader: null, isr: [], state: 'OFFLINE', version: 2 });
    // A partition without a leader leaves the sparse leader index.
    expect((await metadata.listPartitionsLedBy('B')).map((p) => [p.topic, p.partition])).not.toContainEqual(['orders', 1]);
  });

  it('advances the high watermark monotonically and only under the current epoch', async () => {
    expect(await metadata.advanceHighWatermark('orders', 2, 0, 3)).toBe(true);
    expect(await metadata.advanceHighWatermark('orders', 2, 0, 3)).toBe(false); // not below
    expect(await metadata.advanceHighWatermark('orders', 2, 0, 2)).toBe(false); // backwards
    expect(await metadata.advanceHighWatermark('orders', 2, 7, 9)).toBe(false); // stale epoch
    expect(await metadata.advanceHighWatermark('orders', 2, 0, 4)).toBe(true);
    expect((await metadata.getPartition('orders', 2))?.highWatermark).toBe(4);
  });
});

describe('DynamoPartitionLog', () => {
  const topic = LOG_TOPIC;
  beforeAll(async () => {
    await createTopic(topic, 2, ['L', 'F']);
  });

  it('appends as leader: records, LEO and the leader/epoch check in one transaction', async () => {
    const appended = await log.appendAsLeader({
      topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 0, records: values(3), appendedAt: 42,
    });
    expect(appended.map((r) => [r.offset, r.value, r.replica, r.copy])).toEqual([
      [0, 'v0', 'L', 'leader'],
      [1, 'v1', 'L', 'leader'],
      [2, 'v2', 'L', 'leader'],
    ]);
    expect(await log.read(topic, 1, 'L', 0, 10)).toEqual(appended);
    expect(await leoOf(topic, 1, 'L')).toBe(3);
    expect(await log.appendAsLeader({ topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 3, records: [], appendedAt: 43 })).toEqual([]);
  });

  it('fences a leader append whose LEO, leader or epoch moved (StaleEpochError naming the lost condition)', async () => {
    const append = { topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 3, records: values(1, 'x'), appendedAt: 50 };
    await expect(log.appendAsLeader({ ...append, startOffset: 2 })).rejects.toThrow(/log end offset is 2/);
    await expect(log.appendAsLeader({ ...append, leader: 'F' })).rejects.toThrow(/leader is F/);
    await expect(log.appendAsLeader({ ...append, leaderEpoch: 5 })).rejects.toThrow(StaleEpochError);
    await expect(log.appendAsLeader({ ...append, leaderEpoch: 5 })).rejects.toThrow(/leader epoch is 5/);
    expect(await leoOf(topic, 1, 'L')).toBe(3);
    expect(await log.read(topic, 1, 'L', 0, 10)).toHaveLength(3);
  });

  it('fences a leader append onto a taken offset (attribute_not_exists)', async () => {
    // A stray record at the LEO: only the offset check can catch it.
    await documents.send(
      new PutCommand({
        TableName: TABLES.log,
        Item: { replica: `${topic}#2#L`, offset: 0, topic, partition: 2, brokerId: 'L', leaderEpoch: 0, key: null, value: 'stray', appendedAt: 0, copy: 'leader' },
      }),
    );
    const taken = log.appendAsLeader({ topic, partition: 2, leader: 'L', leaderEpoch: 0, startOffset: 0, records: values(2), appendedAt: 1 });
    await expect(taken).rejects.toThrow(StaleEpochError);
    await expect(taken).rejects.toThrow(/offset 0 does not exist yet/);
    expect(await leoOf(topic, 2, 'L')).toBe(0);
  });

  it('refuses more records than one transaction holds', async () => {
    await expect(
      log.appendAsLeader({ topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 3, records: values(MAX_RECORDS_PER_APPEND + 1), appendedAt: 1 }),
    ).rejects.toThrow(ValidationError);
  });

  it('copies to a follower conditioned on its LEO and the epoch', async () => {
    const leaderRecords = await log.read(topic, 1, 'L', 0, 3);
    clockNow = 777;
    await log.appendAsFollower({ topic, partition: 1, follower: 'F', leaderEpoch: 0, records: leaderRecords });
    const copies = await log.read(topic, 1, 'F', 0, 3);
    expect(copies).toEqual(leaderRecords.map((r) => ({ ...r, replica: 'F', copy: 'follower' })));
    const state = (await metadata.getReplicaStates(topic, 1)).find((s) => s.brokerId === 'F');
    expect(state).toMatchObject({ logEndOffset: 3, updatedAt: 777 });

    await expect(log.appendAsFollower({ topic, partition: 1, follower: 'F', leaderEpoch: 0, records: leaderRecords })).rejects.toThrow(StaleEpochError);
    await expect(
      log.appendAsFollower({ topic, partition: 1, follower: 'F', leaderEpoch: 9, records: [] }),
    ).resolves.toBeUndefined();
    const next = await log.appendAsLeader({ topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 3, records: values(1, 'n'), appendedAt: 60 });
    await expect(log.appendAsFollower({ topic, partition: 1, follower: 'F', leaderEpoch: 9, records: next })).rejects.toThrow(/leader epoch is 9/);
    expect(await leoOf(topic, 1, 'F')).toBe(3);
  });

  it('replicates a long run in appends of one transaction each, and reads it back across BatchGet chunks', async () => {
    let offset = (await leoOf(topic, 1, 'L')) ?? 0;
    for (const count of [MAX_RECORDS_PER_APPEND, 60]) {
      await log.appendAsLeader({ topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: offset, records: values(count, 'bulk'), appendedAt: 70 });
      offset += count;
    }
    const pending = await log.read(topic, 1, 'L', 3, offset);
    expect(pending).toHaveLength(offset - 3);
    const tooMany = log.appendAsFollower({ topic, partition: 1, follower: 'F', leaderEpoch: 0, records: pending });
    await expect(tooMany).rejects.toThrow(ValidationError);
    for (let start = 0; start < pending.length; start += MAX_RECORDS_PER_APPEND) {
      const records = pending.slice(start, start + MAX_RECORDS_PER_APPEND);
      await log.appendAsFollower({ topic, partition: 1, follower: 'F', leaderEpoch: 0, records });
    }
    expect(await leoOf(topic, 1, 'F')).toBe(offset);
    const all = await log.read(topic, 1, 'F', 0, offset);
    expect(all.map((r) => r.offset)).toEqual(Array.from({ length: offset }, (_, i) => i));
  }, 30_000);

  it('refuses a non-contiguous follower append before writing anything', async () => {
    const [a, , c] = await log.read(topic, 1, 'L', 0, 3);
    await expect(
      log.appendAsFollower({ topic, partition: 1, follower: 'F', leaderEpoch: 0, records: [a!, c!] }),
    ).rejects.toThrow(/non-contiguous/);
  });

  it('reads only the offsets that exist, in order', async () => {
    expect(await log.read(topic, 1, 'L', 2, 2)).toEqual([]);
    expect((await log.read(topic, 1, 'L', 5, 8)).map((r) => r.offset)).toEqual([5, 6, 7]);
    expect(await log.read(topic, 2, 'F', 0, 50)).toEqual([]);
  });

  it('truncates top-down (more than one transaction), lowering the LEO; at or above the LEO it is a no-op', async () => {
    const before = (await leoOf(topic, 1, 'F')) ?? 0;
    expect(before).toBeGreaterThan(150);
    await log.truncate(topic, 1, 'F', before + 5);
    expect(await leoOf(topic, 1, 'F')).toBe(before);
    await log.truncate(topic, 1, 'F', 2);
    expect(await leoOf(topic, 1, 'F')).toBe(2);
    expect((await log.read(topic, 1, 'F', 0, before)).map((r) => r.offset)).toEqual([0, 1]);
    // The follower can append again from its new LEO.
    const leaderRecords = await log.read(topic, 1, 'L', 2, 4);
    await log.appendAsFollower({ topic, partition: 1, follower: 'F', leaderEpoch: 0, records: leaderRecords });
    expect(await leoOf(topic, 1, 'F')).toBe(4);
    await expect(log.truncate(topic, 1, 'nobody', 0)).rejects.toThrow(UnknownTopicError);
  }, 30_000);
});

describe('stream record decoding of real stream images', () => {
  async function streamRecords(table: string): Promise<DynamoDBRecord[]> {
    const { Table } = await aws.dynamodb.send(new DescribeTableCommand({ TableName: table }));
    const { StreamDescription } = await aws.streams.send(new DescribeStreamCommand({ StreamArn: Table?.LatestStreamArn }));
    const records: DynamoDBRecord[] = [];
    for (const shard of StreamDescription?.Shards ?? []) {
      const { ShardIterator } = await aws.streams.send(
        new GetShardIteratorCommand({ StreamArn: Table?.LatestStreamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      const { Records = [] } = await aws.streams.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
      // The Lambda event carries the same record shape as GetRecords (dates aside).
      records.push(
        ...Records.map((r) => ({
          eventID: r.eventID,
          eventName: r.eventName,
          dynamodb: {
            SequenceNumber: r.dynamodb?.SequenceNumber,
            NewImage: r.dynamodb?.NewImage,
            OldImage: r.dynamodb?.OldImage,
          },
        }) as DynamoDBRecord),
      );
    }
    return records;
  }

  it('decodes heartbeat INSERT / MODIFY / REMOVE into registered / renewed / gone', async () => {
    const records = await streamRecords(TABLES.brokers);
    const changes = records.map(decodeHeartbeatChange);
    const forGone = changes.filter((c) => c.kind !== 'renewed' && c.heartbeat.brokerId === 'b-gone');
    expect(forGone.map((c) => c.kind)).toEqual(['registered', 'gone']);
    expect(forGone[1]).toMatchObject({ kind: 'gone', heartbeat: heartbeatOf('b-gone', 3, 1000) });
    expect(changes.some((c) => c.kind === 'renewed')).toBe(true);
    expect(changes.every((c) => typeof c.sequenceNumber === 'string' && c.sequenceNumber.length > 0)).toBe(true);
  });

  it('decodes log INSERTs into LogRecords', async () => {
    // As the event source mapping's filter does: truncation's REMOVEs never reach the replicate handler.
    const inserts = (await streamRecords(TABLES.log)).filter((r) => r.eventName === 'INSERT');
    const decoded = inserts.map(decodeLogInsert);
    expect(decoded.filter((d) => d.record.copy === 'follower').length).toBeGreaterThan(0);
    const firstLeader = decoded.find((d) => d.record.copy === 'leader' && d.record.topic === LOG_TOPIC && d.record.offset === 0);
    expect(firstLeader?.record).toEqual({
      topic: LOG_TOPIC, partition: 1, replica: 'L', offset: 0, leaderEpoch: 0, key: null, value: 'v0', appendedAt: 42, copy: 'leader',
    });
  });
});
