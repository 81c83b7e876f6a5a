/**
 * `npm run bench:cost`: what AWS would bill for this design, measured on the embedded cloud.
 *
 * The cloud meters every call (localcloud's usage meter: DynamoDB units from the data plane's
 * ConsumedCapacity, corrected where DynamoDB Local leaves billed work out; Lambda billed
 * GB-s; SQS and S3 requests), and cost/prices.ts turns usage into dollars.
 *
 * Per replication factor and records per produce call: 1 KiB records produced with acks=all
 * by idempotent producers (one per partition), then consumed once (each poll asks for as
 * many records as a produce call carried). Per record: the usage of the functions on the
 * record path (Produce, Replicate, InitProducerId, Describe, Consume). The cluster's idle
 * floor separately: heartbeats measured over a window, each scheduled function run once,
 * and a consumer of idle partitions with the default long poll (the wait in the client, and
 * once more held in the function). Months are 730 hours.
 *
 * The shapes above fix the records per produce call (lingerMs 0). `doneWhen` measures the
 * replicated mode's target at RF 3 with the producer's DEFAULT settings (linger 5 ms, batch
 * 16 KiB): full 16 KiB batches (sends of 16 records of 1 KiB to each partition, each awaited)
 * from one producer shared by the partitions' senders, as Kafka advises (a call carries every
 * partition's ready batch), and again from a producer per partition (a call per batch); one
 * record per send (a producer per partition, each send awaited); and 1,000 records/s offered
 * over 8 partitions by one paced open-loop producer (sends of one record on a clock, not
 * awaited: the linger and the call in flight gather them). Each with the records per produce call achieved, its $ per million against its
 * floor and Kinesis on-demand, and whether it meets the target (<= 1.3x floor, <= $2.45).
 *
 * `diskless` measures the diskless mode's target shape: a topic created with storage
 * diskless, RF 3 (min.insync 2), 16 partitions; one producer with the DEFAULT settings (its
 * diskless flush every 250 ms carries every partition's batch: one call, one S3 object)
 * offered 5,000 records/s of 1 KiB open-loop, round-robin over the partitions, acks=all; then
 * one default consumer reads them all once. It reports $ per million records against Kinesis
 * on-demand and the target (<= $0.23, <= 2x Kinesis), each send's acks=all latency (p50, p99,
 * send to ack, the flush's wait included) and the S3 requests (PUTs per produce call and per
 * million records, ranged GETs).
 *
 *   npm run bench:cost [-- --quick] [-- --only idle-consumer|diskless]
 *   (--quick: fewer records per shape and a shorter idle window; --only measures that one
 *   alone and prints it, leaving bench-results as it is)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BrokerSimulator, registerCredentials } from '../../client/broker-simulator.js';
import { Consumer, type ConsumerOptions } from '../../client/consumer.js';
import { Producer, type ProducerOptions } from '../../client/producer.js';
import { billFor, scaleBill, kinesisOnDemand, mskServerless, recordsPerMonth, replicatedFloorPerRecord, type Bill } from '../../cost/bill.js';
import { PRICES, PRICES_READ_ON, SECONDS_PER_MONTH, HOURS_PER_MONTH } from '../../cost/prices.js';
import { startBenchCloud } from './lib/cloud.js';
import { judgeAgainstTarget, judgeDiskless, meterOf, pacedSends, recordPathFunctions, REPLICATED_TARGET, s3RequestsOf, usageOf } from './lib/cost.js';
import { summarize } from '../../tools/stats.js';
import { FUNCTIONS, scheduleRateMinutes } from '../../functions/function-table.js';
import { defaultSettings } from '../../protocol/settings.js';
import { drawBenchmark } from '../../web/bench-charts.js';
import { readResult, startRun, writeResult, writeText } from './lib/results.js';

const provenance = startRun('cost');
const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
const quick = args.quick;
if (args.only !== undefined && args.only !== 'idle-consumer' && args.only !== 'diskless') fail(`--only takes idle-consumer or diskless (the measurements that run alone), got ${JSON.stringify(args.only)}`);
const settings = {
  recordBytes: 1024,
  partitions: 8,
  recordsPerCall: [1, 16, 100],
  /** Records produced per partition for each shape (a few calls of the big shapes, more of the small). */
  // Sized so that the whole run takes about 15-20 minutes on a loaded 2-core machine (a metered
  // acks=all call of one record took seconds there): the units per record do not depend on it.
  recordsPerPartition: quick ? { 1: 10, 16: 32, 100: 100 } : { 1: 30, 16: 96, 100: 300 },
  replicationFactors: [2, 3],
  brokers: 4,
  heartbeatIntervalMs: 2000,
  idleSeconds: quick ? 10 : 30,
  idlePartitions: 100,
  idlePolls: quick ? 5 : 20,
  /** Kafka's fetch.max.wait.ms, the consumer's default: an idle consumer fetches this often, or its fetch is held this long. */
  idleFetchMaxWaitMs: 500,
  sessionTimeoutMs: 9000,
  doneWhen: {
    replicationFactor: 3,
    /** Sends of 16 records of 1 KiB: each fills the producer's default 16 KiB batch. */
    fullBatchRecordsPerPartition: quick ? 32 : 96,
    oneRecordPerPartition: quick ? 10 : 30,
    pacedRecordsPerSecond: 1000,
    pacedSeconds: quick ? 2 : 3,
  },
  diskless: {
    replicationFactor: 3,
    minInsyncReplicas: 2,
    partitions: 16,
    offeredRecordsPerSecond: 5000,
    seconds: quick ? 2 : 4,
  },
};
const MIB = 1024 * 1024;

