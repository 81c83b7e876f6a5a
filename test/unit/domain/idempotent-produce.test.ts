/**
 * The idempotent producer (KIP-98): a retried batch is written once, out-of-order
 * and fenced batches are refused with Kafka's errors, and the producer state follows
 * each replica's log through copies, failovers and truncations.
 */
import { describe, expect, it } from 'vitest';
import {
  InvalidProducerEpochError,
  OutOfOrderSequenceError,
  UnknownProducerIdError,
  ValidationError,
} from '../../../functions/domain/errors.js';
import { clipToLogEnd, initProducerId, onBrokerGone, sweepExpiredBrokers, withRecords } from '../../../functions/domain/index.js';
import type { ProduceResponse } from '../../../functions/domain/index.js';
import type { BrokerId, ProducerStates } from '../../../functions/domain/model.js';
import { ClusterHarness, produceIdempotent } from '../../factories/cluster.js';

async function threeReplicaTopic(settings: ConstructorParameters<typeof ClusterHarness>[0] = {}) {
  const cluster = new ClusterHarness(settings);
  await cluster.start('A', 'B', 'C');
  await cluster.createTopic('orders', 1, 3, { minInsyncReplicas: 2 });
  const { producerId, producerEpoch } = await initProducerId(cluster.deps, {});
  const send = (baseSequence: number, values: string[], extra: object = {}): Promise<ProduceResponse> =>
    produceIdempotent(cluster.deps, { producerId, producerEpoch }, baseSequence, values, extra);
  return { cluster, producerId, producerEpoch, send };
}

/** A replica's producer state as a reader sees it (clipped to its log end). */
async function producersOn(cluster: ClusterHarness, replica: BrokerId): Promise<ProducerStates> {
  const state = (await cluster.deps.metadata.getReplicaStates('orders', 1)).find((s) => s.brokerId === replica)!;
  return clipToLogEnd(state.producers, state.logEndOffset);
}

