import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { Consumer, type ConsumerRecord } from '../../../client/consumer.js';
import { Producer, type RecordMetadata } from '../../../client/producer.js';
import { leadershipClient, partitionOf, stackTarget, uniqueTopic, waitForLiveBrokers } from './support.js';

/**
 * A producer and a consumer on the client run through a leader failover: the leader's
 * broker stops heartbeating, its lease lapses, a follower is elected. Neither sees a
 * failed call (they retry on fresh metadata), and the consumer sees every committed offset
 * once, in order, with every acknowledged record at its acknowledged offset.
 */
describe('client: producer and consumer across a leader failover', () => {
  const target = stackTarget();
  const client = leadershipClient(target);
  const brokers = ['cf-1', 'cf-2', 'cf-3'];
  const simulator = new BrokerSimulator(client, { heartbeatIntervalMs: Math.max(200, Math.floor(target.sessionTimeoutMs / 6)), credentials: registerCredentials(client) });
  const topic = uniqueTopic('client-failover');
  const deadlineMs = target.sessionTimeoutMs * 8;

  beforeAll(async () => {
    await simulator.start(brokers);
    await waitForLiveBrokers(client, brokers, deadlineMs);
    await client.createTopic({ topic, partitions: 1, replicationFactor: 2 });
  });

  afterAll(async () => {
    await simulator.stop();
    client.close();
  });

  it('acknowledges every send and delivers every committed offset exactly once, in order', async () => {
    const before = partitionOf((await client.describe(topic)).topics[0].partitions, 1);
    const oldLeader = before.Leader!;
    const retriesSeen: string[] = [];
    const onRetry = ({ error }: { error: unknown }) => retriesSeen.push((error as Error).message);
    const producer = new Producer(client, { onRetry });
    const consumer = new Consumer(client, { onRetry, maxPollRecords: 50 });
    consumer.assign([{ topic, partition: 1, offset: 0 }]);

    const acks: Array<{ value: string; ack: RecordMetadata }> = [];
    const consumed: ConsumerRecord[] = [];
    let producing = true;
    const startedAt = Date.now();

    const consumerLoop = (async () => {
      while (producing || consumer.position(topic, 1) < acks[acks.length - 1].ack.lastOffset + 1) {
        if (Date.now() - startedAt > deadlineMs * 2) throw new Error(`consumer stuck at offset ${consumer.position(topic, 1)}`);
        const records = await consumer.poll();
        consumed.push(...records);
        if (records.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    let killed = false;
    let acksAfterFailover = 0;
    for (let index = 0; acksAfterFailover < 10; index += 1) {
      if (Date.now() - startedAt > deadlineMs) throw new Error(`no failover within ${deadlineMs} ms (${acks.length} acks)`);
      const value = `record-${index}`;
      const ack = await producer.send(topic, 1, [{ key: `k${index % 3}`, value }]);
      acks.push({ value, ack });
      if (ack.leaderEpoch > before.LeaderEpoch) acksAfterFailover += 1;
      if (!killed && acks.length === 10) {
        killed = true;
        await simulator.kill(oldLeader);
      }
    }
    producing = false;
    await consumerLoop;

    // The failover happened, under the producer: a new leader at a later epoch acknowledged records.
    const last = acks[acks.length - 1].ack;
    expect(last.leader).not.toBe(oldLeader);
    expect(last.leaderEpoch).toBeGreaterThan(before.LeaderEpoch);
    expect(retriesSeen.length, 'the clients had to retry through the failover').toBeGreaterThan(0);

    // Acknowledged offsets only grow, and each acknowledged send took one offset.
    const ackedOffsets = acks.map(({ ack }) => ack.baseOffset);
    expect(acks.every(({ ack }) => ack.lastOffset === ack.baseOffset)).toBe(true);
    expect([...ackedOffsets].sort((a, b) => a - b)).toEqual(ackedOffsets);
    expect(new Set(ackedOffsets).size).toBe(ackedOffsets.length);

    // The consumer saw offsets 0..n-1, each once, in order: no gap, no duplicate.
    expect(consumed.map((record) => record.offset)).toEqual(consumed.map((_, index) => index));
    expect(consumed.length).toBeGreaterThanOrEqual(last.lastOffset + 1);
    // Every acknowledged record is there, at its acknowledged offset.
    for (const { value, ack } of acks) expect(consumed[ack.baseOffset]?.value, `offset ${ack.baseOffset}`).toBe(value);
    // The producer is idempotent: a retried send is answered with its first append, so nothing is in the log twice.
    const ackedAt = new Set(ackedOffsets);
    const unacknowledged = consumed.filter((record) => !ackedAt.has(record.offset));
    expect(unacknowledged).toEqual([]);
    expect(new Set(consumed.map((record) => record.value)).size).toBe(consumed.length);
    console.log(
      `[client-failover] ${acks.length} sends acknowledged (${acksAfterFailover} by the new leader ${last.leader} at epoch ${last.leaderEpoch}), ` +
        `${consumed.length} records consumed in order, ${acks.filter(({ ack }) => ack.duplicate).length} retried send(s) answered as duplicates, ${retriesSeen.length} retries: ${retriesSeen.map((message) => message.split(': ')[1] ?? message).join(', ')}`,
    );
  });
});
