/**
 * Every use case refuses bad input with a ValidationError naming the field, and
 * an unknown topic or partition with UnknownTopicError, having written nothing.
 */
import { describe, expect, it } from 'vitest';
import type { MemoryDeps } from '../../../functions/adapters/memory/index.js';
import { UnknownTopicError, ValidationError } from '../../../functions/domain/errors.js';
import {
  consume,
  createTopic,
  describe as describeCluster,
  electPreferredLeaders,
  heartbeat,
  produce,
} from '../../../functions/domain/index.js';
import { ClusterHarness, observableState } from '../../factories/cluster.js';

type UseCase = (deps: MemoryDeps, input: unknown) => Promise<unknown>;

const ok = { topic: 'orders', partition: 1 };
const records = [{ value: 'v' }];

const cases: Array<[string, UseCase, unknown, RegExp]> = [
  ['heartbeat', heartbeat, { brokerId: 7 }, /"brokerId" must be a string/],
  ['heartbeat', heartbeat, { brokerId: 'x'.repeat(65) }, /"brokerId" must be 1 to 64 characters/],

  ['createTopic', createTopic, 'orders', /"request" must be an object, got "orders"/],
  ['createTopic', createTopic, { partitions: 1, replicationFactor: 1 }, /"topic" must be a string/],
  ['createTopic', createTopic, { topic: 'a#b', partitions: 1, replicationFactor: 1 }, /"topic" must be 1 to 249 characters.*got "a#b"/],
  ['createTopic', createTopic, { topic: 'x'.repeat(250), partitions: 1, replicationFactor: 1 }, /"topic" must be 1 to 249/],
  ['createTopic', createTopic, { topic: '..', partitions: 1, replicationFactor: 1 }, /"topic" must be a name other than/],
  ['createTopic', createTopic, { topic: 't', partitions: 0, replicationFactor: 1 }, /"partitions" must be an integer between 1 and 1000, got 0/],
  ['createTopic', createTopic, { topic: 't', partitions: 1001, replicationFactor: 1 }, /"partitions" must be an integer between 1 and 1000/],
  ['createTopic', createTopic, { topic: 't', partitions: 1.5, replicationFactor: 1 }, /"partitions" must be an integer/],
  ['createTopic', createTopic, { topic: 't', partitions: 1, replicationFactor: 0 }, /"replicationFactor" must be an integer >= 1, got 0/],
  ['createTopic', createTopic, { topic: 't', partitions: 1, replicationFactor: 2, minInsyncReplicas: 3 }, /"minInsyncReplicas" must be an integer between 1 and 2, got 3/],
  ['createTopic', createTopic, { topic: 't', partitions: 1, replicationFactor: 1, uncleanLeaderElection: 'yes' }, /"uncleanLeaderElection" must be true or false, got "yes"/],
  ...['snappy', 'lz4', 'zstd'].map((codec): [string, UseCase, unknown, RegExp] => [
    'createTopic',
    createTopic,
    { topic: 't', partitions: 1, replicationFactor: 1, compressionType: codec },
    new RegExp(`"compressionType" must be one this log supports \\(producer, uncompressed, gzip\\): Kafka's ${codec} has no codec here, got "${codec}"`),
  ]),
  ['createTopic', createTopic, { topic: 't', partitions: 1, replicationFactor: 1, compressionType: 'GZIP' }, /"compressionType" must be one of producer, uncompressed, gzip, got "GZIP"/],
  ['createTopic', createTopic, { topic: 't', partitions: 1, replicationFactor: 1, compressionType: 1 }, /"compressionType" must be one of producer, uncompressed, gzip, got 1/],
  ['createTopic', createTopic, { topic: 't', partitions: 1, replicationFactor: 1, storage: 'tiered' }, /"storage" must be one of replicated, diskless, got "tiered"/],

  ['describe', describeCluster, { topic: 5 }, /"topic" must be a string/],
  ['describe', describeCluster, [], /"request" must be an object, got an array of 0/],

  ['electPreferredLeaders', electPreferredLeaders, { topic: 'bad topic' }, /"topic" must be 1 to 249/],

  ['produce', produce, { ...ok }, /"records" must be an array of 1 to 500 items, got nothing/],
  ['produce', produce, { ...ok, records: [] }, /"records" must be an array of 1 to 500 items, got an array of 0/],
  ['produce', produce, { ...ok, records: Array.from({ length: 501 }, () => ({ value: 'v' })) }, /"records" must be an array of 1 to 500/],
  ['produce', produce, { ...ok, records: ['v'] }, /"records\[0\]" must be an object, got "v"/],
  ['produce', produce, { ...ok, records: [{ value: 'v' }, { value: 42 }] }, /"records\[1\].value" must be a string, got 42/],
  ['produce', produce, { ...ok, records: [{ key: 1, value: 'v' }] }, /"records\[0\].key" must be a string, got 1/],
  ['produce', produce, { ...ok, records: [{ value: 'x'.repeat(40_000) }] }, /"records\[0\]" must hold at most 32768 bytes.*got 40000/],
  ['produce', produce, { topic: 'orders', partition: 'x', records }, /"partition" must be an integer between 1 and 1000, got "x"/],
  ['produce', produce, { topic: 'orders', partition: 0, records }, /"partition" must be an integer between 1 and 1000, got 0/],
  ['produce', produce, { topic: '', partition: 1, records }, /"topic" must be 1 to 249/],
  ['produce', produce, { ...ok, records, leaderEpoch: -1 }, /"leaderEpoch" must be an integer >= 0, got -1/],
  ['produce', produce, { ...ok, records, acks: 2 }, /"acks" must be "all", -1, 1 or 0, got 2/],
  ['produce', produce, { ...ok, records, producerId: 1, producerEpoch: 0 }, /missing "baseSequence"/],
  ['produce', produce, { ...ok, records, producerId: 1, producerEpoch: -1, baseSequence: 0 }, /"producerEpoch" must be an integer between 0 and 32767, got -1/],
  ['produce', produce, { ...ok, records, producerId: 0, producerEpoch: 0, baseSequence: 0 }, /"producerId" must be an integer/],
  ['produce', produce, { ...ok, records: [{ value: 'a' }, { value: 'b' }], producerId: 1, producerEpoch: 0, baseSequence: 2147483648 }, /"baseSequence" must be an integer between 0 and 2147483647, got 2147483648/],

  ['consume', consume, { topic: 'orders' }, /"partition" must be an integer between 1 and 1000, got nothing/],
  ['consume', consume, { ...ok, offset: -1 }, /"offset" must be an integer >= 0, got -1/],
  ['consume', consume, { ...ok, offset: '3' }, /"offset" must be an integer >= 0, got "3"/],
  ['consume', consume, { ...ok, maxRecords: 0 }, /"maxRecords" must be an integer between 1 and 1000, got 0/],
  ['consume', consume, { ...ok, maxRecords: 1001 }, /"maxRecords" must be an integer between 1 and 1000/],
  ['consume', consume, { ...ok, maxBytes: 0 }, /"maxBytes" must be an integer between 1 and 5242880, got 0/],
  ['consume', consume, { ...ok, maxBytes: 5242881 }, /"maxBytes" must be an integer between 1 and 5242880/],
  ['consume', consume, { ...ok, leaderEpoch: 'zero' }, /"leaderEpoch" must be an integer >= 0, got "zero"/],
];

