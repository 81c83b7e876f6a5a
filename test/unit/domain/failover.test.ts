import { beforeEach, describe, expect, it } from 'vitest';
import {
  NotEnoughReplicasError,
  PartitionOfflineError,
  StaleEpochError,
} from '../../../functions/domain/errors.js';
import {
  consume,
  electPreferredLeaders,
  onBrokerGone,
  onBrokerRegistered,
  sweepExpiredBrokers,
} from '../../../functions/domain/index.js';
import type { BrokerHeartbeat } from '../../../functions/domain/model.js';
import { ClusterHarness, HEARTBEAT_INTERVAL_MS } from '../../factories/cluster.js';

const VALUES = ['v1', 'v2', 'v3'];

/** The product's seed: brokers A..D, topic orders with 4 partitions at RF 2, three acked records on each. */
async function seedCluster(): Promise<ClusterHarness> {
  const cluster = new ClusterHarness();
  await cluster.start('A', 'B', 'C', 'D');
  await cluster.createTopic('orders', 4, 2);
  for (const partition of [1, 2, 3, 4]) {
    await cluster.produceValues('orders', partition, VALUES.map((v) => `${v}@${partition}`));
  }
  return cluster;
}

/** Expires A's lease and sweeps it, leaving its REMOVE for the detector(s) of the test. */
async function expireWithoutDetector(cluster: ClusterHarness, brokerId: string): Promise<BrokerHeartbeat> {
  cluster.stop(brokerId);
  await cluster.elapse(cluster.deps.settings.sessionTimeoutMs + HEARTBEAT_INTERVAL_MS);
  await sweepExpiredBrokers(cluster.deps);
  const removes = cluster.deps.brokers.drainStream().filter((r) => r.eventName === 'REMOVE');
  expect(removes).toHaveLength(1);
  return removes[0].eventName === 'REMOVE' ? removes[0].oldImage : expect.fail('no REMOVE');
}