const bench = await startBenchCloud({ name: 'cost', sessionTimeoutMs: settings.sessionTimeoutMs, meterUsage: true });
const meter = meterOf(bench.cloud);
const names = bench.outputs;
const recordPath = recordPathFunctions(names);
let lastBusyAt = Date.now();
bench.onLog = (at, line) => {
  if (!line.includes('Heartbeat')) lastBusyAt = at;
};
const admin = bench.newClient();
const simulator = new BrokerSimulator(admin, { heartbeatIntervalMs: settings.heartbeatIntervalMs, credentials: registerCredentials(admin) });

try {
  await simulator.start(Array.from({ length: settings.brokers }, (_, index) => `B${index + 1}`));
  if (args.only === 'idle-consumer') {
    const consumers = await measureIdleConsumers(await idleTopic());
    console.log(JSON.stringify({ settings: { ...settings, quick }, ...consumers }, null, 2));
  } else if (args.only === 'diskless') {
    const { usage: _, ...diskless } = await measureDiskless();
    console.log(JSON.stringify({ settings: { ...settings, quick }, diskless }, null, 2));
  } else await measureAll();
} finally {
  await simulator.stop();
  await bench.stop();
}

async function measureAll() {
  const shapes: Array<Awaited<ReturnType<typeof measureShape>>> = [];
  for (const replicationFactor of settings.replicationFactors) {
    for (const recordsPerCall of settings.recordsPerCall) {
      const shape = await measureShape(replicationFactor, {
        recordsPerSend: recordsPerCall,
        recordsPerPartition: settings.recordsPerPartition[recordsPerCall as 1 | 16 | 100],
        // lingerMs 0: each send is one produce call of exactly recordsPerCall records, the shape measured.
        producer: { lingerMs: 0 },
      });
      shapes.push(shape);
      console.log(
        `RF ${replicationFactor}, ${recordsPerCall} per call: $${shape.perMillionRecords.total.toFixed(3)} per million ` +
          `(produce ${shape.perMillionRecords.produce.toFixed(3)}, consume ${shape.perMillionRecords.consume.toFixed(3)}), ${shape.ratioToFloor}x its floor`,
      );
    }
  }
  const doneWhen = await measureDoneWhen();
  const diskless = await measureDiskless();
  const idle = await measureIdle();
  console.log(`idle: $${idle.cluster.perMonth.toFixed(2)} a month for the cluster, $${idle.consumer.perMonth.toFixed(2)} for a consumer of ${settings.idlePartitions} idle partitions`);

  const kinesis = kinesisOnDemand(settings.recordBytes);
  const msk = mskServerless(settings.recordBytes, settings.partitions);
  const rates = [
    { label: '1 MiB/s', bytesPerSecond: MIB },
    { label: '100 MiB/s', bytesPerSecond: 100 * MIB },
  ];
  const monthly = rates.map(({ label, bytesPerSecond }) => {
    const records = recordsPerMonth(bytesPerSecond, settings.recordBytes);
    return {
      rate: label,
      recordsPerMonth: Math.round(records),
      replicated: shapes.map((shape) => ({
        replicationFactor: shape.replicationFactor,
        recordsPerCall: shape.recordsPerCall,
        usdPerMonth: round((shape.perMillionRecords.total / 1e6) * records + idle.cluster.perMonth),
      })),
      diskless: { replicationFactor: diskless.replicationFactor, usdPerMonth: round((diskless.perMillionRecords.total / 1e6) * records + idle.cluster.perMonth) },
      // The replicated target's shapes, with the clients' default settings.
      replicatedDefaultClients: doneWhen.shapes.map((shape) => ({
        name: shape.name,
        usdPerMonth: round((shape.perMillionRecords.total / 1e6) * records + idle.cluster.perMonth),
      })),
      kinesisOnDemand: round(kinesis.perRecord * records + kinesis.perStreamMonth),
      mskServerless: round(msk.perRecord * records + msk.perMonth),
    };
  });
  const result = {
    benchmark: 'cost',
    settings: { ...settings, quick },
    prices: { readOn: PRICES_READ_ON, region: 'us-east-1', table: PRICES },
    // DynamoDB units, requests and bytes are what AWS would count; billed durations are this
    // machine's (an emulator sharing its cores), so the Lambda duration line is an upper bound.
    lambdaDurations: 'measured on the embedded cloud on this machine',
    shapes,
    doneWhen,
    // storage 'diskless' with its usage: the planner (cost/plan.ts) plans the diskless mode from it.
    diskless,
    idle,
    references: {
      kinesisOnDemand: { usdPerMillionRecords: round(kinesis.perRecord * 1e6), usdPerStreamMonth: round(kinesis.perStreamMonth) },
      mskServerless: { usdPerMillionRecords: round(msk.perRecord * 1e6), usdPerMonth: round(msk.perMonth), partitions: settings.partitions },
    },
    monthly,
  };
  const file = writeResult('cost', provenance, result);
  for (const chart of drawBenchmark('cost', readResult('cost')).charts) writeText(chart.file, chart.svg);
  const { usage: _, ...disklessShown } = diskless;
  console.log(
    JSON.stringify({ shapes: shapes.map(({ usage: _, ...shape }) => shape), doneWhen: { ...doneWhen, shapes: doneWhen.shapes.map(({ usage: _, ...shape }) => shape) }, diskless: disklessShown, idle, monthly }, null, 2),
  );
  console.log(`-> ${file}`);
}

