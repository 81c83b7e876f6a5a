import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/domain/errors.js';
import { consume, fetch, serveConsumer, type ConsumeResponse, type FetchPartitionError } from '../../../functions/domain/index.js';
import { FETCH_WAIT_CHECK_MS, MAX_FETCH_WAIT_MS } from '../../../functions/domain/limits.js';
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
    ['maxWaitMs below 0', { partitions: [{ topic: 'orders', partition: 1 }], maxWaitMs: -1 }, /"maxWaitMs" must be an integer between 0 and 5000, got -1/],
    ['maxWaitMs over the most', { partitions: [{ topic: 'orders', partition: 1 }], maxWaitMs: MAX_FETCH_WAIT_MS + 1 }, /"maxWaitMs" must be an integer between 0 and 5000/],
    ['maxWaitMs not a number', { partitions: [{ topic: 'orders', partition: 1 }], maxWaitMs: '500' }, /"maxWaitMs" must be an integer/],
    ['minBytes 0', { partitions: [{ topic: 'orders', partition: 1 }], minBytes: 0 }, /"minBytes" must be an integer between 1 and 5242880, got 0/],
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
    const peeks = reads.bind(null);
    cluster.deps.metadata.peekPartitions = (keys) => {
      batchReads += 1;
      return peeks(keys);
    };
    const refusal = fetch(cluster.deps, request);
    await expect(refusal).rejects.toThrow(ValidationError);
    await expect(refusal).rejects.toThrow(message);
    expect(batchReads).toBe(0);
  });
});

/** Counts the metadata reads a fetch makes: eventually consistent looks, and strong reads of partitions (one each). */
function countReads(cluster: ClusterHarness) {
  const counts = { peeks: 0, strong: 0 };
  const { metadata } = cluster.deps;
  const peek = metadata.peekPartitions.bind(metadata);
  const getPartition = metadata.getPartition.bind(metadata);
  metadata.peekPartitions = (keys) => {
    counts.peeks += 1;
    return peek(keys);
  };
  // The memory store's getPartitions reads each partition with getPartition.
  metadata.getPartition = (topic, partition) => {
    counts.strong += 1;
    return getPartition(topic, partition);
  };
  return counts;
}

