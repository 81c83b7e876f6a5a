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
 * Where the read gap goes, per scenario: every consume call of the consumer loops is timed
 * (LeadershipClient's onInvoke), so each moved partition's gap is listed call by call (the
 * refused call, any pause of the client, the retry); the read cadence of the loops away from
 * any move (the interval between two reads in a row by the same leader: the gap a move
 * cannot go below) and the consume call durations are summarized; and the embedded cloud's
 * DynamoDB statistics (per caller: requests/s, time queued for DynamoDB Local, time served)
 * are taken over the scenario, which shows how much of each call is queueing.
 *
 * `--empty-poll-pause-ms N` (default 0) makes each consumer loop sleep N ms after an empty
 * poll: an experiment on poll pacing, not the measured configuration. `--out NAME` writes
 * bench-results/NAME.json instead of clients.json; the load sweep (the same scenarios with
 * fewer or more partitions, so fewer or more client loops on the one DynamoDB Local) is
 *   for n in 1 3 5 10 20; do npm run bench:clients -- --partitions $n --out clients-load-p$n; done
 * and `npm run bench:plot` draws it (clients-load.svg).
 *
 *   npm run bench:clients -- --partitions 10 [--quick]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BrokerSimulator } from '../../client/broker-simulator.js';
import { Consumer } from '../../client/consumer.js';
import { RemoteFunctionError, type ConsumeResponse, type FetchResponse, type InvokeRecord, type LeadershipClient } from '../../client/lambda-client.js';
import type { CallerStats } from '../../localcloud/fair-share.js';
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
    'empty-poll-pause-ms': { type: 'string', default: '0' },
    out: { type: 'string', default: 'clients' },
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
  emptyPollPauseMs: Number(args['empty-poll-pause-ms']),
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
  writeResult(args.out, result);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await simulator.stop();
  await bench.stop();
}

function summaryLine(s: Awaited<ReturnType<typeof scenario>>): string {
  return (
    `${s.name}: ${s.sends} sends (${s.failedSends} failed, ${s.sendRetries} retries), ${s.polls} polls (${s.failedPolls} failed, ${s.pollRetries} retries); ` +
    `${s.moved.length} partitions moved; read unavailability p50 ${s.readUnavailabilityMs.p50} ms p99 ${s.readUnavailabilityMs.p99} ms; ` +
    `send unavailability p50 ${s.sendUnavailabilityMs.p50} ms p99 ${s.sendUnavailabilityMs.p99} ms\n` +
    `  read cadence away from moves p50 ${s.readCadenceMs.p50} ms p99 ${s.readCadenceMs.p99} ms; consume call p50 ${s.consumeCallMs.ok.p50} ms p99 ${s.consumeCallMs.ok.p99} ms ` +
    `(${Math.round(100 * s.consumeCallMs.emptyShare)} % empty, ${s.consumeCallMs.dynamodbRequestsPerCall} DynamoDB requests per call); DynamoDB Local busy ${Math.round(100 * s.dynamodb.busyShare)} % of the window, ` +
    s.dynamodb.callers.slice(0, 4).map((c) => `${c.caller} ${c.perSecond}/s wait ${c.meanWaitMs} serve ${c.meanServeMs} ms`).join(', ') +
    s.moveTimelines.map((t) => `\n  ${s.topic}-${t.partition}: gap ${t.gapMs} ms = ` + t.calls.map((c) => `[+${c.startMs} ${c.tookMs} ms ${c.outcome}]`).join(' ')).join('')
  );
}

interface Success {
  at: number;
  leader: string;
}

/** One invoke of a consumer loop: a consume, or a describe (a metadata refresh). */
interface ConsumeCall {
  kind: 'consume' | 'describe';
  startedAt: number;
  endedAt: number;
  /** 'ok', or the error type (FencedLeaderEpochError...) or the fault's name. */
  outcome: string;
  /** The leader that answered (ok only). */
  leader?: string;
  records?: number;
}

function consumeCallOf(kind: ConsumeCall['kind'], record: InvokeRecord): ConsumeCall {
  const { startedAt, endedAt, answer, error } = record;
  if (error !== undefined) return { kind, startedAt, endedAt, outcome: error instanceof RemoteFunctionError ? error.errorType : (error as Error).name };
  if (kind === 'describe') return { kind, startedAt, endedAt, outcome: 'ok' };
  // The consumer polls with a fetch of its one partition: a refusal is that partition's answer.
  const fetched = answer as FetchResponse | ConsumeResponse;
  const partition = 'partitions' in fetched ? fetched.partitions[0] : fetched;
  if ('errorType' in partition) return { kind, startedAt, endedAt, outcome: partition.errorType };
  return { kind, startedAt, endedAt, outcome: 'ok', leader: partition.leader, records: partition.records.length };
}

