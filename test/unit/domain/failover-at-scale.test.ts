/**
 * The failure detector and the reconciler at scale: what they write and read in bulk
 * (batched leadership writes, one replica-state listing per topic), and that the bulk
 * paths keep the rules of the one-partition paths (a lost write is re-decided on a fresh
 * read, every change is published, a lagging follower still leaves the ISR).
 */
import { describe, expect, it } from 'vitest';
import { onBrokerGone, reconcile, sweepExpiredBrokers } from '../../../functions/domain/index.js';
import type { BrokerHeartbeat, PartitionMetadata } from '../../../functions/domain/model.js';
import { TOPIC_LISTING_MIN_PARTITIONS } from '../../../functions/domain/partition-change.js';
import { ClusterHarness, HEARTBEAT_INTERVAL_MS } from '../../factories/cluster.js';

/** Counts the metadata store's calls by method name. */
function countCalls(cluster: ClusterHarness): Map<string, number> {
  const calls = new Map<string, number>();
  const metadata = cluster.deps.metadata as unknown as Record<string, unknown>;
  for (const name of ['updateLeadership', 'updateLeaderships', 'getReplicaStates', 'listReplicaStates', 'getPartition']) {
    const original = (metadata[name] as (...args: unknown[]) => Promise<unknown>).bind(cluster.deps.metadata);
    metadata[name] = (...args: unknown[]) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return original(...args);
    };
  }
  return calls;
}

async function expireWithoutDetector(cluster: ClusterHarness, brokerId: string): Promise<BrokerHeartbeat> {
  cluster.stop(brokerId);
  await cluster.elapse(cluster.deps.settings.sessionTimeoutMs + HEARTBEAT_INTERVAL_MS);
  await sweepExpiredBrokers(cluster.deps);
  const removes = cluster.deps.brokers.drainStream().filter((r) => r.eventName === 'REMOVE');
  return removes[0]?.eventName === 'REMOVE' ? removes[0].oldImage : expect.fail('no REMOVE');
}

const ledBy = (partitions: PartitionMetadata[], brokerId: string) => partitions.filter((p) => p.leader === brokerId);

describe('failover of many partitions', () => {
  it('elects through batched writes, publishes every change once, and levels from one listing a topic', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B', 'C', 'D', 'E');
    await cluster.createTopic('big', 100, 3);
    const before = await cluster.deps.metadata.listPartitions('big');
    const led = ledBy(before, 'A');
    const followed = before.filter((p) => p.leader !== 'A' && p.isr.includes('A'));
    expect(led.length).toBeGreaterThanOrEqual(TOPIC_LISTING_MIN_PARTITIONS);
    const gone = await expireWithoutDetector(cluster, 'A');
    const calls = countCalls(cluster);
    const publishedBefore = cluster.deps.events.published.length;
    const deliveredBefore = cluster.deps.events.delivered.length;

    const events = await onBrokerGone(cluster.deps, gone, 'EXPIRED');

    // One batched call for the elections, one for the ISR shrinks (the memory store applies them one by one).
    expect(calls.get('updateLeaderships')).toBe(2);
    expect(calls.get('updateLeadership')).toBe(led.length + followed.length);
    // The states came from one listing of the topic, not two or three queries a partition.
    expect(calls.get('listReplicaStates')).toBe(1);
    expect(calls.get('getReplicaStates') ?? 0).toBe(0);
    expect(events.filter((e) => e.reason === 'LEADER_FAILED')).toHaveLength(led.length);
    expect(events.filter((e) => e.reason === 'FOLLOWER_FAILED')).toHaveLength(followed.length);
    const byPartition = (list: typeof events) => [...list].sort((a, b) => a.partition - b.partition);
    expect(byPartition(cluster.deps.events.published.slice(publishedBefore))).toEqual(byPartition(events));
    for (const p of led) {
      const now = await cluster.partition('big', p.partition);
      // Kafka's rule: the first replica in assignment order alive and in the ISR, epoch + 1.
      expect(now).toMatchObject({ leader: p.replicas.find((id) => id !== 'A'), leaderEpoch: 1, version: p.version + 1 });
      // Its followers were levelled: matched with the new leader in its epoch.
      const states = await cluster.deps.metadata.getReplicaStates('big', p.partition);
      for (const follower of now.isr.filter((id) => id !== now.leader)) {
        expect(states.find((s) => s.brokerId === follower)?.matchedEpoch).toBe(1);
      }
    }
    for (const p of followed) expect((await cluster.partition('big', p.partition)).isr).not.toContain('A');

    // A second delivery of the REMOVE changes nothing and re-publishes the same changes (the queue drops them).
    const again = await onBrokerGone(cluster.deps, gone, 'EXPIRED');
    expect(byPartition(again)).toEqual(byPartition(events));
    expect(byPartition(cluster.deps.events.delivered.slice(deliveredBefore))).toEqual(byPartition(events));
    expect((await cluster.deps.metadata.listPartitions('big')).filter((p) => p.leaderEpoch > 1)).toEqual([]);
  });

  it('re-decides a batched write that lost its race on a fresh read: one election per epoch', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B', 'C', 'D', 'E');
    await cluster.createTopic('big', 40, 3);
    const led = ledBy(await cluster.deps.metadata.listPartitions('big'), 'A');
    const gone = await expireWithoutDetector(cluster, 'A');
    // A racing detector wins the first of A's partitions between the read and the batch.
    const raced = led[0];
    const metadata = cluster.deps.metadata;
    const batch = metadata.updateLeaderships.bind(metadata);
    let racedOnce = false;
    metadata.updateLeaderships = async (writes) => {
      if (!racedOnce) {
        racedOnce = true;
        const winner = writes.find((w) => w.partition.partition === raced.partition)!;
        await metadata.updateLeadership('big', raced.partition, raced.version, winner.update);
      }
      return batch(writes);
    };
    const rejectedBefore = metadata.rejectedLeadershipWrites;

    const events = await onBrokerGone(cluster.deps, gone, 'EXPIRED');

    expect(metadata.rejectedLeadershipWrites).toBe(rejectedBefore + 1);
    // The loser re-read and found the election made: not a second epoch, but the change completed and published again.
    expect(await cluster.partition('big', raced.partition)).toMatchObject({ leaderEpoch: 1, version: raced.version + 1 });
    expect(events.filter((e) => e.partition === raced.partition && e.reason === 'LEADER_FAILED')).toHaveLength(1);
    for (const p of led) expect((await cluster.partition('big', p.partition)).leader).not.toBe('A');
  });
});

