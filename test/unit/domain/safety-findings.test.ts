/**
 * Seven ways a replication protocol without fencing loses an acknowledged record
 * or leaves a partition stuck, each as a scenario the fenced protocol must survive. Interleavings are forced by holding one store call of
 * one trigger while others run, as a slow Lambda would.
 */
import { currentGeneration } from '../../../functions/domain/generations.js';
import { describe, expect, it } from 'vitest';
import { NotEnoughReplicasAfterAppendError } from '../../../functions/domain/errors.js';
import {
  consume,
  onBrokerGone,
  reconcile,
  replicate,
  sweepExpiredBrokers,
} from '../../../functions/domain/index.js';
import type { BrokerHeartbeat, BrokerId, LogRecord } from '../../../functions/domain/model.js';
import type { FollowerAppend, FollowerMatch } from '../../../functions/ports/index.js';
import { ClusterHarness, HEARTBEAT_INTERVAL_MS } from '../../factories/cluster.js';

/**
 * The scenarios arise on the log-stream replication, whose timing the tests drive
 * step by step, so produce leaves replication to it here (the simulation judges both paths).
 */
async function cluster3(topicExtra: object = {}, options: ConstructorParameters<typeof ClusterHarness>[0] = {}) {
  const cluster = new ClusterHarness({ ...options, settings: { replicateOnProduce: false, ...options.settings } });
  await cluster.start('A', 'B', 'C');
  await cluster.createTopic('orders', 1, 3, topicExtra);
  await cluster.produceValues('orders', 1, ['v1', 'v2', 'v3']);
  return cluster;
}

/** Lets the brokers' leases lapse and sweeps them; the REMOVEs are returned, not handled. */
async function lapse(cluster: ClusterHarness, ...brokerIds: BrokerId[]): Promise<BrokerHeartbeat[]> {
  cluster.stop(...brokerIds);
  await cluster.elapse(cluster.deps.settings.sessionTimeoutMs + HEARTBEAT_INTERVAL_MS);
  await sweepExpiredBrokers(cluster.deps);
  return cluster.deps.brokers
    .drainStream()
    .flatMap((change) => (change.eventName === 'REMOVE' ? [change.oldImage] : []));
}

/** What the replicate handler would have copied to one follower before crashing. */
async function copyOnlyTo(cluster: ClusterHarness, follower: BrokerId, records: LogRecord[], leaderEpoch = 0): Promise<void> {
  const states = await cluster.deps.metadata.getReplicaStates('orders', 1);
  const generation = currentGeneration(states.find((state) => state.brokerId === follower) ?? {});
  await cluster.deps.log.appendAsFollower({ topic: 'orders', partition: 1, follower, leaderEpoch, records, generation });
}

/** Every record consumers can read from the current leader, as offset → value. */
async function committed(cluster: ClusterHarness): Promise<string[]> {
  const { records } = await consume(cluster.deps, { topic: 'orders', partition: 1, offset: 0, maxRecords: 1000 });
  return records.map((record) => record.value);
}

/** Replaces one store method so that its first call matching `when` waits until released. */
function holdFirstCall<A>(target: { [key: string]: unknown }, method: string, when: (arg: A) => boolean) {
  const original = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
  let reached!: () => void;
  let release!: () => void;
  const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  target[method] = async (...args: unknown[]) => {
    if (!held && when(args[0] as A)) {
      held = true;
      reached();
      await released;
    }
    return original(...args);
  };
  return { reached: reachedPromise, release };
}

/**
 * Checks after every leadership write that each ISR member holds every record
 * below the HW (what admission promises); returns the violations seen.
 */
function watchIsrHoldsCommitted(cluster: ClusterHarness): string[] {
  const violations: string[] = [];
  const metadata = cluster.deps.metadata;
  const update = metadata.updateLeadership.bind(metadata);
  metadata.updateLeadership = async (...args) => {
    const written = await update(...args);
    const states = await metadata.getReplicaStates(written.topic, written.partition);
    for (const member of written.isr) {
      const end = states.find((state) => state.brokerId === member)?.logEndOffset ?? 0;
      if (end < written.highWatermark) violations.push(`${member} in the ISR with log end ${end} < HW ${written.highWatermark}`);
    }
    return written;
  };
  return violations;
}

