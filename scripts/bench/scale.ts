/**
 * `npm run bench:scale`: failover at scale. For each N (default 10, 100, 1000), on a fresh
 * embedded cloud: 5 brokers A-E heartbeat; topics of 5N partitions in all (at most 1000 per
 * topic), RF 3, so that A leads exactly N of them (round-robin assignment), written straight
 * into the metadata table as create-topic lays them out (lib/seed.ts says why); A is killed.
 *
 * Measured per N, on the bench's clock:
 *  - detection: the failure detector's log line for A's REMOVE (its invocation handling it);
 *  - last served: the last of A's N partitions whose read (a fetch) was answered by its new
 *    leader (see waitUntilServed);
 *  - also from A's lease expiry (its last accepted heartbeat's deadline), and the moment
 *    the detector's invocation ended.
 * And, in the same cloud just before the kill, the raw conditional UpdateItem rate (16 in
 * flight, through the edge): N such writes take N / rate, the floor an election of N
 * partitions cannot beat; also on a table with a leader index like the metadata table's
 * (each election moves its partition in that index, which DynamoDB Local charges for). Reports T(N), the ratio T(N) / (N / rate), and the growth.
 * Target: no worse than linear growth, within 2x of the raw ratio.
 * It moves no records: per N its `cost` is the failover's (the failure detector's invocation:
 * N elections and the ISR shrinks of the 2N partitions A followed), per partition A led, and
 * `reconcileCost` the one reconciler run over the 5N partitions (lib/cost.ts).
 *
 *   npm run bench:scale -- --sizes 10,100,1000 [--quick]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { LEADER_INDEX, partitionKey } from '../../functions/adapters/dynamodb/keys.js';
import { BrokerSimulator, registerCredentials } from '../../client/broker-simulator.js';
import { drainLeadershipEvents } from '../../client/leadership-events.js';
import { MAX_PARTITIONS } from '../../functions/domain/limits.js';
import { startBenchCloud, type BenchCloud } from './lib/cloud.js';
import { edgeConfig, rawBatchedConditionalUpdateRate, rawConditionalUpdateRate } from './lib/raw.js';
import { seedTopic } from './lib/seed.js';
import { ratio, startRun, writeResult } from './lib/results.js';
import { startCostPhase } from './lib/cost.js';
import { costSummary } from '../../web/bench-charts.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string' },
    'session-timeout-ms': { type: 'string', default: '6000' },
    'heartbeat-interval-ms': { type: 'string', default: '1000' },
    'poll-ms': { type: 'string', default: '25' },
    quick: { type: 'boolean', default: false },
  },
});
const provenance = startRun('scale');
const sizes = (args.sizes ?? (args.quick ? '10,100' : '10,100,1000')).split(',').map(Number);
const settings = {
  sizes,
  brokers: ['A', 'B', 'C', 'D', 'E'],
  victim: 'A',
  replicationFactor: 3,
  sessionTimeoutMs: Number(args['session-timeout-ms']),
  heartbeatIntervalMs: Number(args['heartbeat-interval-ms']),
  pollMs: Number(args['poll-ms']),
  rawInFlight: 16,
};

/**
 * The observer is a consumer of A's N partitions: each round it fetches every partition not yet
 * served, FETCH_PARTITIONS a fetch (one consume invocation, one BatchGetItem of their metadata:
 * Kafka's Fetch), OBSERVER_LANES fetches at once.
 */
const FETCH_PARTITIONS = 100;
const OBSERVER_LANES = 4;

