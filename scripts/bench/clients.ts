/**
 * `npm run bench:clients`: clients through a failover and through a controlled shutdown.
 *
 * 5 brokers A-E. Each scenario has its own topic (RF 3, min.insync.replicas 2, `partitions`
 * partitions), per partition one Producer loop (one 1 KiB record per send, acks=all, the
 * client's default retries) that starts a send every `send-interval-ms` (or at once when
 * the last one took longer), and `consumers` Consumer loops (default 1) that share the
 * partitions round-robin and poll back to back (each poll one fetch of all of theirs, default
 * retries), each loop on its own connection:
 *  1. kill: A (a leader of some partitions) stops heartbeating; the loops run until every
 *     partition A led has been read from its new leader, and `tail-ms` longer.
 *  2. controlled shutdown: B stops heartbeating and at once asks the ControlledShutdown
 *     function to move its leaderships (its lease is still live); same loops.
 * Counted: failed sends and failed polls (errors after the client's retries), the retries
 * themselves; per partition whose leader changed, the unavailability = the gap between the
 * last successful read answered by the old leader and the first by the new one (and the
 * same for sends). A read is one partition's answer in a consume call (a fetch answers each
 * of its partitions, or refuses it). Targets: 0 failed calls in both; controlled
 * shutdown: 0 failed reads and unavailability p99 <= 100 ms.
 *
 * The load is a choice, so it is stated and measured (DynamoDB Local's busy share over the
 * scenario): on a 2-core machine running the whole cloud, at about 350 DynamoDB requests/s
 * DynamoDB Local is saturated (an acks=all send of one record costs about 13 of them, the stream's
 * replicate included). Saturated, every call waits in line, and two reads in a row with no
 * move at all are already 200 ms apart at p99: a gap the target cannot be judged by. The
 * default load (10 partitions, a send every second each, one consumer) keeps it below that;
 * the saturated shape is
 *   npm run bench:clients -- --consumers 10 --send-interval-ms 20 --out clients-saturated
 *
 * Where the read gap goes, per scenario: every consume call of the consumer loops is timed
 * (LeadershipClient's onInvoke), so each moved partition's gap is listed call by call (the
 * refused call, any pause of the client, the retry); the read cadence of the loops away from
 * any move (the interval between two reads in a row by the same leader: the gap a move
 * cannot go below) and the consume call durations are summarized; and the embedded cloud's
 * DynamoDB statistics (per caller: requests/s, time queued for DynamoDB Local, time served)
 * are taken over the scenario, which shows how much of each call is queueing.
 *
 * Cost (each scenario's `cost`): from the act to the end of the loops, what the record path,
 * the failure detector and the controlled shutdown would bill on AWS, per million records
 * sent in that time (each also read back by the consumer loops; lib/cost.ts). The brokers'
 * heartbeats are left out: they are the idle floor bench:cost reports.
 *
 * `--empty-poll-pause-ms N` (default 0) makes each consumer loop sleep N ms after an empty
 * poll: an experiment on poll pacing, not the measured configuration. `--out NAME` writes
 * bench-results/NAME.json instead of clients.json, for experiments such as the load sweep
 * (the same scenarios with a send every 20 ms per partition and a consumer per partition,
 * for fewer or more partitions, so fewer or more client loops on the one DynamoDB Local):
 *   for n in 1 3 5 10 20; do npm run bench:clients -- --partitions $n --consumers $n --send-interval-ms 20 --out clients-load-p$n; done
 * bench-results/ keeps only the canonical clients.json: a cited experiment moves to
 * bench-results/archive/<date>/ (docs/benchmarks.md).
 *
 *   npm run bench:clients -- --partitions 10 [--quick]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BrokerSimulator, registerCredentials } from '../../client/broker-simulator.js';
import { Consumer } from '../../client/consumer.js';
import { RemoteFunctionError, type ConsumeResponse, type FetchResponse, type InvokeRecord, type LeadershipClient } from '../../client/lambda-client.js';
import type { CallerStats } from '../../localcloud/edge/fair-share.js';
import { Producer } from '../../client/producer.js';
import { summarize } from '../../tools/stats.js';
import { startBenchCloud, type BenchCloud } from './lib/cloud.js';
import { startRun, writeResult } from './lib/results.js';
import { recordPathFunctions, startCostPhase } from './lib/cost.js';
import { costSummary } from '../../web/bench-charts.js';

const { values: args } = parseArgs({
  options: {
    partitions: { type: 'string', default: '10' },
    consumers: { type: 'string', default: '1' },
    'send-interval-ms': { type: 'string', default: '1000' },
    'session-timeout-ms': { type: 'string', default: '6000' },
    'tail-ms': { type: 'string', default: '3000' },
    quick: { type: 'boolean', default: false },
    'empty-poll-pause-ms': { type: 'string', default: '0' },
    out: { type: 'string', default: 'clients' },
  },
});
const provenance = startRun('clients');
const settings = {
  brokers: ['A', 'B', 'C', 'D', 'E'],
  partitions: args.quick ? 5 : Number(args.partitions),
  consumers: Number(args.consumers),
  replicationFactor: 3,
  minInsyncReplicas: 2,
  sessionTimeoutMs: Number(args['session-timeout-ms']),
  heartbeatIntervalMs: 1000,
  tailMs: Number(args['tail-ms']),
  warmMs: 2000,
  valueBytes: 1024,
  sendIntervalMs: Number(args['send-interval-ms']),
  emptyPollPauseMs: Number(args['empty-poll-pause-ms']),
};

for (const [flag, value, min] of [
  ['--partitions', settings.partitions, 1],
  ['--consumers', settings.consumers, 1],
  ['--send-interval-ms', settings.sendIntervalMs, 0],
  ['--empty-poll-pause-ms', settings.emptyPollPauseMs, 0],
] as const) {
  if (!Number.isInteger(value) || value < min) throw new Error(`${flag} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
}
if (settings.consumers > settings.partitions) throw new Error(`--consumers (${settings.consumers}) must not exceed --partitions (${settings.partitions}): a consumer reads at least one partition`);

const bench = await startBenchCloud({ name: 'clients', sessionTimeoutMs: settings.sessionTimeoutMs, keepLambdaLog: true, meterUsage: true });
const admin = bench.newClient();
const incarnations = new Map<string, number>();
const simulator = new BrokerSimulator(admin, {
  credentials: registerCredentials(admin),
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
    const answer = await admin.controlledShutdown('B', incarnations.get('B')!, simulator.credentialOf('B'));
    return { answer };
  });
  console.log(summaryLine(shutdown));
  const result = {
    benchmark: 'clients-during-failover',
    settings: { ...settings, quick: args.quick },
    scenarios: [kill, shutdown],
    targets: {
      failedCallsAfterRetries: { target: 0, kill: kill.failedSends + kill.failedPolls, controlledShutdown: shutdown.failedSends + shutdown.failedPolls },
      controlledShutdownFailedReads: { target: 0, measured: shutdown.failedPolls, met: shutdown.failedPolls === 0 },
      controlledShutdownReadUnavailabilityP99Ms: { target: 100, measured: shutdown.readUnavailabilityMs.p99, met: shutdown.readUnavailabilityMs.p99 <= 100 },
    },
  };
  writeResult(args.out, provenance, result);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await simulator.stop();
  await bench.stop();
}

function summaryLine(s: Awaited<ReturnType<typeof scenario>>): string {
  return (
    `${s.name}: load ${s.load.sendsPerSecond} sends/s, ${s.load.readsPerSecond} partition reads/s in ${s.load.consumeCallsPerSecond} consume calls/s; ` +
    `${s.sends} sends (${s.failedSends} failed, ${s.sendRetries} retries), ${s.polls} polls (${s.failedPolls} failed, ${s.pollRetries} retries); ` +
    `${s.moved.length} partitions moved; ${costSummary(s.cost)}; read unavailability p50 ${s.readUnavailabilityMs.p50} ms p99 ${s.readUnavailabilityMs.p99} ms; ` +
    `send unavailability p50 ${s.sendUnavailabilityMs.p50} ms p99 ${s.sendUnavailabilityMs.p99} ms; ` +
    `the send across the move p50 ${s.sendAcrossMoveMs.p50} ms p99 ${s.sendAcrossMoveMs.p99} ms (other sends p50 ${s.sendMs.p50} ms p99 ${s.sendMs.p99} ms)\n` +
    `  read cadence away from moves p50 ${s.readCadenceMs.p50} ms p99 ${s.readCadenceMs.p99} ms; consume call p50 ${s.consumeCallMs.ok.p50} ms p99 ${s.consumeCallMs.ok.p99} ms ` +
    `(${Math.round(100 * s.consumeCallMs.emptyShare)} % empty, ${s.consumeCallMs.dynamodbRequestsPerCall} DynamoDB requests per call); DynamoDB Local busy ${Math.round(100 * s.dynamodb.busyShare)} % of the window, ` +
    s.dynamodb.callers.slice(0, 4).map((c) => `${c.caller} ${c.perSecond}/s wait ${c.meanWaitMs} serve ${c.meanServeMs} ms`).join(', ') +
    s.moveTimelines.map((t) => `\n  ${s.topic}-${t.partition}: gap ${t.gapMs} ms = ` + t.calls.map((c) => `[+${c.startMs} ${c.tookMs} ms ${c.outcome}]`).join(' ')).join('') +
    s.sendTimelines.map((t) => `\n  send ${s.topic}-${t.partition}: gap ${t.gapMs} ms = ` + t.calls.map((c) => `[+${c.startMs} ${c.tookMs} ms ${c.fn} ${c.outcome}]`).join(' ')).join('')
  );
}

interface Success {
  at: number;
  leader: string;
  /** Sends only: when the send began (its retries are inside it). */
  startedAt?: number;
}

