import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { RemoteFunctionError, type DescribeResponse } from '../../../client/lambda-client.js';
import { pollUntil } from '../../../client/poll.js';
import {
  drainLeadershipEvents,
  invokeWithAwsCli,
  leadershipClient,
  partitionOf,
  sqsClient,
  stackTarget,
  uniqueTopic,
  waitForLiveBrokers,
} from './support.js';

/**
 * The product's reference scenario, end to end on the deployed stack:
 * A, B, C, D; 4 partitions, RF 2; A dies -> B leads partition 1 and a consumer reads
 * every acknowledged record from B; then B dies too (partition 1 offline) and returns.
 */
describe('seed scenario: brokers A-D, topic 4x2, A dies', () => {
  const target = stackTarget();
  const client = leadershipClient(target);
  const sqs = sqsClient(target);
  const simulator = new BrokerSimulator(client, { heartbeatIntervalMs: Math.max(200, Math.floor(target.sessionTimeoutMs / 6)), credentials: registerCredentials(client) });
  const topic = uniqueTopic('orders');
  const acked = new Map<number, string[]>();
  const failoverDeadlineMs = target.sessionTimeoutMs * 5;

  const partitionsNow = async () => {
    const description: DescribeResponse = await client.describe(topic);
    return description.topics[0].partitions;
  };

  beforeAll(async () => {
    await simulator.start(['A', 'B', 'C', 'D']);
    // Round-robin assignment over the live brokers: another test file's brokers must have lapsed first.
    await waitForLiveBrokers(client, ['A', 'B', 'C', 'D'], 3 * target.sessionTimeoutMs);
  });

  afterAll(async () => {
    await simulator.stop();
    client.close();
    sqs.destroy();
  });

  it('assigns replicas round-robin as Kafka does: 1 [A,B], 2 [B,C], 3 [C,D], 4 [D,A]', async () => {
    await client.createTopic({ topic, partitions: 4, replicationFactor: 2 });
    const partitions = await partitionsNow();
    expect(partitions.map((view) => [view.Partition, view.Replicas, view.Leader, view.Isr, view.LeaderEpoch])).toEqual([
      [1, ['A', 'B'], 'A', ['A', 'B'], 0],
      [2, ['B', 'C'], 'B', ['B', 'C'], 0],
      [3, ['C', 'D'], 'C', ['C', 'D'], 0],
      [4, ['D', 'A'], 'D', ['D', 'A'], 0],
    ]);
  });

  it('acknowledges produced records once every in-sync replica holds them (acks=all)', async () => {
    for (const partition of [1, 2, 3, 4]) {
      const values = Array.from({ length: 5 }, (_, index) => `p${partition}-record-${index}`);
      const ack = await client.produce({ topic, partition, records: values.map((value) => ({ key: `k${partition}`, value })) });
      expect(ack).toMatchObject({ baseOffset: 0, lastOffset: 4, leaderEpoch: 0 });
      expect(ack.highWatermark).toBeGreaterThanOrEqual(5);
      acked.set(partition, values);
    }
    const more = await client.produce({ topic, partition: 1, records: [{ value: 'p1-record-5' }, { value: 'p1-record-6' }] });
    expect(more).toMatchObject({ baseOffset: 5, lastOffset: 6, leader: 'A' });
    acked.get(1)!.push('p1-record-5', 'p1-record-6');
    await drainLeadershipEvents(target, topic, sqs);
  });

  it('fails partition 1 over to B when A stops heartbeating; partition 4 keeps D', async () => {
    await simulator.kill('A');
    const partitions = await pollUntil(
      async () => {
        const views = await partitionsNow();
        return partitionOf(views, 1).Leader === 'B' && partitionOf(views, 4).Isr.length === 1 ? views : undefined;
      },
      { timeoutMs: failoverDeadlineMs, intervalMs: 100, description: 'partition 1 to be led by B and A to leave the ISR of 4' },
    );
    expect(partitionOf(partitions, 1)).toMatchObject({ Leader: 'B', LeaderEpoch: 1, Isr: ['B'], State: 'ONLINE' });
    expect(partitionOf(partitions, 4)).toMatchObject({ Leader: 'D', LeaderEpoch: 0, Isr: ['D'], State: 'ONLINE' });
    expect(partitionOf(partitions, 2)).toMatchObject({ Leader: 'B', LeaderEpoch: 0, Isr: ['B', 'C'] });
    expect(partitionOf(partitions, 3)).toMatchObject({ Leader: 'C', LeaderEpoch: 0, Isr: ['C', 'D'] });
  });

  it('publishes one leadership event per changed partition on the FIFO queue', async () => {
    const events = await pollUntil(
      async () => {
        const received = await drainLeadershipEvents(target, topic, sqs);
        return received.length > 0 ? received : undefined;
      },
      { timeoutMs: 10_000, description: 'leadership events' },
    );
    // Let a straggling duplicate show itself before counting.
    const late = await drainLeadershipEvents(target, topic, sqs);
    const all = [...events, ...late].sort((a, b) => a.partition - b.partition);
    expect(all.map((event) => [event.partition, event.previousLeader, event.newLeader, event.leaderEpoch, event.isr, event.reason, event.unclean])).toEqual([
      [1, 'A', 'B', 1, ['B'], 'LEADER_FAILED', false],
      [4, 'D', 'D', 0, ['D'], 'FOLLOWER_FAILED', false],
    ]);
    expect(all.map((event) => event.messageGroupId)).toEqual([`${topic}-1`, `${topic}-4`]);
  });

  it('serves a consumer of partition 1 from B: every acknowledged record, in order, once (AWS CLI)', async () => {
    const result = await invokeWithAwsCli(target, target.outputs.ConsumeFunctionName, { topic, partition: 1, offset: 0, maxRecords: 100 });
    expect(result.functionError).toBeUndefined();
    const body = result.body as { leader: string; leaderEpoch: number; records: Array<{ offset: number; value: string }>; nextOffset: number };
    expect(body.leader).toBe('B');
    expect(body.leaderEpoch).toBe(1);
    expect(body.records.map((record) => record.value)).toEqual(acked.get(1));
    expect(body.records.map((record) => record.offset)).toEqual(acked.get(1)!.map((_, index) => index));
    expect(body.nextOffset).toBe(acked.get(1)!.length);
  });

  it('answers a fetch of all four partitions in one invoke: B for 1, and the stale epoch named for 1 refused alone (AWS CLI)', async () => {
    const result = await invokeWithAwsCli(target, target.outputs.ConsumeFunctionName, {
      partitions: [
        { topic, partition: 4, offset: 0, currentLeaderEpoch: 0 },
        { topic, partition: 1, offset: 0 },
        { topic, partition: 2, offset: 3 },
        { topic, partition: 3, offset: 0, currentLeaderEpoch: 0 },
      ],
    });
    expect(result.functionError).toBeUndefined();
    const body = result.body as { partitions: Array<{ partition: number; leader?: string; records?: Array<{ value: string }>; errorType?: string }> };
    expect(body.partitions.map((answer) => [answer.partition, answer.leader, answer.records?.map((record) => record.value)])).toEqual([
      [4, 'D', acked.get(4)],
      [1, 'B', acked.get(1)],
      [2, 'B', acked.get(2)!.slice(3)],
      [3, 'C', acked.get(3)],
    ]);
    const stale = await client.fetch({ partitions: [{ topic, partition: 1, leaderEpoch: 0 }, { topic, partition: 2, offset: 5 }] });
    expect(stale.partitions).toEqual([
      { topic, partition: 1, errorType: 'FencedLeaderEpochError', errorMessage: expect.stringMatching(/\[current leader B epoch 1\]/) },
      expect.objectContaining({ partition: 2, leader: 'B', records: [], nextOffset: 5 }),
    ]);
  });

  it('accepts produces to partition 1 at B under the new epoch and refuses the old epoch', async () => {
    const ack = await client.produce({ topic, partition: 1, records: [{ value: 'p1-after-failover' }] });
    expect(ack).toMatchObject({ leader: 'B', leaderEpoch: 1, baseOffset: acked.get(1)!.length });
    acked.get(1)!.push('p1-after-failover');
    await expect(client.produce({ topic, partition: 1, leaderEpoch: 0, records: [{ value: 'zombie write' }] })).rejects.toMatchObject({
      errorType: 'FencedLeaderEpochError',
    });
  });

  it('takes partition 1 offline when B dies too, rather than lose data; C takes partition 2', async () => {
    await simulator.kill('B');
    const partitions = await pollUntil(
      async () => {
        const views = await partitionsNow();
        return partitionOf(views, 1).State === 'OFFLINE' && partitionOf(views, 2).Leader === 'C' ? views : undefined;
      },
      { timeoutMs: failoverDeadlineMs, intervalMs: 100, description: 'partition 1 offline and partition 2 led by C' },
    );
    // KIP-966: the ISR empties, and B, which holds every committed record, stays electable as
    // an eligible leader replica (or the last known leader), whoever's death was handled first.
    const offline = partitionOf(partitions, 1);
    expect(offline).toMatchObject({ Leader: null, State: 'OFFLINE', Isr: [], LeaderEpoch: 2 });
    expect([...(offline.Elr ?? []), ...(offline.LastKnownElr ?? [])]).toContain('B');
    expect(partitionOf(partitions, 2)).toMatchObject({ Leader: 'C', Isr: ['C'], LeaderEpoch: 1 });
    const consumeError = await client.consume({ topic, partition: 1 }).catch((error: unknown) => error);
    expect(consumeError).toBeInstanceOf(RemoteFunctionError);
    expect((consumeError as RemoteFunctionError).errorType).toBe('PartitionOfflineError');
    await expect(client.produce({ topic, partition: 1, records: [{ value: 'nowhere to go' }] })).rejects.toMatchObject({ errorType: 'PartitionOfflineError' });
  });

  it('brings partition 1 back under B when B, its eligible leader replica, returns', async () => {
    await simulator.revive('B');
    await pollUntil(async () => partitionOf(await partitionsNow(), 1).State === 'ONLINE', {
      timeoutMs: failoverDeadlineMs,
      intervalMs: 100,
      description: 'partition 1 to come back online',
    });
    const partition1 = partitionOf(await partitionsNow(), 1);
    expect(partition1).toMatchObject({ Leader: 'B', LeaderEpoch: 3, State: 'ONLINE' });
    const read = await client.consume({ topic, partition: 1 });
    expect(read.leader).toBe('B');
    expect(read.records.map((record) => record.value)).toEqual(acked.get(1));
  });
});
