/**
 * What only the DynamoDB adapters have, against a real DynamoDB (DynamoDB Local): topics
 * larger than one transaction, record batches (one item per append, several
 * when the records are large), matches spread over several transactions and
 * cutting a batch short, reads across batches, stray items only a condition can
 * catch, the lost condition named in the error, and the decoding of real
 * stream images. Every port method and every lost condition is in the store
 * contract (test/contract/stores.contract.ts, run here by
 * dynamodb-store-contract.test.ts), which the memory adapters must pass too.
 */
import { IN_DOUBT_BATCH_AGE_MS } from '../../../functions/domain/limits.js';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { replicaStateKey } from '../../../functions/adapters/dynamodb/keys.js';
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
import { StaleEpochError, TopicExistsError } from '../../../functions/domain/errors.js';
import { createTopic as createTopicUseCase } from '../../../functions/domain/create-topic.js';
import { ClusterHarness } from '../../factories/cluster.js';
import { LEADERSHIP_TABLES as TABLES, createLeadershipTables, streamRecords } from '../../support/leadership-tables.js';
import { useDataPlane } from '../../../localcloud/testing/data-plane.js';

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

/** The first offsets of a replica's stored batches (its log items), in order. */
async function batchStarts(topic: string, partition: number, brokerId: string): Promise<number[]> {
  const { Items } = await documents.send(
    new QueryCommand({
      TableName: TABLES.log,
      KeyConditionExpression: '#r = :r',
      ExpressionAttributeNames: { '#r': 'replica' },
      ExpressionAttributeValues: { ':r': `${topic}#${partition}#${brokerId}` },
      ConsistentRead: true,
    }),
  );
  return (Items ?? []).map((item) => item['offset'] as number);
}

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

  it('a creation cut short after its first transaction reads as absent and is finished by a retried CreateTopic (25 partitions x RF 3)', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B', 'C');
    // The second TransactWriteItems is throttled, as a creator can be and die of.
    let transactions = 0;
    const throttledOnce = DynamoDBDocumentClient.from(aws.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    const send = throttledOnce.send.bind(throttledOnce) as (command: unknown) => Promise<unknown>;
    vi.spyOn(throttledOnce, 'send').mockImplementation(((command: { constructor: { name: string } }) => {
      if (command.constructor.name === 'TransactWriteCommand' && ++transactions === 2) {
        return Promise.reject(Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' }));
      }
      return send(command);
    }) as never);
    const deps = { ...cluster.deps, metadata: new DynamoMetadataStore(throttledOnce, TABLES.metadata) };
    const request = { topic: 'cut-short', partitions: 25, replicationFactor: 3 };

    await expect(createTopicUseCase(deps, request)).rejects.toThrow(/throughput/);
    expect(await metadata.getTopic('cut-short')).toBeNull();
    expect((await metadata.listTopics()).map((t) => t.topic)).not.toContain('cut-short');
    const written = await metadata.listPartitions('cut-short');
    expect(written.length).toBeGreaterThan(0);
    expect(written.length).toBeLessThanOrEqual(25);

    await expect(createTopicUseCase(deps, { ...request, partitions: 26 })).rejects.toThrow(TopicExistsError);
    const finished = await createTopicUseCase(deps, request);
    expect(finished.assignments.map((p) => p.Partition)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(await metadata.getTopic('cut-short')).toMatchObject({ partitions: 25 });
    expect(await metadata.getUnfinishedTopic('cut-short')).toBeNull();
    expect((await metadata.listReplicaStates('cut-short')).length).toBe(75);
    await expect(createTopicUseCase(deps, request)).rejects.toThrow(TopicExistsError);
  });
});

