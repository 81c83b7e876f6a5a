/**
 * A topic larger than one store transaction is written in several (the DynamoDB store's
 * boundaries, adapters/topic-creation-steps.ts, which the memory store follows). A creator
 * that dies between two of them must not leave the name lost for good: the topic reads as
 * absent (UNKNOWN_TOPIC_OR_PARTITION, retriable) until a retried CreateTopic with the same
 * settings or the reconciler finishes it, and its partitions are not managed meanwhile.
 */
import { describe as suite, expect, it } from 'vitest';
import { yieldToOtherCallers } from '../../../functions/adapters/memory/tables.js';
import { TopicExistsError, UnknownTopicError } from '../../../functions/domain/errors.js';
import { consume, describe, reconcile } from '../../../functions/domain/index.js';
import { TOPIC_CREATION_GRACE_MS } from '../../../functions/domain/limits.js';
import { ClusterHarness } from '../../factories/cluster.js';

/** RF 3 and transactions of 5 items: [topic + p1], [p2], [p3 + the mark], as a 25 x RF 3 topic is cut at 100. */
const SMALL_TRANSACTIONS = 5;

/** A harness whose store fails the `nth` topic-creation transaction, once, as a creator dying (or throttled) there. */
function clusterFailingCreationStep(nth: number) {
  let steps = 0;
  let armed = true;
  const cluster = new ClusterHarness({
    maxTransactionItems: SMALL_TRANSACTIONS,
    yieldPoint: async (operation) => {
      await yieldToOtherCallers();
      if (armed && operation === 'metadata.createTopic' && ++steps === nth) {
        armed = false;
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' });
      }
    },
  });
  return cluster;
}

suite('topic creation cut short between its transactions', () => {
  it('reads as absent, refuses other settings, and is finished by a retry with the same settings', async () => {
    const cluster = clusterFailingCreationStep(2);
    await cluster.start('A', 'B', 'C');
    await expect(cluster.createTopic('orders', 3, 3)).rejects.toThrow(/throughput/);

    // What the first transaction wrote (the topic CREATING, partition 1) is not a topic yet.
    expect(await cluster.deps.metadata.getTopic('orders')).toBeNull();
    await expect(cluster.produceValues('orders', 1, ['a'])).rejects.toThrow(UnknownTopicError);
    await expect(consume(cluster.deps, { topic: 'orders', partition: 1, offset: 0 })).rejects.toThrow(UnknownTopicError);
    await expect(describe(cluster.deps, { topic: 'orders' })).rejects.toThrow(UnknownTopicError);
    // Nor is its partition managed: the reconciler does not count it among the live partitions.
    expect((await reconcile(cluster.deps)).partitions).toBe(0);

    await expect(cluster.createTopic('orders', 4, 3)).rejects.toThrow(TopicExistsError);
    const finished = await cluster.createTopic('orders', 3, 3);
    expect(finished.assignments.map((p) => p.Partition)).toEqual([1, 2, 3]);
    expect(await cluster.deps.metadata.getTopic('orders')).toMatchObject({ partitions: 3, replicationFactor: 3 });
    expect(await cluster.deps.metadata.getReplicaStates('orders', 3)).toHaveLength(3);
    await expect(cluster.produceValues('orders', 2, ['a'], { acks: 'all' })).resolves.toMatchObject({ baseOffset: 0 });
    // Once created it is created: asking again is TOPIC_ALREADY_EXISTS, as for any topic.
    await expect(cluster.createTopic('orders', 3, 3)).rejects.toThrow(TopicExistsError);
  });

  it('is finished by the reconciler once no creator can still be at work on it', async () => {
    const cluster = clusterFailingCreationStep(3);
    await cluster.start('A', 'B', 'C');
    await expect(cluster.createTopic('orders', 3, 3)).rejects.toThrow(/throughput/);
    expect(await cluster.deps.metadata.getTopic('orders')).toBeNull();

    await reconcile(cluster.deps);
    expect(await cluster.deps.metadata.getTopic('orders')).toBeNull();

    await cluster.elapse(TOPIC_CREATION_GRACE_MS + 1_000);
    await reconcile(cluster.deps);
    expect(await cluster.deps.metadata.getTopic('orders')).toMatchObject({ partitions: 3 });
    expect((await cluster.deps.metadata.listPartitions('orders')).map((p) => [p.partition, p.replicas.length])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    await expect(cluster.produceValues('orders', 3, ['a'], { acks: 'all' })).resolves.toMatchObject({ baseOffset: 0 });
  });

  it('writes a topic that fits one transaction in one, visible at once', async () => {
    let creationSteps = 0;
    const cluster = new ClusterHarness({
      maxTransactionItems: SMALL_TRANSACTIONS,
      yieldPoint: async (operation) => {
        await yieldToOtherCallers();
        if (operation === 'metadata.createTopic') creationSteps += 1;
      },
    });
    await cluster.start('A', 'B');
    await cluster.createTopic('small', 1, 2);
    expect(creationSteps).toBe(1);
  });
});
