/**
 * How long a replica remembers an idempotent producer, and what it remembers after a
 * truncation: Kafka keeps a producer's state until producer.id.expiration.ms of silence
 * (never dropping an active one for want of room), and rebuilds it on truncation as of
 * the truncation point, older producer epochs included. Each scenario ends with a late
 * retry of a batch already in the log, which must be answered as a duplicate.
 */
import { describe, expect, it } from 'vitest';
import { OutOfOrderSequenceError, ProducerStateFullError } from '../../../functions/domain/errors.js';
import { initProducerId, withRecords } from '../../../functions/domain/index.js';
import type { BrokerId, ProducerStates } from '../../../functions/domain/model.js';
import { clipToLogEnd, decideSequence, stampsOf } from '../../../functions/domain/idempotence.js';
import { MAX_PRODUCERS_PER_REPLICA, MAX_RUNS_PER_PRODUCER, MAX_SEQUENCE } from '../../../functions/domain/limits.js';
import { ClusterHarness, produceIdempotent } from '../../factories/cluster.js';

async function topic(options: ConstructorParameters<typeof ClusterHarness>[0] = {}, extra: object = {}) {
  const cluster = new ClusterHarness(options);
  await cluster.start('A', 'B', 'C');
  await cluster.createTopic('orders', 1, 3, extra);
  const send = (producerId: number, producerEpoch: number, baseSequence: number, values: string[], more: object = {}) =>
    produceIdempotent(cluster.deps, { producerId, producerEpoch }, baseSequence, values, more);
  return { cluster, send };
}

async function producersOn(cluster: ClusterHarness, replica: BrokerId): Promise<ProducerStates> {
  const state = (await cluster.deps.metadata.getReplicaStates('orders', 1)).find((s) => s.brokerId === replica)!;
  return clipToLogEnd(state.producers, state.logEndOffset);
}

describe('producer state is kept by time, not by count', () => {
  it('dedupes a retried first batch after 200 other producers wrote once', async () => {
    const { cluster, send } = await topic();
    const { producerId } = await initProducerId(cluster.deps, {});
    const acked = await send(producerId, 0, 0, ['first']);
    // Its answer is lost; meanwhile 200 short-lived producers each write one batch.
    for (let i = 0; i < 200; i++) {
      const other = await initProducerId(cluster.deps, {});
      await send(other.producerId, 0, 0, [`other-${i}`]);
    }
    const retried = await send(producerId, 0, 0, ['first']);

    expect(retried).toMatchObject({ baseOffset: acked.baseOffset, duplicate: true });
    expect(cluster.valuesOn('orders', 1, 'A').filter((value) => value === 'first')).toHaveLength(1);
  });
});

describe('producer.id.expiration.ms', () => {
  const EXPIRATION_MS = 60_000;

  it('forgets a producer silent for longer, on every replica alike; its next batch is OutOfOrderSequence', async () => {
    const { cluster, send } = await topic({ settings: { producerIdExpirationMs: EXPIRATION_MS } });
    const [idle, busy, other] = [await initProducerId(cluster.deps, {}), await initProducerId(cluster.deps, {}), await initProducerId(cluster.deps, {})];
    await send(idle.producerId, 0, 0, ['idle-0']);
    await send(busy.producerId, 0, 0, ['busy-0']);
    await cluster.elapse(EXPIRATION_MS / 2);
    await send(busy.producerId, 0, 1, ['busy-1']);
    await cluster.elapse(EXPIRATION_MS / 2 + 2_000);
    // Another producer's append is where the replicas drop the idle one (the leader, and each follower as it copies).
    await send(other.producerId, 0, 0, ['other-0']);
    for (const replica of ['A', 'B', 'C']) {
      expect(Object.keys(await producersOn(cluster, replica)).sort()).toEqual([String(busy.producerId), String(other.producerId)].sort());
    }

    await expect(send(idle.producerId, 0, 1, ['idle-1'])).rejects.toThrow(OutOfOrderSequenceError);
    await expect(send(idle.producerId, 0, 1, ['idle-1'])).rejects.toThrow(/or it expired/);
    // Within the expiration the state is kept, whoever else wrote.
    expect(await send(busy.producerId, 0, 1, ['busy-1'])).toMatchObject({ duplicate: true });
    expect(cluster.valuesOn('orders', 1, 'A')).toEqual(['idle-0', 'busy-0', 'busy-1', 'other-0']);
  });

  it('refuses a new producer, retriably, while the replicas remember as many unexpired producers as they may; none is dropped', async () => {
    const { cluster, send } = await topic({ settings: { producerIdExpirationMs: EXPIRATION_MS } });
    const ids: number[] = [];
    for (let i = 0; i < MAX_PRODUCERS_PER_REPLICA; i++) {
      const { producerId } = await initProducerId(cluster.deps, {});
      ids.push(producerId);
      await send(producerId, 0, 0, [`v${i}`]);
    }
    const late = await initProducerId(cluster.deps, {});
    const before = cluster.valuesOn('orders', 1, 'A').length;
    await expect(send(late.producerId, 0, 0, ['late'])).rejects.toThrow(ProducerStateFullError);
    expect(cluster.valuesOn('orders', 1, 'A')).toHaveLength(before);
    // Every known producer keeps its state: retries are deduplicated and sequences go on.
    expect(await send(ids[0], 0, 0, ['v0'])).toMatchObject({ baseOffset: 0, duplicate: true });
    expect(await send(ids[0], 0, 1, ['v0-1'])).toMatchObject({ baseOffset: before });

    await cluster.elapse(EXPIRATION_MS + 2_000);
    expect(await send(late.producerId, 0, 0, ['late'])).toMatchObject({ baseOffset: before + 1 });
  }, 60_000);
});