describe('failover of the seed scenario', () => {
  let cluster: ClusterHarness;
  beforeEach(async () => {
    cluster = await seedCluster();
  });

  it('moves partition 1 to B and shrinks partition 4 to D when A expires, leaving 2 and 3 alone', async () => {
    const events = await cluster.kill('A');

    expect(await cluster.partition('orders', 1)).toMatchObject({
      leader: 'B',
      leaderEpoch: 1,
      isr: ['B'],
      state: 'ONLINE',
      lastChange: { reason: 'LEADER_FAILED', previousLeader: 'A', causeBrokerId: 'A', unclean: false },
    });
    expect(await cluster.partition('orders', 4)).toMatchObject({
      leader: 'D',
      leaderEpoch: 0,
      isr: ['D'],
      lastChange: { reason: 'FOLLOWER_FAILED', causeBrokerId: 'A' },
    });
    for (const untouched of [2, 3]) {
      expect(await cluster.partition('orders', untouched)).toMatchObject({ version: 0, leaderEpoch: 0 });
    }

    expect(events.map((e) => [e.partition, e.reason, e.newLeader, e.leaderEpoch])).toEqual([
      [1, 'LEADER_FAILED', 'B', 1],
      [4, 'FOLLOWER_FAILED', 'D', 0],
    ]);
    expect(cluster.changeEvents()).toEqual(events);
  });

  it('serves every acknowledged record of partition 1 from B, in order', async () => {
    await cluster.kill('A');
    const read = await consume(cluster.deps, { topic: 'orders', partition: 1 });
    expect(read).toMatchObject({ leader: 'B', leaderEpoch: 1, highWatermark: 3, nextOffset: 3 });
    expect(read.records.map((r) => [r.offset, r.value])).toEqual([
      [0, 'v1@1'],
      [1, 'v2@1'],
      [2, 'v3@1'],
    ]);
  });

  it('takes partition 1 offline when B dies too, and brings it back under B when B returns', async () => {
    await cluster.kill('A');
    await cluster.kill('B');

    // KIP-966: the last ISR member leaves the ISR for the ELR, and is the last known leader.
    expect(await cluster.partition('orders', 1)).toMatchObject({
      leader: null,
      isr: [],
      elr: ['B'],
      lastKnownElr: ['B'],
      state: 'OFFLINE',
      leaderEpoch: 2,
    });
    expect(await cluster.partition('orders', 2)).toMatchObject({ leader: 'C', isr: ['C'], leaderEpoch: 1 });
    await expect(consume(cluster.deps, { topic: 'orders', partition: 1 })).rejects.toThrow(PartitionOfflineError);
    await expect(cluster.produceValues('orders', 1, ['lost'])).rejects.toThrow(PartitionOfflineError);

    const events = await cluster.revive('B');

    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'B', isr: ['B'], state: 'ONLINE', leaderEpoch: 3 });
    expect(events).toContainEqual(
      expect.objectContaining({ partition: 1, reason: 'LEADER_RETURNED', newLeader: 'B', previousLeader: null }),
    );
    const read = await consume(cluster.deps, { topic: 'orders', partition: 1 });
    expect(read.records.map((r) => r.value)).toEqual(['v1@1', 'v2@1', 'v3@1']);
  });

  it('refuses a zombie: the old leader appending with its old epoch is fenced', async () => {
    await cluster.kill('A');
    await expect(
      cluster.deps.log.appendAsLeader({
        topic: 'orders',
        partition: 1,
        leader: 'A',
        leaderEpoch: 0,
        startOffset: 3,
        generation: 0,
        records: [{ key: null, value: 'zombie' }],
        appendedAt: cluster.deps.clock.now(),
      }),
    ).rejects.toThrow(StaleEpochError);
    await expect(cluster.produceValues('orders', 1, ['stale client'], { leaderEpoch: 0 })).rejects.toThrow(StaleEpochError);
    expect(cluster.valuesOn('orders', 1, 'A')).toEqual(['v1@1', 'v2@1', 'v3@1']);
  });

  it('lets A catch up and rejoin the ISRs when it returns, then gives its preferred partitions back', async () => {
    await cluster.kill('A');
    await cluster.produceValues('orders', 1, ['v4@1']);

    const rejoin = await cluster.revive('A');

    expect(rejoin.map((e) => [e.partition, e.reason, e.isr])).toEqual([
      [1, 'ISR_EXPANDED', ['A', 'B']],
      [4, 'ISR_EXPANDED', ['D', 'A']],
    ]);
    expect(cluster.valuesOn('orders', 1, 'A')).toEqual(cluster.valuesOn('orders', 1, 'B'));

    const moved = await electPreferredLeaders(cluster.deps, {});
    expect(moved.map((e) => [e.partition, e.reason, e.previousLeader, e.newLeader, e.leaderEpoch])).toEqual([
      [1, 'PREFERRED_LEADER', 'B', 'A', 2],
    ]);
    expect(await electPreferredLeaders(cluster.deps, {})).toEqual([]);
  });
});

