/**
 * `npm run bench:plot`: draws bench-results/*.json as SVG charts next to them
 * (throughput.svg, latency.svg, scale.svg, scale-served.svg, clients.svg). Runs at the end
 * of `npm run bench`; a chart whose results are missing is skipped.
 */
import { barChart, lineChart, type Series } from './lib/svg.js';
import { readdirSync } from 'node:fs';
import { RESULTS_DIR } from './lib/cloud.js';
import { readResult, writeText } from './lib/results.js';

type Summary = { n: number; p50: number; p95: number; p99: number; max: number };

const written: string[] = [];
const emit = (file: string, svg: string) => {
  writeText(file, svg);
  written.push(file);
};

interface ThroughputResult {
  at: string;
  raw: { meanPerSecond: number };
  settings: { producers: number; batch: number };
  runs: Array<{
    replicationFactor: number;
    rawPutItemPerSecond: number;
    produce: { recordsPerSecond: number; ratioToRawPut: number };
    consume: { recordsPerSecond: number; ratioToRawPut: number };
  }>;
}
const throughput = readResult<ThroughputResult>('throughput');
if (throughput) {
  emit(
    'throughput.svg',
    barChart({
      title: 'Produce / consume throughput vs the raw PutItem rate (records/s)',
      yLabel: 'records/s (1 KiB values)',
      groups: throughput.runs.map((run) => ({
        label: `RF ${run.replicationFactor}`,
        bars: [
          { name: 'raw PutItem/s (same run)', value: run.rawPutItemPerSecond },
          { name: 'produce acks=all', value: run.produce.recordsPerSecond },
          { name: 'consume', value: run.consume.recordsPerSecond },
        ],
      })),
      referenceLines: [{ value: throughput.raw.meanPerSecond * 0.5, label: 'produce target 0.5x raw' }],
      note: `${throughput.at}; ${throughput.settings.producers} producers, batches of ${throughput.settings.batch}; raw mean ${throughput.raw.meanPerSecond}/s`,
    }),
  );
}

interface LatencyResult {
  at: string;
  latencyMs: Record<string, Summary>;
}
const latency = readResult<LatencyResult>('latency');
if (latency) {
  emit(
    'latency.svg',
    barChart({
      title: 'Latency of one call, one record (ms)',
      yLabel: 'ms',
      groups: Object.entries(latency.latencyMs).map(([name, s]) => ({
        label: name.replace('produce ', '').replace('consume ', 'read '),
        bars: [
          { name: 'p50', value: s.p50 },
          { name: 'p95', value: s.p95 },
          { name: 'p99', value: s.p99 },
        ],
      })),
      referenceLines: [{ value: 50, label: 'acks=all p50 target' }],
      note: `${latency.at}; Producer.send / Consumer.poll through the embedded cloud`,
    }),
  );
}

interface ScaleResult {
  at: string;
  points: Array<{
    n: number;
    detectionToLastServedMs: number;
    detectionToFirstServedMs: number;
    rawNConditionalWritesMs: number;
    rawIndexedNConditionalWritesMs?: number;
    ratioToRaw: number;
    servedCurve: Array<{ fraction: number; ms: number }>;
  }>;
}
const scaleResult = readResult<ScaleResult>('scale');
if (scaleResult && scaleResult.points.length > 0) {
  const points = scaleResult.points;
  const first = points[0];
  const series: Series[] = [
    { name: 'last of N served', points: points.map((p) => [p.n, p.detectionToLastServedMs]) },
    { name: 'first served', points: points.map((p) => [p.n, Math.max(1, p.detectionToFirstServedMs)]) },
    { name: 'N raw cond. writes', points: points.map((p) => [p.n, Math.max(1, p.rawNConditionalWritesMs)]), dashed: true },
    { name: '2x N raw writes', points: points.map((p) => [p.n, Math.max(1, 2 * p.rawNConditionalWritesMs)]), dashed: true },
    ...(points.every((p) => p.rawIndexedNConditionalWritesMs !== undefined)
      ? [{ name: 'N raw writes + index', points: points.map((p) => [p.n, Math.max(1, p.rawIndexedNConditionalWritesMs!)] as [number, number]), dashed: true }]
      : []),
    { name: 'linear from smallest N', points: points.map((p) => [p.n, (first.detectionToLastServedMs * p.n) / first.n]), dashed: true },
  ];
  emit(
    'scale.svg',
    lineChart({
      title: 'Failover at scale: detection to the last of N partitions served',
      xLabel: 'N partitions led by the dead broker',
      yLabel: 'ms after detection',
      xLog: true,
      yLog: true,
      series,
      note: `${scaleResult.at}; ratio to N raw conditional writes: ${points.map((p) => `N=${p.n}: ${p.ratioToRaw}`).join(', ')}`,
    }),
  );
  emit(
    'scale-served.svg',
    lineChart({
      title: 'Failover at scale: share of the N partitions served over time',
      xLabel: 'ms after detection',
      yLabel: '% of the N partitions served',
      series: points.map((p) => ({ name: `N = ${p.n}`, points: [[0, 0] as [number, number], ...p.servedCurve.map((c) => [c.ms, c.fraction * 100] as [number, number])] })),
      note: `${scaleResult.at}; 5 brokers, RF 3`,
    }),
  );
}