describe('a new run never pushes out the last run a truncation could leave', () => {
  it('waits for the high watermark before a producer with the most runs starts another', async () => {
    const { cluster, send } = await topic({ settings: { replicateOnProduce: false } }, { minInsyncReplicas: 1 });
    const { producerId } = await initProducerId(cluster.deps, {});
    // acks=1, nothing replicated: every batch, separated by another client's record, is a run of its own.
    for (let sequence = 0; sequence < MAX_RUNS_PER_PRODUCER; sequence++) {
      await send(producerId, 0, sequence, [`run-${sequence}`], { acks: 1 });
      await cluster.produceValues('orders', 1, [`between-${sequence}`], { acks: 1 });
    }
    await expect(send(producerId, 0, MAX_RUNS_PER_PRODUCER, ['one-too-many'], { acks: 1 })).rejects.toThrow(ProducerStateFullError);
    await cluster.replicateAll();
    expect(await send(producerId, 0, MAX_RUNS_PER_PRODUCER, ['one-too-many'], { acks: 1 })).toMatchObject({ baseOffset: 16 });
  });
});

describe('sequences wrap from 2^31-1 to 0, as Kafka\'s', () => {
  it('continues, stamps and deduplicates a batch across the wrap', async () => {
    const { cluster, send } = await topic();
    const { producerId } = await initProducerId(cluster.deps, {});
    await send(producerId, 0, 0, ['a']);
    // As if 2^31 - 3 more records had been written: every replica's state ends at sequence 2^31 - 2.
    for (const state of cluster.deps.tables.replicaStates.values()) {
      state.producers![String(producerId)].runs[0].firstSequence = MAX_SEQUENCE - 1;
    }
    const across = await send(producerId, 0, MAX_SEQUENCE, ['b', 'c', 'd']);
    expect(across).toMatchObject({ baseOffset: 1, lastOffset: 3 });
    expect(cluster.deps.log.replicaRecords('orders', 1, 'B').map((record) => record.producer?.sequence)).toEqual([
      0,
      MAX_SEQUENCE,
      0,
      1,
    ]);
    expect(await send(producerId, 0, MAX_SEQUENCE, ['b', 'c', 'd'])).toMatchObject({ baseOffset: 1, duplicate: true });
    expect(await send(producerId, 0, 0, ['c', 'd'])).toMatchObject({ baseOffset: 2, duplicate: true });
    await expect(send(producerId, 0, 3, ['gap'])).rejects.toThrow(/expected 2/);
    expect(await send(producerId, 0, 2, ['e'])).toMatchObject({ baseOffset: 4 });
  });

  it('stamps and checks sequences modulo 2^31', () => {
    expect(stampsOf({ producerId: 1, producerEpoch: 0, baseSequence: MAX_SEQUENCE }, 2).map((stamp) => stamp.sequence)).toEqual([MAX_SEQUENCE, 0]);
    const producers: ProducerStates = {
      '1': { producerEpoch: 0, lastAppendedAt: 0, runs: [{ producerEpoch: 0, firstSequence: MAX_SEQUENCE - 9, firstOffset: 0, count: 10, lastAppendedAt: 0 }] },
    };
    const batch = (baseSequence: number) => ({ producerId: 1, producerEpoch: 0, baseSequence });
    expect(decideSequence(producers, batch(0), 1, 'p')).toEqual({ kind: 'append', firstOfProducer: false });
    expect(decideSequence(producers, batch(MAX_SEQUENCE - 1), 2, 'p')).toEqual({ kind: 'duplicate', baseOffset: 8 });
    expect(() => decideSequence(producers, batch(MAX_SEQUENCE - 20), 2, 'p')).toThrow(/no longer remembered/);
    expect(() => decideSequence(producers, batch(1), 1, 'p')).toThrow(/expected 0/);
  });
});

describe('a truncation keeps the older producer epochs its log still holds', () => {
  it('dedupes a late epoch-0 retry on a replica cut back below the epoch-1 batch', async () => {
    const { cluster, send } = await topic({ settings: { replicateOnProduce: false } }, { minInsyncReplicas: 1 });
    const { producerId } = await initProducerId(cluster.deps, {});
    // Epoch 0 writes `a` on every replica.
    await send(producerId, 0, 0, ['a']);
    // Epoch 1 writes `b` on A, and the replicate handler reaches C only before A dies.
    await send(producerId, 1, 0, ['b'], { acks: 1 });
    const appended = cluster.deps.log.drainLeaderAppends();
    const producers = withRecords(await producersOn(cluster, 'C'), appended, cluster.deps.settings.producerIdExpirationMs);
    await cluster.deps.log.appendAsFollower({ topic: 'orders', partition: 1, follower: 'C', leaderEpoch: 0, records: appended, producers, generation: 0 });
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual(['a', 'b']);

    await cluster.kill('A');
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'B' });
    await cluster.replicateAll();
    // C was cut back to B's log, which holds epoch 0's `a`.
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual(['a']);
    expect(await producersOn(cluster, 'C')).toEqual(await producersOn(cluster, 'B'));

    await cluster.kill('B');
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'C' });
    // The late epoch-0 request for `a` arrives only now.
    const late = await send(producerId, 0, 0, ['a'], { acks: 1 });
    expect(late).toMatchObject({ baseOffset: 0, duplicate: true });
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual(['a']);
  });
});
