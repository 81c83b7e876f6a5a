/**
 * Liveness findings of the second review: a partition with a running replica that holds
 * every committed record must come back. Each scenario left such a partition OFFLINE for
 * good: an abandoned controlled shutdown whose mark outlived it, and a failure detector
 * that, handling the REMOVEs of two brokers lost together in one order, dropped from the
 * ISR the one replica that later came back (Kafka's answer: KIP-966 eligible leader replicas).
 */
import { describe, expect, it } from 'vitest';
import { consume, controlledShutdown, onBrokerGone, reconcile, sweepExpiredBrokers } from '../../../functions/domain/index.js';
import { CONTROLLED_SHUTDOWN_MARK_MS } from '../../../functions/domain/limits.js';
import type { BrokerHeartbeat, BrokerId } from '../../../functions/domain/model.js';
import { ClusterHarness, credentialFor, HEARTBEAT_INTERVAL_MS } from '../../factories/cluster.js';

const RECONCILE_PERIOD_MS = 60_000;

/** Lets the brokers' leases lapse and sweeps them; the REMOVEs are returned, not handled. */
async function lapse(cluster: ClusterHarness, ...brokerIds: BrokerId[]): Promise<BrokerHeartbeat[]> {
  cluster.stop(...brokerIds);
  await cluster.elapse(cluster.deps.settings.sessionTimeoutMs + HEARTBEAT_INTERVAL_MS);
  await sweepExpiredBrokers(cluster.deps);
  return cluster.deps.brokers.drainStream().flatMap((change) => (change.eventName === 'REMOVE' ? [change.oldImage] : []));
}

async function values(cluster: ClusterHarness, partition: number): Promise<string[]> {
  const { records } = await consume(cluster.deps, { topic: 'orders', partition, offset: 0, maxRecords: 1000 });
  return records.map((record) => record.value);
}

/** Ten minutes of scheduled reconciler runs, the running brokers heartbeating throughout. */
async function reconcileFor(cluster: ClusterHarness, ms: number): Promise<void> {
  for (let passed = 0; passed < ms; passed += RECONCILE_PERIOD_MS) {
    await cluster.elapse(RECONCILE_PERIOD_MS);
    await reconcile(cluster.deps);
    await cluster.runFailureDetector();
  }
}

describe('an abandoned controlled shutdown', () => {
  it('does not pin OFFLINE a partition whose only in-sync replica is the running, once-shutting-down broker', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('orders', 3, 2);
    for (const partition of [1, 2, 3]) await cluster.produceValues('orders', partition, [`a${partition}`, `b${partition}`]);
    expect((await cluster.deps.metadata.listPartitions()).map((p) => p.replicas)).toEqual([
      ['A', 'B'],
      ['B', 'C'],
      ['C', 'A'],
    ]);
    await cluster.kill('A');
    expect(await cluster.partition('orders', 3)).toMatchObject({ leader: 'C', isr: ['C'] });
    // C's controlled shutdown dies right after marking C; C keeps heartbeating (its renewals carry the mark).
    expect(await cluster.deps.brokers.markShuttingDown('C', cluster.incarnationOf('C'), cluster.deps.clock.now() + CONTROLLED_SHUTDOWN_MARK_MS)).toBe(true);
    await cluster.kill('B');
    await reconcileFor(cluster, 10 * 60_000);

    expect(await cluster.partition('orders', 2)).toMatchObject({ state: 'ONLINE', leader: 'C' });
    expect(await values(cluster, 2)).toEqual(['a2', 'b2']);
    expect(await cluster.partition('orders', 3)).toMatchObject({ state: 'ONLINE', leader: 'C' });
  });

  it('a retried shutdown completes (levels, publishes) the moves an earlier run made', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('orders', 1, 3);
    await cluster.produceValues('orders', 1, ['v1']);
    const request = { brokerId: 'A', incarnation: cluster.incarnationOf('A'), credential: credentialFor('A') };
    cluster.deps.events.failNextPublish(1);
    await expect(controlledShutdown(cluster.deps, request)).rejects.toThrow('injected failure');
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'B', lastChange: { reason: 'CONTROLLED_SHUTDOWN' } });
    expect(cluster.changeEvents()).toEqual([]);

    await controlledShutdown(cluster.deps, request);
    expect(cluster.changeEvents()).toContainEqual(
      expect.objectContaining({ partition: 1, newLeader: 'B', reason: 'CONTROLLED_SHUTDOWN' }),
    );
  });
});

