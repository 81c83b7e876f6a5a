import { describe as suite, expect, it } from 'vitest';
import {
  InvalidReplicationFactorError,
  TopicExistsError,
  UnknownTopicError,
} from '../../../functions/domain/errors.js';
import { describe } from '../../../functions/domain/index.js';
import { ClusterHarness, HEARTBEAT_INTERVAL_MS, observableState } from '../../factories/cluster.js';

suite('createTopic', () => {
  it('assigns replicas over the live brokers, leaders at epoch 0 with a full ISR, and announces each partition', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B', 'C', 'D');

    const created = await cluster.createTopic('orders', 4, 2);

    expect(created).toMatchObject({ topic: 'orders', partitions: 4, replicationFactor: 2, minInsyncReplicas: 1, uncleanLeaderElection: false });
    expect(created.assignments.map((p) => [p.Partition, p.Replicas, p.Leader, p.Isr])).toEqual([
      [1, ['A', 'B'], 'A', ['A', 'B']],
      [2, ['B', 'C'], 'B', ['B', 'C']],
      [3, ['C', 'D'], 'C', ['C', 'D']],
      [4, ['D', 'A'], 'D', ['D', 'A']],
    ]);
    expect(created.assignments[0]).toMatchObject({ LeaderEpoch: 0, HighWatermark: 0, State: 'ONLINE' });
    expect(cluster.deps.events.delivered.map((e) => [e.partition, e.reason, e.newLeader])).toEqual([
      [1, 'CREATED', 'A'],
      [2, 'CREATED', 'B'],
      [3, 'CREATED', 'C'],
      [4, 'CREATED', 'D'],
    ]);
    // In broker-id order, not assignment order: DynamoDB's Query returns them by sort key, and so must the memory store.
    expect(await cluster.deps.metadata.getReplicaStates('orders', 4)).toEqual([
      expect.objectContaining({ brokerId: 'A', logEndOffset: 0 }),
      expect.objectContaining({ brokerId: 'D', logEndOffset: 0 }),
    ]);
  });

  it('answers a topic created whose leadership events could not be published as created, saying so (L8)', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B');
    cluster.deps.events.failNextPublish();

    const created = await cluster.createTopic('orders', 2, 2);

    expect(created).toMatchObject({
      topic: 'orders',
      eventsPublished: false,
      eventsError: 'Error: injected failure: the leadership-events queue is unreachable',
    });
    expect(created.assignments).toHaveLength(2);
    expect(await cluster.deps.metadata.getTopic('orders')).toMatchObject({ partitions: 2 });
    expect(cluster.deps.events.delivered).toEqual([]);
    // As in Kafka, asking again finds the topic there.
    await expect(cluster.createTopic('orders', 2, 2)).rejects.toThrow(TopicExistsError);
    expect(await cluster.createTopic('payments', 1, 2)).toMatchObject({ eventsPublished: true });
    expect(await cluster.createTopic('payments-2', 1, 2)).not.toHaveProperty('eventsError');
  });

  it('leaves out brokers whose lease lapsed', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B', 'C');
    cluster.stop('B');
    await cluster.elapse(cluster.deps.settings.sessionTimeoutMs);
    cluster.deps.clock.advance(HEARTBEAT_INTERVAL_MS);

    const created = await cluster.createTopic('orders', 2, 2);

    expect(created.assignments.map((p) => p.Replicas)).toEqual([
      ['A', 'C'],
      ['C', 'A'],
    ]);
  });

  it('refuses more replicas than live brokers, naming both, and writes nothing', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B');
    const before = await observableState(cluster.deps);

    const creating = cluster.createTopic('orders', 1, 3);

    await expect(creating).rejects.toThrow(InvalidReplicationFactorError);
    await expect(creating).rejects.toThrow(/replication factor 3 .*\(2\)/);
    expect(await observableState(cluster.deps)).toBe(before);
  });

  it('refuses an existing topic', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A');
    await cluster.createTopic('orders', 1, 1);
    await expect(cluster.createTopic('orders', 2, 1)).rejects.toThrow(TopicExistsError);
    expect((await cluster.deps.metadata.getTopic('orders'))?.partitions).toBe(1);
  });

  it('keeps compression.type (Kafka\'s default producer), in the answer, the stored config and describe', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A');
    expect(await cluster.createTopic('zipped', 1, 1, { compressionType: 'gzip' })).toMatchObject({ compressionType: 'gzip' });
    expect(await cluster.createTopic('plain', 1, 1)).toMatchObject({ compressionType: 'producer' });
    expect(await cluster.deps.metadata.getTopic('zipped')).toMatchObject({ compressionType: 'gzip' });
    const described = await describe(cluster.deps, {});
    expect(described.topics.map((t) => [t.topic, t.compressionType])).toEqual([
      ['plain', 'producer'],
      ['zipped', 'gzip'],
    ]);
  });

  it('keeps the storage mode (replicated by default), in the answer, the stored config and describe', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A');
    expect(await cluster.createTopic('objects', 1, 1, { storage: 'diskless' })).toMatchObject({ storage: 'diskless' });
    expect(await cluster.createTopic('items', 1, 1)).toMatchObject({ storage: 'replicated' });
    expect(await cluster.deps.metadata.getTopic('objects')).toMatchObject({ storage: 'diskless' });
    const described = await describe(cluster.deps, {});
    expect(described.topics.map((t) => [t.topic, t.storage])).toEqual([
      ['items', 'replicated'],
      ['objects', 'diskless'],
    ]);
  });
});

suite('describe', () => {
  it('shows topics with their partitions as kafka-topics --describe would, and the brokers with their liveness', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B');
    await cluster.createTopic('payments', 1, 1, { minInsyncReplicas: 1, uncleanLeaderElection: true });
    await cluster.createTopic('orders', 2, 2);
    await cluster.produceValues('orders', 2, ['a', 'b']);
    await cluster.kill('B');

    const all = await describe(cluster.deps, {});

    expect(all.topics.map((t) => [t.topic, t.partitionCount, t.replicationFactor, t.uncleanLeaderElection])).toEqual([
      ['orders', 2, 2, false],
      ['payments', 1, 1, true],
    ]);
    expect(all.topics[0].partitions[1]).toEqual({
      Topic: 'orders',
      Partition: 2,
      Leader: 'A',
      Replicas: ['B', 'A'],
      Isr: ['A'],
      LeaderEpoch: 1,
      HighWatermark: 2,
      State: 'ONLINE',
      LogEndOffsets: { A: 2, B: 2 },
    });
    expect(all.brokers).toEqual([
      expect.objectContaining({ brokerId: 'A', alive: true, incarnation: cluster.incarnationOf('A') }),
    ]);

    const one = await describe(cluster.deps, { topic: 'payments' });
    expect(one.topics.map((t) => t.topic)).toEqual(['payments']);
    expect(await describe(cluster.deps, undefined)).toEqual(all);
  });

  it('refuses an unknown topic', async () => {
    const cluster = new ClusterHarness();
    await expect(describe(cluster.deps, { topic: 'nope' })).rejects.toThrow(UnknownTopicError);
  });
});
