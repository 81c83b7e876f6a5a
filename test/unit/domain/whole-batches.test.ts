/**
 * A follower holds only whole leader batches (Kafka replicates, truncates and answers a
 * record batch as one unit). A copy that ended inside a batch left a follower, and then a
 * new leader, with part of an idempotent producer's batch: its retry was refused as out
 * of order, and the producer, starting over under a new id, wrote that part again.
 */
import { describe, expect, it } from 'vitest';
import { OutOfOrderSequenceError, ReplicationTimeoutError } from '../../../functions/domain/errors.js';
import { initProducerId, produce, replicate } from '../../../functions/domain/index.js';
import type { BrokerId, LogRecord } from '../../../functions/domain/model.js';
import type { FollowerAppend, FollowerMatch } from '../../../functions/ports/index.js';
import { ClusterHarness } from '../../factories/cluster.js';

const values = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** A replicate invocation that dies after each follower's first copy write (the Lambda timed out or crashed). */
async function replicateDyingAfterFirstCopy(cluster: ClusterHarness, records: LogRecord[]): Promise<void> {
  const log = cluster.deps.log;
  const original = log.appendAsFollower.bind(log);
  const copied = new Set<BrokerId>();
  log.appendAsFollower = async (append: FollowerAppend) => {
    if (copied.has(append.follower)) throw new Error('the replicate function died');
    copied.add(append.follower);
    return original(append);
  };
  try {
    await expect(replicate(cluster.deps, records)).rejects.toThrow('the replicate function died');
  } finally {
    log.appendAsFollower = original;
  }
}

/** The offsets a replica holds of `batch`, which must be none or all of them, contiguous and in order. */
function holdsWholeOrNothing(cluster: ClusterHarness, replica: BrokerId, batch: readonly string[]): void {
  const log = cluster.valuesOn('orders', 1, replica);
  const first = log.indexOf(batch[0]);
  const held = log.filter((value) => batch.includes(value));
  if (held.length === 0) return;
  expect({ replica, held: held.length }).toEqual({ replica, held: batch.length });
  expect(log.slice(first, first + batch.length)).toEqual(batch);
}

describe('a follower copies whole leader batches', () => {
  it('leaves no part of a batch on a follower when the copy stops, so the retry after a failover is written once', async () => {
    let replicating = false;
    const cluster = new ClusterHarness({
      settings: { replicateOnProduce: false, produceAckTimeoutMs: 1_000 },
      whileWaiting: async (harness) => {
        if (replicating) await harness.replicateAll();
      },
    });
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('orders', 1, 3, { minInsyncReplicas: 2 });
    expect(await cluster.partition('orders', 1)).toMatchObject({ replicas: ['A', 'B', 'C'], leader: 'A' });

    await cluster.produceValues('orders', 1, values('a', 50), { acks: 1 });
    const batch = values('b', 60);
    const { producerId, producerEpoch } = await initProducerId(cluster.deps, {});
    const send = (id: number) =>
      produce(cluster.deps, {
        topic: 'orders',
        partition: 1,
        records: batch.map((value) => ({ value })),
        producerId: id,
        producerEpoch,
        baseSequence: 0,
      });
    await expect(send(producerId)).rejects.toThrow(ReplicationTimeoutError);
    expect(cluster.valuesOn('orders', 1, 'A')).toHaveLength(110);

    await replicateDyingAfterFirstCopy(cluster, cluster.deps.log.drainLeaderAppends());
    for (const follower of ['B', 'C']) holdsWholeOrNothing(cluster, follower, batch);

    await cluster.kill('A');
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'B', leaderEpoch: 1 });
    holdsWholeOrNothing(cluster, 'B', batch);

    // The application resends what was never acknowledged; a producer whose sequence broke starts over.
    replicating = true;
    const resent = await send(producerId).catch(async (error: unknown) => {
      if (!(error instanceof OutOfOrderSequenceError)) throw error;
      return send((await initProducerId(cluster.deps, {})).producerId);
    });
    expect(resent).toMatchObject({ leader: 'B', baseOffset: 50, lastOffset: 109 });
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual([...values('a', 50), ...batch]);
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual([...values('a', 50), ...batch]);
  });

  it('copies as many whole batches as one write holds, never a part of one', async () => {
    const cluster = new ClusterHarness({ settings: { replicateOnProduce: false }, whileWaiting: () => Promise.resolve() });
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('orders', 1, 3);
    for (const [prefix, count] of [['a', 30], ['b', 60], ['c', 40], ['d', 98]] as const) {
      await cluster.produceValues('orders', 1, values(prefix, count), { acks: 1 });
    }
    const copies: string[] = [];
    const log = cluster.deps.log;
    const original = log.appendAsFollower.bind(log);
    log.appendAsFollower = async (append: FollowerAppend) => {
      if (append.follower === 'B') copies.push(`${append.records[0].offset}-${append.records.at(-1)!.offset}`);
      return original(append);
    };
    await cluster.replicateAll();
    expect(copies).toEqual(['0-89', '90-129', '130-227']);
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(cluster.valuesOn('orders', 1, 'A'));
    expect((await cluster.partition('orders', 1)).highWatermark).toBe(228);
  });

  it('cuts a follower that ends inside a batch back to the batch base when it is matched, though the leader holds the records', async () => {
    const cluster = new ClusterHarness({ settings: { replicateOnProduce: false }, whileWaiting: () => Promise.resolve() });
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('orders', 2, 3, { minInsyncReplicas: 1 });
    expect(await cluster.partition('orders', 2)).toMatchObject({ replicas: ['B', 'C', 'A'], leader: 'B' });
    await cluster.produceValues('orders', 2, values('a', 3), { acks: 1 });
    await cluster.produceValues('orders', 2, values('b', 60), { acks: 1 });
    const appended = cluster.deps.log.drainLeaderAppends();
    const copy = (follower: BrokerId, records: LogRecord[]) =>
      cluster.deps.log.appendAsFollower({ topic: 'orders', partition: 2, follower, leaderEpoch: 0, records, generation: 0 });
    await copy('C', appended);
    // What a match interrupted between its transactions leaves: a log cut at a storage item's boundary.
    await copy('A', appended.slice(0, 33));

    const matches: FollowerMatch[] = [];
    const log = cluster.deps.log;
    const original = log.matchFollower.bind(log);
    log.matchFollower = async (match: FollowerMatch) => {
      matches.push(match);
      return original(match);
    };
    await cluster.kill('B');
    expect(await cluster.partition('orders', 2)).toMatchObject({ leader: 'C', leaderEpoch: 1 });
    expect(matches.filter((match) => match.follower === 'A').map((match) => match.truncateTo)).toEqual([3]);
    expect(cluster.valuesOn('orders', 2, 'A')).toEqual(cluster.valuesOn('orders', 2, 'C'));
  });
});
