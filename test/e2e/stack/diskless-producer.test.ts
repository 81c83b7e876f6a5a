/**
 * The client's default Producer on a diskless topic of the deployed stack: sends to several
 * partitions made together go as one produce call of several batches (one S3 object, one
 * PUT), each send is acknowledged with its own offsets, and one Consumer reads every record
 * back once, in order. Needs the diskless write path (the stack's objects bucket).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { Consumer, type ConsumerRecord } from '../../../client/consumer.js';
import { LeadershipClient, type InvokeRecord } from '../../../client/lambda-client.js';
import { Producer } from '../../../client/producer.js';
import { stackTarget, uniqueTopic, waitForLiveBrokers } from './support.js';

const PARTITIONS = 4;
const SENDS_PER_PARTITION = 25;

const target = stackTarget();
const deployed = (target.outputs as unknown as Record<string, string | undefined>).ObjectsBucketName !== undefined;

describe.skipIf(!deployed)('the default Producer on a diskless topic of the stack', () => {
  const invokes: InvokeRecord[] = [];
  const client = new LeadershipClient(target.outputs, { endpoint: target.endpoint, region: target.region, onInvoke: (record) => invokes.push(record) });
  const brokers = ['dp-1', 'dp-2', 'dp-3'];
  const simulator = new BrokerSimulator(client, { heartbeatIntervalMs: Math.max(200, Math.floor(target.sessionTimeoutMs / 6)), credentials: registerCredentials(client) });
  const topic = uniqueTopic('diskless-producer');

  beforeAll(async () => {
    await simulator.start(brokers);
    await waitForLiveBrokers(client, brokers, target.sessionTimeoutMs * 8);
    const created = await client.createTopic({ topic, partitions: PARTITIONS, replicationFactor: 3, minInsyncReplicas: 2, storage: 'diskless' });
    expect(created.storage).toBe('diskless');
  });

  afterAll(async () => {
    await simulator.stop();
    client.close();
  });

  it('gathers the partitions’ sends into calls of several batches, acknowledges each send, and every record is consumed once', async () => {
    const producer = new Producer(client, { deliveryTimeoutMs: 60_000 });
    const value = (partition: number, index: number) => `p${partition}-r${index}`;
    const sends = Array.from({ length: SENDS_PER_PARTITION }, (_, index) =>
      Array.from({ length: PARTITIONS }, (_, p) => producer.send(topic, p + 1, [{ key: `k${index}`, value: value(p + 1, index) }])),
    ).flat();
    const acks = await Promise.all(sends);
    await producer.close();

    const produceCalls = invokes.filter((record) => record.functionName === target.outputs.ProduceFunctionName);
    const gathered = produceCalls.filter((record) => Array.isArray((record.payload as { batches?: unknown }).batches));
    expect(gathered.length, 'sends made together went as calls of several batches').toBeGreaterThan(0);
    expect(produceCalls.length).toBeLessThan(PARTITIONS * SENDS_PER_PARTITION);
    for (let partition = 1; partition <= PARTITIONS; partition += 1) {
      expect(acks.filter((ack) => ack.partition === partition).map((ack) => ack.baseOffset)).toEqual(Array.from({ length: SENDS_PER_PARTITION }, (_, i) => i));
    }

    const consumer = new Consumer(client, { maxPollRecords: 500, fetchMaxWaitMs: 0 });
    consumer.assign(Array.from({ length: PARTITIONS }, (_, p) => ({ topic, partition: p + 1, offset: 0 })));
    const consumed: ConsumerRecord[] = [];
    for (let polls = 0; consumed.length < PARTITIONS * SENDS_PER_PARTITION && polls < 50; polls += 1) consumed.push(...(await consumer.poll()));
    for (let partition = 1; partition <= PARTITIONS; partition += 1) {
      expect(consumed.filter((record) => record.partition === partition).map((record) => record.value)).toEqual(
        Array.from({ length: SENDS_PER_PARTITION }, (_, i) => value(partition, i)),
      );
    }
  });
});