describe('idempotent produce', () => {
  it('InitProducerId hands out distinct ids at epoch 0 and refuses fields it does not support', async () => {
    const cluster = new ClusterHarness();
    const first = await initProducerId(cluster.deps, {});
    const second = await initProducerId(cluster.deps, undefined);
    expect(first).toEqual({ producerId: 1, producerEpoch: 0 });
    expect(second).toEqual({ producerId: 2, producerEpoch: 0 });
    await expect(initProducerId(cluster.deps, { transactionalId: 'tx' })).rejects.toThrow(/"transactionalId"/);
    await expect(initProducerId(cluster.deps, { transactionalId: 'tx' })).rejects.toThrow(ValidationError);
    expect(await initProducerId(cluster.deps, {})).toEqual({ producerId: 3, producerEpoch: 0 });
  });

  it('answers a retried batch with the original offsets and writes nothing again', async () => {
    const { cluster, send } = await threeReplicaTopic();
    const first = await send(0, ['a', 'b']);
    const retried = await send(0, ['a', 'b']);

    expect(first).toMatchObject({ baseOffset: 0, lastOffset: 1, highWatermark: 2 });
    expect(first.duplicate).toBeUndefined();
    expect(retried).toMatchObject({ baseOffset: 0, lastOffset: 1, duplicate: true });
    expect(cluster.valuesOn('orders', 1, 'A')).toEqual(['a', 'b']);

    await send(2, ['c']);
    // A retry of an older batch still finds its offsets.
    expect(await send(0, ['a', 'b'])).toMatchObject({ baseOffset: 0, lastOffset: 1, duplicate: true });
    expect(cluster.valuesOn('orders', 1, 'A')).toEqual(['a', 'b', 'c']);
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['a', 'b', 'c']);
  });

  it('refuses a gap or a first batch not at 0 with OutOfOrderSequence, and writes nothing', async () => {
    const { cluster, send } = await threeReplicaTopic();
    await expect(send(5, ['x'])).rejects.toThrow(OutOfOrderSequenceError);
    await expect(send(5, ['x'])).rejects.toThrow(/first batch starts at sequence 0/);
    await send(0, ['a']);
    await expect(send(2, ['x'])).rejects.toThrow(/expected 1/);
    expect(cluster.valuesOn('orders', 1, 'A')).toEqual(['a']);
  });

  it('refuses an unknown producer id and an older producer epoch; a newer epoch starts again at 0', async () => {
    const { cluster, producerId, send } = await threeReplicaTopic();
    await expect(send(0, ['x'], { producerId: 99 })).rejects.toThrow(UnknownProducerIdError);
    await send(0, ['a']);
    await send(0, ['b'], { producerEpoch: 1 });
    await expect(send(1, ['x'], { producerEpoch: 0 })).rejects.toThrow(InvalidProducerEpochError);
    await expect(send(3, ['x'], { producerEpoch: 2 })).rejects.toThrow(OutOfOrderSequenceError);
    expect(cluster.valuesOn('orders', 1, 'A')).toEqual(['a', 'b']);
    expect((await producersOn(cluster, 'A'))[String(producerId)]).toMatchObject({ producerEpoch: 1 });
  });

  it('dedupes on the new leader after a failover: the followers carried the producer state', async () => {
    const { cluster, producerId, send } = await threeReplicaTopic();
    const acked = await send(0, ['a', 'b']);
    expect(await producersOn(cluster, 'B')).toEqual(await producersOn(cluster, 'A'));

    await cluster.kill('A');
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'B', leaderEpoch: 1 });
    // The answer to the first send was lost: the producer retries it at the new leader.
    const retried = await send(0, ['a', 'b']);
    expect(retried).toMatchObject({ leader: 'B', baseOffset: acked.baseOffset, lastOffset: acked.lastOffset, duplicate: true });
    await send(2, ['c']);
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['a', 'b', 'c']);
    expect((await producersOn(cluster, 'C'))[String(producerId)].runs).toMatchObject([{ firstSequence: 0, firstOffset: 0, count: 3 }]);
  });

  it('forgets a truncated batch with the records, so its retry is written at the new leader', async () => {
    const { cluster, producerId, send } = await threeReplicaTopic({ settings: { replicateOnProduce: false } });
    await send(0, ['a']);
    // Sequence 1 reaches A and C only (acks=1), then A dies: B, first in assignment order, leads without it.
    await send(1, ['lost'], { acks: 1 });
    const appended = cluster.deps.log.drainLeaderAppends();
    // As the replicate handler would, had it reached C only before A died: with the producer state the records carry.
    const producers = withRecords(await producersOn(cluster, 'C'), appended, cluster.deps.settings.producerIdExpirationMs);
    await cluster.deps.log.appendAsFollower({ topic: 'orders', partition: 1, follower: 'C', leaderEpoch: 0, records: appended, producers, generation: 0 });
    expect((await producersOn(cluster, 'C'))[String(producerId)].runs).toMatchObject([{ firstSequence: 0, firstOffset: 0, count: 2 }]);
    cluster.stop('A');
    await cluster.elapse(cluster.deps.settings.sessionTimeoutMs + 2_000);
    const [gone] = await sweepAndCollect(cluster);
    await onBrokerGone(cluster.deps, gone, 'EXPIRED');
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'B' });
    await cluster.replicateAll();

    // C was cut back to B's log, and its producer state with it.
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual(['a']);
    expect((await producersOn(cluster, 'C'))[String(producerId)].runs).toMatchObject([{ firstSequence: 0, firstOffset: 0, count: 1 }]);
    const retried = await send(1, ['lost']);
    expect(retried.duplicate).toBeUndefined();
    expect(retried).toMatchObject({ leader: 'B', baseOffset: 1 });
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual(['a', 'lost']);
    for (const replica of ['B', 'C']) {
      expect((await producersOn(cluster, replica))[String(producerId)].runs).toMatchObject([{ firstSequence: 0, firstOffset: 0, count: 2 }]);
    }
  });
});

async function sweepAndCollect(cluster: ClusterHarness) {
  await sweepExpiredBrokers(cluster.deps);
  return cluster.deps.brokers.drainStream().flatMap((change) => (change.eventName === 'REMOVE' ? [change.oldImage] : []));
}