interface Shape {
  /** Records per send (with lingerMs 0, per produce call). */
  recordsPerSend: number;
  recordsPerPartition: number;
  producer: ProducerOptions;
  /** Default: each poll asks for as many records as a send carried. */
  consumer?: ConsumerOptions;
  /** Sends on a clock at this many records/s over all partitions, not awaited (an open-loop producer); else each send awaited. */
  pacedRecordsPerSecond?: number;
  /**
   * One Producer for every partition, as Kafka advises (its sender puts every partition's ready
   * batch in one request); default: a Producer per partition, so each call carries one batch.
   */
  sharedProducer?: boolean;
}

async function measureShape(replicationFactor: number, shape: Shape) {
  const { recordsPerSend, recordsPerPartition: perPartition } = shape;
  const topic = `cost-rf${replicationFactor}-b${recordsPerSend}${shape.pacedRecordsPerSecond ? `-paced${shape.pacedRecordsPerSecond}` : ''}-${Date.now()}`;
  await admin.createTopic({ topic, partitions: settings.partitions, replicationFactor, minInsyncReplicas: Math.max(1, replicationFactor - 1) });
  const value = 'x'.repeat(settings.recordBytes);
  const shared = shape.sharedProducer ? new Producer(bench.newClient(), shape.producer) : undefined;
  const producers = Array.from({ length: settings.partitions }, () => shared ?? new Producer(bench.newClient(), shape.producer));
  // Producer ids and metadata are fetched once per producer: outside the measurement.
  await Promise.all(producers.map((producer, index) => producer.send(topic, index + 1, [{ value }])));
  await settle();
  meter.reset();
  const produceStarted = performance.now();
  await Promise.all(
    producers.map(async (producer, index) => {
      const sends: Array<Promise<unknown>> = [];
      const perPartitionPerSecond = (shape.pacedRecordsPerSecond ?? 0) / settings.partitions;
      for (let sent = 0; sent < perPartition; sent += recordsPerSend) {
        const records = Array.from({ length: Math.min(recordsPerSend, perPartition - sent) }, () => ({ value }));
        if (perPartitionPerSecond > 0) {
          const dueAt = produceStarted + (sent / perPartitionPerSecond) * 1000;
          await sleep(Math.max(0, dueAt - performance.now()));
          sends.push(producer.send(topic, index + 1, records));
        } else {
          await producer.send(topic, index + 1, records);
        }
      }
      await Promise.all(sends);
    }),
  );
  const produceSeconds = (performance.now() - produceStarted) / 1000;
  await settle(); // replication the stream triggers finishes after the acks
  const produced = settings.partitions * perPartition;
  const produceReport = meter.report();
  const produceUsage = usageOf(produceReport, recordPath);
  const produceRuns = produceReport.lambda.byFunction[names.ProduceFunctionName];
  const produceCalls = produceRuns?.invocations ?? 0;

  meter.reset();
  let consumed = 0;
  await Promise.all(
    Array.from({ length: settings.partitions }, async (_, index) => {
      const consumer = new Consumer(bench.newClient(), shape.consumer ?? { maxPollRecords: recordsPerSend });
      consumer.assign([{ topic, partition: index + 1, offset: 1 }]);
      let mine = 0;
      for (let empty = 0; mine < perPartition && empty < 20; ) {
        const records = await consumer.poll();
        mine += records.length;
        empty = records.length === 0 ? empty + 1 : 0;
      }
      consumed += mine;
    }),
  );
  const consumeUsage = usageOf(meter.report(), recordPath);
  if (consumed !== produced) throw new Error(`RF ${replicationFactor}, ${recordsPerSend} per send: consumed ${consumed} of ${produced} records`);

  const produceBill = billFor(produceUsage);
  const consumeBill = billFor(consumeUsage);
  const perMillion = (bill: Bill, records: number) => (bill.total / records) * 1e6;
  const total = perMillion(produceBill, produced) + perMillion(consumeBill, consumed);
  const floor = replicatedFloorPerRecord(settings.recordBytes, replicationFactor) * 1e6;
  return {
    replicationFactor,
    recordsPerCall: recordsPerSend,
    records: produced,
    // Produce invocations in the phase (retries included): with linger, how many records a call carried.
    produceCalls,
    recordsPerProduceCall: round(produced / Math.max(1, produceCalls), 2),
    produceRecordsPerSecond: Math.round(produced / produceSeconds),
    // The produce function's mean billed duration here: with linger, a partition gathers what
    // arrives while its call is in flight, so slower calls make fuller batches.
    produceCallMs: produceRuns && produceCalls > 0 ? Math.round(produceRuns.billedMs / produceCalls) : null,
    perRecord: {
      produceWriteUnits: round(produceUsage.dynamodb.writeUnits / produced, 3),
      produceReadUnits: round(produceUsage.dynamodb.readUnits / produced, 3),
      produceInvocations: round(produceUsage.lambda.invocations / produced, 3),
      consumeReadUnits: round(consumeUsage.dynamodb.readUnits / consumed, 3),
      consumeInvocations: round(consumeUsage.lambda.invocations / consumed, 3),
    },
    perMillionRecords: {
      produce: round(perMillion(produceBill, produced)),
      consume: round(perMillion(consumeBill, consumed)),
      total: round(total),
      totalWithoutLambdaDuration: round(total - ((produceBill.lambdaDuration / produced) * 1e6 + (consumeBill.lambdaDuration / consumed) * 1e6)),
    },
    billPerMillionRecords: {
      produce: roundBill(scaleBill(produceBill, 1e6 / produced)),
      consume: roundBill(scaleBill(consumeBill, 1e6 / consumed)),
    },
    floorPerMillionRecords: round(floor),
    ratioToFloor: round(total / floor, 2),
    usage: { produce: produceUsage, consume: consumeUsage },
  };
}