describe('DynamoPartitionLog', () => {
  const topic = LOG_TOPIC;
  beforeAll(async () => {
    await createTopic(topic, 2, ['L', 'F']);
    await log.appendAsLeader({ topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 0, generation: 0, records: values(3), appendedAt: 42 });
  });

  it('names the lost condition in the StaleEpochError', async () => {
    const append = { topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 3, generation: 0, records: values(1, 'x'), appendedAt: 50 };
    // Written into generations nobody reads (the replicas are in generation 0), so the refused commits leave nothing in the way.
    await expect(log.appendAsLeader({ ...append, generation: 1 })).rejects.toThrow(/replica in generation 1/);
    await expect(log.appendAsLeader({ ...append, generation: 2, leader: 'F' })).rejects.toThrow(/leader is F/);
    await expect(log.appendAsLeader({ ...append, generation: 3, leaderEpoch: 5 })).rejects.toThrow(/leader epoch is 5/);
    const copies = await log.read(topic, 1, 'L', 0, 3);
    await expect(log.appendAsFollower({ topic, partition: 1, follower: 'F', leaderEpoch: 1, records: copies, generation: 4 })).rejects.toThrow(
      /replica matched in leader epoch 1/,
    );
    // A stale log end: where a batch was committed, the offset is taken.
    await expect(log.appendAsLeader({ ...append, startOffset: 0 })).rejects.toThrow(/offset 0 lost/);
    expect(await log.read(topic, 1, 'L', 0, 10)).toEqual(copies);
  });

  it('loses to an uncommitted batch at its log end younger than IN_DOUBT_BATCH_AGE_MS, and abandons an older one for a new generation', async () => {
    // What a writer that died between its batch and its commit leaves (the memory log models it in the simulation).
    const stray = (writtenAt: number) =>
      documents.send(
        new PutCommand({
          TableName: TABLES.log,
          Item: {
            replica: `${topic}#2#L`,
            offset: 0,
            writtenAt,
            topic,
            partition: 2,
            brokerId: 'L',
            copy: 'leader',
            lastOffset: 0,
            records: [{ leaderEpoch: 0, key: null, value: 'stray', appendedAt: 0 }],
          },
        }),
      );
    const append = { topic, partition: 2, leader: 'L', leaderEpoch: 0, startOffset: 0, generation: 0, records: values(2), appendedAt: 1 };
    await stray(clock.now());
    await expect(log.appendAsLeader(append)).rejects.toThrow(/offset 0 lost: another writer just wrote a batch there/);
    expect(await leoOf(topic, 2, 'L')).toBe(0);
    expect(await log.read(topic, 2, 'L', 0, 10)).toEqual([]);

    await stray(clock.now() - IN_DOUBT_BATCH_AGE_MS);
    const appended = await log.appendAsLeader(append);
    expect(await log.read(topic, 2, 'L', 0, 10)).toEqual(appended);
    expect((await metadata.getReplicaStates(topic, 2)).find((state) => state.brokerId === 'L')).toMatchObject({
      logEndOffset: 2,
      generation: 1,
      generations: [
        { from: 0, generation: 0 },
        { from: 0, generation: 1 },
      ],
    });
    // The stray batch stays where it was written, in a generation no read goes to any more.
    expect(await batchStarts(topic, 2, 'L')).toEqual([0]);
  });

  it('stores an append as one batch item, and reads any range back across batches', async () => {
    const start = (await leoOf(topic, 1, 'L')) ?? 0;
    let offset = start;
    const before = (await batchStarts(topic, 1, 'L')).length;
    for (const count of [MAX_RECORDS_PER_APPEND, 60]) {
      await log.appendAsLeader({ topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: offset, generation: 0, records: values(count, 'bulk'), appendedAt: 70 });
      offset += count;
    }
    expect(await batchStarts(topic, 1, 'L')).toHaveLength(before + 2);
    const pending = await log.read(topic, 1, 'L', 0, offset);
    expect(pending.map((r) => r.offset)).toEqual(Array.from({ length: offset }, (_, i) => i));
    // Ranges that start and end inside batches.
    expect((await log.read(topic, 1, 'L', start - 1, start + 2)).map((r) => r.value)).toEqual([`v${start - 1}`, 'bulk0', 'bulk1']);
    expect((await log.read(topic, 1, 'L', offset - 61, offset - 59)).map((r) => r.offset)).toEqual([offset - 61, offset - 60]);
    expect(await log.read(topic, 1, 'L', offset, offset + 10)).toEqual([]);
    for (let start = 0; start < pending.length; start += MAX_RECORDS_PER_APPEND) {
      const records = pending.slice(start, start + MAX_RECORDS_PER_APPEND);
      await log.appendAsFollower({ topic, partition: 1, follower: 'F', leaderEpoch: 0, records, generation: 0 });
    }
    expect(await leoOf(topic, 1, 'F')).toBe(offset);
    const all = await log.read(topic, 1, 'F', 0, offset);
    expect(all).toEqual(pending.map((r) => ({ ...r, replica: 'F', copy: 'follower' })));
  }, 30_000);

  it('stores an append too large for one item as several consecutive items of one transaction', async () => {
    await createTopic('large', 1, ['L']);
    // 40 records of 30 KB: 1.2 MB, three times what one DynamoDB item may hold.
    const large = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: String(i % 10).repeat(30 * 1024) }));
    await log.appendAsLeader({ topic: 'large', partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 0, generation: 0, records: large, appendedAt: 5 });
    const starts = await batchStarts('large', 1, 'L');
    expect(starts.length).toBeGreaterThan(3);
    expect(starts[0]).toBe(0);
    expect(await leoOf('large', 1, 'L')).toBe(40);
    const read = await log.read('large', 1, 'L', 0, 40);
    expect(read.map((r) => [r.offset, r.key, r.value])).toEqual(large.map((r, i) => [i, r.key, r.value]));
  }, 30_000);

  it('matches a follower in one write, deleting nothing: the cut records stay behind in a generation no read goes past the cut in', async () => {
    await createTopic('many', 1, ['L', 'F']);
    await log.appendAsLeader({ topic: 'many', partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 0, generation: 0, records: values(10), appendedAt: 1 });
    for (let offset = 10; offset < 15; offset++) {
      await log.appendAsLeader({ topic: 'many', partition: 1, leader: 'L', leaderEpoch: 0, startOffset: offset, generation: 0, records: values(1, `o${offset}`), appendedAt: 2 });
    }
    const end = 15;
    const leaderLog = await log.read('many', 1, 'L', 0, end);
    await log.appendAsFollower({ topic: 'many', partition: 1, follower: 'F', leaderEpoch: 0, records: leaderLog.slice(0, 10), generation: 0 });
    for (const record of leaderLog.slice(10)) await log.appendAsFollower({ topic: 'many', partition: 1, follower: 'F', leaderEpoch: 0, records: [record], generation: 0 });
    await metadata.updateLeadership('many', 1, 0, {
      leader: 'L',
      leaderEpoch: 1,
      isr: ['L'],
      state: 'ONLINE',
      lastChange: { reason: 'PREFERRED_LEADER', previousLeader: 'L', causeBrokerId: null, causeIncarnation: null, unclean: false, at: 3 },
    });
    const match = { topic: 'many', partition: 1, follower: 'F', leader: 'L', leaderEpoch: 1, expectedLogEnd: end, expectedGeneration: 0, truncateTo: 4 };
    await expect(log.matchFollower({ ...match, expectedLogEnd: end - 1 })).rejects.toThrow(StaleEpochError);
    await expect(log.matchFollower({ ...match, expectedGeneration: 1 })).rejects.toThrow(/replica in generation 1/);
    expect(await leoOf('many', 1, 'F')).toBe(end);
    await log.matchFollower(match);
    expect((await metadata.getReplicaStates('many', 1)).find((s) => s.brokerId === 'F')).toMatchObject({ logEndOffset: 4, matchedEpoch: 1, generation: 1 });
    expect(await batchStarts('many', 1, 'F')).toEqual([0, 10, 11, 12, 13, 14]);
    // The batch the cut went through is read only up to the cut.
    expect(await log.read('many', 1, 'F', 0, end)).toEqual(leaderLog.slice(0, 4).map((r) => ({ ...r, replica: 'F', copy: 'follower' })));
    // Copies go on in the new generation, and reads stitch the generations together.
    await log.appendAsFollower({ topic: 'many', partition: 1, follower: 'F', leaderEpoch: 1, records: leaderLog.slice(4, 6), generation: 1 });
    expect((await log.read('many', 1, 'F', 0, end)).map((r) => r.value)).toEqual(leaderLog.slice(0, 6).map((r) => r.value));
    expect((await log.read('many', 1, 'F', 3, 5)).map((r) => r.offset)).toEqual([3, 4]);
  }, 60_000);
});