describe('fetch long poll (maxWaitMs, minBytes) and its cheap empty answer', () => {
  /** Each partition at its high watermark, naming the epoch the consumer knows: nothing new anywhere. */
  const atTheEnd = (partitions: number[], offsets: Record<number, number> = {}) =>
    partitions.map((partition) => ({ topic: 'orders', partition, offset: offsets[partition] ?? 0, currentLeaderEpoch: 0 }));

  it('answers a fetch with nothing new from one eventually consistent look, reading no partition strongly', async () => {
    const cluster = await threePartitions();
    await cluster.produceValues('orders', 2, ['b0']);
    const reads = countReads(cluster);
    const answer = await fetch(cluster.deps, { partitions: atTheEnd([1, 2, 3], { 2: 1 }) });
    expect(answer.partitions).toEqual([
      { topic: 'orders', partition: 1, leader: 'A', leaderEpoch: 0, highWatermark: 0, records: [], nextOffset: 0 },
      { topic: 'orders', partition: 2, leader: 'B', leaderEpoch: 0, highWatermark: 1, records: [], nextOffset: 1 },
      { topic: 'orders', partition: 3, leader: 'C', leaderEpoch: 0, highWatermark: 0, records: [], nextOffset: 0 },
    ]);
    expect(reads).toEqual({ peeks: 1, strong: 0 });
    // What a strong read of each would answer, too.
    for (const [i, asked] of atTheEnd([1, 2, 3], { 2: 1 }).entries()) expect(answer.partitions[i]).toEqual(await consume(cluster.deps, asked));
  });

  it('reads strongly only the partitions the look shows something at, and fences them by their own read', async () => {
    const cluster = await threePartitions();
    await cluster.produceValues('orders', 2, ['b0']);
    const reads = countReads(cluster);
    // Partition 2 has a record; partition 3 is asked without an epoch, so it is not the request's to repeat back.
    const answer = await fetch(cluster.deps, { partitions: [...atTheEnd([1, 2]), { topic: 'orders', partition: 3 }] });
    expect(answer.partitions.map(values)).toEqual([[], ['b0'], []]);
    expect(reads).toEqual({ peeks: 1, strong: 2 });
  });

  it('answers from a stale look only with nothing: a record or a new epoch it misses waits for a look that sees it', async () => {
    const cluster = await threePartitions();
    await cluster.produceValues('orders', 1, ['a0']);
    await cluster.kill('A'); // partition 1: B leads at epoch 1
    await cluster.produceValues('orders', 1, ['a1']);
    const asked = { partitions: [{ topic: 'orders', partition: 1, offset: 1, currentLeaderEpoch: 0 }] };
    // The look sees partition 1 as it was before the failover (epoch 0, HW 1): nothing new for a consumer at 1.
    cluster.deps.tables.staleness = () => 2;
    const stale = await cluster.deps.metadata.peekPartitions([{ topic: 'orders', partition: 1 }]);
    expect(stale[0]).toMatchObject({ leader: 'A', leaderEpoch: 0, highWatermark: 1 });
    expect(await fetch(cluster.deps, asked)).toEqual({
      partitions: [{ topic: 'orders', partition: 1, leader: 'A', leaderEpoch: 0, highWatermark: 1, records: [], nextOffset: 1 }],
    });
    // The look sees the new high watermark but the failover not yet: the strong read fences the consumer.
    cluster.deps.tables.staleness = () => 1;
    expect((await cluster.deps.metadata.peekPartitions([{ topic: 'orders', partition: 1 }]))[0]).not.toMatchObject({ leaderEpoch: 0, highWatermark: 1 });
    expect((await fetch(cluster.deps, asked)).partitions.map(values)).toEqual(['FencedLeaderEpochError']);
    cluster.deps.tables.staleness = () => 0;
    expect((await fetch(cluster.deps, asked)).partitions.map(values)).toEqual(['FencedLeaderEpochError']);
    expect((await fetch(cluster.deps, { partitions: [{ ...asked.partitions[0], currentLeaderEpoch: 1 }] })).partitions.map(values)).toEqual([['a1']]);
  });

  it('holds a fetch with nothing new for maxWaitMs, looking again every check, and answers empty', async () => {
    const cluster = await threePartitions();
    const reads = countReads(cluster);
    const start = cluster.deps.clock.now();
    const answer = await fetch(cluster.deps, { partitions: atTheEnd([1, 2, 3]), maxWaitMs: 1_000 });
    expect(answer.partitions.map(values)).toEqual([[], [], []]);
    expect(cluster.deps.clock.now() - start).toBe(1_000);
    expect(reads).toEqual({ peeks: 1_000 / FETCH_WAIT_CHECK_MS + 1, strong: 0 });
  });

  it('answers a waiting fetch at the first look after a record is committed, with the record', async () => {
    let sleeps = 0;
    const cluster = new ClusterHarness({
      whileWaiting: async (harness) => {
        sleeps += 1;
        // The fetch's third sleep: a producer's record arrives (its own acks=all wait sleeps too).
        if (sleeps === 3) await harness.produceValues('orders', 2, ['late']);
        await harness.replicateAll();
      },
    });
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('orders', 3, 2);
    const start = cluster.deps.clock.now();
    const answer = await fetch(cluster.deps, { partitions: atTheEnd([1, 2, 3]), maxWaitMs: MAX_FETCH_WAIT_MS });
    expect(answer.partitions.map(values)).toEqual([[], ['late'], []]);
    expect(cluster.deps.clock.now() - start).toBeLessThan(MAX_FETCH_WAIT_MS);
  });

  it('waits for minBytes of records and answers with what it has when the wait is up; a refusal is answered at once', async () => {
    const cluster = await threePartitions();
    await cluster.produceValues('orders', 1, ['small']);
    const start = cluster.deps.clock.now();
    const few = await fetch(cluster.deps, { partitions: atTheEnd([1, 2]), maxWaitMs: 600, minBytes: 10_000 });
    expect(few.partitions.map(values)).toEqual([['small'], []]);
    expect(cluster.deps.clock.now() - start).toBe(600);

    const enough = await fetch(cluster.deps, { partitions: atTheEnd([1, 2]), maxWaitMs: 600, minBytes: 10 });
    expect(enough.partitions.map(values)).toEqual([['small'], []]);
    expect(cluster.deps.clock.now() - start).toBe(600);

    const refused = await fetch(cluster.deps, { partitions: [...atTheEnd([2]), { topic: 'orders', partition: 9 }], maxWaitMs: 600 });
    expect(refused.partitions.map(values)).toEqual([[], 'UnknownTopicError']);
    expect(cluster.deps.clock.now() - start).toBe(600);
  });
});
