/**
 * Diskless topics over the memory stores: a produce call's batches share one object, each
 * batch is refused or acknowledged on its own, and the sweep deletes only objects no
 * committed batch points into, once their batches are fenced from ever committing.
 */
import { describe, expect, it } from 'vitest';
import { consume, initProducerId, produceBatches, sweepObjects } from '../../../functions/domain/index.js';
import { StoredObjectMissingError, ValidationError } from '../../../functions/domain/errors.js';
import type { ProduceBatchRefusal, ProduceResponse } from '../../../protocol/messages.js';
import { ClusterHarness } from '../../factories/cluster.js';
import { sweepDepsOf } from '../../simulation/stores.js';

const AGE = 60_000;

async function disklessCluster(options: ConstructorParameters<typeof ClusterHarness>[0] = {}) {
  const cluster = new ClusterHarness({ ...options, settings: { disklessOrphanAgeMs: AGE, disklessSweepIntervalSeconds: 60, ...options.settings } });
  await cluster.start('A', 'B', 'C');
  await cluster.createTopic('logs', 3, 3, { minInsyncReplicas: 2, storage: 'diskless' });
  await cluster.createTopic('orders', 1, 3, { minInsyncReplicas: 2 });
  return cluster;
}

const batch = (topic: string, partition: number, values: string[], extra: object = {}) => ({
  topic,
  partition,
  records: values.map((value) => ({ value })),
  ...extra,
});

const stateOf = async (cluster: ClusterHarness, topic: string, partition: number, replica: string) =>
  (await cluster.deps.metadata.getReplicaStates(topic, partition)).find((s) => s.brokerId === replica)!;

