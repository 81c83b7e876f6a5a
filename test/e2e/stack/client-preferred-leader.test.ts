import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import type { LeadershipEvent, PartitionView } from '../../../client/lambda-client.js';
import { pollUntil } from '../../../client/poll.js';
import { ClientLoad, expectExactlyOnceInOrder, instrumentedClient, medianLatencyMs, retriedSendsKeptAtTheirFirstAppend, retrySummary, unavailability, type Unavailability } from './client-load.js';
import { partitionOf, stackTarget, uniqueTopic, waitForLiveBrokers } from './support.js';

/**
 * Preferred-leader rebalance under a running producer and consumer. A failover moves a
 * partition's leadership away from its preferred replica (replicas[0]); that broker comes
 * back as a new incarnation, catches up and rejoins the ISR; then a rebalance moves the
 * leadership back to it at epoch + 1: once on demand (ElectLeaders, PREFERRED), once by
 * AutoRebalance (leader.imbalance.per.broker.percentage exceeded). Through all of it the
 * clients see no failed call, and the consumer reads every committed offset exactly once,
 * in order.
 */
describe('client: producer and consumer across preferred-leader rebalances', () => {
  const target = stackTarget();
  const topic = uniqueTopic('client-preferred');
  const { client, calls, close } = instrumentedClient(target, topic);
  const brokers = ['plr-1', 'plr-2', 'plr-3'];
  const incarnations = new Map<string, number>();
  const simulator = new BrokerSimulator(client, {
    heartbeatIntervalMs: Math.max(200, Math.floor(target.sessionTimeoutMs / 6)),
    credentials: registerCredentials(client),
    onHeartbeat: (brokerId, response) => incarnations.set(brokerId, response.incarnation),
  });
  const partitions = [1, 2, 3];
  const describeTopic = async () => (await client.describe(topic)).topics[0].partitions;

  beforeAll(async () => {
    await simulator.start(brokers);
    await waitForLiveBrokers(client, brokers, target.sessionTimeoutMs * 8);
    await client.createTopic({ topic, partitions: partitions.length, replicationFactor: 3 });
  });

  afterAll(async () => {
    await simulator.stop();
    for (const brokerId of brokers) await client.controlledShutdown(brokerId, incarnations.get(brokerId)!, simulator.credentialOf(brokerId)).catch(() => undefined);
    client.close();
    close();
  });

  /** Fails the preferred replica of `partition` over, brings it back, and waits until it is in every ISR again. */
  async function failOverAndReturn(partition: number): Promise<{ initial: PartitionView; failedOver: PartitionView; lastHeartbeatAt: number; rejoinMs: number }> {
    const initial = partitionOf(await describeTopic(), partition);
    const preferred = initial.Replicas[0];
    expect(initial.Leader, `${topic}-${partition} starts on its preferred replica`).toBe(preferred);
    const { lastAckedHeartbeatAt } = await simulator.kill(preferred);
    const failedOver = await pollUntil(
      async () => {
        const view = partitionOf(await describeTopic(), partition);
        return view.Leader !== preferred && view.Leader !== null && view.Isr.every((id) => id !== preferred) ? view : undefined;
      },
      { timeoutMs: target.sessionTimeoutMs * 5, intervalMs: 100, description: `${topic}-${partition} to fail over from ${preferred}` },
    );
    const revivedAt = Date.now();
    await simulator.revive(preferred);
    // Catch-up on its registration, or the reconciler (every minute) if that lost a race with the producers.
    await pollUntil(
      async () => (await describeTopic()).every((view) => view.Isr.includes(preferred)),
      { timeoutMs: 120_000, intervalMs: 100, description: `${preferred} to rejoin every ISR of ${topic}` },
    );
    return { initial, failedOver, lastHeartbeatAt: lastAckedHeartbeatAt, rejoinMs: Date.now() - revivedAt };
  }

  /** The first success the clients had at an epoch after `fromEpoch`. */
  function firstServedAfter(partition: number, fromEpoch: number): number {
    return Math.min(...calls.filter((call) => call.partition === partition && call.leaderEpoch !== undefined && call.leaderEpoch > fromEpoch).map((call) => call.endedAt));
  }

  function expectMovedBack(events: LeadershipEvent[], failedOver: PartitionView, after: PartitionView[]): void {
    const mine = events.filter((event) => event.topic === topic);
    const now = partitionOf(after, failedOver.Partition);
    if (mine.length === 0 && now.Leader === failedOver.Replicas[0] && now.LeaderEpoch === failedOver.LeaderEpoch + 1) {
      // The stack's own schedule (AutoRebalance every 5 minutes) got there between the rejoin and this call.
      console.log(`[client-preferred-leader] ${topic}-${failedOver.Partition} was moved back by the scheduled AutoRebalance before the call`);
      return;
    }
    expect(mine.map(({ partition, previousLeader, newLeader, leaderEpoch }) => ({ partition, previousLeader, newLeader, leaderEpoch }))).toEqual([
      { partition: failedOver.Partition, previousLeader: failedOver.Leader, newLeader: failedOver.Replicas[0], leaderEpoch: failedOver.LeaderEpoch + 1 },
    ]);
    expect(now.Leader).toBe(failedOver.Replicas[0]);
    expect(now.LeaderEpoch).toBe(failedOver.LeaderEpoch + 1);
    expect(now.State).toBe('ONLINE');
  }

  it('moves leadership back to replicas[0] at epoch + 1 (ElectLeaders, then AutoRebalance) with no failed call, duplicate or gap', { timeout: 400_000 }, async () => {
    const initial = await describeTopic();
    for (const view of initial) expect(view.Leader).toBe(view.Replicas[0]);
    const load = new ClientLoad(client, topic, partitions, Date.now() + 360_000);
    load.start();
    await load.waitForProgress(0, 5, 'five acknowledged sends per partition to start with');

    // 1. ElectLeaders (on demand, PREFERRED) for the whole topic.
    const first = await failOverAndReturn(1);
    await load.waitForProgress(Date.now(), 3, 'sends acknowledged with the preferred replica back in sync');
    const electAt = Date.now();
    const elected = await client.electLeaders({ topic });
    const electDoneAt = Date.now();
    const afterElect = await describeTopic();
    expectMovedBack(elected, first.failedOver, afterElect);
    for (const view of afterElect.filter((candidate) => candidate.Partition !== 1)) {
      expect(view.LeaderEpoch, `${topic}-${view.Partition} was not moved`).toBe(partitionOf(initial, view.Partition).LeaderEpoch);
    }
    await load.waitForProgress(electDoneAt, 5, 'sends acknowledged after ElectLeaders');

    // 2. AutoRebalance: partition 2's preferred replica fails over and returns; the imbalance check moves it back.
    const second = await failOverAndReturn(2);
    await load.waitForProgress(Date.now(), 3, 'sends acknowledged with the preferred replica back in sync');
    const rebalanceAt = Date.now();
    const rebalanced = await client.invoke('autoRebalance', {});
    const rebalanceDoneAt = Date.now();
    expect(rebalanced.enabled).toBe(true);
    if (rebalanced.events.some((event) => event.topic === topic)) {
      expect(rebalanced.imbalanced.map((broker) => broker.brokerId)).toContain(second.failedOver.Replicas[0]);
    }
    const afterRebalance = await describeTopic();
    expectMovedBack(rebalanced.events, second.failedOver, afterRebalance);
    await load.waitForProgress(rebalanceDoneAt, 5, 'sends acknowledged after AutoRebalance');

    const ends = await load.stop();
    const final = await describeTopic();
    const failover1 = unavailability(calls, 1, first.initial.LeaderEpoch)!;
    const electMove = unavailability(calls, 1, first.failedOver.LeaderEpoch)!;
    const failover2 = unavailability(calls, 2, second.initial.LeaderEpoch)!;
    const rebalanceMove = unavailability(calls, 2, second.failedOver.LeaderEpoch)!;
    console.log(
      `[client-preferred-leader] ${[...load.acks.values()].reduce((sum, acked) => sum + acked.length, 0)} sends acknowledged, ` +
        `${[...load.consumed.values()].reduce((sum, read) => sum + read.length, 0)} records consumed; ` +
        `median call: produce ${medianLatencyMs(calls, 'produce')} ms, consume ${medianLatencyMs(calls, 'consume')} ms.\n` +
        `  ${topic}-1 failover ${describeMove(failover1)}; last heartbeat of ${first.initial.Leader} -> first success at the new epoch ${firstServedAfter(1, first.initial.LeaderEpoch) - first.lastHeartbeatAt} ms; ` +
        `${first.initial.Leader} back in every ISR ${first.rejoinMs} ms after its restart\n` +
        `  ${topic}-1 ElectLeaders (call ${electDoneAt - electAt} ms) ${describeMove(electMove)}\n` +
        `  ${topic}-2 failover ${describeMove(failover2)}; last heartbeat of ${second.initial.Leader} -> first success at the new epoch ${firstServedAfter(2, second.initial.LeaderEpoch) - second.lastHeartbeatAt} ms; ` +
        `${second.initial.Leader} back in every ISR ${second.rejoinMs} ms after its restart\n` +
        `  ${topic}-2 AutoRebalance (call ${rebalanceDoneAt - rebalanceAt} ms) ${describeMove(rebalanceMove)}\n` +
        `  retries: ${retrySummary(load.retries)}; retried sends answered at their first append: ${retriedSendsKeptAtTheirFirstAppend(load).join(', ') || 'none'}`,
    );
    for (const view of final) expect.soft(view.Leader, `${topic}-${view.Partition} ends on its preferred replica`).toBe(view.Replicas[0]);
    expectExactlyOnceInOrder(load, ends, calls, 'client-preferred-leader');
    // A rebalance is planned: no partition goes without service for as long as a failover takes.
    expect.soft(electMove.gapMs, 'ElectLeaders: unavailable').toBeLessThan(target.sessionTimeoutMs);
    expect.soft(rebalanceMove.gapMs, 'AutoRebalance: unavailable').toBeLessThan(target.sessionTimeoutMs);
  });
});

function describeMove(move: Unavailability): string {
  return (
    `${move.fromLeader}@${move.fromEpoch} -> ${move.toLeader}@${move.toEpoch}: unavailable ${move.gapMs} ms ` +
    `(produce ${move.produceGapMs ?? '-'} ms, consume ${move.consumeGapMs ?? '-'} ms)`
  );
}
