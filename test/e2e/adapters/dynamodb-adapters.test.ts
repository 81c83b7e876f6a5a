/**
 * What only the DynamoDB adapters have, against a real DynamoDB (DynamoDB Local): topics
 * larger than one transaction, log appends and matches spread over several
 * transactions, reads across BatchGetItem chunks, stray items only a condition
 * can catch, the lost condition named in the error, and the decoding of real
 * stream images. Every port method and every lost condition is in the store
 * contract (test/contract/stores.contract.ts, run here by
 * dynamodb-store-contract.test.ts), which the memory adapters must pass too.
 */
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { aTopicFixture, leaseOf } from '../../factories/entities.js';
import {
  DynamoBrokerRegistry,
  DynamoMetadataStore,
  DynamoPartitionLog,
  MAX_RECORDS_PER_APPEND,
  decodeHeartbeatChange,
  decodeLogInsert,
} from '../../../functions/adapters/dynamodb/index.js';
import { StaleEpochError } from '../../../functions/domain/errors.js';
import { LEADERSHIP_TABLES as TABLES, createLeadershipTables, streamRecords } from '../../support/leadership-tables.js';
import { useDataPlane } from '../../support/data-plane.js';

const LOG_TOPIC = 'events';

const aws = useDataPlane();
let documents: DynamoDBDocumentClient;
let brokers: DynamoBrokerRegistry;
let metadata: DynamoMetadataStore;
let log: DynamoPartitionLog;
const clock = { now: () => 1_000_000 };