describe('brokers lost together (KIP-966 eligible leader replicas)', () => {
  it.each([
    { minInsyncReplicas: 1, rf: 2 },
    { minInsyncReplicas: 2, rf: 2 },
    { minInsyncReplicas: 2, rf: 3 },
  ])('whichever REMOVE is handled first, the replica that comes back with every committed record leads (%o)', async ({ minInsyncReplicas, rf }) => {
    const brokers = ['A', 'B', 'C'].slice(0, rf);
    const cluster = new ClusterHarness();
    await cluster.start(...brokers);
    await cluster.createTopic('orders', 1, rf, { minInsyncReplicas });
    await cluster.produceValues('orders', 1, ['v1', 'v2'], { acks: 'all' });
    const removes = await lapse(cluster, ...brokers);
    // A (the leader, with every committed record) is handled first; the others after.
    for (const gone of removes) await onBrokerGone(cluster.deps, gone, 'EXPIRED');
    expect(await cluster.partition('orders', 1)).toMatchObject({ state: 'OFFLINE', leader: null });

    await cluster.revive('A');
    await reconcile(cluster.deps);
    expect(await cluster.partition('orders', 1)).toMatchObject({ state: 'ONLINE', leader: 'A', lastChange: { unclean: false } });
    expect(await values(cluster, 1)).toEqual(['v1', 'v2']);
  });

  it('a replica that left the ISR while it was at min.insync.replicas is not elected when it alone returns', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B');
    await cluster.createTopic('orders', 1, 2, { minInsyncReplicas: 1 });
    await cluster.produceValues('orders', 1, ['v1']);
    await cluster.kill('B'); // ISR [A] = min.insync.replicas: A commits alone from here
    await cluster.produceValues('orders', 1, ['v2']);
    await cluster.kill('A');
    await cluster.revive('B');
    await reconcile(cluster.deps);
    expect(await cluster.partition('orders', 1)).toMatchObject({ state: 'OFFLINE', leader: null });
    await cluster.revive('A');
    expect(await cluster.partition('orders', 1)).toMatchObject({ state: 'ONLINE', leader: 'A' });
    expect(await values(cluster, 1)).toEqual(['v1', 'v2']);
  });
});

describe('eligible leader replicas: the high watermark and the switch', () => {
  it('with acks=1 below min.insync.replicas the leader appends and answers, but the records are readable only once the ISR is back', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('orders', 1, 3, { minInsyncReplicas: 2 });
    await cluster.produceValues('orders', 1, ['v1'], { acks: 'all' });
    await cluster.kill('B', 'C');
    // B left while the ISR [A, C] still met min.insync.replicas, so it may miss what that ISR committed; C did not.
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'A', isr: ['A'], elr: ['C'] });
    const written = await cluster.produceValues('orders', 1, ['v2'], { acks: 1 });
    expect(written).toMatchObject({ baseOffset: 1 });
    await reconcile(cluster.deps);
    expect(await values(cluster, 1)).toEqual(['v1']);

    await cluster.revive('B');
    expect(await cluster.partition('orders', 1)).toMatchObject({ isr: ['A', 'B'], elr: [] });
    expect(await values(cluster, 1)).toEqual(['v1', 'v2']);
  });

  it('turned off, the last ISR member stays recorded and the HW follows the ISR whatever its size (Kafka before 3.7)', async () => {
    const cluster = new ClusterHarness({ settings: { eligibleLeaderReplicasEnabled: false } });
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('orders', 1, 3, { minInsyncReplicas: 2 });
    await cluster.kill('B', 'C');
    await cluster.produceValues('orders', 1, ['v1'], { acks: 1 });
    await reconcile(cluster.deps);
    expect(await values(cluster, 1)).toEqual(['v1']);
    await cluster.kill('A');
    expect(await cluster.partition('orders', 1)).toMatchObject({ state: 'OFFLINE', isr: ['A'], elr: [], lastKnownElr: [] });
  });
});
