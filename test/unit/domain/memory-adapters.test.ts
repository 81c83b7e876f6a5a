/**
 * What only the memory adapters have: copies handed out, test counters, the
 * deregister helper, the FIFO publisher. That they refuse exactly what DynamoDB
 * refuses is the store contract's job (test/contract/stores.contract.ts, run by
 * test/unit/adapters/memory-store-contract.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { createMemoryDeps, type MemoryDeps } from '../../../functions/adapters/memory/index.js';
import { StaleEpochError } from '../../../functions/domain/errors.js';
import type { PartitionMetadata } from '../../../functions/domain/model.js';
import { T0, aChange, aHeartbeat, aPartition } from '../../factories/entities.js';

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
    compressionType: 'producer' as const,
    storage: 'replicated' as const,
    createdAt: T0,
  };
  await deps.metadata.createTopic(config, [partition], states);
  return deps;
}

describe('MemoryMetadataStore (memory-only behaviour; the conditions are in test/contract/stores.contract.ts)', () => {
  it('counts the leadership writes it refused, so tests can see that a race really happened', async () => {
    const deps = await withPartition();
    const update = { leader: 'B', leaderEpoch: 1, isr: ['B'], state: 'ONLINE' as const, lastChange: aChange() };
    await expect(deps.metadata.updateLeadership('orders', 1, 1, update)).rejects.toThrow(StaleEpochError);
    await deps.metadata.updateLeadership('orders', 1, 0, update);
    expect(deps.metadata.rejectedLeadershipWrites).toBe(1);
  });

  it('hands out copies: changing a result changes nothing stored', async () => {
    const deps = await withPartition();
    const read = (await deps.metadata.getPartition('orders', 1))!;
    read.isr.push('Z');
    expect((await deps.metadata.getPartition('orders', 1))?.isr).toEqual(['A', 'B']);
  });
});

describe('MemoryBrokerRegistry (memory-only behaviour)', () => {
  it('deregisters a live lease as a REMOVE on the stream, as a broker deleting its own item would', async () => {
    const deps = createMemoryDeps({ startAt: T0 });
    const lease = aHeartbeat();
    await deps.brokers.register(lease, null, T0);
    expect(await deps.brokers.deregister('A', lease.incarnation)).toBe(true);
    expect(await deps.brokers.get('A')).toBeNull();
    expect(deps.brokers.drainStream()).toEqual([
      { eventName: 'INSERT', newImage: lease },
      { eventName: 'REMOVE', oldImage: lease },
    ]);
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