const unknowns: Array<[string, UseCase, unknown, RegExp]> = [
  ['produce', produce, { topic: 'nope', partition: 1, records }, /topic "nope" does not exist/],
  ['produce', produce, { topic: 'orders', partition: 5, records }, /partition 5 does not exist: topic "orders" has partitions 1 to 4/],
  ['consume', consume, { topic: 'nope', partition: 1 }, /topic "nope" does not exist/],
  ['consume', consume, { topic: 'orders', partition: 5 }, /partition 5 does not exist/],
  ['describe', describeCluster, { topic: 'nope' }, /topic "nope" does not exist/],
  ['electPreferredLeaders', electPreferredLeaders, { topic: 'nope' }, /topic "nope" does not exist/],
];

async function seeded(): Promise<ClusterHarness> {
  const cluster = new ClusterHarness();
  await cluster.start('A', 'B', 'C', 'D');
  await cluster.createTopic('orders', 4, 2);
  await cluster.produceValues('orders', 1, ['kept']);
  return cluster;
}

describe('bad input', () => {
  it.each(cases)('%s refuses %j naming the field, and writes nothing', async (_name, useCase, input, message) => {
    const cluster = await seeded();
    const before = await observableState(cluster.deps);

    const refused = useCase(cluster.deps, input);

    await expect(refused).rejects.toThrow(ValidationError);
    await expect(refused).rejects.toThrow(message);
    expect(await observableState(cluster.deps)).toBe(before);
  });
});

describe('unknown topic or partition', () => {
  it.each(unknowns)('%s refuses %j with UnknownTopicError, and writes nothing', async (_name, useCase, input, message) => {
    const cluster = await seeded();
    const before = await observableState(cluster.deps);

    const refused = useCase(cluster.deps, input);

    await expect(refused).rejects.toThrow(UnknownTopicError);
    await expect(refused).rejects.toThrow(message);
    expect(await observableState(cluster.deps)).toBe(before);
  });
});
