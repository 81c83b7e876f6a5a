import { describe, expect, it, vi } from 'vitest';
import { replicaKey } from '../../../functions/adapters/memory/tables.js';
import { replicate } from '../../../functions/domain/index.js';
import { IN_DOUBT_BATCH_AGE_MS } from '../../../functions/domain/limits.js';
import type { BrokerId } from '../../../functions/domain/model.js';
import { ClusterHarness, HEARTBEAT_INTERVAL_MS } from '../../factories/cluster.js';

async function rf3(): Promise<ClusterHarness> {
  const cluster = new ClusterHarness();
  await cluster.start('A', 'B', 'C');
  await cluster.createTopic('orders', 2, 3);
  return cluster;
}

describe('replicate', () => {
  it('copies each partition of a batch to its live in-sync followers and advances the high watermark', async () => {
    const cluster = await rf3();
    await cluster.produceValues('orders', 1, ['a', 'b'], { acks: 1 });
    await cluster.produceValues('orders', 2, ['c'], { acks: 1 });

    const result = await replicate(cluster.deps, cluster.deps.log.drainLeaderAppends());

    expect(result.partitions).toEqual([
      { topic: 'orders', partition: 1, followerLogEnds: { B: 2, C: 2 }, highWatermark: 2 },
      { topic: 'orders', partition: 2, followerLogEnds: { C: 1, A: 1 }, highWatermark: 1 },
    ]);
    expect(cluster.valuesOn('orders', 2, 'A')).toEqual(['c']);
  });

  it('leaves a batch its writer copies (an acks=all produce) to that writer, reading nothing', async () => {
    const cluster = await rf3();
    await cluster.produceValues('orders', 1, ['a'], { acks: 'all' });
    const stream = cluster.deps.log.drainLeaderAppends();
    expect(stream.map((record) => record.writerCopies)).toEqual([true]);

    const reads = vi.spyOn(cluster.deps.metadata, 'getPartition');
    const result = await replicate(cluster.deps, stream);

    expect(result.partitions).toEqual([]);
    expect(reads).not.toHaveBeenCalled();
    // The produce call copied it before it answered.
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['a']);
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual(['a']);
  });

  it('is harmless when a batch is delivered again', async () => {
    const cluster = await rf3();
    await cluster.produceValues('orders', 1, ['a'], { acks: 1 });
    const batch = cluster.deps.log.drainLeaderAppends();
    await replicate(cluster.deps, batch);

    const reads = { states: vi.spyOn(cluster.deps.metadata, 'getReplicaStates'), brokers: vi.spyOn(cluster.deps.brokers, 'list') };
    const again = await replicate(cluster.deps, batch);

    expect(again.partitions[0]).toMatchObject({ followerLogEnds: {}, highWatermark: 1 });
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['a']);
    // Committed already: the partition read tells, and nothing else is read.
    expect(reads.states).not.toHaveBeenCalled();
    expect(reads.brokers).not.toHaveBeenCalled();
  });

  it('reads a gap from the leader when the batch starts after the follower\'s log end', async () => {
    const cluster = await rf3();
    await cluster.produceValues('orders', 1, ['lost-1', 'lost-2'], { acks: 1 });
    cluster.deps.log.drainLeaderAppends();
    await cluster.produceValues('orders', 1, ['next'], { acks: 1 });

    await replicate(cluster.deps, cluster.deps.log.drainLeaderAppends());

    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['lost-1', 'lost-2', 'next']);
    expect((await cluster.partition('orders', 1)).highWatermark).toBe(3);
  });

  it("ignores records from a deposed leader's replica", async () => {
    const cluster = await rf3();
    await cluster.produceValues('orders', 1, ['from-A'], { acks: 1 });
    const deposed = cluster.deps.log.drainLeaderAppends();
    await cluster.kill('A');

    const result = await replicate(cluster.deps, deposed);

    expect(result.partitions[0]).toMatchObject({ followerLogEnds: {} });
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual([]);
  });

  it('skips a dead follower, which then holds the high watermark back until it leaves the ISR', async () => {
    const cluster = await rf3();
    cluster.stop('C');
    await cluster.elapse(cluster.deps.settings.sessionTimeoutMs + HEARTBEAT_INTERVAL_MS);
    await cluster.produceValues('orders', 1, ['a'], { acks: 1 });

    const result = await replicate(cluster.deps, cluster.deps.log.drainLeaderAppends());

    expect(result.partitions[0]).toMatchObject({ followerLogEnds: { B: 1 }, highWatermark: 0 });
  });

  it('ignores follower copies in the stream', async () => {
    const cluster = await rf3();
    await cluster.produceValues('orders', 1, ['a']);
    const followerCopies = cluster.deps.log.replicaRecords('orders', 1, 'B');
    expect(await replicate(cluster.deps, followerCopies)).toEqual({ partitions: [] });
  });

  describe('beside the produce call that copies the same records (acks=all)', () => {
    /** Another writer's copy of orders-1's offset 0 put on `follower` (at its log end) and not yet committed. */
    function copyInFlight(cluster: ClusterHarness, follower: BrokerId): { commit: () => void } {
      const [leaderRecord] = cluster.deps.log.replicaRecords('orders', 1, 'A');
      const copy = { ...leaderRecord, replica: follower, copy: 'follower' as const };
      cluster.deps.tables.generationItems('orders', 1, follower, 0).set(0, { records: [copy], writtenAt: cluster.deps.clock.now() });
      return {
        commit: () => {
          const state = cluster.deps.tables.replicaStates.get(replicaKey('orders', 1, follower))!;
          Object.assign(state, { logEndOffset: 1, appendEpoch: leaderRecord.leaderEpoch });
        },
      };
    }

    it('waits for a copy in flight at a follower\'s log end instead of racing it with a put of its own', async () => {
      // The other writer commits while this path waits (the harness runs this on every sleep).
      const writer: { commit?: () => void } = {};
      const cluster = new ClusterHarness({ whileWaiting: () => Promise.resolve(writer.commit?.()) });
      await cluster.start('A', 'B', 'C');
      await cluster.createTopic('orders', 1, 3);
      await cluster.produceValues('orders', 1, ['a'], { acks: 1 });
      writer.commit = copyInFlight(cluster, 'B').commit;
      const copies = vi.spyOn(cluster.deps.log, 'appendAsFollower');

      const result = await replicate(cluster.deps, cluster.deps.log.drainLeaderAppends());

      // Only C was copied to: B's copy was the other writer's, committed while this path waited.
      expect(copies.mock.calls.map(([append]) => append.follower)).toEqual(['C']);
      expect(result.partitions[0]).toMatchObject({ followerLogEnds: { B: 1, C: 1 }, highWatermark: 1 });
      expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['a']);
    });

    it('takes over a copy whose writer died once it is in doubt, so the follower is still caught up', async () => {
      const cluster = new ClusterHarness({ whileWaiting: () => Promise.resolve() });
      await cluster.start('A', 'B', 'C');
      await cluster.createTopic('orders', 1, 3);
      await cluster.produceValues('orders', 1, ['a'], { acks: 1 });
      copyInFlight(cluster, 'B');
      const startedAt = cluster.deps.clock.now();

      const result = await replicate(cluster.deps, cluster.deps.log.drainLeaderAppends());

      expect(result.partitions[0]).toMatchObject({ followerLogEnds: { B: 1, C: 1 }, highWatermark: 1, copiesTakenOver: 1 });
      expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['a']);
      expect(cluster.deps.clock.now() - startedAt).toBeGreaterThanOrEqual(IN_DOUBT_BATCH_AGE_MS);
    });

    it('copies an append nobody else copies (acks=1) at once: no copy in flight, no wait', async () => {
      const cluster = await rf3();
      await cluster.produceValues('orders', 1, ['a'], { acks: 1 });
      const startedAt = cluster.deps.clock.now();

      const result = await replicate(cluster.deps, cluster.deps.log.drainLeaderAppends());

      expect(cluster.deps.clock.now()).toBe(startedAt);
      expect(result.partitions[0]).toMatchObject({ followerLogEnds: { B: 1, C: 1 }, highWatermark: 1 });
    });
  });
});