beforeAll(async () => {
  documents = DynamoDBDocumentClient.from(aws.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  await createLeadershipTables(aws);
  brokers = new DynamoBrokerRegistry(documents, TABLES.brokers);
  metadata = new DynamoMetadataStore(documents, TABLES.metadata);
  log = new DynamoPartitionLog(documents, { logTable: TABLES.log, metadataTable: TABLES.metadata }, clock);
}, 30_000);


const topicFixture = (topic: string, partitions: number, replicas: string[]) => aTopicFixture(topic, partitions, replicas, { at: 1 });

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

describe('DynamoMetadataStore', () => {
  it('with cacheTopicConfigs, reads a topic configuration once; an absent topic is read every time', async () => {
    const cached = new DynamoMetadataStore(documents, TABLES.metadata, { cacheTopicConfigs: true });
    const send = vi.spyOn(documents, 'send');
    try {
      expect(await cached.getTopic('cached-later')).toBeNull();
      const fixture = await createTopic('cached-later', 1, ['A']);
      send.mockClear();
      expect(await cached.getTopic('cached-later')).toEqual(fixture.config);
      const copy = await cached.getTopic('cached-later');
      expect(copy).toEqual(fixture.config);
      expect(send).toHaveBeenCalledTimes(1);
      // Callers get copies: changing one does not change what the next caller gets.
      copy!.minInsyncReplicas = 99;
      expect((await cached.getTopic('cached-later'))!.minInsyncReplicas).toBe(fixture.config.minInsyncReplicas);
    } finally {
      send.mockRestore();
    }
  });

  it('creates a topic larger than one transaction (40 partitions x RF 3 = 161 items), and refuses it again', async () => {
    const fixture = await createTopic('wide', 40, ['A', 'B', 'C']);
    const partitions = await metadata.listPartitions('wide');
    expect(partitions.map((p) => p.partition)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await metadata.getReplicaStates('wide', 40)).toHaveLength(3);
    expect(await metadata.getTopic('wide')).toEqual(fixture.config);
    // The first transaction already loses, so nothing of the second attempt is written.
    const again = topicFixture('wide', 41, ['D']);
    await expect(metadata.createTopic(again.config, again.partitions, again.replicas)).rejects.toThrow(/already exists/);
    expect(await metadata.getPartition('wide', 41)).toBeNull();
    expect(await metadata.getReplicaStates('wide', 1)).toHaveLength(3);
  });
});

describe('DynamoPartitionLog', () => {
  const topic = LOG_TOPIC;
  beforeAll(async () => {
    await createTopic(topic, 2, ['L', 'F']);
    await log.appendAsLeader({ topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 0, records: values(3), appendedAt: 42 });
  });

  it('names the lost condition in the StaleEpochError', async () => {
    const append = { topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 3, records: values(1, 'x'), appendedAt: 50 };
    await expect(log.appendAsLeader({ ...append, startOffset: 2 })).rejects.toThrow(/log end offset is 2/);
    await expect(log.appendAsLeader({ ...append, leader: 'F' })).rejects.toThrow(/leader is F/);
    await expect(log.appendAsLeader({ ...append, leaderEpoch: 5 })).rejects.toThrow(/leader epoch is 5/);
    const copies = await log.read(topic, 1, 'L', 0, 3);
    await expect(log.appendAsFollower({ topic, partition: 1, follower: 'F', leaderEpoch: 0, records: copies.slice(1) })).rejects.toThrow(
      /log end offset is 1/,
    );
  });

  it('fences a leader append onto a stray record at its log end (attribute_not_exists)', async () => {
    // A stray record at the LEO: only the offset check can catch it (the memory log cannot hold one).
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

  it('replicates a long run in appends of one transaction each, and reads it back across BatchGet chunks', async () => {
    let offset = (await leoOf(topic, 1, 'L')) ?? 0;
    for (const count of [MAX_RECORDS_PER_APPEND, 60]) {
      await log.appendAsLeader({ topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: offset, records: values(count, 'bulk'), appendedAt: 70 });
      offset += count;
    }
    const pending = await log.read(topic, 1, 'L', 0, offset);
    expect(pending.map((r) => r.offset)).toEqual(Array.from({ length: offset }, (_, i) => i));
    for (let start = 0; start < pending.length; start += MAX_RECORDS_PER_APPEND) {
      const records = pending.slice(start, start + MAX_RECORDS_PER_APPEND);
      await log.appendAsFollower({ topic, partition: 1, follower: 'F', leaderEpoch: 0, records });
    }
    expect(await leoOf(topic, 1, 'F')).toBe(offset);
    const all = await log.read(topic, 1, 'F', 0, offset);
    expect(all.map((r) => r.offset)).toEqual(Array.from({ length: offset }, (_, i) => i));
  }, 30_000);

  it('matches a follower top-down over more than one transaction, fenced throughout', async () => {
    const before = (await leoOf(topic, 1, 'F')) ?? 0;
    // Each transaction deletes at most MAX_RECORDS_PER_APPEND records (two members go to the LEO update and the fencing check).
    expect(before - 2).toBeGreaterThan(MAX_RECORDS_PER_APPEND);
    await metadata.updateLeadership(topic, 1, 0, {
      leader: 'L',
      leaderEpoch: 1,
      isr: ['L', 'F'],
      state: 'ONLINE',
      lastChange: { reason: 'PREFERRED_LEADER', previousLeader: 'L', causeBrokerId: null, causeIncarnation: null, unclean: false, at: 3 },
    });
    await log.matchFollower({ topic, partition: 1, follower: 'F', leader: 'L', leaderEpoch: 1, expectedLogEnd: before, truncateTo: 2 });
    expect((await metadata.getReplicaStates(topic, 1)).find((s) => s.brokerId === 'F')).toMatchObject({ logEndOffset: 2, matchedEpoch: 1 });
    expect((await log.read(topic, 1, 'F', 0, before)).map((r) => r.offset)).toEqual([0, 1]);
  }, 30_000);
});

describe('stream record decoding of real stream images', () => {
  it('decodes heartbeat INSERT / MODIFY / REMOVE into registered / renewed / gone', async () => {
    await brokers.register(leaseOf('b-gone', 3, 1000), null, 1000);
    // A renewal that changed nothing would leave no stream record (as on AWS): this one moves the deadline.
    const renewed = leaseOf('b-gone', 3, 2000); // deadline 11_000
    await brokers.renew(renewed, 2000);
    await brokers.deleteIfExpired('b-gone', 3, 20_000);
    const changes = (await streamRecords(aws, TABLES.brokers)).map(decodeHeartbeatChange);
    expect(changes.map((c) => c.kind)).toEqual(['registered', 'renewed', 'gone']);
    expect(changes[2]).toMatchObject({ kind: 'gone', heartbeat: renewed });
    expect(changes.every((c) => typeof c.sequenceNumber === 'string' && c.sequenceNumber.length > 0)).toBe(true);
  });

  it('decodes log INSERTs into LogRecords', async () => {
    // As the event source mapping's filter does: truncation's REMOVEs never reach the replicate handler.
    const inserts = (await streamRecords(aws, TABLES.log)).filter((r) => r.eventName === 'INSERT');
    const decoded = inserts.map(decodeLogInsert);
    expect(decoded.filter((d) => d.record.copy === 'follower').length).toBeGreaterThan(0);
    const firstLeader = decoded.find((d) => d.record.copy === 'leader' && d.record.topic === LOG_TOPIC && d.record.offset === 0);
    expect(firstLeader?.record).toEqual({
      topic: LOG_TOPIC, partition: 1, replica: 'L', offset: 0, leaderEpoch: 0, key: null, value: 'v0', appendedAt: 42, copy: 'leader',
    });
  });
});
