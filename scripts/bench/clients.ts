/**
 * `npm run bench:clients`: clients through a failover and through a controlled shutdown.
 *
 * 5 brokers A-E. Each scenario has its own topic (RF 3, min.insync.replicas 2, `partitions`
 * partitions) and, per partition, one Producer loop (one 1 KiB record per send, acks=all,
 * the client's default retries) and one Consumer loop (poll, default retries), each on its
 * own connection:
 *  1. kill: A (a leader of some partitions) stops heartbeating; the loops run until every
 *     partition A led has been read from its new leader, and `tail-ms` longer.
 *  2. controlled shutdown: B stops heartbeating and at once asks the ControlledShutdown
 *     function to move its leaderships (its lease is still live); same loops.
 * Counted: failed sends and failed polls (errors after the client's retries), the retries
 * themselves; per partition whose leader changed, the unavailability = the gap between the
 * last successful read answered by the old leader and the first by the new one (and the
 * same for sends). Targets (issue 9): 0 failed calls in both; controlled shutdown: 0 failed
 * reads and unavailability p99 <= 100 ms.
 *
 *   npm run bench:clients -- --partitions 10 [--quick]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BrokerSimulator } from '../../client/broker-simulator.js';
import { Consumer } from '../../client/consumer.js';
import type { LeadershipClient } from '../../client/lambda-client.js';
import { Producer } from '../../client/producer.js';
import { summarize } from '../../test/support/stats.js';
import { startBenchCloud, type BenchCloud } from './lib/cloud.js';
import { machine, writeResult } from './lib/results.js';

const { values: args } = parseArgs({
  options: {
    partitions: { type: 'string', default: '10' },
    'session-timeout-ms': { type: 'string', default: '6000' },
    'tail-ms': { type: 'string', default: '3000' },
    quick: { type: 'boolean', default: false },
  },
});
const settings = {
  brokers: ['A', 'B', 'C', 'D', 'E'],
  partitions: args.quick ? 5 : Number(args.partitions),
  replicationFactor: 3,
  minInsyncReplicas: 2,
  sessionTimeoutMs: Number(args['session-timeout-ms']),
  heartbeatIntervalMs: 1000,
  tailMs: Number(args['tail-ms']),
  warmMs: 2000,
  valueBytes: 1024,
  sendPauseMs: 20,
};

const bench = await startBenchCloud({ name: 'clients', sessionTimeoutMs: settings.sessionTimeoutMs, keepLambdaLog: true });
const admin = bench.newClient();
const incarnations = new Map<string, number>();
const simulator = new BrokerSimulator(admin, {
  heartbeatIntervalMs: settings.heartbeatIntervalMs,
  onHeartbeat: (id, response) => incarnations.set(id, response.incarnation),
});
try {
  await simulator.start(settings.brokers);
  const kill = await scenario(bench, 'kill', 'A', async () => {
    const { leaseDeadlineMs } = await simulator.kill('A');
    return { leaseDeadlineMs };
  });
  console.log(summaryLine(kill));
  const shutdown = await scenario(bench, 'controlled-shutdown', 'B', async () => {
    await simulator.kill('B');
    const answer = await admin.controlledShutdown('B', incarnations.get('B')!);
    return { answer };
  });
  console.log(summaryLine(shutdown));
  const result = {
    benchmark: 'clients-during-failover',
    at: new Date().toISOString(),
    machine: machine(),
    settings: { ...settings, quick: args.quick },
    scenarios: [kill, shutdown],
    targets: {
      failedCallsAfterRetries: { target: 0, kill: kill.failedSends + kill.failedPolls, controlledShutdown: shutdown.failedSends + shutdown.failedPolls },
      controlledShutdownFailedReads: { target: 0, measured: shutdown.failedPolls, met: shutdown.failedPolls === 0 },
      controlledShutdownReadUnavailabilityP99Ms: { target: 100, measured: shutdown.readUnavailabilityMs.p99, met: shutdown.readUnavailabilityMs.p99 <= 100 },
    },
  };
  writeResult('clients', result);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await simulator.stop();
  await bench.stop();
}

function summaryLine(s: Awaited<ReturnType<typeof scenario>>): string {
  return (
    `${s.name}: ${s.sends} sends (${s.failedSends} failed, ${s.sendRetries} retries), ${s.polls} polls (${s.failedPolls} failed, ${s.pollRetries} retries); ` +
    `${s.moved.length} partitions moved; read unavailability p50 ${s.readUnavailabilityMs.p50} ms p99 ${s.readUnavailabilityMs.p99} ms; ` +
    `send unavailability p50 ${s.sendUnavailabilityMs.p50} ms p99 ${s.sendUnavailabilityMs.p99} ms`
  );
}

interface Success {
  at: number;
  leader: string;
}

async function scenario(bench: BenchCloud, name: string, victim: string, act: () => Promise<unknown>) {
  const topic = `clients-${name}`;
  const created = await admin.createTopic({
    topic,
    partitions: settings.partitions,
    replicationFactor: settings.replicationFactor,
    minInsyncReplicas: settings.minInsyncReplicas,
  });
  const ledByVictim = created.assignments.filter((view) => view.Leader === victim).map((view) => view.Partition);
  const partitions = created.assignments.map((view) => view.Partition);
  const value = 'x'.repeat(settings.valueBytes);
  let running = true;
  let sends = 0;
  let polls = 0;
  let failedSends = 0;
  let failedPolls = 0;
  let sendRetries = 0;
  let pollRetries = 0;
  const failures: string[] = [];
  const reads = new Map<number, Success[]>(partitions.map((p) => [p, []]));
  const writes = new Map<number, Success[]>(partitions.map((p) => [p, []]));
  const onSendRetry = () => void (sendRetries += 1);
  const onPollRetry = () => void (pollRetries += 1);

  const producerLoop = async (client: LeadershipClient, partition: number) => {
    const producer = new Producer(client, { onRetry: onSendRetry });
    for (let i = 0; running; i += 1) {
      try {
        const ack = await producer.send(topic, partition, [{ key: `k${i}`, value }]);
        sends += 1;
        writes.get(partition)!.push({ at: Date.now(), leader: ack.leader });
      } catch (error) {
        failedSends += 1;
        failures.push(`send ${topic}-${partition}: ${(error as Error).message}`);
      }
      await sleep(settings.sendPauseMs);
    }
  };
  const consumerLoop = async (client: LeadershipClient, partition: number) => {
    const consumer = new Consumer(client, { onRetry: onPollRetry });
    consumer.assign([{ topic, partition }]);
    while (running) {
      try {
        await consumer.poll();
        polls += 1;
        const { leader } = await consumer.metadata.leadership(topic, partition);
        reads.get(partition)!.push({ at: Date.now(), leader: leader ?? '(none)' });
      } catch (error) {
        failedPolls += 1;
        failures.push(`poll ${topic}-${partition}: ${(error as Error).message}`);
      }
    }
  };
  const loops = partitions.flatMap((partition) => [producerLoop(bench.newClient(), partition), consumerLoop(bench.newClient(), partition)]);
  await sleep(settings.warmMs);
  const actedAt = Date.now();
  const outcome = await act();
  // Until every partition the victim led was read from another leader, then the tail.
  const deadline = Date.now() + settings.sessionTimeoutMs * 10;
  while (Date.now() < deadline && !ledByVictim.every((p) => reads.get(p)!.some((read) => read.at > actedAt && read.leader !== victim))) await sleep(50);
  await sleep(settings.tailMs);
  running = false;
  await Promise.all(loops);

  const moved = partitions.filter((p) => {
    const seen = new Set(reads.get(p)!.map((read) => read.leader));
    return seen.size > 1;
  });
  const gap = (successes: Success[]) => {
    // The longest gap between two successes in a row answered by different leaders.
    let longest = 0;
    for (let i = 1; i < successes.length; i += 1) {
      if (successes[i].leader !== successes[i - 1].leader) longest = Math.max(longest, successes[i].at - successes[i - 1].at);
    }
    return longest;
  };
  const readGaps = moved.map((p) => gap(reads.get(p)!));
  // Where the read gap goes, when the act reports its leadership moves with their times
  // (the controlled shutdown does): until the move is written, and from it to the first
  // read answered by the new leader.
  const movedAt = new Map<number, number>();
  const events = (outcome as { answer?: { events?: Array<{ topic: string; partition: number; newLeader: string | null; at: number }> } }).answer?.events ?? [];
  for (const event of events) if (event.topic === topic && event.newLeader !== victim) movedAt.set(event.partition, event.at);
  const split = moved.flatMap((p) => {
    const at = movedAt.get(p);
    const list = reads.get(p)!;
    const firstNew = list.find((read, i) => i > 0 && read.leader !== list[i - 1].leader);
    const lastOld = firstNew ? list[list.indexOf(firstNew) - 1] : undefined;
    return at === undefined || !firstNew || !lastOld ? [] : [{ partition: p, lastOldReadToMoveMs: at - lastOld.at, moveToFirstNewReadMs: firstNew.at - at }];
  });
  const sendGaps = moved.map((p) => gap(writes.get(p)!)).filter((ms) => ms > 0);
  return {
    name,
    victim,
    topic,
    ledByVictim,
    moved,
    actedAt,
    outcome,
    sends,
    failedSends,
    sendRetries,
    polls,
    failedPolls,
    pollRetries,
    failures: failures.slice(0, 20),
    readUnavailabilityMs: summarize(readGaps),
    sendUnavailabilityMs: summarize(sendGaps),
    perPartition: moved.map((p, i) => ({ partition: p, readGapMs: readGaps[i], sendGapMs: gap(writes.get(p)!) })),
    readGapSplit: split,
  };
}