/** The replicated mode's target shapes at RF 3 with the producer's default settings (see the head of the file). */
async function measureDoneWhen() {
  const { replicationFactor, fullBatchRecordsPerPartition, oneRecordPerPartition, pacedRecordsPerSecond, pacedSeconds } = settings.doneWhen;
  const kinesis = kinesisOnDemand(settings.recordBytes).perRecord * 1e6;
  // The client's defaults on both sides: the producer's linger and batch size, the consumer's max.poll.records.
  const defaults = { producer: {}, consumer: {} };
  const cases: Array<{ name: string; shape: Shape }> = [
    { name: 'full 16 KiB batches', shape: { recordsPerSend: 16, recordsPerPartition: fullBatchRecordsPerPartition, ...defaults, sharedProducer: true } },
    {
      name: 'full 16 KiB batches, a producer per partition',
      shape: { recordsPerSend: 16, recordsPerPartition: fullBatchRecordsPerPartition, ...defaults },
    },
    { name: 'one record per send', shape: { recordsPerSend: 1, recordsPerPartition: oneRecordPerPartition, ...defaults } },
    {
      name: `${pacedRecordsPerSecond} records/s offered over ${settings.partitions} partitions`,
      shape: {
        recordsPerSend: 1,
        recordsPerPartition: (pacedRecordsPerSecond * pacedSeconds) / settings.partitions,
        ...defaults,
        pacedRecordsPerSecond,
        sharedProducer: true,
      },
    },
  ];
  const shapes = [];
  for (const { name, shape } of cases) {
    const measured = await measureShape(replicationFactor, shape);
    const verdict = judgeAgainstTarget(measured.perMillionRecords.total, measured.floorPerMillionRecords, kinesis);
    shapes.push({ name, offeredRecordsPerSecond: shape.pacedRecordsPerSecond ?? null, ...measured, ...verdict });
    console.log(
      `done-when RF ${replicationFactor}, ${name}: ${measured.recordsPerProduceCall} records per produce call, $${verdict.usdPerMillionRecords} per million, ` +
        `${verdict.ratioToFloor}x its floor, ${verdict.ratioToKinesisOnDemand}x Kinesis on-demand: target ${verdict.met ? 'met' : 'not met'}`,
    );
  }
  return {
    replicationFactor,
    clients: 'defaults: producer lingerMs 5 and batchSizeBytes 16384, consumer maxPollRecords 100',
    target: REPLICATED_TARGET,
    kinesisOnDemandPerMillionRecords: round(kinesis),
    shapes,
  };
}