describe('a log table written in the list-of-maps layout (retained across an upgrade)', () => {
  const topic = 'retained';
  const legacy = (from: number, records: Array<Record<string, unknown>>) => ({
    replica: `${topic}#1#L`,
    offset: from,
    topic,
    partition: 1,
    brokerId: 'L',
    copy: 'leader',
    lastOffset: from + records.length - 1,
    records,
  });
  const stamp = (sequence: number) => ({ producerId: 11, producerEpoch: 2, sequence });
  const expected = [
    { offset: 0, leaderEpoch: 0, key: null, value: '', appendedAt: 10, producer: stamp(0), batch: { baseOffset: 0, lastOffset: 2 } },
    { offset: 1, leaderEpoch: 0, key: 'ключ', value: 'ünïcødé ✓', appendedAt: 10, producer: stamp(1), batch: { baseOffset: 0, lastOffset: 2 } },
    { offset: 2, leaderEpoch: 0, key: 'k', value: 'v', appendedAt: 10, producer: stamp(2), batch: { baseOffset: 0, lastOffset: 2 } },
    // Stored before records carried their batch: a batch of its own.
    { offset: 3, leaderEpoch: 0, key: null, value: 'old', appendedAt: 20 },
  ].map((r) => ({ topic, partition: 1, replica: 'L', copy: 'leader' as const, ...r }));

  it('reads it, copies from it, appends after it and cuts inside one of its batches', async () => {
    await createTopic(topic, 1, ['L', 'F']);
    const stored = ({ offset: _o, topic: _t, partition: _p, replica: _r, copy: _c, ...fields }: (typeof expected)[number]) => fields;
    await documents.send(new PutCommand({ TableName: TABLES.log, Item: legacy(0, expected.slice(0, 3).map(stored)) }));
    await documents.send(new PutCommand({ TableName: TABLES.log, Item: legacy(3, expected.slice(3).map(stored)) }));
    await documents.send(
      new UpdateCommand({
        TableName: TABLES.metadata,
        Key: replicaStateKey(topic, 1, 'L'),
        UpdateExpression: 'SET logEndOffset = :end',
        ExpressionAttributeValues: { ':end': 4 },
      }),
    );
    expect(await log.read(topic, 1, 'L', 0, 10)).toEqual(expected);
    expect(await log.read(topic, 1, 'L', 1, 4)).toEqual(expected.slice(1));
    const appended = await log.appendAsLeader({ topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 4, generation: 0, records: values(2), appendedAt: 30 });
    expect(await log.read(topic, 1, 'L', 2, 6)).toEqual([...expected.slice(2), ...appended]);
    await log.appendAsFollower({ topic, partition: 1, follower: 'F', leaderEpoch: 0, records: [...expected, ...appended], generation: 0 });
    expect(await log.read(topic, 1, 'F', 0, 10)).toEqual([...expected, ...appended].map((r) => ({ ...r, replica: 'F', copy: 'follower' })));
    await metadata.updateLeadership(topic, 1, 0, {
      leader: 'F',
      leaderEpoch: 1,
      isr: ['F'],
      state: 'ONLINE',
      lastChange: { reason: 'LEADER_FAILED', previousLeader: 'L', causeBrokerId: 'L', causeIncarnation: 1, unclean: false, at: 40 },
    });
    await log.matchFollower({ topic, partition: 1, follower: 'L', leader: 'F', leaderEpoch: 1, expectedLogEnd: 6, expectedGeneration: 0, truncateTo: 2 });
    expect(await log.read(topic, 1, 'L', 0, 10)).toEqual(expected.slice(0, 2));
    // The cut batch is left as it was written, in the old layout, and read only up to the cut.
    const { Item } = await documents.send(new GetCommand({ TableName: TABLES.log, Key: { replica: `${topic}#1#L`, offset: 0 }, ConsistentRead: true }));
    expect(Item).toHaveProperty('records');
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

  it('decodes log INSERTs into the LogRecords of their batch', async () => {
    // As the event source mapping's filter does: truncation's REMOVEs never reach the replicate handler.
    const inserts = (await streamRecords(aws, TABLES.log)).filter((r) => r.eventName === 'INSERT');
    const decoded = inserts.flatMap((insert) => decodeLogInsert(insert).records);
    expect(decoded.filter((record) => record.copy === 'follower').length).toBeGreaterThan(0);
    const firstBatch = decoded.filter((record) => record.copy === 'leader' && record.topic === LOG_TOPIC && record.partition === 1 && record.appendedAt === 42);
    expect(firstBatch).toEqual(
      [0, 1, 2].map((offset) => ({
        topic: LOG_TOPIC, partition: 1, replica: 'L', offset, leaderEpoch: 0, key: offset % 2 ? `k${offset}` : null, value: `v${offset}`, appendedAt: 42, copy: 'leader',
        batch: { baseOffset: 0, lastOffset: 2 },
      })),
    );
  });
});