const points: ScalePoint[] = [];
type ScalePoint = Awaited<ReturnType<typeof failoverAtScale>>;
for (const n of sizes) {
  const point = await failoverAtScale(n);
  points.push(point);
  console.log(
    `N=${n}: last of ${n} served ${point.detectionToLastServedMs} ms after detection (${point.expiryToLastServedMs} ms after lease expiry); ` +
      `N conditional writes at the raw rate: ${point.rawNConditionalWritesMs} ms; ratio ${point.ratioToRaw}; ` +
      `N consumes on the quiet cloud: ${point.consumeFloorMs} ms (ratio ${point.ratioToConsumeFloor}); detector ${point.detectorInvocationMs} ms; ` +
      `reconciler ${point.reconcileMs} ms${point.reconcileError ? ` (${point.reconcileError})` : ''}; ` +
      `cost ${costSummary(point.cost)}, reconciler ${costSummary(point.reconcileCost)}`,
  );
}
const first = points[0];
const last = points[points.length - 1];
const growth =
  points.length > 1
    ? {
        from: first.n,
        to: last.n,
        sizeFactor: last.n / first.n,
        timeFactor: ratio(last.detectionToLastServedMs, first.detectionToLastServedMs),
        // log T(N) against log N: 1 is linear.
        exponent: Math.round((Math.log(last.detectionToLastServedMs / first.detectionToLastServedMs) / Math.log(last.n / first.n)) * 1000) / 1000,
        // The marginal cost per partition between the two largest sizes, against one raw conditional write.
        marginalMsPerPartition: marginal(points),
      }
    : undefined;
const result = {
  benchmark: 'failover-at-scale',
  settings: { ...settings, quick: args.quick },
  points,
  growth,
  target: {
    linear: growth ? growth.exponent <= 1 : undefined,
    withinTwiceRaw: Object.fromEntries(points.map((point) => [point.n, point.ratioToRaw <= 2])),
    marginalWithinTwiceRaw: growth ? growth.marginalMsPerPartition.ratioToRawWrite <= 2 : undefined,
  },
};
writeResult('scale', provenance, result);
console.log(JSON.stringify(result, null, 2));

function marginal(all: ScalePoint[]) {
  const [a, b] = all.slice(-2);
  const msPerPartition = (b.detectionToLastServedMs - a.detectionToLastServedMs) / (b.n - a.n);
  const rawMsPerWrite = 1000 / ((a.rawConditionalUpdatePerSecond + b.rawConditionalUpdatePerSecond) / 2);
  return { between: [a.n, b.n], msPerPartition: Math.round(msPerPartition * 1000) / 1000, rawMsPerWrite: Math.round(rawMsPerWrite * 1000) / 1000, ratioToRawWrite: ratio(msPerPartition, rawMsPerWrite) };
}