/** The diskless mode's target shape (see the head of the file). */
async function measureDiskless() {
  const { replicationFactor, minInsyncReplicas, partitions, offeredRecordsPerSecond, seconds } = settings.diskless;
  const topic = `cost-diskless-rf${replicationFactor}-${Date.now()}`;
  const created = await admin.createTopic({ topic, partitions, replicationFactor, minInsyncReplicas, storage: 'diskless' });
  if (created.storage !== 'diskless') throw new Error(`${topic} was created ${created.storage}: the deployed functions do not have the diskless mode`);
  const value = 'x'.repeat(settings.recordBytes);
  // The client's defaults on both sides: the producer's diskless flush (250 ms), the consumer's long poll and max.poll.records.
  const producer = new Producer(bench.newClient());
  // Producer id and metadata, outside the measurement: one record to each partition (offset 0).
  await Promise.all(Array.from({ length: partitions }, (_, index) => producer.send(topic, index + 1, [{ value }])));
  await settle();
  meter.reset();
  const latencies: number[] = [];
  const sends: Array<Promise<unknown>> = [];
  const started = performance.now();
  for (const { atMs, partition } of pacedSends(offeredRecordsPerSecond, seconds, partitions)) {
    const wait = started + atMs - performance.now();
    if (wait > 1) await sleep(wait);
    const sentAt = performance.now();
    sends.push(producer.send(topic, partition, [{ value }]).then(() => latencies.push(performance.now() - sentAt)));
  }
  await Promise.all(sends);
  const produceSeconds = (performance.now() - started) / 1000;
  await settle();
  const produced = latencies.length;
  const produceReport = meter.report();
  const produceUsage = usageOf(produceReport, recordPath);
  const produceCalls = produceReport.lambda.byFunction[names.ProduceFunctionName]?.invocations ?? 0;
  if (produceUsage.s3.tier1Requests === 0) throw new Error(`diskless: ${produced} records produced to ${topic} wrote no S3 object: the deployed functions lack the diskless write path`);

  meter.reset();
  const consumer = new Consumer(bench.newClient());
  consumer.assign(Array.from({ length: partitions }, (_, index) => ({ topic, partition: index + 1, offset: 1 })));
  let consumed = 0;
  for (let empty = 0; consumed < produced && empty < 20; ) {
    const records = await consumer.poll();
    consumed += records.length;
    empty = records.length === 0 ? empty + 1 : 0;
  }
  const consumeUsage = usageOf(meter.report(), recordPath);
  if (consumed !== produced) throw new Error(`diskless: consumed ${consumed} of ${produced} records`);

  const produceBill = billFor(produceUsage);
  const consumeBill = billFor(consumeUsage);
  const total = ((produceBill.total + consumeBill.total) / produced) * 1e6;
  const kinesis = kinesisOnDemand(settings.recordBytes).perRecord * 1e6;
  const verdict = judgeDiskless(round(total, 3), kinesis);
  const latency = summarize(latencies);
  const s3 = s3RequestsOf(produceUsage, consumeUsage, produced, produceCalls);
  console.log(
    `diskless RF ${replicationFactor}, ${offeredRecordsPerSecond} records/s offered over ${partitions} partitions: $${verdict.usdPerMillionRecords} per million, ` +
      `${verdict.ratioToKinesisOnDemand}x Kinesis on-demand, acks=all p50 ${Math.round(latency.p50)} ms p99 ${Math.round(latency.p99)} ms, ` +
      `${s3.putsPerProduceCall} PUTs per produce call (${s3.putsPerMillionRecords} per million records): target ${verdict.met ? 'met' : 'not met'}`,
  );
  return {
    storage: 'diskless' as const,
    replicationFactor,
    partitions,
    offeredRecordsPerSecond,
    clients: 'defaults: producer disklessLingerMs 250 and disklessCallBytes 4 MiB, consumer fetchMaxWaitMs 500 and maxPollRecords 100',
    records: produced,
    produceCalls,
    // What the planner's call shape is: the records one flush carried.
    recordsPerCall: Math.max(1, Math.round(produced / Math.max(1, produceCalls))),
    produceRecordsPerSecond: Math.round(produced / produceSeconds),
    acksAllLatencyMs: { p50: Math.round(latency.p50), p99: Math.round(latency.p99) },
    s3Requests: s3,
    perRecord: {
      produceWriteUnits: round(produceUsage.dynamodb.writeUnits / produced, 4),
      produceReadUnits: round(produceUsage.dynamodb.readUnits / produced, 4),
      consumeReadUnits: round(consumeUsage.dynamodb.readUnits / produced, 4),
    },
    perMillionRecords: {
      produce: round((produceBill.total / produced) * 1e6, 3),
      consume: round((consumeBill.total / produced) * 1e6, 3),
      total: round(total, 3),
      totalWithoutLambdaDuration: round(total - ((produceBill.lambdaDuration + consumeBill.lambdaDuration) / produced) * 1e6, 3),
    },
    billPerMillionRecords: { produce: roundBill(scaleBill(produceBill, 1e6 / produced)), consume: roundBill(scaleBill(consumeBill, 1e6 / produced)) },
    ...verdict,
    usage: { produce: produceUsage, consume: consumeUsage },
  };
}