/** One partition's part of a consume call: its answer ('ok', with the leader) or its refusal. */
interface PartitionOutcome {
  partition: number;
  /** 'ok', or the error type (FencedLeaderEpochError...). */
  outcome: string;
  leader?: string;
  records?: number;
}

/** One invoke of a consumer loop: a consume (a fetch), or a describe (a metadata refresh). */
interface ConsumeCall {
  kind: 'consume' | 'describe';
  startedAt: number;
  endedAt: number;
  /** 'ok' (the call answered, its partitions may still be refused one by one), or the fault's error type or name. */
  outcome: string;
  partitions: PartitionOutcome[];
}

/** A failed invoke as the benchmark names it: the function's error type, or the fault's name. */
function failureName(error: unknown): string {
  return error instanceof RemoteFunctionError ? error.errorType : (error as Error).name;
}

function consumeCallOf(kind: ConsumeCall['kind'], record: InvokeRecord): ConsumeCall {
  const { startedAt, endedAt, answer, error } = record;
  const call = { kind, startedAt, endedAt };
  if (error !== undefined) return { ...call, outcome: failureName(error), partitions: [] };
  if (kind === 'describe') return { ...call, outcome: 'ok', partitions: [] };
  // The consumers poll with fetches: each partition is answered or refused on its own.
  const fetched = answer as FetchResponse | ConsumeResponse;
  const answers = 'partitions' in fetched ? fetched.partitions : [fetched];
  return {
    ...call,
    outcome: 'ok',
    partitions: answers.map((part) =>
      'errorType' in part
        ? { partition: part.partition, outcome: part.errorType }
        : { partition: part.partition, outcome: 'ok', leader: part.leader, records: part.records.length },
    ),
  };
}