describe('finding 1: a divergent in-sync replica is matched before its log counts or grows', () => {
  it('drops the suffix a deposed leader copied to it, so an offset never changes value', async () => {
    const cluster = await cluster3();
    await cluster.produceValues('orders', 1, ['u4', 'u5'], { acks: 1 });
    await copyOnlyTo(cluster, 'B', cluster.deps.log.drainLeaderAppends());
    for (const gone of await lapse(cluster, 'A', 'B', 'C')) await onBrokerGone(cluster.deps, gone, 'EXPIRED');
    expect(await cluster.partition('orders', 1)).toMatchObject({ state: 'OFFLINE', isr: ['B', 'C'] });

    await cluster.revive('C');
    await cluster.produceValues('orders', 1, ['w4', 'w5', 'w6'], { acks: 1 });
    // B is in the ISR with five records, two of them divergent: it must not count.
    expect((await cluster.partition('orders', 1)).highWatermark).toBe(3);
    await cluster.revive('B');
    await cluster.produceValues('orders', 1, ['w7']);
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['v1', 'v2', 'v3', 'w4', 'w5', 'w6', 'w7']);

    await cluster.kill('C');
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'B' });
    expect(await committed(cluster)).toEqual(['v1', 'v2', 'v3', 'w4', 'w5', 'w6', 'w7']);
  });
});

describe('finding 2: ISR admission is conditional on the high watermark it was judged against', () => {
  it('does not admit a catching-up replica that misses a record committed meanwhile', async () => {
    const cluster = await cluster3();
    await cluster.kill('A');
    await cluster.produceValues('orders', 1, ['y4', 'y5']);
    const admittedShort = watchIsrHoldsCommitted(cluster);
    // While A's catch-up is about to be admitted, y6 is committed on [B, C].
    const hold = holdFirstCall(
      cluster.deps.metadata as unknown as { [key: string]: unknown },
      'updateLeadership',
      () => true,
    );
    const rejoin = cluster.revive('A');
    await hold.reached;
    await cluster.produceValues('orders', 1, ['y6']);
    expect((await cluster.partition('orders', 1)).highWatermark).toBe(6);
    hold.release();
    await rejoin;

    expect(admittedShort).toEqual([]);
    expect(await cluster.partition('orders', 1)).toMatchObject({ isr: ['A', 'B', 'C'] });
    expect(cluster.valuesOn('orders', 1, 'A')).toEqual(['v1', 'v2', 'v3', 'y4', 'y5', 'y6']);
    await cluster.kill('B');
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'A' });
    expect(await committed(cluster)).toEqual(['v1', 'v2', 'v3', 'y4', 'y5', 'y6']);
  });
});

describe('finding 3: a truncation computed under a deposed leader cannot touch the log', () => {
  it("leaves the current leader's acknowledged record alone", async () => {
    const cluster = await cluster3();
    await cluster.produceValues('orders', 1, ['u4'], { acks: 1 });
    await copyOnlyTo(cluster, 'C', cluster.deps.log.drainLeaderAppends());
    const [goneA] = await lapse(cluster, 'A');
    const hold = holdFirstCall<FollowerMatch>(
      cluster.deps.log as unknown as { [key: string]: unknown },
      'matchFollower',
      (match) => match.follower === 'C',
    );
    // Detector 1 elects B at epoch 1 and is about to cut C back to B's log.
    const detector1 = onBrokerGone(cluster.deps, goneA, 'EXPIRED');
    await hold.reached;
    await cluster.kill('B');
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'C', leaderEpoch: 2 });
    const acked = await cluster.produceValues('orders', 1, ['c5']);
    hold.release();
    await detector1;

    expect(acked).toMatchObject({ leader: 'C', baseOffset: 4 });
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual(['v1', 'v2', 'v3', 'u4', 'c5']);
    expect(await committed(cluster)).toEqual(['v1', 'v2', 'v3', 'u4', 'c5']);
  });
});

describe('finding 4: acks=all is acknowledged only while the ISR meets min.insync.replicas', () => {
  it('answers NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank while the produce waited', async () => {
    let armed = false;
    const cluster = await cluster3(
      { minInsyncReplicas: 2 },
      {
        whileWaiting: async (harness) => {
          if (armed) {
            armed = false;
            await harness.kill('B', 'C');
          }
          await harness.replicateAll();
        },
      },
    );
    armed = true;

    await expect(cluster.produceValues('orders', 1, ['x'])).rejects.toThrow(NotEnoughReplicasAfterAppendError);
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'A', isr: ['A'] });
  });
});