async function idleTopic(): Promise<string> {
  const topic = `cost-idle-${Date.now()}`;
  await admin.createTopic({ topic, partitions: settings.idlePartitions, replicationFactor: 3, minInsyncReplicas: 2 });
  await settle();
  return topic;
}

async function measureIdle() {
  const topic = await idleTopic();
  meter.reset();
  await sleep(settings.idleSeconds * 1000);
  const windowReport = meter.report();
  const heartbeats = usageOf(windowReport, [names.HeartbeatFunctionName]);
  const heartbeatBill = billFor(heartbeats);
  const perHeartbeat = heartbeats.lambda.invocations > 0 ? heartbeatBill.total / heartbeats.lambda.invocations : 0;
  const heartbeatsPerMonth = settings.brokers * (SECONDS_PER_MONTH / (settings.heartbeatIntervalMs / 1000));

  const schedules = [
    { name: 'Sweep', key: 'sweep', functionName: names.SweepFunctionName },
    { name: 'Reconcile', key: 'reconcile', functionName: names.ReconcileFunctionName },
    { name: 'AutoRebalance', key: 'autoRebalance', functionName: names.AutoRebalanceFunctionName },
  ] as const;
  // The deployed schedules' rates, under the stack's default settings.
  const runsPerHour = (key: (typeof schedules)[number]['key']) => 60 / scheduleRateMinutes(FUNCTIONS[key].trigger, defaultSettings());
  const scheduled = [];
  for (const schedule of schedules) {
    meter.reset();
    await admin.invoke(schedule.key, {});
    const run = billFor(usageOf(meter.report(), [schedule.functionName])).total;
    scheduled.push({ name: schedule.name, usdPerRun: run, usdPerMonth: round(run * runsPerHour(schedule.key) * HOURS_PER_MONTH) });
  }

  const clusterPerMonth = perHeartbeat * heartbeatsPerMonth + scheduled.reduce((sum, run) => sum + run.usdPerMonth, 0);
  return {
    cluster: {
      brokers: settings.brokers,
      partitions: settings.idlePartitions,
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      heartbeatsMeasured: heartbeats.lambda.invocations,
      usdPerHeartbeat: perHeartbeat,
      heartbeatsUsdPerMonth: round(perHeartbeat * heartbeatsPerMonth),
      scheduled,
      perMonth: round(clusterPerMonth),
    },
    ...(await measureIdleConsumers(topic)),
  };
}