interface ClientsResult {
  at: string;
  /** Older results lack consumers and sendIntervalMs: a consumer per partition, a send every 20 ms. */
  settings: { partitions: number; consumers?: number; sendIntervalMs?: number };
  scenarios: Array<{
    name: string;
    failedSends: number;
    failedPolls: number;
    readUnavailabilityMs: Summary;
    sendUnavailabilityMs: Summary;
    /** Newer results: the send that crossed the move, start to ack, and every other send. */
    sendAcrossMoveMs?: Summary;
    sendMs?: Summary;
    /** Older results lack these. */
    readCadenceMs?: Summary;
    dynamodb?: { busyShare: number };
  }>;
}
const clients = readResult<ClientsResult>('clients');
if (clients) {
  emit(
    'clients.svg',
    barChart({
      title: 'Per-partition unavailability seen by clients (ms)',
      yLabel: 'ms (reads: gap at the move; sends: start to ack)',
      groups: clients.scenarios.flatMap((s) => {
        const name = s.name === 'controlled-shutdown' ? 'shutdown' : s.name;
        return [
          { label: `${name}\nreads`, bars: [{ name: 'p50', value: s.readUnavailabilityMs.p50 }, { name: 'p99', value: s.readUnavailabilityMs.p99 }] },
          ...(s.readCadenceMs
            ? [{ label: `${name}\nno move`, bars: [{ name: 'p50', value: s.readCadenceMs.p50 }, { name: 'p99', value: s.readCadenceMs.p99 }] }]
            : []),
          s.sendAcrossMoveMs && s.sendMs
            ? { label: `${name}\nmoved send`, bars: [{ name: 'p50', value: s.sendAcrossMoveMs.p50 }, { name: 'p99', value: s.sendAcrossMoveMs.p99 }] }
            : { label: `${name}\nsends`, bars: [{ name: 'p50', value: s.sendUnavailabilityMs.p50 }, { name: 'p99', value: s.sendUnavailabilityMs.p99 }] },
          ...(s.sendMs ? [{ label: `${name}\nother sends`, bars: [{ name: 'p50', value: s.sendMs.p50 }, { name: 'p99', value: s.sendMs.p99 }] }] : []),
        ];
      }),
      referenceLines: [{ value: 100, label: 'shutdown read p99 target' }],
      note: `${clients.at}; "no move": two reads in a row by one leader; "moved send": across the move; failed calls: ${clients.scenarios.map((s) => `${s.name} ${s.failedSends + s.failedPolls}`).join(', ')}`,
    }),
  );
}

// The load sweep of bench:clients (clients-load-p<N>.json): the controlled shutdown's read gap
// against the number of client loops sharing the one DynamoDB Local, beside the read cadence
// of the same loops away from the move.
const sweep = readdirSync(RESULTS_DIR)
  .flatMap((file) => (/^clients-load-p\d+\.json$/.test(file) ? [readResult<ClientsResult>(file.replace(/\.json$/, ''))!] : []))
  .map((result) => ({
    loops: result.settings.partitions + (result.settings.consumers ?? result.settings.partitions),
    shutdown: result.scenarios.find((s) => s.name === 'controlled-shutdown')!,
  }))
  .filter((run) => run.shutdown?.readCadenceMs && Number.isFinite(run.shutdown.readUnavailabilityMs.p50))
  .sort((a, b) => a.loops - b.loops);
if (sweep.length > 0) {
  const line = (name: string, pick: (s: ClientsResult['scenarios'][number]) => number): Series => ({
    name,
    points: sweep.map((run) => [run.loops, pick(run.shutdown)] as [number, number]),
  });
  emit(
    'clients-load.svg',
    lineChart({
      title: 'Controlled shutdown: read gap vs client loops on the one DynamoDB Local',
      xLabel: 'client loops (a producer and a consumer per partition)',
      yLabel: 'ms',
      series: [
        line('gap at the move, p99', (s) => s.readUnavailabilityMs.p99),
        line('gap at the move, p50', (s) => s.readUnavailabilityMs.p50),
        line('reads with no move, p99', (s) => s.readCadenceMs!.p99),
        line('reads with no move, p50', (s) => s.readCadenceMs!.p50),
        line('target for the gap, p99', () => 100),
      ],
      note: `DynamoDB Local busy: ${sweep.map((run) => `${run.loops} loops ${Math.round(100 * (run.shutdown.dynamodb?.busyShare ?? 0))} %`).join(', ')}`,
    }),
  );
}

console.log(written.length > 0 ? `plots: ${written.map((file) => `bench-results/${file}`).join(', ')}` : 'no results to plot');
