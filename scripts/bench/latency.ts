/**
 * `npm run bench:latency`: the latency of one acks=all produce of one record through the
 * client (Producer.send), one call at a time from one client, RF 3 (and RF 2), on the
 * embedded cloud; also acks=1 and a single-record consume for comparison. Reports
 * p50/p95/p99. Target: acks=all p50 <= 50 ms. Each series also reports its cost (`cost`):
 * what the record path would bill on AWS for its measured calls (warm-up excluded), per
 * million records (one record a call, so per million calls too; lib/cost.ts).
 *
 *   npm run bench:latency -- --samples 200 [--quick]
 */
import { parseArgs } from 'node:util';
import { BrokerSimulator, registerCredentials } from '../../client/broker-simulator.js';
import { Consumer } from '../../client/consumer.js';
import { Producer } from '../../client/producer.js';
import { summarize } from '../../tools/stats.js';
import { startBenchCloud } from './lib/cloud.js';
import { startRun, writeResult } from './lib/results.js';
import { recordPathFunctions, startCostPhase, type RunCost } from './lib/cost.js';
import { costSummary } from '../../web/bench-charts.js';

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '200' },
    quick: { type: 'boolean', default: false },
  },
});
const provenance = startRun('latency');
const samples = args.quick ? 40 : Number(args.samples);
const warmup = Math.min(20, samples);
const value = 'x'.repeat(1024);

const bench = await startBenchCloud({ name: 'latency', sessionTimeoutMs: 9000, meterUsage: true });
const admin = bench.newClient();
const simulator = new BrokerSimulator(admin, { heartbeatIntervalMs: 1000, credentials: registerCredentials(admin) });
try {
  await simulator.start(['B1', 'B2', 'B3']);
  const series: Record<string, ReturnType<typeof summarize> & { recordsPerSecond: number }> = {};
  const cost: Record<string, RunCost> = {};
  for (const rf of [3, 2]) {
    const topic = `latency-rf${rf}-${Date.now()}`;
    await admin.createTopic({ topic, partitions: 1, replicationFactor: rf, minInsyncReplicas: rf });
    // lingerMs 0: the latency of one produce call, without the 5 ms a send would linger for company.
    const producer = new Producer(bench.newClient(), { lingerMs: 0 });
    for (const acks of ['all', 1] as const) {
      const { timings, cost: spent } = await timeEach(samples, () => producer.send(topic, 1, [{ value }], { acks }));
      series[`produce rf${rf} acks=${acks}`] = timings;
      cost[`produce rf${rf} acks=${acks}`] = spent;
      console.log(`produce RF ${rf} acks=${acks}: p50 ${timings.p50} ms, p99 ${timings.p99} ms (${timings.recordsPerSecond} records/s from one client); ${costSummary(spent)}`);
    }
    const consumer = new Consumer(bench.newClient(), { maxPollRecords: 1 });
    consumer.assign([{ topic, partition: 1 }]);
    const { timings: reads, cost: spent } = await timeEach(samples, () => consumer.poll());
    series[`consume rf${rf} one record`] = reads;
    cost[`consume rf${rf} one record`] = spent;
    console.log(`consume RF ${rf}, one record: p50 ${reads.p50} ms, p99 ${reads.p99} ms; ${costSummary(spent)}`);
  }
  const acksAll = series['produce rf3 acks=all'];
  const result = {
    benchmark: 'latency',
    settings: { samples, warmup, valueBytes: 1024, quick: args.quick },
    latencyMs: series,
    // Per series: what its measured calls would bill on AWS (one record a call).
    cost,
    target: { acksAllP50Ms: 50, measured: acksAll.p50, met: acksAll.p50 <= 50 },
  };
  writeResult('latency', provenance, result);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await simulator.stop();
  await bench.stop();
}

/** Runs `call` warmup + n times, one at a time; the n measured durations (ms) summarized, and what the n calls cost. */
async function timeEach(n: number, call: () => Promise<unknown>) {
  for (let i = 0; i < warmup; i += 1) await call();
  const costPhase = startCostPhase(bench.cloud, { functions: recordPathFunctions(bench.outputs) });
  const ms: number[] = [];
  const started = performance.now();
  for (let i = 0; i < n; i += 1) {
    const at = performance.now();
    await call();
    ms.push(Math.round((performance.now() - at) * 10) / 10);
  }
  const seconds = (performance.now() - started) / 1000;
  const timings = { ...summarize(ms), recordsPerSecond: Math.round((n / seconds) * 10) / 10 };
  return { timings, cost: await costPhase.finish({ records: n }) };
}
