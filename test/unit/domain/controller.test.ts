/**
 * The controller side: consumer fencing (KIP-320) with OffsetsForLeaderEpoch,
 * controlled shutdown, on-demand and scheduled preferred-leader election.
 */
import { describe, expect, it } from 'vitest';
import {
  BrokerNotRegisteredError,
  FencedBrokerError,
  FencedLeaderEpochError,
  StaleEpochError,
  UnknownLeaderEpochError,
  UnknownTopicError,
  ValidationError,
} from '../../../functions/domain/errors.js';
import {
  autoRebalance,
  consume,
  controlledShutdown,
  describe as describeCluster,
  electPreferredLeaders,
  heartbeat,
  leaderImbalance,
  registerBroker,
  offsetsForLeaderEpoch,
  reconcile,
  serveConsumer,
} from '../../../functions/domain/index.js';
import { CONTROLLED_SHUTDOWN_MARK_MS } from '../../../functions/domain/limits.js';
import { ClusterHarness, credentialFor, HEARTBEAT_INTERVAL_MS, observableState } from '../../factories/cluster.js';

/** Brokers A, B, C; topic orders, 3 partitions at RF 3: p1 [A,B,C], p2 [B,C,A], p3 [C,A,B]; two records on each. */
async function threeBrokers(): Promise<ClusterHarness> {
  const cluster = new ClusterHarness();
  await cluster.start('A', 'B', 'C');
  await cluster.createTopic('orders', 3, 3);
  for (const partition of [1, 2, 3]) await cluster.produceValues('orders', partition, [`a${partition}`, `b${partition}`]);
  return cluster;
}

const shutdown = (cluster: ClusterHarness, brokerId: string) =>
  controlledShutdown(cluster.deps, { brokerId, incarnation: cluster.incarnationOf(brokerId), credential: credentialFor(brokerId) });

describe('KIP-320 fencing of consume and produce', () => {
  it('refuses a stale currentLeaderEpoch as FENCED_LEADER_EPOCH and a newer one as UNKNOWN_LEADER_EPOCH', async () => {
    const cluster = await threeBrokers();
    await cluster.kill('A'); // p1: B at epoch 1
    const stale = consume(cluster.deps, { topic: 'orders', partition: 1, currentLeaderEpoch: 0 });
    await expect(stale).rejects.toThrow(FencedLeaderEpochError);
    await expect(stale).rejects.toMatchObject({ code: 'FENCED_LEADER_EPOCH', name: 'FencedLeaderEpochError' });
    await expect(stale).rejects.toBeInstanceOf(StaleEpochError);
    // KIP-951: the refusal names the current leader, in the one wording the client parses.
    await expect(stale).rejects.toThrow(/\[current leader B epoch 1\]$/);
    const ahead = consume(cluster.deps, { topic: 'orders', partition: 1, currentLeaderEpoch: 2 });
    await expect(ahead).rejects.toThrow(UnknownLeaderEpochError);
    await expect(ahead).rejects.toMatchObject({ code: 'UNKNOWN_LEADER_EPOCH' });
    await expect(consume(cluster.deps, { topic: 'orders', partition: 1, currentLeaderEpoch: 1 })).resolves.toMatchObject({
      leader: 'B',
      leaderEpoch: 1,
    });
  });

  it('fences produce by currentLeaderEpoch, and by leaderEpoch, its older name', async () => {
    const cluster = await threeBrokers();
    await cluster.kill('A');
    const before = await observableState(cluster.deps);
    await expect(cluster.produceValues('orders', 1, ['x'], { currentLeaderEpoch: 0 })).rejects.toThrow(FencedLeaderEpochError);
    await expect(cluster.produceValues('orders', 1, ['x'], { leaderEpoch: 0 })).rejects.toThrow(FencedLeaderEpochError);
    await expect(cluster.produceValues('orders', 1, ['x'], { currentLeaderEpoch: 5 })).rejects.toThrow(UnknownLeaderEpochError);
    expect(await observableState(cluster.deps)).toEqual(before);
    await expect(cluster.produceValues('orders', 1, ['x'], { currentLeaderEpoch: 1 })).resolves.toMatchObject({ leaderEpoch: 1 });
  });

  it.each([
    [{ currentLeaderEpoch: -1 }, 'currentLeaderEpoch'],
    [{ currentLeaderEpoch: 1.5 }, 'currentLeaderEpoch'],
    [{ currentLeaderEpoch: '1' }, 'currentLeaderEpoch'],
    [{ leaderEpoch: -2 }, 'leaderEpoch'],
    [{ currentLeaderEpoch: 1, leaderEpoch: 2 }, 'currentLeaderEpoch'],
  ])('refuses %o as a ValidationError naming %s, on consume and produce', async (epoch, field) => {
    const cluster = await threeBrokers();
    const before = await observableState(cluster.deps);
    const read = consume(cluster.deps, { topic: 'orders', partition: 1, ...epoch });
    await expect(read).rejects.toThrow(ValidationError);
    await expect(read).rejects.toThrow(`"${field}"`);
    const write = cluster.produceValues('orders', 1, ['x'], epoch);
    await expect(write).rejects.toThrow(ValidationError);
    await expect(write).rejects.toThrow(`"${field}"`);
    expect(await observableState(cluster.deps)).toEqual(before);
  });
});

