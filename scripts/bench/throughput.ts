/**
 * `npm run bench:throughput`: produce and consume throughput through the client, against the
 * embedded data plane's raw PutItem rate measured in the same run.
 *
 * For RF 2 and RF 3: a topic with one partition per producer; `producers` concurrent
 * Producers (each its own connection) send batches of `batch` records of 1 KiB values with
 * acks=all for `seconds`; then one Consumer per partition reads everything back
 * (max.poll.records 1000). Records/s = acknowledged (read) records / wall time.
 * The raw rate: PutItem/s of 1 KiB items, `producers` in flight, through the edge.
 * Targets: produce >= 0.5x raw, consume >= 1x raw; the brokers' heartbeat round trips during
 * the produce phase at p99 <= 10 % of the session timeout (the edge serves heartbeats ahead of
 * the burst: a starved heartbeat is a false failover).
 * Cost (each run's `cost`): what the record path (produce, replicate, consume...) would bill
 * on AWS for the run's produce and consume, per million records (lib/cost.ts).
 *
 *   npm run bench:throughput -- --producers 8 --batch 98 --seconds 20 [--quick]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BrokerSimulator, registerCredentials } from '../../client/broker-simulator.js';
import { Consumer } from '../../client/consumer.js';
import { Producer } from '../../client/producer.js';
import { summarize } from '../../tools/stats.js';
import { startBenchCloud, type BenchCloud } from './lib/cloud.js';
import { rawPutItemRate, type RawRate } from './lib/raw.js';
import { ratio, startRun, writeResult } from './lib/results.js';
import { recordPathFunctions, startCostPhase } from './lib/cost.js';
import { costSummary } from '../../web/bench-charts.js';

const { values: args } = parseArgs({
  options: {
    producers: { type: 'string', default: '8' },
    batch: { type: 'string', default: '98' },
    seconds: { type: 'string', default: '20' },
    'value-bytes': { type: 'string', default: '1024' },
    quick: { type: 'boolean', default: false },
  },
});
const provenance = startRun('throughput');
const quick = args.quick;
const settings = {
  producers: Number(args.producers),
  batch: Number(args.batch),
  seconds: quick ? 5 : Number(args.seconds),
  valueBytes: Number(args['value-bytes']),
  replicationFactors: [2, 3],
  sessionTimeoutMs: 9000,
  heartbeatIntervalMs: 1000,
};

const bench = await startBenchCloud({ name: 'throughput', sessionTimeoutMs: settings.sessionTimeoutMs, meterUsage: true });
// When a function other than the heartbeat last logged: the data plane is busy until a while after.
let lastBusyAt = Date.now();
let settleFrom = Date.now();
const settleStarted = () => settleFrom;
const settleWaits: number[] = [];
bench.onLog = (at, line) => {
  if (!line.includes('Heartbeat')) lastBusyAt = at;
};
const admin = bench.newClient();
// Each heartbeat round trip, timed: the produce phase reports those made while it ran.
const heartbeats: Array<{ at: number; ms: number }> = [];
const heartbeatClient = bench.newClient({
  onInvoke: ({ functionName, startedAt, endedAt }) => {
    if (functionName === admin.functionName('heartbeat')) heartbeats.push({ at: endedAt, ms: endedAt - startedAt });
  },
});
const simulator = new BrokerSimulator(heartbeatClient, { heartbeatIntervalMs: settings.heartbeatIntervalMs, credentials: registerCredentials(admin) });
try {
  await simulator.start(['B1', 'B2', 'B3']);
  // The raw rate is measured before each run, once the previous run's stream backlog has
  // drained (the replicate function keeps writing for a while after the last ack).
  const rawRates: RawRate[] = [];
  const runs = [];
  for (const rf of settings.replicationFactors) {
    await settle();
    const rawRate = await rawPutItemRate(bench.cloud, { ops: quick ? 500 : 2000, inFlight: settings.producers, valueBytes: settings.valueBytes });
    rawRates.push(rawRate);
    console.log(`raw PutItem (1 KiB, ${settings.producers} in flight): ${rawRate.perSecond}/s`);
    await settle();
    const run = await produceAndConsume(bench, rf);
    runs.push({ ...run, rawPutItemPerSecond: rawRate.perSecond });
    console.log(`RF ${rf}: produce ${run.produce.recordsPerSecond} records/s, consume ${run.consume.recordsPerSecond} records/s; ${costSummary(run.cost)}`);
  }
  await settle();
  const rawAfter = await rawPutItemRate(bench.cloud, { ops: quick ? 500 : 2000, inFlight: settings.producers, valueBytes: settings.valueBytes });
  rawRates.push(rawAfter);
  console.log(`raw PutItem again: ${rawAfter.perSecond}/s`);
  const raw = rawRates.reduce((sum, rate) => sum + rate.perSecond, 0) / rawRates.length;
  const result = {
    benchmark: 'throughput',
    settings: { ...settings, quick },
    raw: { rates: rawRates, meanPerSecond: Math.round(raw) },
    // Seconds each wait for a quiet data plane took before a measurement.
    settleSeconds: settleWaits,
    runs: runs.map((run) => ({
      ...run,
      // Against the raw rate measured just before the run, and against the run's mean.
      produce: {
        ...run.produce,
        ratioToRawPut: ratio(run.produce.recordsPerSecond, run.rawPutItemPerSecond),
        ratioToMeanRawPut: ratio(run.produce.recordsPerSecond, raw),
        target: 0.5,
        met: run.produce.recordsPerSecond >= 0.5 * Math.max(run.rawPutItemPerSecond, raw),
      },
      consume: {
        ...run.consume,
        ratioToRawPut: ratio(run.consume.recordsPerSecond, run.rawPutItemPerSecond),
        ratioToMeanRawPut: ratio(run.consume.recordsPerSecond, raw),
        target: 1,
        met: run.consume.recordsPerSecond >= Math.max(run.rawPutItemPerSecond, raw),
      },
    })),
  };
  const file = writeResult('throughput', provenance, result);
  console.log(JSON.stringify(result, null, 2));
  console.log(`-> ${file}`);
} finally {
  await simulator.stop();
  await bench.stop();
}

async function produceAndConsume(bench: BenchCloud, rf: number) {
  const topic = `throughput-rf${rf}-${Date.now()}`;
  await admin.createTopic({ topic, partitions: settings.producers, replicationFactor: rf, minInsyncReplicas: rf });
  const value = 'x'.repeat(settings.valueBytes);
  // lingerMs 0: each awaited send is one call of settings.batch records, and sendMs times that call alone.
  const producers = Array.from({ length: settings.producers }, () => new Producer(bench.newClient(), { deliveryTimeoutMs: 60_000, lingerMs: 0 }));
  // Warm every producer's path (metadata, sandboxes) outside the measurement.
  await Promise.all(producers.map((producer, index) => producer.send(topic, index + 1, [{ value }])));
  const warmRecords = 1;
  const costPhase = startCostPhase(bench.cloud, { functions: recordPathFunctions(bench.outputs) });
  const sendMs: number[] = [];
  let acknowledged = 0;
  let failed = 0;
  const started = performance.now();
  const until = started + settings.seconds * 1000;
  await Promise.all(
    producers.map(async (producer, index) => {
      let sequence = 0;
      while (performance.now() < until) {
        const records = Array.from({ length: settings.batch }, () => ({ key: `p${index}-${sequence++}`, value }));
        const sentAt = performance.now();
        try {
          await producer.send(topic, index + 1, records);
          acknowledged += records.length;
          sendMs.push(performance.now() - sentAt);
        } catch (error) {
          failed += 1;
          console.log(`produce failed: ${(error as Error).message}`);
        }
      }
    }),
  );
  const produceSeconds = (performance.now() - started) / 1000;
  const produceWindow = { from: Date.now() - produceSeconds * 1000, to: Date.now() };
  const heartbeatMs = summarize(heartbeats.filter(({ at }) => at >= produceWindow.from && at <= produceWindow.to).map(({ ms }) => ms));

  // Consume: one consumer per partition, from offset 0 to the end.
  const expected = acknowledged + warmRecords * settings.producers;
  let read = 0;
  const pollMs: number[] = [];
  const consumeStarted = performance.now();
  await Promise.all(
    Array.from({ length: settings.producers }, async (_, index) => {
      const consumer = new Consumer(bench.newClient(), { maxPollRecords: 1000 });
      consumer.assign([{ topic, partition: index + 1 }]);
      const target = expected / settings.producers;
      let mine = 0;
      for (let empty = 0; mine < target && empty < 50; ) {
        const polledAt = performance.now();
        const records = await consumer.poll();
        pollMs.push(performance.now() - polledAt);
        mine += records.length;
        read += records.length;
        empty = records.length === 0 ? empty + 1 : 0;
      }
    }),
  );
  const consumeSeconds = (performance.now() - consumeStarted) / 1000;
  // Produced with acks=all and consumed once: the records the produce phase acknowledged.
  const cost = await costPhase.finish({ records: acknowledged });
  return {
    replicationFactor: rf,
    partitions: settings.producers,
    produce: {
      producers: settings.producers,
      batch: settings.batch,
      records: acknowledged,
      failedSends: failed,
      seconds: Math.round(produceSeconds * 1000) / 1000,
      recordsPerSecond: Math.round(acknowledged / produceSeconds),
      sendMs: summarize(sendMs.map(Math.round)),
      heartbeatMs: { ...heartbeatMs, target: { p99AtMost: settings.sessionTimeoutMs / 10 }, met: heartbeatMs.p99 <= settings.sessionTimeoutMs / 10 },
    },
    consume: {
      consumers: settings.producers,
      maxPollRecords: 1000,
      records: read,
      expected,
      seconds: Math.round(consumeSeconds * 1000) / 1000,
      recordsPerSecond: Math.round(read / consumeSeconds),
      pollMs: summarize(pollMs.map(Math.round)),
    },
    cost,
  };
}

/**
 * Lets the previous phase's stream backlog drain before the next measurement: waits until
 * no function but the heartbeats has logged for `quietMs` (the replicate function keeps
 * working through the log stream for a while after the last ack), at most 60 s.
 */
async function settle(): Promise<void> {
  settleFrom = Date.now();
  const quietMs = quick ? 2000 : 3000;
  const deadline = Date.now() + 60_000;
  await sleep(quietMs);
  while (Date.now() - lastBusyAt < quietMs && Date.now() < deadline) await sleep(250);
  settleWaits.push(Math.round((Date.now() - settleStarted()) / 100) / 10);
}