async function failoverAtScale(n: number) {
  const bench = await startBenchCloud({ name: `scale${n}`, sessionTimeoutMs: settings.sessionTimeoutMs, keepLambdaLog: true, meterUsage: true });
  const detectorLines: Array<{ at: number; line: string }> = [];
  bench.onLog = (at, line) => {
    if (
      line.includes('FailureDetector') &&
      (line.includes('heartbeat stream record') || line.includes('heartbeat change applied') || line.includes('Task timed out'))
    ) {
      detectorLines.push({ at, line });
    }
  };
  const admin = bench.newClient();
  const simulator = new BrokerSimulator(admin, { heartbeatIntervalMs: settings.heartbeatIntervalMs, credentials: registerCredentials(admin) });
  try {
    await simulator.start(settings.brokers);
    // The detector handles each registration (INSERT) over the whole cluster; on an empty
    // cluster that is quick, on 5,000 partitions it takes long, and A's REMOVE would queue
    // behind it on the stream. So the registrations are handled before the topics exist.
    await waitFor(
      () => (settings.brokers.every((id) => detectorLines.some((l) => l.line.includes('heartbeat change applied') && l.line.includes(`"brokerId":"${id}"`))) ? true : undefined),
      120_000,
    );
    // 5N partitions, A (first in broker order) leads every fifth: partitions 1, 6, 11, ...
    const total = settings.brokers.length * n;
    const topics: Array<{ topic: string; partitions: number }> = [];
    for (let left = total, index = 1; left > 0; index += 1) {
      const partitions = Math.min(left, MAX_PARTITIONS - (MAX_PARTITIONS % settings.brokers.length));
      topics.push({ topic: `scale-${n}-${index}`, partitions });
      left -= partitions;
    }
    const createStarted = performance.now();
    const led: Array<{ topic: string; partition: number }> = [];
    for (const { topic, partitions } of topics) {
      const seeded = await seedTopic(bench.cloud, bench.outputs.MetadataTableName, {
        topic,
        partitions,
        replicationFactor: settings.replicationFactor,
        minInsyncReplicas: 2,
        brokers: settings.brokers,
      });
      for (const p of seeded.partitions) if (p.leader === settings.victim) led.push({ topic, partition: p.partition });
    }
    const createSeconds = (performance.now() - createStarted) / 1000;
    if (led.length !== n) throw new Error(`${settings.victim} leads ${led.length} partitions, expected ${n}`);
    console.log(`N=${n}: ${topics.length} topic(s), ${total} partitions seeded in ${createSeconds.toFixed(1)} s`);

    await sleep(2000);
    const raw = await rawConditionalUpdateRate(bench.cloud, { ops: Math.max(n, 500), inFlight: settings.rawInFlight });
    const rawIndexed = await rawConditionalUpdateRate(bench.cloud, { ops: Math.max(n, 500), inFlight: settings.rawInFlight, leaderIndex: true });
    const rawBatched = await rawBatchedConditionalUpdateRate(bench.cloud, { ops: Math.max(n, 500), inFlight: 4 });
    await sleep(1000);

    // Warm as many consume sandboxes as the observer runs at once, so that cold starts are
    // not counted as failover time. The runtime starts at most two sandboxes of a function at
    // once and hands a released warm one to the next waiter, so one round of concurrent
    // invocations warms only a few (two rounds of 16 once left N = 10 with two cold starts).
    const warmClient = bench.newClient();
    for (let round = 0; round < 4; round += 1) {
      await Promise.all(Array.from({ length: OBSERVER_LANES }, () => warmClient.consume({ topic: led[0].topic, partition: led[0].partition, maxRecords: 1 })));
    }
    // The observation's own floor: one fetch round over the N partitions, with the observer's
    // lanes, on the quiet cloud just before the kill (answered by A, which still leads them).
    // "Served" needs one read of a partition after its election, so no failover can be
    // observed faster than this.
    const floorStarted = Date.now();
    await fetchEach(warmClient, led, () => undefined);
    const consumeFloorMs = Date.now() - floorStarted;
    // The leadership-events queue has readers in a deployment (clients, the console); here one
    // drains it from the kill on and counts A's changes. Left to grow, the queue makes every
    // publish slower on moto (its FIFO SendMessage does work in proportion to the messages
    // queued: 1,000 messages took 48 s to send into an undrained queue, in-process), and the
    // detector's publishes of 3,000 events then alone outlast its 60 s timeout.
    const sqs = new SQSClient({ endpoint: bench.cloud.endpoint, region: bench.cloud.region });
    await drainLeadershipEvents(sqs, bench.outputs.LeadershipEventsQueueUrl);
    const events = new Map<string, string>();
    let draining = true;
    const drained = (async () => {
      while (draining) {
        for (const event of await drainLeadershipEvents(sqs, bench.outputs.LeadershipEventsQueueUrl)) {
          if (event.reason !== 'CREATED') events.set(`${event.topic}-${event.partition}`, event.reason);
        }
        await sleep(200);
      }
    })();
    detectorLines.length = 0;
    // The detector's invocation only: the brokers' heartbeats are the idle floor, the observer's reads the benchmark's.
    const failoverCost = startCostPhase(bench.cloud, { functions: [bench.outputs.FailureDetectorFunctionName], quietMs: 0 });
    const { leaseDeadlineMs } = await simulator.kill(settings.victim);
    const served = await waitUntilServed(bench, led, leaseDeadlineMs + settings.sessionTimeoutMs * 10 + n * 100);
    // Let the detector's invocation finish (it goes on with ISR shrinks after the elections).
    // Its timeout is 60 s: past that it is retried from the start (safe, but counted as not finished).
    const appliedAt = await waitFor(
      () =>
        detectorLines.find((l) => l.line.includes('heartbeat change applied') && l.line.includes(`"brokerId":"${settings.victim}"`))?.at ??
        (detectorLines.some((l) => l.line.includes('Task timed out')) ? -1 : undefined),
      65_000,
    );
    // The last events: published by the detector before its invocation ended.
    for (const event of await drainLeadershipEvents(sqs, bench.outputs.LeadershipEventsQueueUrl)) {
      if (event.reason !== 'CREATED') events.set(`${event.topic}-${event.partition}`, event.reason);
    }
    draining = false;
    await drained;
    sqs.destroy();
    const cost = await failoverCost.finish({ operations: n, operation: 'partition failed over' });
    const eventCounts = { LEADER_FAILED: 0, FOLLOWER_FAILED: 0, other: 0 };
    for (const reason of events.values()) {
      if (reason === 'LEADER_FAILED' || reason === 'FOLLOWER_FAILED') eventCounts[reason] += 1;
      else eventCounts.other += 1;
    }
    // The scheduled reconciler over the whole cluster, once, right after the failover (its
    // timeout is 50 s; before it read the replica states partition by partition, 5,000
    // partitions took it past that on every run).
    const lambda = new LambdaClient({ endpoint: bench.cloud.endpoint, region: bench.cloud.region });
    const reconcilePhase = startCostPhase(bench.cloud, { functions: [bench.outputs.ReconcileFunctionName], quietMs: 0 });
    const reconcileStarted = Date.now();
    const reconciled = await lambda.send(new InvokeCommand({ FunctionName: bench.outputs.ReconcileFunctionName, Payload: new TextEncoder().encode('{}') }));
    const reconcileMs = Date.now() - reconcileStarted;
    const reconcileError = reconciled.FunctionError ? new TextDecoder().decode(reconciled.Payload) : null;
    const reconcileCost = await reconcilePhase.finish({ operations: 1, operation: `reconciler run over ${total} partitions` });
    lambda.destroy();
    const removeAt = detectorLines.find((l) => l.line.includes('heartbeat stream record') && l.line.includes('REMOVE') && l.line.includes(`"brokerId":"${settings.victim}"`))?.at;
    const lastServedAt = Math.max(...served.map((s) => s.servedAt));
    const firstServedAt = Math.min(...served.map((s) => s.servedAt));
    const detectionAt = removeAt ?? leaseDeadlineMs;
    const rawNMs = (n / raw.perSecond) * 1000;
    const rawIndexedNMs = (n / rawIndexed.perSecond) * 1000;
    const detectionToLast = lastServedAt - detectionAt;
    return {
      n,
      topics: topics.length,
      partitionsInCluster: total,
      createTopicsSeconds: Math.round(createSeconds * 10) / 10,
      rawConditionalUpdatePerSecond: raw.perSecond,
      rawNConditionalWritesMs: Math.round(rawNMs),
      // The same writes on a table with a leader index like the metadata table's (an election updates it too).
      rawIndexedConditionalUpdatePerSecond: rawIndexed.perSecond,
      rawIndexedNConditionalWritesMs: Math.round(rawIndexedNMs),
      // The same writes in BatchExecuteStatements of 25: not the target's reference (that is N single
      // writes); kept to show that batching buys nothing through this data plane (why the detector writes singly).
      rawBatchedConditionalUpdatePerSecond: rawBatched.perSecond,
      rawBatchedNConditionalWritesMs: Math.round((n / rawBatched.perSecond) * 1000),
      detectionSource: removeAt === undefined ? 'lease expiry (no detector log line seen)' : "the failure detector's REMOVE log line",
      expiryToDetectionMs: detectionAt - leaseDeadlineMs,
      detectionToFirstServedMs: firstServedAt - detectionAt,
      detectionToLastServedMs: detectionToLast,
      expiryToLastServedMs: lastServedAt - leaseDeadlineMs,
      // The whole invocation: elections, then completions, then the ISR shrinks of the 2N partitions A followed.
      detectorInvocationMs: appliedAt === undefined || appliedAt < 0 ? null : appliedAt - detectionAt,
      detectorTimedOut: appliedAt === -1,
      // Partitions with a leadership event on the queue, by reason: every one of A's N partitions
      // (LEADER_FAILED) and of the 2N it followed (FOLLOWER_FAILED).
      eventsReceived: eventCounts,
      reconcileMs,
      reconcileError,
      cost,
      reconcileCost,
      ratioToRaw: ratio(detectionToLast, rawNMs),
      // N consumes on the quiet cloud, the observer's lanes (see consumeFloorMs above).
      consumeFloorMs,
      ratioToConsumeFloor: ratio(detectionToLast, consumeFloorMs),
      ratioToRawIndexed: ratio(detectionToLast, rawIndexedNMs),
      servedCurve: servedCurve(served.map((s) => s.servedAt - detectionAt)),
    };
  } finally {
    await simulator.stop();
    await bench.stop();
  }
}