describe('OffsetsForLeaderEpoch', () => {
  it("gives each epoch's end on the leader's log: the first offset of a larger epoch, or the log end", async () => {
    const cluster = await threeBrokers();
    await cluster.kill('A'); // p1 -> B, epoch 1
    await cluster.produceValues('orders', 1, ['c1', 'd1']); // offsets 2, 3 in epoch 1
    const ask = (epoch: number) => offsetsForLeaderEpoch(cluster.deps, { topic: 'orders', partition: 1, offsetsForLeaderEpoch: epoch });
    expect(await ask(0)).toMatchObject({ leader: 'B', currentLeaderEpoch: 1, leaderEpoch: 0, endOffset: 2 });
    expect(await ask(1)).toMatchObject({ leaderEpoch: 1, endOffset: 4 });
    await expect(ask(2)).rejects.toThrow(UnknownLeaderEpochError);
    // Through the consume function's request shape, fenced like a fetch.
    await expect(
      serveConsumer(cluster.deps, { topic: 'orders', partition: 1, offsetsForLeaderEpoch: 0, currentLeaderEpoch: 0 }),
    ).rejects.toThrow(FencedLeaderEpochError);
    expect(await serveConsumer(cluster.deps, { topic: 'orders', partition: 1, offsetsForLeaderEpoch: 0 })).toMatchObject({
      endOffset: 2,
    });
    await expect(serveConsumer(cluster.deps, { topic: 'orders', partition: 1, offsetsForLeaderEpoch: -1 })).rejects.toThrow(
      '"offsetsForLeaderEpoch"',
    );
  });

  it('answers the largest earlier epoch with records when the asked one has none', async () => {
    const cluster = await threeBrokers();
    await cluster.kill('A'); // epoch 1, no records in it
    await cluster.revive('A');
    await electPreferredLeaders(cluster.deps, { topic: 'orders', partitions: [1] }); // epoch 2, A again
    await cluster.produceValues('orders', 1, ['e2']);
    expect(await offsetsForLeaderEpoch(cluster.deps, { topic: 'orders', partition: 1, offsetsForLeaderEpoch: 1 })).toMatchObject({
      currentLeaderEpoch: 2,
      leaderEpoch: 0,
      endOffset: 2,
    });
  });

  it('lets a consumer detect the truncation of an unclean election', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B');
    await cluster.createTopic('logs', 1, 2, { uncleanLeaderElection: true });
    await cluster.produceValues('logs', 1, ['one']);
    await cluster.kill('B'); // ISR [A]
    await cluster.produceValues('logs', 1, ['two', 'three']); // offsets 1, 2 on A only
    const read = await consume(cluster.deps, { topic: 'logs', partition: 1, offset: 0 });
    expect(read.records.map((r) => r.value)).toEqual(['one', 'two', 'three']);
    await cluster.kill('A'); // offline: its only ISR member is gone
    await cluster.revive('B'); // B elected uncleanly with only offset 0
    expect(await cluster.partition('logs', 1)).toMatchObject({ leader: 'B', lastChange: { unclean: true } });
    // The consumer read up to offset 2 in epoch 0; epoch 0 ends at 1 on the new leader: truncated below what it read.
    const answer = await offsetsForLeaderEpoch(cluster.deps, { topic: 'logs', partition: 1, offsetsForLeaderEpoch: 0 });
    expect(answer).toMatchObject({ leader: 'B', leaderEpoch: 0, endOffset: 1 });
    expect(answer.endOffset).toBeLessThan(read.nextOffset);
  });
});

