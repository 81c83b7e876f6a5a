/**
 * Liveness is judged when the leases were read. The controller's bulk paths read the broker
 * table beside a listing of the partitions that can take seconds at scale; judged at the
 * clock after that listing, leases read before it could all have lapsed although every
 * broker went on heartbeating, and the scheduled reconciler of thousands of partitions
 * would elect away from live leaders and shrink ISRs to one replica.
 */
import { describe, expect, it } from 'vitest';
import { controlledShutdown, onBrokerGone, reconcile, sweepExpiredBrokers } from '../../../functions/domain/index.js';
import type { PartitionMetadata } from '../../../functions/domain/model.js';
import { ClusterHarness, HEARTBEAT_INTERVAL_MS, credentialFor } from '../../factories/cluster.js';

/** Makes `method` of the metadata store take longer than a session while the running brokers heartbeat on. */
function slowListing(cluster: ClusterHarness, method: 'listPartitions' | 'listPartitionsLedBy'): void {
  const metadata = cluster.deps.metadata as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = metadata[method].bind(cluster.deps.metadata);
  metadata[method] = async (...args: unknown[]) => {
    await cluster.elapse(cluster.deps.settings.sessionTimeoutMs + 2 * HEARTBEAT_INTERVAL_MS);
    return original(...args);
  };
}

const leadersOf = (partitions: PartitionMetadata[]) => partitions.map((p) => `${p.partition}:${p.leader}@${p.leaderEpoch}[${p.isr.join(',')}]`);

async function fourBrokers(): Promise<ClusterHarness> {
  const cluster = new ClusterHarness();
  await cluster.start('A', 'B', 'C', 'D');
  await cluster.createTopic('orders', 8, 3);
  return cluster;
}

describe('leases are judged at the moment they were read', () => {
  it('the reconciler changes nothing when every broker heartbeats through its long listing', async () => {
    const cluster = await fourBrokers();
    const before = leadersOf(await cluster.deps.metadata.listPartitions('orders'));
    slowListing(cluster, 'listPartitions');

    const result = await reconcile(cluster.deps);

    expect(result.events).toEqual([]);
    expect(leadersOf(await cluster.deps.metadata.listPartitions('orders'))).toEqual(before);
  });

  it('a controlled shutdown moves every leadership when the others heartbeat through its long listing', async () => {
    const cluster = await fourBrokers();
    slowListing(cluster, 'listPartitions');

    const result = await controlledShutdown(cluster.deps, { brokerId: 'A', incarnation: cluster.incarnationOf('A'), credential: credentialFor('A') });

    expect(result.remainingLeaderships).toEqual([]);
    expect(result.movedLeaderships.length).toBeGreaterThan(0);
    const partitions = await cluster.deps.metadata.listPartitions('orders');
    expect(partitions.filter((p) => p.leader === 'A')).toEqual([]);
    // Only A left the ISRs: the live replicas were not judged dead.
    for (const p of partitions) expect(p.isr).toEqual(p.replicas.filter((id) => id !== 'A'));
  });

  it("the failure detector elects among the live replicas when its leader-index read is long", async () => {
    const cluster = await fourBrokers();
    cluster.stop('A');
    await cluster.elapse(cluster.deps.settings.sessionTimeoutMs + HEARTBEAT_INTERVAL_MS);
    await sweepExpiredBrokers(cluster.deps);
    const removes = cluster.deps.brokers.drainStream().filter((r) => r.eventName === 'REMOVE');
    const gone = (removes[0]?.eventName === 'REMOVE' ? removes[0].oldImage : expect.fail('no REMOVE'));
    slowListing(cluster, 'listPartitionsLedBy');

    await onBrokerGone(cluster.deps, gone, 'EXPIRED');

    const partitions = await cluster.deps.metadata.listPartitions('orders');
    expect(partitions.filter((p) => p.leader === 'A' || p.leader === null)).toEqual([]);
    for (const p of partitions) expect(p.isr).toEqual(p.replicas.filter((id) => id !== 'A'));
  });
});
