import { describe, expect, it } from 'vitest';
import {
  NotLeaderError,
  OffsetOutOfRangeError,
  ReplicationTimeoutError,
  UnknownLeaderEpochError,
} from '../../../functions/domain/errors.js';
import { consume, produce } from '../../../functions/domain/index.js';
import { ClusterHarness } from '../../factories/cluster.js';

async function twoReplicaTopic(cluster = new ClusterHarness()): Promise<ClusterHarness> {
  await cluster.start('A', 'B');
  await cluster.createTopic('orders', 1, 2);
  return cluster;
}

describe('produce', () => {
  it('with acks=all, replicates to the live ISR itself and answers with the records committed, without waiting', async () => {
    const cluster = await twoReplicaTopic(new ClusterHarness({ whileWaiting: async () => {} }));
    const startedAt = cluster.deps.clock.now();

    const result = await cluster.produceValues('orders', 1, ['a', 'b']);

    expect(result).toEqual({ topic: 'orders', partition: 1, leader: 'A', leaderEpoch: 0, baseOffset: 0, lastOffset: 1, highWatermark: 2 });
    expect(cluster.deps.clock.now()).toBe(startedAt);
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['a', 'b']);
  });

  it('with acks=all and a dead in-sync follower, copies nothing to it and waits for the ISR to change', async () => {
    const cluster = await twoReplicaTopic(
      new ClusterHarness({ settings: { produceAckTimeoutMs: 1_000 }, whileWaiting: async () => {} }),
    );
    cluster.stop('B');
    await cluster.elapse(cluster.deps.settings.sessionTimeoutMs + 2_000);

    await expect(cluster.produceValues('orders', 1, ['a'])).rejects.toThrow(ReplicationTimeoutError);
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual([]);
  });

  it('with acks=all and replication left to the log stream, answers only once every ISR member has the records', async () => {
    const cluster = await twoReplicaTopic(new ClusterHarness({ settings: { replicateOnProduce: false } }));
    const startedAt = cluster.deps.clock.now();

    const result = await cluster.produceValues('orders', 1, ['a', 'b']);

    expect(result).toEqual({
      topic: 'orders',
      partition: 1,
      leader: 'A',
      leaderEpoch: 0,
      baseOffset: 0,
      lastOffset: 1,
      highWatermark: 2,
    });
    expect(cluster.deps.clock.now()).toBeGreaterThan(startedAt);
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['a', 'b']);
  });

  it('with acks=1, answers as soon as the leader wrote, before the records are committed', async () => {
    const cluster = await twoReplicaTopic();
    const result = await cluster.produceValues('orders', 1, ['a'], { acks: 1 });
    expect(result).toMatchObject({ baseOffset: 0, lastOffset: 0, highWatermark: 0 });
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual([]);
  });

  it('times out when the ISR does not confirm in time; the records stay on the leader', async () => {
    const cluster = await twoReplicaTopic(
      new ClusterHarness({ settings: { produceAckTimeoutMs: 1_000, replicateOnProduce: false }, whileWaiting: async () => {} }),
    );
    await expect(cluster.produceValues('orders', 1, ['a'])).rejects.toThrow(ReplicationTimeoutError);
    expect(cluster.valuesOn('orders', 1, 'A')).toEqual(['a']);
  });

  it('answers NOT_LEADER when leadership moves while it waits for the ISR', async () => {
    const cluster = await twoReplicaTopic(
      new ClusterHarness({ settings: { replicateOnProduce: false }, whileWaiting: async (c) => void (await c.kill('A')) }),
    );
    await expect(cluster.produceValues('orders', 1, ['a'])).rejects.toThrow(NotLeaderError);
  });

  it('writes more than one transaction worth of records as contiguous chunks', async () => {
    const cluster = await twoReplicaTopic();
    const values = Array.from({ length: 250 }, (_, i) => `r${i}`);

    const result = await cluster.produceValues('orders', 1, values);

    expect(result).toMatchObject({ baseOffset: 0, lastOffset: 249, highWatermark: 250 });
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(values);
  });

  it('gives concurrent producers disjoint offsets, retrying the one that lost the race', async () => {
    const cluster = await twoReplicaTopic();
    const [first, second] = await Promise.all([
      cluster.produceValues('orders', 1, ['x1', 'x2'], { acks: 1 }),
      cluster.produceValues('orders', 1, ['y1', 'y2'], { acks: 1 }),
    ]);
    expect([first.baseOffset, second.baseOffset].sort()).toEqual([0, 2]);
    expect(cluster.valuesOn('orders', 1, 'A').sort()).toEqual(['x1', 'x2', 'y1', 'y2']);
  });

  it('refuses a leader epoch it does not know (KIP-320) and accepts the current one', async () => {
    const cluster = await twoReplicaTopic();
    await expect(cluster.produceValues('orders', 1, ['a'], { leaderEpoch: 3 })).rejects.toThrow(UnknownLeaderEpochError);
    await expect(cluster.produceValues('orders', 1, ['a'], { leaderEpoch: 0 })).resolves.toMatchObject({ baseOffset: 0 });
  });

  it('keeps key and value as given', async () => {
    const cluster = await twoReplicaTopic();
    await produce(cluster.deps, { topic: 'orders', partition: 1, records: [{ key: 'k', value: 'v' }, { value: 'w' }] });
    const { records } = await consume(cluster.deps, { topic: 'orders', partition: 1 });
    expect(records.map((r) => [r.key, r.value, r.leaderEpoch])).toEqual([
      ['k', 'v', 0],
      [null, 'w', 0],
    ]);
  });
});

