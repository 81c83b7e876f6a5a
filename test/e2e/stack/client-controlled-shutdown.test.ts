import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import type { HeartbeatResponse, PartitionView } from '../../../client/lambda-client.js';
import {
  ClientLoad,
  expectExactlyOnceInOrder,
  instrumentedClient,
  longestSilenceMs,
  medianLatencyMs,
  retriedSendsKeptAtTheirFirstAppend,
  retrySummary,
  unavailability,
} from './client-load.js';
import { partitionOf, stackTarget, uniqueTopic, waitForLiveBrokers } from './support.js';

/**
 * Kafka's promise for a controlled shutdown: it is nearly invisible to clients. A producer
 * and a consumer run on the client over four partitions while the broker leading two of
 * them shuts down (its heartbeats stop, then ControlledShutdown while its lease runs): every send
 * is acknowledged, the consumer reads every committed offset exactly once, in order, and
 * the partitions it led move at epoch + 1 to their next in-sync replica without waiting
 * for a lease to lapse.
 */
describe('client: producer and consumer across a controlled shutdown', () => {
  const target = stackTarget();
  const topic = uniqueTopic('client-shutdown');
  const { client, calls, close } = instrumentedClient(target, topic);
  const brokers = ['csd-1', 'csd-2', 'csd-3'];
  const heartbeats: Array<{ brokerId: string; at: number; response: HeartbeatResponse }> = [];
  const simulator = new BrokerSimulator(client, {
    heartbeatIntervalMs: Math.max(200, Math.floor(target.sessionTimeoutMs / 6)),
    credentials: registerCredentials(client),
    onHeartbeat: (brokerId, response) => heartbeats.push({ brokerId, at: Date.now(), response }),
  });
  const incarnationOf = (brokerId: string) => heartbeats.filter((beat) => beat.brokerId === brokerId).at(-1)!.response.incarnation;
  const shutDown = new Set<string>();
  const partitions = [1, 2, 3, 4];

  beforeAll(async () => {
    await simulator.start(brokers);
    // Brokers of earlier files may still hold leases: the topic must be placed on these three only.
    await waitForLiveBrokers(client, brokers, target.sessionTimeoutMs * 8);
    await client.createTopic({ topic, partitions: partitions.length, replicationFactor: 2 });
  });

  afterAll(async () => {
    await simulator.stop();
    // Leave no live lease behind for the next file's topic placement.
    for (const brokerId of brokers.filter((id) => !shutDown.has(id))) await client.controlledShutdown(brokerId, incarnationOf(brokerId), simulator.credentialOf(brokerId)).catch(() => undefined);
    client.close();
    close();
  });

  it('acknowledges every send and delivers every offset exactly once, in order, with no wait for a lease to lapse', { timeout: 240_000 }, async () => {
    const before = (await client.describe(topic)).topics[0].partitions;
    const victim = partitionOf(before, 1).Leader!;
    const led = before.filter((view) => view.Leader === victim);
    expect(led.length, `${victim} leads partitions to hand over`).toBeGreaterThanOrEqual(1);

    const load = new ClientLoad(client, topic, partitions, Date.now() + 180_000);
    load.start();
    await load.waitForProgress(0, 10, 'ten acknowledged sends per partition before the shutdown');

    // The broker stops heartbeating (in-flight heartbeats settled), then asks for its
    // controlled shutdown while its lease still runs. Asking while still heartbeating, as a
    // Kafka broker does, races: a heartbeat of the old incarnation that reaches the store after
    // the shutdown deleted the lease registers the broker again as a new incarnation (seen in
    // about 1 run in 16, the assertion below), so the broker goes quiet first.
    const { leaseDeadlineMs } = await simulator.kill(victim);
    const atShutdown = (await client.describe(topic)).topics[0].partitions;
    const shutdownAt = Date.now();
    const result = await client.controlledShutdown(victim, incarnationOf(victim), simulator.credentialOf(victim));
    const shutdownDoneAt = Date.now();
    shutDown.add(victim);
    expect(shutdownDoneAt, 'the shutdown ended before the lease would have lapsed (else it tested a failover)').toBeLessThan(leaseDeadlineMs);

    await load.waitForProgress(shutdownDoneAt, 10, 'ten acknowledged sends per partition after the shutdown');
    const ends = await load.stop();
    const after = (await client.describe(topic)).topics[0].partitions;

    // The shutdown: every leadership moved (none left to a failover), the lease is gone.
    expect(result.movedLeaderships).toEqual(led.map((view) => `${topic}-${view.Partition}`).sort());
    expect(result.remainingLeaderships).toEqual([]);
    expect(result.deregistered).toBe(true);
    const reRegistered = heartbeats.filter((beat) => beat.brokerId === victim && beat.at >= shutdownAt);
    expect(reRegistered.map((beat) => beat.response.incarnation), `${victim} heartbeats after it stopped (a new incarnation would re-register it)`).toEqual([]);

    // Each moved partition: the next replica in assignment order that was in sync, at epoch + 1; the others untouched.
    for (const old of before) {
      const now = partitionOf(after, old.Partition);
      expect(now.Isr, `${topic}-${old.Partition} ISR`).not.toContain(victim);
      if (old.Leader === victim) {
        expect(now.Leader).toBe(expectedSuccessor(old, victim));
        expect(now.LeaderEpoch).toBe(old.LeaderEpoch + 1);
      } else {
        expect(now.Leader).toBe(old.Leader);
        expect(now.LeaderEpoch).toBe(old.LeaderEpoch);
      }
      expect(now.State).toBe('ONLINE');
    }

    // How visible it was: per moved partition, the last success at the old leader to the first at the new one.
    const moves = led.map((view) => unavailability(calls, view.Partition, view.LeaderEpoch)!);
    const stillLed = before.filter((view) => view.Leader !== victim);
    const silences = stillLed.map((view) => ({ partition: view.Partition, ms: longestSilenceMs(calls, view.Partition, shutdownAt, shutdownDoneAt) }));
    console.log(
      `[client-controlled-shutdown] ${victim} shut down in ${shutdownDoneAt - shutdownAt} ms (moved ${result.movedLeaderships.join(', ')}; ISRs left ${result.leftIsrs.join(', ') || 'none'}; ISRs just before: ${atShutdown.map((view) => `${view.Partition}:[${view.Isr.join(',')}]`).join(' ')}). ` +
        `${[...load.acks.values()].reduce((sum, acked) => sum + acked.length, 0)} sends acknowledged, ${[...load.consumed.values()].reduce((sum, read) => sum + read.length, 0)} records consumed; ` +
        `median call: produce ${medianLatencyMs(calls, 'produce')} ms, consume ${medianLatencyMs(calls, 'consume')} ms.\n` +
        moves
          .map(
            (move) =>
              `  ${topic}-${move.partition}: ${move.fromLeader}@${move.fromEpoch} -> ${move.toLeader}@${move.toEpoch}: unavailable ${move.gapMs} ms ` +
              `(produce ${move.produceGapMs ?? '-'} ms, consume ${move.consumeGapMs ?? '-'} ms)`,
          )
          .join('\n') +
        '\n' +
        silences.map(({ partition, ms }) => `  ${topic}-${partition}: leader kept; longest gap between successes around the shutdown ${ms} ms`).join('\n') +
        `\n  retries: ${retrySummary(load.retries)}; retried sends answered at their first append: ${retriedSendsKeptAtTheirFirstAppend(load).join(', ') || 'none'}`,
    );
    // Nothing failed, nothing was duplicated or skipped.
    expectExactlyOnceInOrder(load, ends, calls, 'client-controlled-shutdown');
    // Nearly invisible: no partition went without service for as long as a failover takes (a session timeout).
    for (const move of moves) {
      expect(move, 'the clients were served by both the old and the new leader').toBeDefined();
      expect.soft(move.gapMs, `${topic}-${move.partition} unavailable`).toBeLessThan(target.sessionTimeoutMs);
    }
    for (const { partition, ms } of silences) expect.soft(ms, `${topic}-${partition} unavailable`).toBeLessThan(target.sessionTimeoutMs);
  });
});

/** Kafka's controlled-shutdown election: the first replica in assignment order, other than the broker leaving, that is in the ISR. */
function expectedSuccessor(view: PartitionView, leaving: string): string {
  const successor = view.Replicas.find((replica) => replica !== leaving && view.Isr.includes(replica));
  if (!successor) throw new Error(`${view.Topic}-${view.Partition} has no in-sync replica besides ${leaving}`);
  return successor;
}