describe('produceBatches on diskless topics', () => {
  it('writes one object for the batches of several diskless partitions, and every replica points into it', async () => {
    const cluster = await disklessCluster();
    const { results } = await produceBatches(cluster.deps, {
      batches: [batch('logs', 1, ['a', 'b']), batch('logs', 2, ['c']), batch('orders', 1, ['o']), batch('logs', 3, ['d', 'e', 'f'])],
    });
    expect(results.map((r) => ('errorType' in r ? r.errorType : [r.baseOffset, r.lastOffset, r.highWatermark]))).toEqual([
      [0, 1, 2],
      [0, 0, 1],
      [0, 0, 1],
      [0, 2, 3],
    ]);
    expect(cluster.deps.objects.writtenCount).toBe(1);
    const [key] = cluster.deps.objects.keys();
    expect(await cluster.deps.objects.manifest(key)).toEqual([
      { topic: 'logs', partition: 1, replica: 'A', offset: 0 },
      { topic: 'logs', partition: 2, replica: expect.any(String), offset: 0 },
      { topic: 'logs', partition: 3, replica: expect.any(String), offset: 0 },
    ]);
    for (const replica of ['A', 'B', 'C']) {
      expect(cluster.deps.log.replicaRecords('logs', 1, replica).map((r) => r.stored?.object)).toEqual([key, key]);
    }
    expect(cluster.deps.log.replicaRecords('orders', 1, 'A')[0].stored).toBeUndefined();
    const read = await consume(cluster.deps, { topic: 'logs', partition: 3, offset: 0 });
    expect(read.records.map((r) => r.value)).toEqual(['d', 'e', 'f']);
  });

  it('a single produce on a diskless topic writes an object of its own', async () => {
    const cluster = await disklessCluster();
    await cluster.produceValues('logs', 1, ['x']);
    expect(cluster.deps.objects.writtenCount).toBe(1);
    expect(cluster.deps.log.replicaRecords('logs', 1, 'B')[0].stored?.object).toBe(cluster.deps.objects.keys()[0]);
  });

  it('refuses a batch on its own and appends the others', async () => {
    const cluster = await disklessCluster();
    const { results } = await produceBatches(cluster.deps, {
      batches: [batch('logs', 1, ['a']), batch('logs', 2, ['b'], { currentLeaderEpoch: 7 }), batch('nope', 1, ['c'])],
    });
    expect(results[0]).toMatchObject({ baseOffset: 0 });
    expect(results[1]).toMatchObject({ topic: 'logs', partition: 2, errorType: 'UnknownLeaderEpochError' } satisfies Partial<ProduceBatchRefusal>);
    expect(results[2]).toMatchObject({ topic: 'nope', errorType: 'UnknownTopicError' });
    expect((await cluster.deps.objects.manifest(cluster.deps.objects.keys()[0]))?.map((e) => e.partition)).toEqual([1]);
  });

  it('retries a batch that lost its log end alone, with a new object', async () => {
    let raced = false;
    const cluster: ClusterHarness = await disklessCluster({
      yieldPoint: async (operation) => {
        // Another producer takes logs-1's log end between this call's object write and its append.
        if (operation === 'log.appendAsLeader' && cluster && !raced && cluster.deps.objects.writtenCount === 1) {
          raced = true;
          await cluster.produceValues('logs', 1, ['other']);
        }
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    const { results } = await produceBatches(cluster.deps, { batches: [batch('logs', 1, ['mine'])] });
    expect(raced).toBe(true);
    expect(results[0]).toMatchObject({ baseOffset: 1, lastOffset: 1 });
    // The call's object, the other producer's, and the retry's.
    expect(cluster.deps.objects.writtenCount).toBe(3);
    const records = cluster.deps.log.replicaRecords('logs', 1, 'A');
    expect(records.map((r) => r.value)).toEqual(['other', 'mine']);
    const manifest = await cluster.deps.objects.manifest(records[1].stored!.object);
    expect(manifest).toEqual([{ topic: 'logs', partition: 1, replica: 'A', offset: 1 }]);
  });

  it('writes nothing for a duplicate', async () => {
    const cluster = await disklessCluster();
    const { producerId, producerEpoch } = await initProducerId(cluster.deps, {});
    const request = { batches: [batch('logs', 1, ['a'], { producerId, producerEpoch, baseSequence: 0 })] };
    await produceBatches(cluster.deps, request);
    const { results } = await produceBatches(cluster.deps, request);
    expect(results[0]).toMatchObject({ baseOffset: 0, duplicate: true } satisfies Partial<ProduceResponse>);
    expect(cluster.deps.objects.writtenCount).toBe(1);
  });

  it.each([
    [{ batches: [] }, /"batches"/],
    [{ batches: [batch('logs', 1, ['a']), batch('logs', 1, ['b'])] }, /batches\[1\] is for logs-1 again/],
    [{ batches: [batch('logs', 1, ['a']), batch('logs', 2, [])] }, /batches\[1\]: "records"/],
    [{ batches: [batch('logs', 1, ['a'], { acks: 1 })] }, /batches\[0\]: "acks" is the call's/],
    [{ batches: [batch('logs', 1, ['a'])], topic: 'logs' }, /"topic" belongs to a produce of one partition/],
  ])('refuses bad input %j and writes nothing', async (input, message) => {
    const cluster = await disklessCluster();
    await expect(produceBatches(cluster.deps, input)).rejects.toThrow(ValidationError);
    await expect(produceBatches(cluster.deps, input)).rejects.toThrow(message);
    expect(cluster.deps.objects.writtenCount).toBe(0);
    expect(await stateOf(cluster, 'logs', 1, 'A')).toMatchObject({ logEndOffset: 0 });
  });
});

describe('sweepObjects', () => {
  it('keeps an object a committed batch points into and deletes an orphan', async () => {
    const cluster = await disklessCluster();
    await cluster.produceValues('logs', 1, ['kept']);
    // A writer that died after its object write: nothing points into it.
    const leader = (await cluster.partition('logs', 2)).leader!;
    const [orphan] = await cluster.deps.objects.write([
      [{ topic: 'logs', partition: 2, replica: leader, offset: 0, leaderEpoch: 0, key: null, value: 'lost', appendedAt: 0, copy: 'leader' }],
    ]);
    expect(await sweepObjects(cluster.deps)).toEqual({ examined: 0, deleted: [], deferred: 0 });
    cluster.deps.clock.advance(AGE + 1);
    const swept = await sweepObjects(cluster.deps);
    expect(swept).toEqual({ examined: 2, deleted: [orphan.object], deferred: 0 });
    const read = await consume(cluster.deps, { topic: 'logs', partition: 1, offset: 0 });
    expect(read.records.map((r) => r.value)).toEqual(['kept']);
    // The fence started a new generation at the orphan's offset: nothing put there before can commit.
    expect(await stateOf(cluster, 'logs', 2, leader)).toMatchObject({ logEndOffset: 0, generation: 1 });
  });

  /** A writer that stalls past the orphan age between its batch put and its commit, while the sweep (or a variant of it) runs. */
  async function stalledWriter(sweepDeps: (cluster: ClusterHarness) => ClusterHarness['deps'] = (cluster) => cluster.deps) {
    let stalled = false;
    let swept: Awaited<ReturnType<typeof sweepObjects>> | undefined;
    const cluster: ClusterHarness = await disklessCluster({
      yieldPoint: async (operation) => {
        if (operation === 'log.commit' && cluster && !stalled && cluster.deps.objects.writtenCount === 1) {
          stalled = true;
          cluster.deps.clock.advance(AGE + 1);
          swept = await sweepObjects(sweepDeps(cluster));
        }
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    return { cluster, swept: () => swept };
  }

  it("without its fence, the sweep deletes a stalled writer's object and the writer's commit then points into nothing", async () => {
    const { cluster, swept } = await stalledWriter((c) => sweepDepsOf(c.deps, 'unfenced') as ClusterHarness['deps']);
    await cluster.produceValues('logs', 1, ['late']);
    const [record] = cluster.deps.log.replicaRecords('logs', 1, 'A');
    expect(record.stored?.object).toBe(swept()!.deleted[0]);
    await expect(consume(cluster.deps, { topic: 'logs', partition: 1, offset: 0 })).rejects.toThrow(StoredObjectMissingError);
  });

  it('fences a stalled writer: its commit after the sweep fails and its retry writes a new object', async () => {
    const { cluster, swept: sweptNow } = await stalledWriter();
    const answer = await cluster.produceValues('logs', 1, ['late']);
    const swept = sweptNow();
    expect(swept?.deleted).toHaveLength(1);
    expect(cluster.deps.objects.has(swept!.deleted[0])).toBe(false);
    expect(answer).toMatchObject({ baseOffset: 0, lastOffset: 0 });
    const [record] = cluster.deps.log.replicaRecords('logs', 1, 'A');
    expect(record.stored?.object).not.toBe(swept!.deleted[0]);
    const read = await consume(cluster.deps, { topic: 'logs', partition: 1, offset: 0 });
    expect(read.records.map((r) => r.value)).toEqual(['late']);
  });

  it('defers an object whose partition changed leader epoch while it was checked', async () => {
    let moved = false;
    const cluster: ClusterHarness = await disklessCluster({
      yieldPoint: async (operation) => {
        if (operation === 'log.fenceLogEnd' && cluster && !moved) {
          moved = true;
          const p = await cluster.partition('logs', 2);
          await cluster.deps.metadata.updateLeadership('logs', 2, p.version, {
            leader: p.leader,
            leaderEpoch: p.leaderEpoch + 1,
            isr: p.isr,
            state: p.state,
            lastChange: p.lastChange,
          });
        }
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    const leader = (await cluster.partition('logs', 2)).leader!;
    await cluster.deps.objects.write([
      [{ topic: 'logs', partition: 2, replica: leader, offset: 0, leaderEpoch: 0, key: null, value: 'lost', appendedAt: 0, copy: 'leader' }],
    ]);
    cluster.deps.clock.advance(AGE + 1);
    expect(await sweepObjects(cluster.deps)).toEqual({ examined: 1, deleted: [], deferred: 1 });
    expect(await sweepObjects(cluster.deps)).toMatchObject({ examined: 1, deleted: [expect.any(String)], deferred: 0 });
  });

  it('a read of a record whose object is gone fails with StoredObjectMissingError', async () => {
    const cluster = await disklessCluster();
    await cluster.produceValues('logs', 1, ['x']);
    await cluster.deps.objects.delete(cluster.deps.objects.keys()[0]);
    await expect(cluster.deps.log.read('logs', 1, 'A', 0, 1)).rejects.toThrow(StoredObjectMissingError);
  });
});