describe('controlled shutdown', () => {
  it("moves the broker's leaderships to the first eligible replica in assignment order, leaves its ISRs, deletes its lease", async () => {
    const cluster = await threeBrokers();
    const result = await shutdown(cluster, 'A');
    expect(result).toMatchObject({
      brokerId: 'A',
      movedLeaderships: ['orders-1'],
      leftIsrs: ['orders-2', 'orders-3'],
      remainingLeaderships: [],
      deregistered: true,
    });
    expect(await cluster.partition('orders', 1)).toMatchObject({
      leader: 'B',
      leaderEpoch: 1,
      isr: ['B', 'C'],
      lastChange: { reason: 'CONTROLLED_SHUTDOWN', previousLeader: 'A', causeBrokerId: 'A' },
    });
    expect(await cluster.partition('orders', 2)).toMatchObject({ leader: 'B', leaderEpoch: 0, isr: ['B', 'C'] });
    expect(await cluster.partition('orders', 3)).toMatchObject({ leader: 'C', leaderEpoch: 0, isr: ['C', 'B'] });
    expect(await cluster.deps.brokers.get('A')).toBeNull();
    // The new leader's follower was matched with it: the committed records are still readable, and writes commit.
    await cluster.produceValues('orders', 1, ['after']);
    expect((await consume(cluster.deps, { topic: 'orders', partition: 1 })).records.map((r) => r.value)).toEqual(['a1', 'b1', 'after']);
    // The failure detector's REMOVE finds nothing left to do.
    const before = await cluster.deps.metadata.listPartitions();
    await cluster.runFailureDetector();
    expect(await cluster.deps.metadata.listPartitions()).toEqual(before);
  });

  it('skips a replica outside the ISR, and keeps a partition with no other eligible replica led by the broker', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('orders', 1, 3); // [A, B, C]
    await cluster.kill('B'); // ISR [A, C]
    await cluster.revive('B'); // B back, catches up
    cluster.stop('B');
    await cluster.kill('C'); // ISR [A, B]? C dead; B dead too
    const p = await cluster.partition('orders', 1);
    expect(p.leader).toBe('A');
    const result = await shutdown(cluster, 'A');
    expect(result).toMatchObject({ movedLeaderships: [], remainingLeaderships: ['orders-1'], deregistered: true });
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'A', leaderEpoch: p.leaderEpoch });
  });

  it('refuses an unknown broker or a wrong incarnation, writing nothing', async () => {
    const cluster = await threeBrokers();
    // Z has a credential but no lease.
    await registerBroker(cluster.deps, { brokerId: 'Z', credential: credentialFor('Z') });
    const before = await observableState(cluster.deps);
    await expect(controlledShutdown(cluster.deps, { brokerId: 'Z', incarnation: 1, credential: credentialFor('Z') })).rejects.toThrow(
      BrokerNotRegisteredError,
    );
    await expect(
      controlledShutdown(cluster.deps, { brokerId: 'A', incarnation: cluster.incarnationOf('A') + 1, credential: credentialFor('A') }),
    ).rejects.toThrow(FencedBrokerError);
    await expect(controlledShutdown(cluster.deps, { brokerId: 'A', credential: credentialFor('A') })).rejects.toThrow('"incarnation"');
    expect(await observableState(cluster.deps)).toEqual(before);
  });

  it('a broker marked shutting down is not elected, not preferred, and keeps the mark through renewals', async () => {
    const cluster = await threeBrokers();
    const incarnation = cluster.incarnationOf('B');
    expect(await cluster.deps.brokers.markShuttingDown('B', incarnation, cluster.deps.clock.now() + CONTROLLED_SHUTDOWN_MARK_MS)).toBe(true);
    await heartbeat(cluster.deps, { brokerId: 'B', incarnation, credential: credentialFor('B') });
    expect(await cluster.deps.brokers.get('B')).toMatchObject({ shuttingDown: true });
    const { brokers } = await describeCluster(cluster.deps, {});
    expect(brokers.find((b) => b.brokerId === 'B')).toMatchObject({ alive: true, shuttingDown: true });
    expect(brokers.find((b) => b.brokerId === 'A')).not.toHaveProperty('shuttingDown');
    await cluster.kill('A'); // p1 [A,B,C]: B is next in assignment order, but shutting down: C
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'C', leaderEpoch: 1 });
    expect(await electPreferredLeaders(cluster.deps, { topic: 'orders', partitions: [2] })).toEqual([]);
    // The reconciler finishes a shutdown that stopped after the mark: B's leadership of p2 moves cleanly.
    await reconcile(cluster.deps);
    expect(await cluster.partition('orders', 2)).toMatchObject({ leader: 'C', lastChange: { reason: 'CONTROLLED_SHUTDOWN' } });
  });

  it('lets a broker whose shutdown was abandoned after the mark lead an OFFLINE partition nobody else can, until its mark is void', async () => {
    const cluster = await threeBrokers();
    await cluster.kill('A', 'B');
    await cluster.kill('C');
    expect(await cluster.partition('orders', 1)).toMatchObject({ state: 'OFFLINE', isr: [], elr: ['C'] });
    // C restarts, and asks for a controlled shutdown whose Lambda dies right after the mark.
    await cluster.heartbeat('C');
    const deadline = cluster.deps.clock.now() + CONTROLLED_SHUTDOWN_MARK_MS;
    expect(await cluster.deps.brokers.markShuttingDown('C', cluster.incarnationOf('C'), deadline)).toBe(true);
    await cluster.revive('C'); // C keeps heartbeating; the detector sees it join
    // Better led by a broker about to stop (as Kafka keeps one leading) than by nobody.
    expect(await cluster.partition('orders', 1)).toMatchObject({ state: 'ONLINE', leader: 'C', isr: ['C'] });
    expect((await consume(cluster.deps, { topic: 'orders', partition: 1 })).records.map((r) => r.value)).toEqual(['a1', 'b1']);

    await cluster.elapse(CONTROLLED_SHUTDOWN_MARK_MS + HEARTBEAT_INTERVAL_MS);
    const { brokers } = await describeCluster(cluster.deps, {});
    expect(brokers.find((b) => b.brokerId === 'C')).toMatchObject({ alive: true });
    expect(brokers.find((b) => b.brokerId === 'C')).not.toHaveProperty('shuttingDown');
  });
});