describe('finding 5: a live replica whose catch-up did not happen still rejoins', () => {
  it('catches up a returned replica whose registration record was lost, so the partition stays available', async () => {
    const cluster = await cluster3();
    await cluster.kill('B', 'C');
    await cluster.produceValues('orders', 1, ['a4', 'a5']);
    await cluster.heartbeat('B');
    cluster.deps.brokers.drainStream(); // B's INSERT went to the DLQ
    expect((await cluster.partition('orders', 1)).isr).toEqual(['A']);

    await reconcile(cluster.deps);
    expect(await cluster.partition('orders', 1)).toMatchObject({ isr: ['A', 'B'] });
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['v1', 'v2', 'v3', 'a4', 'a5']);
  });

  it('after an unclean election, the HW is the new leader\'s log end, so a returning replica can rejoin', async () => {
    const cluster = await cluster3({ uncleanLeaderElection: true });
    await cluster.kill('B', 'C');
    await cluster.produceValues('orders', 1, ['only-on-A']);
    await cluster.kill('A');
    await cluster.revive('C');
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'C', isr: ['C'], highWatermark: 3 });

    await cluster.revive('B');
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'C', isr: ['B', 'C'] });
  });
});

describe('finding 6: a copy that lost a race is finished, not dropped', () => {
  it('carries on from where the faster copier left the follower', async () => {
    const cluster = await cluster3();
    await cluster.kill('C');
    await cluster.produceValues('orders', 1, ['a', 'b'], { acks: 1 });
    const batch = cluster.deps.log.drainLeaderAppends();
    const hold = holdFirstCall<FollowerAppend>(
      cluster.deps.log as unknown as { [key: string]: unknown },
      'appendAsFollower',
      (append) => append.follower === 'B',
    );
    const copier = replicate(cluster.deps, batch);
    await hold.reached;
    // A faster copier with a shorter target got there first.
    await copyOnlyTo(cluster, 'B', batch.slice(0, 1));
    hold.release();
    await copier;

    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['v1', 'v2', 'v3', 'a', 'b']);
    expect((await cluster.partition('orders', 1)).highWatermark).toBe(5);
  });
});

describe('finding 7: a dropped stream record does not strand a partition on a dead broker', () => {
  it("elects a new leader on the reconciler's schedule when the leader's REMOVE never arrives", async () => {
    const cluster = await cluster3();
    await lapse(cluster, 'A'); // the REMOVE went to the DLQ

    const { events } = await reconcile(cluster.deps);

    expect(events).toContainEqual(expect.objectContaining({ reason: 'LEADER_FAILED', newLeader: 'B', leaderEpoch: 1 }));
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'B', isr: ['B', 'C'] });
    await cluster.produceValues('orders', 1, ['after']);
    expect(await committed(cluster)).toEqual(['v1', 'v2', 'v3', 'after']);
  });

  it('drops a follower that has lacked a record for longer than replica.lag.time.max.ms, and lets it back once level', async () => {
    let replicating = true;
    const cluster = await cluster3({}, { whileWaiting: (harness) => (replicating ? harness.replicateAll() : Promise.resolve()) });
    replicating = false;
    await cluster.produceValues('orders', 1, ['late'], { acks: 1 });
    await copyOnlyTo(cluster, 'B', cluster.deps.log.drainLeaderAppends());
    await cluster.elapse(cluster.deps.settings.replicaLagMaxMs / 2);
    expect((await reconcile(cluster.deps)).events).toEqual([]);
    await cluster.produceValues('orders', 1, ['later'], { acks: 1 });
    await copyOnlyTo(cluster, 'B', cluster.deps.log.drainLeaderAppends());
    await cluster.elapse(cluster.deps.settings.replicaLagMaxMs + HEARTBEAT_INTERVAL_MS);

    const { events } = await reconcile(cluster.deps);

    expect(events.map((e) => [e.reason, e.isr])).toEqual([
      ['ISR_SHRUNK', ['A', 'B']],
      ['ISR_EXPANDED', ['A', 'B', 'C']],
    ]);
    expect(cluster.valuesOn('orders', 1, 'C')).toEqual(['v1', 'v2', 'v3', 'late', 'later']);
    expect((await cluster.partition('orders', 1)).highWatermark).toBe(5);
  });
});