describe('failure detector delivery', () => {
  it('lets two detectors racing on the same REMOVE make exactly one change', async () => {
    const cluster = await seedCluster();
    const gone = await expireWithoutDetector(cluster, 'A');

    const [first, second] = await Promise.all([
      onBrokerGone(cluster.deps, gone, 'EXPIRED'),
      onBrokerGone(cluster.deps, gone, 'EXPIRED'),
    ]);

    expect(cluster.deps.metadata.rejectedLeadershipWrites).toBeGreaterThan(0);
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'B', leaderEpoch: 1, version: 1 });
    expect(await cluster.partition('orders', 4)).toMatchObject({ isr: ['D'], leaderEpoch: 0, version: 1 });
    // Both report the change; the queue delivers it once.
    expect(first).toEqual(second);
    expect(cluster.changeEvents().map((e) => e.partition)).toEqual([1, 4]);
  });

  it('changes nothing on a duplicate delivery', async () => {
    const cluster = await seedCluster();
    const gone = await expireWithoutDetector(cluster, 'A');
    const events = await onBrokerGone(cluster.deps, gone, 'EXPIRED');
    const before = await cluster.deps.metadata.listPartitions();

    const again = await onBrokerGone(cluster.deps, gone, 'EXPIRED');

    expect(await cluster.deps.metadata.listPartitions()).toEqual(before);
    expect(again).toEqual(events);
    expect(cluster.changeEvents()).toHaveLength(2);
  });

  it('re-publishes on retry when the publish after the write failed', async () => {
    const cluster = await seedCluster();
    const gone = await expireWithoutDetector(cluster, 'A');
    cluster.deps.events.failNextPublish();

    await expect(onBrokerGone(cluster.deps, gone, 'EXPIRED')).rejects.toThrow(/unreachable/);
    // Both partitions were changed; their events, published together after the changes, never reached the queue.
    expect(cluster.changeEvents()).toHaveLength(0);
    expect(await cluster.partition('orders', 1)).toMatchObject({ leaderEpoch: 1, version: 1 });
    expect(await cluster.partition('orders', 4)).toMatchObject({ version: 1 });

    await onBrokerGone(cluster.deps, gone, 'EXPIRED');

    expect(cluster.changeEvents().map((e) => e.partition).sort()).toEqual([1, 4]);
    expect(await cluster.partition('orders', 1)).toMatchObject({ leaderEpoch: 1, version: 1 });
  });

  it('ignores a late REMOVE of an incarnation whose partitions already moved on', async () => {
    const cluster = await seedCluster();
    const gone = await expireWithoutDetector(cluster, 'A');
    await onBrokerGone(cluster.deps, gone, 'EXPIRED');
    await cluster.kill('B');
    const before = await cluster.deps.metadata.listPartitions();

    await onBrokerGone(cluster.deps, gone, 'EXPIRED');

    expect(await cluster.deps.metadata.listPartitions()).toEqual(before);
  });

  it('leaves alone a topic that placed the next incarnation before the old one\'s REMOVE arrived', async () => {
    const cluster = await seedCluster();
    const gone = await expireWithoutDetector(cluster, 'A');
    // A restarts as a new incarnation and a topic is created on it, all before the
    // (lagging) failure detector gets to the old incarnation's REMOVE.
    cluster.deps.clock.advance(HEARTBEAT_INTERVAL_MS);
    await cluster.revive('A');
    await cluster.createTopic('later', 4, 2);
    const before = await cluster.deps.metadata.listPartitions('later');

    await onBrokerGone(cluster.deps, gone, 'EXPIRED');

    expect(await cluster.deps.metadata.listPartitions('later')).toEqual(before);
    expect((await cluster.partition('orders', 1)).leader).toBe('B');
  });

  it('changes nothing on a duplicate INSERT, re-publishing what it caused', async () => {
    const cluster = await seedCluster();
    await cluster.kill('A');
    await cluster.revive('A');
    const joined = (await cluster.deps.brokers.get('A'))!;
    const before = await cluster.deps.metadata.listPartitions();
    const delivered = cluster.deps.events.delivered.length;

    const again = await onBrokerRegistered(cluster.deps, joined);

    expect(again.map((e) => [e.partition, e.reason])).toEqual([
      [1, 'ISR_EXPANDED'],
      [4, 'ISR_EXPANDED'],
    ]);
    expect(await cluster.deps.metadata.listPartitions()).toEqual(before);
    expect(cluster.deps.events.delivered).toHaveLength(delivered);
  });

  it('calls a deregistration a controlled shutdown', async () => {
    const cluster = await seedCluster();
    cluster.stop('A');
    await cluster.deps.brokers.deregister('A', cluster.incarnationOf('A'));

    const events = await cluster.runFailureDetector();

    expect(events.map((e) => [e.partition, e.reason])).toEqual([
      [1, 'CONTROLLED_SHUTDOWN'],
      [4, 'ISR_SHRUNK'],
    ]);
  });
});