describe('preferred-leader election on demand', () => {
  it('moves only the partitions asked for back to replicas[0]', async () => {
    const cluster = await threeBrokers();
    await cluster.kill('A');
    await cluster.revive('A'); // p1 led by B, A back in its ISR
    await cluster.kill('B');
    await cluster.revive('B'); // p2 led by C; B back in its ISR
    const others = [await cluster.partition('orders', 1), await cluster.partition('orders', 3)];
    const events = await electPreferredLeaders(cluster.deps, { topic: 'orders', partitions: [2] });
    expect(events.map((e) => [e.partition, e.newLeader, e.reason])).toEqual([[2, 'B', 'PREFERRED_LEADER']]);
    expect([await cluster.partition('orders', 1), await cluster.partition('orders', 3)]).toEqual(others);
  });

  it('refuses a missing topic or partition, writing nothing', async () => {
    const cluster = await threeBrokers();
    const before = await observableState(cluster.deps);
    await expect(electPreferredLeaders(cluster.deps, { topic: 'nope' })).rejects.toThrow(UnknownTopicError);
    await expect(electPreferredLeaders(cluster.deps, { topic: 'orders', partitions: [2, 4] })).rejects.toThrow(UnknownTopicError);
    await expect(electPreferredLeaders(cluster.deps, { partitions: [1] })).rejects.toThrow(ValidationError);
    await expect(electPreferredLeaders(cluster.deps, { topic: 'orders', partitions: [0] })).rejects.toThrow('"partitions[0]"');
    expect(await observableState(cluster.deps)).toEqual(before);
  });

  it('writes nothing when replicas[0] is not alive or not in the ISR', async () => {
    const cluster = await threeBrokers();
    await cluster.kill('A'); // p1 led by B; A dead
    const before = await observableState(cluster.deps);
    expect(await electPreferredLeaders(cluster.deps, {})).toEqual([]);
    expect(await observableState(cluster.deps)).toEqual(before);
  });
});

describe('automatic preferred-leader rebalance', () => {
  async function drifted(settings: object = {}): Promise<ClusterHarness> {
    const cluster = new ClusterHarness({ settings });
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('orders', 3, 3);
    await cluster.kill('A');
    await cluster.revive('A'); // p1 led by B: A, preferred for 1 of 1 partitions, is 100% imbalanced
    return cluster;
  }

  it('measures each broker by the share of its preferred partitions led elsewhere', async () => {
    const cluster = await drifted();
    expect(leaderImbalance(await cluster.deps.metadata.listPartitions())).toEqual([
      { brokerId: 'A', preferred: 1, notLed: 1, percentage: 100 },
      { brokerId: 'B', preferred: 1, notLed: 0, percentage: 0 },
      { brokerId: 'C', preferred: 1, notLed: 0, percentage: 0 },
    ]);
  });

  it('elects the preferred leaders of brokers above leader.imbalance.per.broker.percentage', async () => {
    const cluster = await drifted();
    const result = await autoRebalance(cluster.deps);
    expect(result.enabled).toBe(true);
    expect(result.imbalanced.map((b) => b.brokerId)).toEqual(['A']);
    expect(result.events.map((e) => [e.partition, e.newLeader, e.reason])).toEqual([[1, 'A', 'PREFERRED_LEADER']]);
    expect(await autoRebalance(cluster.deps)).toMatchObject({ imbalanced: [], events: [] });
  });

  it('does nothing when switched off, or when the imbalance is within the percentage', async () => {
    for (const settings of [{ autoLeaderRebalanceEnable: false }, { leaderImbalancePerBrokerPercentage: 100 }]) {
      const cluster = await drifted(settings);
      const before = await observableState(cluster.deps);
      expect((await autoRebalance(cluster.deps)).events).toEqual([]);
      expect(await observableState(cluster.deps)).toEqual(before);
    }
  });
});