describe('consume', () => {
  it('reads only below the high watermark', async () => {
    const cluster = await twoReplicaTopic();
    await cluster.produceValues('orders', 1, ['a', 'b']);
    await cluster.produceValues('orders', 1, ['uncommitted'], { acks: 1 });

    const read = await consume(cluster.deps, { topic: 'orders', partition: 1 });

    expect(read).toMatchObject({ leader: 'A', leaderEpoch: 0, highWatermark: 2, nextOffset: 2 });
    expect(read.records.map((r) => r.value)).toEqual(['a', 'b']);
  });

  it('pages with offset and maxRecords', async () => {
    const cluster = await twoReplicaTopic();
    await cluster.produceValues('orders', 1, ['a', 'b', 'c', 'd']);

    const page = await consume(cluster.deps, { topic: 'orders', partition: 1, offset: 1, maxRecords: 2 });

    expect(page.records.map((r) => [r.offset, r.value])).toEqual([
      [1, 'b'],
      [2, 'c'],
    ]);
    expect(page.nextOffset).toBe(3);
    expect(await consume(cluster.deps, { topic: 'orders', partition: 1, offset: 4 })).toMatchObject({ records: [], nextOffset: 4 });
  });

  it('stops at maxBytes of keys and values (as JSON), but always answers with at least one record', async () => {
    const cluster = await twoReplicaTopic();
    await cluster.produceValues('orders', 1, ['a'.repeat(600), 'b'.repeat(600), 'c'.repeat(600)]);

    const page = await consume(cluster.deps, { topic: 'orders', partition: 1, maxBytes: 1300 });
    expect(page.records.map((r) => r.offset)).toEqual([0, 1]);
    expect(page.nextOffset).toBe(2);
    const tiny = await consume(cluster.deps, { topic: 'orders', partition: 1, offset: 2, maxBytes: 1 });
    expect(tiny.records.map((r) => r.offset)).toEqual([2]);
    // Bytes are counted as the answer carries them: escaped characters count in full.
    await cluster.produceValues('orders', 1, ['"'.repeat(400), 'd']);
    expect((await consume(cluster.deps, { topic: 'orders', partition: 1, offset: 3, maxBytes: 803 })).records).toHaveLength(1);
    expect((await consume(cluster.deps, { topic: 'orders', partition: 1, offset: 3, maxBytes: 805 })).records).toHaveLength(2);
  });

  it('refuses an offset beyond the high watermark, and an epoch it does not know', async () => {
    const cluster = await twoReplicaTopic();
    await cluster.produceValues('orders', 1, ['a']);
    await expect(consume(cluster.deps, { topic: 'orders', partition: 1, offset: 2 })).rejects.toThrow(OffsetOutOfRangeError);
    await expect(consume(cluster.deps, { topic: 'orders', partition: 1, leaderEpoch: 1 })).rejects.toThrow(UnknownLeaderEpochError);
  });
});