describe('failover with three replicas', () => {
  async function rf3Cluster(extra: object = {}): Promise<ClusterHarness> {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('orders', 1, 3, extra);
    await cluster.produceValues('orders', 1, ['v1', 'v2', 'v3']);
    return cluster;
  }

  it('truncates a follower that holds records the new leader never had (KIP-101)', async () => {
    const cluster = await rf3Cluster();
    // A appends two more; the replicator copies them to C and crashes before B.
    await cluster.produceValues('orders', 1, ['u4', 'u5'], { acks: 1 });
    cluster.deps.log.drainLeaderAppends();
    const uncommitted = await cluster.deps.log.read('orders', 1, 'A', 3, 5);
    await cluster.deps.log.appendAsFollower({ topic: 'orders', partition: 1, follower: 'C', leaderEpoch: 0, records: uncommitted, generation: 0 });

    await cluster.kill('A');

    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'B', isr: ['B', 'C'], highWatermark: 3 });
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual(['v1', 'v2', 'v3']);

    await cluster.produceValues('orders', 1, ['w4']);
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual(['v1', 'v2', 'v3', 'w4']);
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['v1', 'v2', 'v3', 'w4']);
  });

  it('lets a replica that returned while the partition was offline catch up once it is back online', async () => {
    const cluster = await rf3Cluster();
    await cluster.kill('B', 'C');
    await cluster.produceValues('orders', 1, ['v4']); // committed by A alone (min.insync.replicas 1): C lacks it
    await cluster.kill('A');
    expect(await cluster.revive('C')).toEqual([]);

    const events = await cluster.revive('A');

    expect(events.map((e) => [e.reason, e.newLeader, e.isr])).toEqual([
      ['LEADER_RETURNED', 'A', ['A']],
      ['ISR_EXPANDED', 'A', ['A', 'C']],
    ]);
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual(['v1', 'v2', 'v3', 'v4']);
  });

  it('elects a returning replica outside the ISR and ELR whose log shows it holds every committed record', async () => {
    const cluster = await rf3Cluster();
    await cluster.kill('B', 'C'); // ISR [A] meets min.insync.replicas 1: neither B nor C is eligible
    await cluster.kill('A'); // nothing was committed after C left
    const events = await cluster.revive('C');
    expect(events.map((e) => [e.reason, e.newLeader, e.isr, e.unclean])).toEqual([['LEADER_RETURNED', 'C', ['C'], false]]);
    expect((await consume(cluster.deps, { topic: 'orders', partition: 1 })).records.map((r) => r.value)).toEqual(['v1', 'v2', 'v3']);
  });

  it('advances the high watermark once a dead follower stops holding it back', async () => {
    const cluster = await rf3Cluster();
    cluster.stop('C');
    await cluster.elapse(cluster.deps.settings.sessionTimeoutMs + HEARTBEAT_INTERVAL_MS);
    await cluster.produceValues('orders', 1, ['v4'], { acks: 1 });
    await cluster.replicateAll();
    expect((await cluster.partition('orders', 1)).highWatermark).toBe(3);

    await cluster.runFailureDetector();

    expect(await cluster.partition('orders', 1)).toMatchObject({ isr: ['A', 'B'], highWatermark: 4 });
  });

  it('refuses acks=all below min.insync.replicas, writing nothing, but still takes acks=1', async () => {
    const cluster = await rf3Cluster({ minInsyncReplicas: 2 });
    await cluster.kill('B', 'C');

    await expect(cluster.produceValues('orders', 1, ['x'])).rejects.toThrow(NotEnoughReplicasError);
    expect(cluster.valuesOn('orders', 1, 'A')).toEqual(['v1', 'v2', 'v3']);
    await expect(cluster.produceValues('orders', 1, ['y'], { acks: 1 })).resolves.toMatchObject({ baseOffset: 3 });
  });

  it('elects the first live replica uncleanly when the topic allows it, and says so', async () => {
    const cluster = await rf3Cluster({ uncleanLeaderElection: true });
    await cluster.kill('B', 'C');
    await cluster.produceValues('orders', 1, ['only-on-A']);
    await cluster.kill('A');
    expect(await cluster.partition('orders', 1)).toMatchObject({ state: 'OFFLINE', isr: [], elr: ['A'], highWatermark: 4 });

    const events = await cluster.revive('C');

    expect(events[0]).toMatchObject({ reason: 'UNCLEAN_ELECTION', unclean: true, newLeader: 'C', isr: ['C'] });
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'C', isr: ['C'] });
  });

  it("brings the high watermark down to an unclean leader's log end, so consumers are never promised offsets it lacks", async () => {
    const cluster = await rf3Cluster({ uncleanLeaderElection: true });
    const seen = [(await cluster.partition('orders', 1)).highWatermark];
    const observe = async () => void seen.push((await cluster.partition('orders', 1)).highWatermark);

    await cluster.kill('B', 'C');
    await observe();
    await cluster.produceValues('orders', 1, ['only-on-A']);
    await observe();
    await cluster.kill('A');
    await cluster.revive('C');
    await observe();
    await cluster.produceValues('orders', 1, ['c4', 'c5']);
    await observe();

    // Offset 3 held the acknowledged "only-on-A": the loss an unclean election accepts, and says it made.
    expect(seen).toEqual([3, 3, 4, 3, 5]);
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual(['v1', 'v2', 'v3', 'c4', 'c5']);
  });
});