/**
 * A consumer of every partition of the idle topic, polling back to back with the default long
 * poll (fetch.max.wait.ms 500): the wait in the client (the default: a cheap fetch every 500
 * ms), and held in the function (a fetch held 500 ms, looking every 200 ms). What a month of it
 * costs is what the polls cost per second of the window, over a month.
 */
async function measureIdleConsumers(topic: string) {
  const measure = async (fetchWaitInFunction: boolean) => {
    const consumer = new Consumer(bench.newClient(), { maxPollRecords: 500, fetchMaxWaitMs: settings.idleFetchMaxWaitMs, fetchWaitInFunction });
    consumer.assign(Array.from({ length: settings.idlePartitions }, (_, index) => ({ topic, partition: index + 1, offset: 0 })));
    await consumer.poll(); // metadata and the topic's configuration, outside the measurement
    meter.reset();
    const started = performance.now();
    for (let poll = 0; poll < settings.idlePolls; poll++) {
      if ((await consumer.poll()).length > 0) throw new Error(`the idle topic ${topic} had records`);
    }
    const seconds = (performance.now() - started) / 1000;
    const usage = usageOf(meter.report(), recordPath);
    const bill = billFor(usage);
    return {
      partitions: settings.idlePartitions,
      fetchMaxWaitMs: settings.idleFetchMaxWaitMs,
      waitsIn: fetchWaitInFunction ? 'function' : 'client',
      seconds: round(seconds, 1),
      fetches: usage.lambda.invocations,
      readUnitsPerFetch: round(usage.dynamodb.readUnits / usage.lambda.invocations, 2),
      usdPerFetch: bill.total / usage.lambda.invocations,
      bill: roundBill(scaleBill(bill, SECONDS_PER_MONTH / seconds)),
      perMonth: round((bill.total / seconds) * SECONDS_PER_MONTH),
    };
  };
  return { consumer: await measure(false), consumerWaitingInFunction: await measure(true) };
}

/** Waits until no function but the heartbeats has logged for 2 s (stream-triggered replication runs after the acks), at most 60 s. */
async function settle(): Promise<void> {
  const quietMs = 2000;
  const deadline = Date.now() + 60_000;
  await sleep(quietMs);
  while (Date.now() - lastBusyAt < quietMs && Date.now() < deadline) await sleep(250);
}

function roundBill(bill: Bill): Record<string, number> {
  return Object.fromEntries(Object.entries(bill as unknown as Record<string, number>).map(([line, usd]) => [line, round(usd, 4)]));
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function fail(message: string): never {
  throw new Error(message);
}
