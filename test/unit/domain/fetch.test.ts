import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/domain/errors.js';
import { consume, fetch, serveConsumer, type ConsumeResponse, type FetchPartitionError } from '../../../functions/domain/index.js';
import { ClusterHarness } from '../../factories/cluster.js';

/** Brokers A, B, C; "orders" with 3 partitions at RF 2 (A leads 1, B leads 2, C leads 3). */
async function threePartitions(): Promise<ClusterHarness> {
  const cluster = new ClusterHarness();
  await cluster.start('A', 'B', 'C');
  await cluster.createTopic('orders', 3, 2);
  return cluster;
}

const values = (answer: ConsumeResponse | FetchPartitionError) => ('records' in answer ? answer.records.map((r) => r.value) : answer.errorType);

describe('fetch (many partitions in one consume call)', () => {
  it('answers every partition as a consume of it alone would, in the order asked, refusing some without failing the rest', async () => {
    const cluster = await threePartitions();
    await cluster.produceValues('orders', 1, ['a0', 'a1']);
    await cluster.produceValues('orders', 2, ['b0']);
    await cluster.produceValues('orders', 3, ['c0', 'c1', 'c2']);
    await cluster.kill('A');

    const answer = await fetch(cluster.deps, {
      partitions: [
        { topic: 'orders', partition: 3, offset: 1, maxRecords: 1 },
        { topic: 'orders', partition: 1, currentLeaderEpoch: 0 }, // A was deposed: epoch 1 now
        { topic: 'orders', partition: 2, offset: 1 },
        { topic: 'orders', partition: 9 },
      ],
    });

    expect(answer.partitions.map(values)).toEqual([['c1'], 'FencedLeaderEpochError', [], 'UnknownTopicError']);
    expect(answer.partitions[0]).toEqual(await consume(cluster.deps, { topic: 'orders', partition: 3, offset: 1, maxRecords: 1 }));
    expect(answer.partitions[1]).toMatchObject({ topic: 'orders', partition: 1, errorMessage: expect.stringMatching(/\[current leader B epoch 1\]/) });
    expect(answer.partitions[2]).toMatchObject({ leader: 'B', leaderEpoch: 0, highWatermark: 1, nextOffset: 1 });
    expect(answer.partitions[3]).toMatchObject({ topic: 'orders', partition: 9, errorMessage: expect.stringMatching(/has partitions 1 to 3/) });
    // Refusals a consume would throw are answers here too.
    const refused = await fetch(cluster.deps, {
      partitions: [
        { topic: 'orders', partition: 2, offset: 5 },
        { topic: 'orders', partition: 3, currentLeaderEpoch: 4 },
        { topic: 'ghost', partition: 1 },
      ],
    });
    expect(refused.partitions.map(values)).toEqual(['OffsetOutOfRangeError', 'UnknownLeaderEpochError', 'UnknownTopicError']);
  });

  it('spends maxBytes in the order asked: the first records always fit, later partitions get what is left, then none', async () => {
    const cluster = await threePartitions();
    const kib = 'x'.repeat(1024);
    await cluster.produceValues('orders', 1, [kib, kib]);
    await cluster.produceValues('orders', 2, [kib, kib]);
    await cluster.produceValues('orders', 3, [kib]);
    const all = [1, 2, 3].map((partition) => ({ topic: 'orders', partition }));

    const everything = await fetch(cluster.deps, { partitions: all });
    expect(everything.partitions.map((p) => ('records' in p ? p.records.length : -1))).toEqual([2, 2, 1]);

    // Room for about three records: partition 1 whole, one of partition 2, none of 3 (read or not, it still answers).
    const three = await fetch(cluster.deps, { partitions: all, maxBytes: 3 * 1024 + 300 });
    expect(three.partitions.map((p) => ('records' in p ? [p.records.length, p.nextOffset, p.highWatermark] : p))).toEqual([
      [2, 2, 2],
      [1, 1, 2],
      [0, 0, 1],
    ]);
    // Less than one record: the first non-empty partition still gets one, so a consumer always moves on.
    const one = await fetch(cluster.deps, {
      partitions: [{ topic: 'orders', partition: 2, offset: 2 }, { topic: 'orders', partition: 1 }, { topic: 'orders', partition: 3 }],
      maxBytes: 10,
    });
    expect(one.partitions.map((p) => ('records' in p ? p.records.length : -1))).toEqual([0, 1, 0]);
    // Each partition's own maxBytes (key and value) still applies.
    const own = await fetch(cluster.deps, { partitions: [{ topic: 'orders', partition: 1, maxBytes: 1500 }, { topic: 'orders', partition: 2 }] });
    expect(own.partitions.map((p) => ('records' in p ? p.records.length : -1))).toEqual([1, 2]);
  });

  it('is what the consume function serves for { partitions }', async () => {
    const cluster = await threePartitions();
    await cluster.produceValues('orders', 2, ['b0']);
    expect(await serveConsumer(cluster.deps, { partitions: [{ topic: 'orders', partition: 2 }] })).toMatchObject({
      partitions: [{ topic: 'orders', partition: 2, leader: 'B', records: [{ offset: 0, value: 'b0' }] }],
    });
  });

  it.each([
    ['no partitions', { partitions: [] }, /"partitions" must be an array of 1 to 1000 items, got an array of 0/],
    ['partitions not an array', { partitions: 'orders-1' }, /"partitions" must be an array/],
    ['a partition twice', { partitions: [{ topic: 'orders', partition: 1 }, { topic: 'orders', partition: 1 }] }, /partitions\[1\] asks for orders-1 again \(as partitions\[0\] did\)/],
    ['partition 0', { partitions: [{ topic: 'orders', partition: 1 }, { topic: 'orders', partition: 0 }] }, /^partitions\[1\]: "partition" must be an integer between 1 and 1000, got 0/],
    ['a negative offset', { partitions: [{ topic: 'orders', partition: 1, offset: -1 }] }, /^partitions\[0\]: "offset"/],
    ['a negative epoch', { partitions: [{ topic: 'orders', partition: 1, currentLeaderEpoch: -1 }] }, /^partitions\[0\]: "currentLeaderEpoch"/],
    ['maxBytes over 5 MiB', { partitions: [{ topic: 'orders', partition: 1 }], maxBytes: 5 * 1024 * 1024 + 1 }, /"maxBytes" must be an integer between 1 and 5242880/],
    ['a topic beside partitions', { topic: 'orders', partitions: [{ topic: 'orders', partition: 1 }] }, /"topic" belongs to a consume of one partition/],
    ['1001 partitions', { partitions: Array.from({ length: 1001 }, (_, i) => ({ topic: `t${i}`, partition: 1 })) }, /"partitions" must be an array of 1 to 1000 items, got an array of 1001/],
  ])('refuses %s with a ValidationError naming the problem, reading nothing', async (_case, request, message) => {
    const cluster = await threePartitions();
    const reads = cluster.deps.metadata.getPartitions.bind(cluster.deps.metadata);
    let batchReads = 0;
    cluster.deps.metadata.getPartitions = (keys) => {
      batchReads += 1;
      return reads(keys);
    };
    const refusal = fetch(cluster.deps, request);
    await expect(refusal).rejects.toThrow(ValidationError);
    await expect(refusal).rejects.toThrow(message);
    expect(batchReads).toBe(0);
  });
});