/** The call as partition `p` saw it: for a fetch, p's own outcome; a describe or a failed call, as it was. */
function callFor(call: ConsumeCall, p: number): { outcome: string; leader?: string; records?: number } | undefined {
  if (call.kind === 'describe' || call.outcome !== 'ok') return { outcome: call.kind === 'describe' ? `describe ${call.outcome}` : call.outcome };
  return call.partitions.find((part) => part.partition === p);
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
    // lingerMs 0: one awaited record per send leaves nothing to gather, and each send's gap is timed as one call.
    const producer = new Producer(client, { onRetry: onSendRetry, lingerMs: 0 });
    for (let i = 0; running; i += 1) {
      const started = Date.now();
      try {
        const ack = await producer.send(topic, partition, [{ key: `k${i}`, value }]);
        sends += 1;
        writes.get(partition)!.push({ at: Date.now(), leader: ack.leader, startedAt: started });
      } catch (error) {
        failedSends += 1;
        failures.push(`send ${topic}-${partition}: ${(error as Error).message}`);
      }
      await sleep(Math.max(0, started + settings.sendIntervalMs - Date.now()));
    }
  };
  // Every invoke of a producer loop (produce, describe, init-producer-id), in order: where a send gap goes.
  const sendCalls = new Map<number, Array<{ fn: string; startedAt: number; endedAt: number; outcome: string }>>(partitions.map((p) => [p, []]));
  const producerClient = (partition: number) =>
    bench.newClient({
      onInvoke: ({ functionName, startedAt, endedAt, answer, error }) => {
        const fn = functionName === bench.outputs.ProduceFunctionName ? 'produce' : functionName === bench.outputs.DescribeFunctionName ? 'describe' : 'other';
        const from = fn === 'produce' && error === undefined ? ` from ${(answer as { leader: string }).leader}` : '';
        const outcome = error === undefined ? `ok${from}` : failureName(error);
        sendCalls.get(partition)!.push({ fn, startedAt, endedAt, outcome });
      },
    });
  // Consumer c reads partitions c, c + consumers, ... (in assignment order); its calls are kept in order.
  const assigned = Array.from({ length: settings.consumers }, (_, c) => partitions.filter((_, i) => i % settings.consumers === c));
  const callsOf = assigned.map(() => [] as ConsumeCall[]);
  const consumerOf = new Map(assigned.flatMap((ps, c) => ps.map((p) => [p, c] as const)));
  const consumerClient = (c: number) =>
    bench.newClient({
      onInvoke: (record) => {
        const kind = record.functionName === bench.outputs.ConsumeFunctionName ? 'consume' : record.functionName === bench.outputs.DescribeFunctionName ? 'describe' : undefined;
        if (!kind) return;
        const call = consumeCallOf(kind, record);
        callsOf[c].push(call);
        for (const part of call.partitions) if (part.outcome === 'ok') reads.get(part.partition)!.push({ at: call.endedAt, leader: part.leader! });
      },
    });
  const consumerLoop = async (client: LeadershipClient, mine: number[]) => {
    const consumer = new Consumer(client, { onRetry: onPollRetry });
    consumer.assign(mine.map((partition) => ({ topic, partition })));
    while (running) {
      try {
        const records = await consumer.poll();
        polls += 1;
        if (records.length === 0 && settings.emptyPollPauseMs > 0) await sleep(settings.emptyPollPauseMs);
      } catch (error) {
        failedPolls += 1;
        failures.push(`poll ${topic} ${mine.join(',')}: ${(error as Error).message}`);
      }
    }
  };
  const loops = [
    ...partitions.map((partition) => producerLoop(producerClient(partition), partition)),
    ...assigned.map((mine, c) => consumerLoop(consumerClient(c), mine)),
  ];
  await sleep(settings.warmMs);
  const statsBefore = bench.cloud.dynamodbStats();
  const costPhase = startCostPhase(bench.cloud, {
    functions: [...recordPathFunctions(bench.outputs), bench.outputs.FailureDetectorFunctionName, bench.outputs.ControlledShutdownFunctionName],
  });
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
  const sentSinceAct = [...writes.values()].flat().filter((write) => write.at >= actedAt).length;
  const cost = await costPhase.finish({ records: sentSinceAct });

  const moved = partitions.filter((p) => {
    const seen = new Set(reads.get(p)!.map((read) => read.leader));
    return seen.size > 1;
  });
  // The move in a list of successes: the index of the later of the two in a row answered by
  // different leaders with the longest gap between them (-1: none), and that gap.
  const moveIn = (successes: Success[]): number => {
    let at = -1;
    for (let i = 1; i < successes.length; i += 1) {
      const spans = successes[i].leader !== successes[i - 1].leader;
      if (spans && (at < 0 || successes[i].at - successes[i - 1].at > successes[at].at - successes[at - 1].at)) at = i;
    }
    return at;
  };
  const gap = (successes: Success[]): number => {
    const at = moveIn(successes);
    return at < 0 ? 0 : successes[at].at - successes[at - 1].at;
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
  // Each moved partition's gap, call by call of its consumer: from the last read answered by
  // the old leader (ms after it: when each later call started, how long it took, how it ended
  // for this partition).
  const moveTimelines = moved.flatMap((p) => {
    const list = callsOf[consumerOf.get(p)!].flatMap((call) => {
      const seen = callFor(call, p);
      return seen ? [{ call, seen }] : [];
    });
    const read = ({ seen }: (typeof list)[number]) => seen.outcome === 'ok';
    const firstLeader = list.find(read)?.seen.leader;
    const firstNew = list.findIndex((entry) => read(entry) && entry.seen.leader !== firstLeader);
    if (firstNew < 0) return [];
    let lastOld = firstNew - 1;
    while (lastOld >= 0 && !read(list[lastOld])) lastOld -= 1;
    if (lastOld < 0) return [];
    const from = list[lastOld].call.endedAt;
    return [
      {
        partition: p,
        lastOldReadAtMs: from - actedAt,
        shutdownAnsweredAtMs: answeredAt - actedAt,
        calls: list.slice(lastOld + 1, firstNew + 1).map(({ call, seen }) => ({
          startMs: call.startedAt - from,
          tookMs: call.endedAt - call.startedAt,
          outcome: seen.outcome === 'ok' ? `ok from ${seen.leader} (${seen.records} records)` : seen.outcome,
        })),
        gapMs: list[firstNew].call.endedAt - from,
      },
    ];
  });
  // Away from any move: the interval between two successful reads of a partition in a row answered by the same leader.
  const cadence = partitions.flatMap((p) => {
    const ok = reads.get(p)!.filter((read) => read.at >= actedAt);
    return ok.slice(1).flatMap((read, i) => (read.leader === ok[i].leader ? [read.at - ok[i].at] : []));
  });
  const consumeCalls = callsOf.flat().filter((call) => call.kind === 'consume' && call.startedAt >= actedAt && call.endedAt <= windowEnd);
  const consumeCaller = dynamodb.callers.find((row) => row.caller.startsWith('lambda:Consume'));
  const sendGaps = moved.map((p) => gap(writes.get(p)!)).filter((ms) => ms > 0);
  // A send every sendIntervalMs makes the gap between acks at least that long, move or not; what
  // the move costs a producer shows in the send that crossed it: from its start (its refused
  // call and retries inside) to its ack by the new leader, against every other send's duration.
  const crossing = moved.flatMap((p) => {
    const list = writes.get(p)!;
    const first = list.findIndex((w, i) => i > 0 && w.leader !== list[i - 1].leader);
    return first < 0 ? [] : [list[first]];
  });
  const sendAcrossMoveMs = crossing.map((w) => w.at - w.startedAt!);
  const sendMs = [...writes.values()].flat().filter((w) => w.at >= actedAt && w.at <= windowEnd && !crossing.includes(w)).map((w) => w.at - w.startedAt!);
  // Each moved partition's longest send gap, call by call of its producer (as moveTimelines for reads).
  const sendTimelines = moved.flatMap((p) => {
    const list = writes.get(p)!;
    const at = moveIn(list);
    if (at < 0) return [];
    const from = list[at - 1].at;
    const to = list[at].at;
    return [
      {
        partition: p,
        gapMs: to - from,
        calls: sendCalls
          .get(p)!
          .filter((call) => call.endedAt > from && call.startedAt < to)
          .map((call) => ({ fn: call.fn, startMs: call.startedAt - from, tookMs: call.endedAt - call.startedAt, outcome: call.outcome })),
      },
    ];
  });
  const windowSeconds = (windowEnd - actedAt) / 1000;
  const inWindow = (list: Success[]) => list.filter((entry) => entry.at >= actedAt && entry.at <= windowEnd).length;
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
    // The load over the window: acknowledged sends and partition reads per second.
    load: {
      sendsPerSecond: round1([...writes.values()].reduce((sum, list) => sum + inWindow(list), 0) / windowSeconds),
      readsPerSecond: round1([...reads.values()].reduce((sum, list) => sum + inWindow(list), 0) / windowSeconds),
      consumeCallsPerSecond: round1(consumeCalls.length / windowSeconds),
    },
    readUnavailabilityMs: summarize(readGaps),
    sendUnavailabilityMs: summarize(sendGaps),
    sendAcrossMoveMs: summarize(sendAcrossMoveMs),
    sendMs: summarize(sendMs),
    perPartition: moved.map((p, i) => ({ partition: p, readGapMs: readGaps[i], sendGapMs: gap(writes.get(p)!) })),
    readGapSplit: split,
    moveTimelines,
    sendTimelines,
    readCadenceMs: summarize(cadence),
    consumeCallMs: {
      ok: summarize(consumeCalls.filter((call) => call.outcome === 'ok' && call.partitions.every((part) => part.outcome === 'ok')).map((call) => call.endedAt - call.startedAt)),
      refused: summarize(consumeCalls.filter((call) => call.outcome !== 'ok' || call.partitions.some((part) => part.outcome !== 'ok')).map((call) => call.endedAt - call.startedAt)),
      emptyShare: round1((100 * consumeCalls.filter((call) => call.partitions.every((part) => !part.records)).length) / Math.max(1, consumeCalls.length)) / 100,
      // Approximate: the window's consume requests over the calls that both started and ended in it.
      dynamodbRequestsPerCall: consumeCaller && consumeCalls.length > 0 ? round1((100 * consumeCaller.requests) / consumeCalls.length) / 100 : null,
    },
    dynamodb,
    cost,
  };
}