/** Per caller over a window: requests/s, mean queueing and service per request (ms), and the share of the window DynamoDB Local was busy for it. */
function dynamodbWindow(before: Record<string, CallerStats>, after: Record<string, CallerStats>, windowMs: number) {
  const rows = Object.entries(after).map(([caller, end]) => {
    const start = before[caller] ?? { requests: 0, waitMs: 0, serveMs: 0, maxWaitMs: 0 };
    const requests = end.requests - start.requests;
    const serveMs = end.serveMs - start.serveMs;
    return {
      caller: caller.replace(/^lambda:PartitionLeadershipBench\w+?-/, 'lambda:').replace(/[A-F0-9]{8}$/, ''),
      requests,
      perSecond: round1((requests * 1000) / windowMs),
      meanWaitMs: requests ? round1((end.waitMs - start.waitMs) / requests) : 0,
      meanServeMs: requests ? round1(serveMs / requests) : 0,
      busyShare: round1((100 * serveMs) / windowMs) / 100,
    };
  });
  rows.sort((a, b) => b.requests - a.requests);
  return { windowMs, requests: rows.reduce((sum, row) => sum + row.requests, 0), busyShare: round1(100 * rows.reduce((sum, row) => sum + row.busyShare, 0)) / 100, callers: rows.filter((row) => row.requests > 0) };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
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
  const calls = new Map<number, ConsumeCall[]>(partitions.map((p) => [p, []]));
  const consumerClient = (partition: number) =>
    bench.newClient({
      onInvoke: (record) => {
        if (record.functionName === bench.outputs.ConsumeFunctionName) calls.get(partition)!.push(consumeCallOf('consume', record));
        if (record.functionName === bench.outputs.DescribeFunctionName) calls.get(partition)!.push(consumeCallOf('describe', record));
      },
    });
  const consumerLoop = async (client: LeadershipClient, partition: number) => {
    const consumer = new Consumer(client, { onRetry: onPollRetry });
    consumer.assign([{ topic, partition }]);
    while (running) {
      try {
        const records = await consumer.poll();
        polls += 1;
        if (records.length === 0 && settings.emptyPollPauseMs > 0) await sleep(settings.emptyPollPauseMs);
        const { leader } = await consumer.metadata.leadership(topic, partition);
        reads.get(partition)!.push({ at: Date.now(), leader: leader ?? '(none)' });
      } catch (error) {
        failedPolls += 1;
        failures.push(`poll ${topic}-${partition}: ${(error as Error).message}`);
      }
    }
  };
  const loops = partitions.flatMap((partition) => [producerLoop(bench.newClient(), partition), consumerLoop(consumerClient(partition), partition)]);
  await sleep(settings.warmMs);
  const statsBefore = bench.cloud.dynamodbStats();
  const actedAt = Date.now();
  const outcome = await act();
  const answeredAt = Date.now();
  // Until every partition the victim led was read from another leader, then the tail.
  const deadline = Date.now() + settings.sessionTimeoutMs * 10;
  while (Date.now() < deadline && !ledByVictim.every((p) => reads.get(p)!.some((read) => read.at > actedAt && read.leader !== victim))) await sleep(50);
  await sleep(settings.tailMs);
  const windowEnd = Date.now();
  const dynamodb = dynamodbWindow(statsBefore, bench.cloud.dynamodbStats(), windowEnd - actedAt);
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
  // Each moved partition's gap, call by call: from the last read answered by the old leader
  // (ms after it: when each later consume call started, how long it took, how it ended).
  const moveTimelines = moved.flatMap((p) => {
    const list = calls.get(p)!;
    const read = (call: ConsumeCall) => call.kind === 'consume' && call.outcome === 'ok';
    const firstNew = list.findIndex((call, i) => read(call) && list.slice(0, i).some((c) => read(c) && c.leader !== call.leader));
    if (firstNew < 0) return [];
    let lastOld = firstNew - 1;
    while (lastOld >= 0 && !read(list[lastOld])) lastOld -= 1;
    if (lastOld < 0) return [];
    const from = list[lastOld].endedAt;
    return [
      {
        partition: p,
        lastOldReadAtMs: from - actedAt,
        shutdownAnsweredAtMs: answeredAt - actedAt,
        calls: list.slice(lastOld + 1, firstNew + 1).map((call) => ({
          startMs: call.startedAt - from,
          tookMs: call.endedAt - call.startedAt,
          outcome: call.kind === 'describe' ? `describe ${call.outcome}` : call.outcome === 'ok' ? `ok from ${call.leader} (${call.records} records)` : call.outcome,
        })),
        gapMs: list[firstNew].endedAt - from,
      },
    ];
  });
  // Away from any move: the interval between two successful reads in a row answered by the same leader.
  const cadence = [...calls.values()].flatMap((list) => {
    const ok = list.filter((call) => call.kind === 'consume' && call.outcome === 'ok' && call.startedAt >= actedAt);
    return ok.slice(1).flatMap((call, i) => (call.leader === ok[i].leader ? [call.endedAt - ok[i].endedAt] : []));
  });
  const consumeCalls = [...calls.values()].flat().filter((call) => call.kind === 'consume' && call.startedAt >= actedAt && call.endedAt <= windowEnd);
  const consumeCaller = dynamodb.callers.find((row) => row.caller.startsWith('lambda:Consume'));
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
    moveTimelines,
    readCadenceMs: summarize(cadence),
    consumeCallMs: {
      ok: summarize(consumeCalls.filter((call) => call.outcome === 'ok').map((call) => call.endedAt - call.startedAt)),
      refused: summarize(consumeCalls.filter((call) => call.outcome !== 'ok').map((call) => call.endedAt - call.startedAt)),
      emptyShare: round1((100 * consumeCalls.filter((call) => call.records === 0).length) / Math.max(1, consumeCalls.length)) / 100,
      // Approximate: the window's consume requests over the calls that both started and ended in it.
      dynamodbRequestsPerCall: consumeCaller && consumeCalls.length > 0 ? round1((100 * consumeCaller.requests) / consumeCalls.length) / 100 : null,
    },
    dynamodb,
  };
}