/** Ms after detection at which 10%, 20%, ... 100% of the partitions were served. */
function servedCurve(offsets: number[]) {
  const sorted = [...offsets].sort((a, b) => a - b);
  return Array.from({ length: 10 }, (_, i) => {
    const fraction = (i + 1) / 10;
    return { fraction, ms: sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)] };
  });
}

/**
 * Every `pollMs`, asks the metadata table's leader index which partitions the victim still
 * leads (keys only: cheap, so the observer does not slow down what it observes); each of
 * `led` that has left that set is read with a fetch (see FETCH_PARTITIONS) until a fetch
 * answers it from a new leader, and counts as served from then. A round that took longer than
 * `pollMs` is followed by a pause as long as itself, so the observer holds the one data plane
 * at most about half the time: polling back to back, it slowed what it observed (N = 1,000:
 * 6.9 s to the last served, against 3.2 s with the pause).
 */
async function waitUntilServed(bench: BenchCloud, led: Array<{ topic: string; partition: number }>, deadlineMs: number) {
  const client = bench.newClient();
  const dynamo = new DynamoDBClient(edgeConfig(bench.cloud));
  const keyOf = (topic: string, partition: number) => `${partitionKey(topic, partition).pk}|${partitionKey(topic, partition).sk}`;
  const pending = new Map(led.map((p) => [keyOf(p.topic, p.partition), p]));
  const served: Array<{ topic: string; partition: number; leader: string; servedAt: number }> = [];
  try {
    while (pending.size > 0) {
      if (Date.now() > deadlineMs) throw new Error(`${pending.size} of ${led.length} partitions not served by a new leader in time`);
      const roundStarted = Date.now();
      const stillLed = new Set<string>();
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await dynamo.send(
          new QueryCommand({
            TableName: bench.outputs.MetadataTableName,
            IndexName: LEADER_INDEX.indexName,
            KeyConditionExpression: '#leaderKey = :victim',
            ProjectionExpression: 'pk, sk',
            ExpressionAttributeNames: { '#leaderKey': LEADER_INDEX.keyAttribute },
            ExpressionAttributeValues: { ':victim': { S: settings.victim } },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) stillLed.add(`${item.pk?.S}|${item.sk?.S}`);
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      const moved = [...pending.entries()].filter(([key]) => !stillLed.has(key)).map(([, p]) => p);
      await fetchEach(client, moved, (partition, answer) => {
        if (answer && answer.leader !== settings.victim) {
          served.push({ ...partition, leader: answer.leader, servedAt: Date.now() });
          pending.delete(keyOf(partition.topic, partition.partition));
        }
      });
      const took = Date.now() - roundStarted;
      if (pending.size > 0) await sleep(took > settings.pollMs ? took : settings.pollMs - took);
    }
    return served;
  } finally {
    dynamo.destroy();
  }
}

/**
 * One read of each partition, FETCH_PARTITIONS a fetch and OBSERVER_LANES fetches at a time;
 * `answered` sees each partition's answer (undefined: refused, or its fetch failed).
 */
async function fetchEach(
  client: ReturnType<BenchCloud['newClient']>,
  partitions: ReadonlyArray<{ topic: string; partition: number }>,
  answered: (partition: { topic: string; partition: number }, answer: { leader: string } | undefined) => void,
): Promise<void> {
  const fetches: Array<ReadonlyArray<{ topic: string; partition: number }>> = [];
  for (let start = 0; start < partitions.length; start += FETCH_PARTITIONS) fetches.push(partitions.slice(start, start + FETCH_PARTITIONS));
  let next = 0;
  await Promise.all(
    Array.from({ length: OBSERVER_LANES }, async () => {
      while (next < fetches.length) {
        const asked = fetches[next++];
        const answer = await client.fetch({ partitions: asked.map(({ topic, partition }) => ({ topic, partition, maxRecords: 1 })) }).catch(() => undefined);
        asked.forEach((partition, index) => {
          const result = answer?.partitions[index];
          answered(partition, result && !('errorType' in result) ? result : undefined);
        });
      }
    }),
  );
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined || Date.now() > deadline) return value;
    await sleep(50);
  }
}