describe('a failure detector short of time', () => {
  it('elects, shrinks and publishes everything, leaves the levelling past its deadline to the reconciler', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B', 'C', 'D', 'E');
    await cluster.createTopic('big', 50, 3);
    for (const partition of [1, 6, 11]) await cluster.produceValues('big', partition, ['x', 'y']);
    const led = ledBy(await cluster.deps.metadata.listPartitions('big'), 'A');
    const gone = await expireWithoutDetector(cluster, 'A');
    const followersOf = (p: PartitionMetadata) => p.isr.filter((id) => id !== p.leader);
    const matchedIn = async (p: PartitionMetadata) =>
      (await cluster.deps.metadata.getReplicaStates('big', p.partition))
        .filter((s) => followersOf(p).includes(s.brokerId))
        .map((s) => s.matchedEpoch === p.leaderEpoch);

    const events = await onBrokerGone(cluster.deps, gone, 'EXPIRED', { levelUntil: cluster.deps.clock.now() });

    expect(events.filter((e) => e.reason === 'LEADER_FAILED')).toHaveLength(led.length);
    for (const p of led) {
      const now = await cluster.partition('big', p.partition);
      expect(now).toMatchObject({ leaderEpoch: 1, state: 'ONLINE' });
      expect(now.leader).not.toBe('A');
      // Not levelled: its followers are not matched in the new epoch yet, so the HW stays.
      expect(await matchedIn(now)).toEqual(followersOf(now).map(() => false));
    }
    await reconcile(cluster.deps);
    for (const p of led) {
      const now = await cluster.partition('big', p.partition);
      expect(await matchedIn(now)).toEqual(followersOf(now).map(() => true));
    }
    expect((await cluster.partition('big', 1)).highWatermark).toBe(2);
  });
});

describe('the reconciler at scale', () => {
  it('reads each large topic once when every replica is level, and still shrinks a follower that really lags', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('big', 40, 3);
    await cluster.produceValues('big', 1, ['x']);
    // Past replica.lag.time.max.ms since every partition's last change: lag counts now.
    await cluster.elapse(cluster.deps.settings.replicaLagMaxMs + 1000);
    await reconcile(cluster.deps);
    const calls = countCalls(cluster);

    await reconcile(cluster.deps);
    expect(calls.get('listReplicaStates')).toBe(1);
    expect(calls.get('getReplicaStates') ?? 0).toBe(0);

    // Partition 2's leader appends a record its followers never get, and 30 s pass: they lag.
    const p2 = await cluster.partition('big', 2);
    await cluster.deps.log.appendAsLeader({
      topic: 'big',
      partition: 2,
      leader: p2.leader!,
      leaderEpoch: p2.leaderEpoch,
      startOffset: 0,
      generation: 0,
      records: [{ key: null, value: 'lonely' }],
      appendedAt: cluster.deps.clock.now(),
    });
    await cluster.elapse(cluster.deps.settings.replicaLagMaxMs + 1000);
    const { events } = await reconcile(cluster.deps);
    expect(calls.get('getReplicaStates')).toBeGreaterThan(0);
    // Both followers leave the ISR for lag (judged on a fresh read), then catch up and rejoin in the same run.
    expect(events.filter((e) => e.partition === 2).map((e) => [e.reason, e.isr])).toEqual([
      ['ISR_SHRUNK', [p2.leader]],
      ['ISR_EXPANDED', expect.any(Array)],
      ['ISR_EXPANDED', expect.any(Array)],
    ]);
    expect(events.filter((e) => e.partition !== 2)).toEqual([]);
    expect((await cluster.partition('big', 2)).highWatermark).toBe(1);
  });
});
