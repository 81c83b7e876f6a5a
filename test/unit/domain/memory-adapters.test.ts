/**
 * The memory adapters must refuse exactly what DynamoDB's conditions refuse,
 * with the same named errors; otherwise the domain tests above prove nothing.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryDeps, type MemoryDeps } from '../../../functions/adapters/memory/index.js';
import { StaleEpochError, TopicExistsError } from '../../../functions/domain/errors.js';
import type { PartitionMetadata } from '../../../functions/domain/model.js';
import { T0, aChange, aHeartbeat, aLogRecord, aPartition } from '../../factories/entities.js';

async function withPartition(partition: PartitionMetadata = aPartition({ replicas: ['A', 'B'] })): Promise<MemoryDeps> {
  const deps = createMemoryDeps({ startAt: T0 });
  const states = partition.replicas.map((brokerId) => ({
    topic: partition.topic,
    partition: partition.partition,
    brokerId,
    logEndOffset: 0,
    matchedEpoch: 0,
    updatedAt: T0,
  }));
  const config = {
    topic: partition.topic,
    partitions: 1,
    replicationFactor: partition.replicas.length,
    minInsyncReplicas: 1,
    uncleanLeaderElection: false,
    createdAt: T0,
  };
  await deps.metadata.createTopic(config, [partition], states);
  return deps;
}

const append = (startOffset: number, leaderEpoch = 0, leader = 'A') => ({
  topic: 'orders',
  partition: 1,
  leader,
  leaderEpoch,
  startOffset,
  records: [{ key: null, value: `at-${startOffset}` }],
  appendedAt: T0,
});

describe('MemoryBrokerRegistry', () => {
  it('renews only a live lease of the same incarnation', async () => {
    const deps = createMemoryDeps({ startAt: T0 });
    const lease = aHeartbeat({ deadlineMs: T0 + 10 });
    expect(await deps.brokers.register(lease, null, T0)).toBe(true);
    expect(await deps.brokers.register(lease, null, T0)).toBe(false);

    expect(await deps.brokers.renew({ ...lease, incarnation: 2 }, T0)).toBe(false);
    expect(await deps.brokers.renew(lease, T0 + 11)).toBe(false);
    expect(await deps.brokers.renew({ ...lease, deadlineMs: T0 + 20 }, T0 + 10)).toBe(true);
  });

  it('deletes only a lapsed lease of the named incarnation', async () => {
    const deps = createMemoryDeps({ startAt: T0 });
    await deps.brokers.register(aHeartbeat({ deadlineMs: T0 + 10 }), null, T0);
    expect(await deps.brokers.deleteIfExpired('A', 1, T0 + 10)).toBe(false);
    expect(await deps.brokers.deleteIfExpired('A', 2, T0 + 11)).toBe(false);
    expect(await deps.brokers.deleteIfExpired('A', 1, T0 + 11)).toBe(true);
    expect(deps.brokers.drainStream().map((r) => r.eventName)).toEqual(['INSERT', 'REMOVE']);
  });

  it('replaces a previous incarnation only once it lapsed', async () => {
    const deps = createMemoryDeps({ startAt: T0 });
    const first = aHeartbeat({ deadlineMs: T0 + 10 });
    await deps.brokers.register(first, null, T0);
    const second = aHeartbeat({ incarnation: 2, deadlineMs: T0 + 30 });
    expect(await deps.brokers.register(second, first, T0 + 5)).toBe(false);
    expect(await deps.brokers.register(second, first, T0 + 11)).toBe(true);
  });
});

describe('MemoryMetadataStore', () => {
  it('creates a topic once', async () => {
    const deps = await withPartition();
    const config = (await deps.metadata.getTopic('orders'))!;
    await expect(deps.metadata.createTopic(config, [], [])).rejects.toThrow(TopicExistsError);
  });

  it('applies a leadership write only at the expected version, and bumps it', async () => {
    const deps = await withPartition();
    const update = { leader: 'B', leaderEpoch: 1, isr: ['B'], state: 'ONLINE' as const, lastChange: aChange() };
    await expect(deps.metadata.updateLeadership('orders', 1, 1, update)).rejects.toThrow(StaleEpochError);
    expect(await deps.metadata.updateLeadership('orders', 1, 0, update)).toMatchObject({ leader: 'B', version: 1 });
    expect(deps.metadata.rejectedLeadershipWrites).toBe(1);
  });

  it('only raises the high watermark, and only for the current epoch', async () => {
    const deps = await withPartition();
    expect(await deps.metadata.advanceHighWatermark('orders', 1, 0, 5)).toBe(true);
    expect(await deps.metadata.advanceHighWatermark('orders', 1, 0, 3)).toBe(false);
    expect(await deps.metadata.advanceHighWatermark('orders', 1, 1, 9)).toBe(false);
    expect((await deps.metadata.getPartition('orders', 1))?.highWatermark).toBe(5);
  });

  it('hands out copies: changing a result changes nothing stored', async () => {
    const deps = await withPartition();
    const read = (await deps.metadata.getPartition('orders', 1))!;
    read.isr.push('Z');
    expect((await deps.metadata.getPartition('orders', 1))?.isr).toEqual(['A', 'B']);
  });
});

describe('MemoryPartitionLog', () => {
  it('fences a leader append by leader, epoch and log end offset', async () => {
    const deps = await withPartition();
    await expect(deps.log.appendAsLeader(append(0, 1))).rejects.toThrow(StaleEpochError);
    await expect(deps.log.appendAsLeader(append(0, 0, 'B'))).rejects.toThrow(StaleEpochError);
    await expect(deps.log.appendAsLeader(append(1))).rejects.toThrow(StaleEpochError);
    expect(await deps.log.appendAsLeader(append(0))).toEqual([aLogRecord({ value: 'at-0' })]);
    await expect(deps.log.appendAsLeader(append(0))).rejects.toThrow(StaleEpochError);
    expect(deps.log.drainLeaderAppends()).toHaveLength(1);
  });

  it('fences a follower copy by epoch, by the epoch the follower was matched in and by its log end offset', async () => {
    const deps = await withPartition();
    const records = [...(await deps.log.appendAsLeader(append(0))), ...(await deps.log.appendAsLeader(append(1)))];
    const copy = (leaderEpoch: number, from: number) => ({
      topic: 'orders',
      partition: 1,
      follower: 'B',
      leaderEpoch,
      records: records.slice(from),
    });

    await expect(deps.log.appendAsFollower(copy(1, 0))).rejects.toThrow(StaleEpochError);
    await expect(deps.log.appendAsFollower(copy(0, 1))).rejects.toThrow(StaleEpochError);
    await deps.log.appendAsFollower(copy(0, 0));
    expect(await deps.metadata.getReplicaStates('orders', 1)).toContainEqual(expect.objectContaining({ brokerId: 'B', logEndOffset: 2 }));
    expect(deps.log.replicaRecords('orders', 1, 'B')).toEqual(records.map((r) => ({ ...r, replica: 'B', copy: 'follower' })));
  });

  it('matches a follower: cuts its log back and marks it matched, fenced by leadership, epoch, log end and HW', async () => {
    const deps = await withPartition(aPartition({ replicas: ['A', 'B'], isr: ['A'] }));
    await deps.log.appendAsLeader(append(0));
    await deps.log.appendAsLeader(append(1));
    const match = { topic: 'orders', partition: 1, follower: 'A', leader: 'B', leaderEpoch: 0, expectedLogEnd: 2, truncateTo: 1 };

    await expect(deps.log.matchFollower(match)).rejects.toThrow(/no longer led by B/);
    await deps.metadata.updateLeadership('orders', 1, 0, {
      leader: 'B',
      leaderEpoch: 1,
      isr: ['B'],
      state: 'ONLINE',
      lastChange: aChange(),
    });
    await expect(deps.log.matchFollower({ ...match, leaderEpoch: 1, expectedLogEnd: 1, truncateTo: 0 })).rejects.toThrow(/log end is 2/);
    await expect(deps.log.matchFollower(match)).rejects.toThrow(/no longer led by B at epoch 0/);
    await deps.log.matchFollower({ ...match, leaderEpoch: 1 });
    expect(deps.log.replicaRecords('orders', 1, 'A').map((r) => r.offset)).toEqual([0]);
    expect(await deps.metadata.getReplicaStates('orders', 1)).toContainEqual(
      expect.objectContaining({ brokerId: 'A', logEndOffset: 1, matchedEpoch: 1 }),
    );
    await expect(deps.log.matchFollower({ ...match, leaderEpoch: 1, expectedLogEnd: 1, truncateTo: 0 })).rejects.toThrow(
      /already matched in epoch 1/,
    );
  });

});

describe('MemoryEventPublisher', () => {
  it('delivers a change once per deduplication window, like a FIFO queue', async () => {
    const deps = createMemoryDeps({ startAt: T0 });
    const event = {
      topic: 'orders',
      partition: 1,
      previousLeader: 'A',
      newLeader: 'B',
      leaderEpoch: 1,
      isr: ['B'],
      state: 'ONLINE' as const,
      reason: 'LEADER_FAILED' as const,
      unclean: false,
      at: T0,
      version: 1,
    };
    await deps.events.publish([event]);
    await deps.events.publish([event]);
    await deps.events.publish([{ ...event, reason: 'ISR_EXPANDED', version: 2 }]);
    deps.clock.advance(5 * 60 * 1000);
    await deps.events.publish([event]);
    expect(deps.events.delivered.map((e) => e.version)).toEqual([1, 2, 1]);
    expect(deps.events.published).toHaveLength(4);
  });
});
