/**
 * Each benchmark's own charts, drawn from its result JSON in bench-results/: what the
 * benchmark measured against the benchmark's own targets. `npm run bench:plot` writes them
 * beside the JSON and the live console draws the same ones, so the two never disagree. Pure
 * functions of the parsed JSON (no Node modules).
 */
import { barChart, lineChart, type Series } from './svg-chart.js';

/** The canonical results, in the order the console shows them. */
export const BENCHMARKS = ['failover', 'scale', 'clients', 'throughput', 'latency', 'cost', 'runtime', 'chaos'] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

export interface BenchmarkChart {
  /** The SVG's file name beside the JSON, e.g. scale-served.svg. */
  file: string;
  title: string;
  svg: string;
}

export interface DrawnBenchmark {
  /** One line: the headline numbers. */
  summary: string;
  charts: BenchmarkChart[];
}

/** What the console page lists for one benchmark (GET /api/bench). */
export interface BenchEntry {
  name: BenchmarkName;
  found: boolean;
  /** The headline numbers, or why there is nothing to draw. */
  summary: string;
  /** Command, commit, machine and time of the result. */
  provenance: string;
  /** Served at /bench/<file>. */
  charts: Array<{ file: string; title: string }>;
}

/** A result file that lacks what its chart needs; the message names the file and the field. */
export class BenchResultShapeError extends Error {
  override readonly name = 'BenchResultShapeError';
}

export function isBenchmarkName(name: string): name is BenchmarkName {
  return (BENCHMARKS as readonly string[]).includes(name);
}

/** Every chart file a benchmark writes, by name: the only files the console serves. */
export const CHART_FILES: Readonly<Record<string, BenchmarkName>> = {
  'failover.svg': 'failover',
  'scale.svg': 'scale',
  'scale-served.svg': 'scale',
  'clients.svg': 'clients',
  'throughput.svg': 'throughput',
  'latency.svg': 'latency',
  'cost.svg': 'cost',
  'runtime.svg': 'runtime',
  'chaos.svg': 'chaos',
};

export function drawBenchmark(name: BenchmarkName, result: unknown): DrawnBenchmark {
  if (!isRecord(result)) throw new BenchResultShapeError(`${name}.json is not a JSON object`);
  const drawn = DRAW[name](result as never, name);
  for (const chart of drawn.charts) {
    if (CHART_FILES[chart.file] !== name) throw new Error(`${chart.file} is not listed in CHART_FILES under ${name}`);
  }
  return drawn;
}

/** Where a result came from, as one line: command, commit, machine, time. Older results lack some of it. */
export function describeProvenance(result: unknown): string {
  if (!isRecord(result)) return '';
  const parts: string[] = [];
  if (typeof result.command === 'string') parts.push(result.command);
  const commit = result.commit;
  if (typeof commit === 'string') parts.push(commit === 'unknown' ? 'commit unknown' : `commit ${commit.slice(0, 7)}`);
  else if (isRecord(commit) && typeof commit.sha === 'string') {
    parts.push(`commit ${commit.sha.slice(0, 7)}${commit.dirty === true ? ' with uncommitted changes' : ''}${typeof commit.source === 'string' ? ` (${commit.source})` : ''}`);
  }
  const machine = result.machine;
  if (machine === 'unknown') parts.push('machine unknown');
  else if (isRecord(machine)) {
    const cpus = typeof machine.cpus === 'number' ? `${machine.cpus} CPUs` : undefined;
    const model = typeof machine.model === 'string' && machine.model !== 'unknown' ? machine.model : undefined;
    const memory = typeof machine.memoryMiB === 'number' ? `${Math.round(machine.memoryMiB / 102.4) / 10} GiB` : undefined;
    const node = typeof machine.node === 'string' ? `Node ${machine.node}` : undefined;
    const load = typeof machine.loadAverage1m === 'number' ? `load ${machine.loadAverage1m} at start` : undefined;
    parts.push([cpus, model, memory, node, load].filter(Boolean).join(', '));
  }
  const at = typeof result.at === 'string' ? result.at : typeof result.startedAt === 'string' ? result.startedAt : undefined;
  if (at) parts.push(at);
  return parts.filter((part) => part !== '').join(' · ');
}

type Summary = { n: number; p50: number; p95: number; p99: number; max: number };

/** A benchmark's `cost` block (scripts/bench/lib/cost.ts), as far as the summaries read it. */
export interface CostBlock {
  pricesReadOn?: string;
  usdPerMillionRecords?: number;
  usdPerOperation?: number;
  operation?: string;
}

/** A cost block as a few words: "$4.1 per million records", "$0.000012 per failover"; older results have none. */
export function costSummary(cost: CostBlock | undefined): string {
  if (!isRecord(cost)) return 'cost not measured';
  if (typeof cost.usdPerMillionRecords === 'number') return `$${formatUsd(cost.usdPerMillionRecords)} per million records`;
  if (typeof cost.usdPerOperation === 'number') return `$${formatUsd(cost.usdPerOperation)} per ${typeof cost.operation === 'string' ? cost.operation : 'operation'}`;
  return 'cost not measured';
}

/** Dollars with two decimals, or two significant digits below a cent. */
export function formatUsd(usd: number): string {
  return usd >= 0.01 || usd === 0 ? usd.toFixed(2) : usd.toPrecision(2);
}

interface FailoverResult {
  at?: string;
  settings: { sessionTimeoutMs: number; heartbeatIntervalMs?: number };
  runs: Array<{ promotedMs: number; firstReadMs: number }>;
  target?: { excessP99Ms: number };
  cost?: CostBlock;
}

interface ThroughputResult {
  at: string;
  raw: { meanPerSecond: number };
  settings: { producers: number; batch: number };
  runs: Array<{
    replicationFactor: number;
    rawPutItemPerSecond: number;
    produce: { recordsPerSecond: number; ratioToRawPut: number };
    consume: { recordsPerSecond: number; ratioToRawPut: number };
    cost?: CostBlock;
  }>;
}

interface LatencyResult {
  at: string;
  latencyMs: Record<string, Summary>;
  target?: { acksAllP50Ms: number; measured: number };
  cost?: Record<string, CostBlock>;
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
    cost?: CostBlock;
    reconcileCost?: CostBlock;
  }>;
}

interface ClientsResult {
  at: string;
  scenarios: Array<{
    name: string;
    failedSends: number;
    failedPolls: number;
    readUnavailabilityMs: Summary;
    sendUnavailabilityMs: Summary;
    /** The send that crossed the move, start to ack, and every other send (older results lack them). */
    sendAcrossMoveMs?: Summary;
    sendMs?: Summary;
    readCadenceMs?: Summary;
    cost?: CostBlock;
  }>;
}

interface CostResult {
  at: string;
  prices: { readOn: string };
  shapes: Array<{
    replicationFactor: number;
    recordsPerCall: number;
    perMillionRecords: { total: number; totalWithoutLambdaDuration?: number };
    floorPerMillionRecords: number;
    ratioToFloor: number;
  }>;
  references: { kinesisOnDemand: { usdPerMillionRecords: number }; mskServerless: { usdPerMillionRecords: number } };
  idle: { cluster: { perMonth: number }; consumer: { perMonth: number; partitions: number } };
  /** The diskless mode's target shape, default client settings (older results lack it). */
  diskless?: { replicationFactor: number; partitions: number; offeredRecordsPerSecond: number; usdPerMillionRecords: number; ratioToKinesisOnDemand: number; acksAllLatencyMs: { p50: number; p99: number }; met: boolean };
  /** The replicated mode's target shapes, default client settings (older results lack them). */
  doneWhen?: {
    replicationFactor: number;
    target?: { maxUsdPerMillionRecords: number };
    shapes: Array<{ name: string; usdPerMillionRecords: number; ratioToFloor: number; ratioToKinesisOnDemand: number; recordsPerProduceCall: number; met: boolean }>;
  };
}

interface RuntimeResult {
  invokeOverheadMs: { sdk: Summary; http?: Summary; inProcess?: Summary };
  streamDeliveryMs: Summary;
  targets?: { invokeOverheadP50Ms?: { target: number }; streamDeliveryP99Ms?: { target: number } };
  cost?: CostBlock;
}

interface ChaosResult {
  runs: Array<{ seed: number; verdict: string; batchesAcked?: number; faults?: Record<string, number> }>;
}

const DRAW: { [name in BenchmarkName]: (result: never, name: BenchmarkName) => DrawnBenchmark } = {
  failover: (result: FailoverResult, name) => {
    requireList(name, result, 'runs', ['promotedMs', 'firstReadMs']);
    const sessionTimeoutMs = result.settings?.sessionTimeoutMs;
    if (typeof sessionTimeoutMs !== 'number') throw new BenchResultShapeError(`${name}.json has no settings.sessionTimeoutMs`);
    const excessP99Ms = result.target?.excessP99Ms ?? 1000;
    const runs = result.runs;
    const firstReads = runs.map((run) => run.firstReadMs).sort((a, b) => a - b);
    const p50 = firstReads[Math.floor((firstReads.length - 1) / 2)];
    const svg = lineChart({
      title: 'Single-partition failover, run by run: time after the last heartbeat',
      xLabel: 'run',
      yLabel: 'ms after the last accepted heartbeat',
      series: [
        { name: 'promoted', points: runs.map((run, index) => [index + 1, run.promotedMs]) },
        { name: 'first read served', points: runs.map((run, index) => [index + 1, run.firstReadMs]) },
      ],
      referenceLines: [
        { value: sessionTimeoutMs, label: `session timeout ${sessionTimeoutMs} ms` },
        { value: sessionTimeoutMs + excessP99Ms, label: `first-read p99 target ${sessionTimeoutMs + excessP99Ms} ms` },
      ],
      xFromZero: false,
      yFromZero: false,
      note: `${result.at ? `${result.at}; ` : ''}${runs.length} runs; session timeout ${sessionTimeoutMs} ms${result.settings.heartbeatIntervalMs ? `, heartbeats every ${result.settings.heartbeatIntervalMs} ms` : ''}`,
    });
    return {
      summary: `${runs.length} runs: first read served ${p50} ms (median) and at most ${firstReads[firstReads.length - 1]} ms after the last heartbeat; session timeout ${sessionTimeoutMs} ms; ${costSummary(result.cost)}`,
      charts: [{ file: 'failover.svg', title: 'single-partition failover, run by run', svg }],
    };
  },

  throughput: (result: ThroughputResult, name) => {
    requireList(name, result, 'runs', ['replicationFactor', 'rawPutItemPerSecond']);
    const svg = barChart({
      title: 'Produce / consume throughput vs the raw PutItem rate (records/s)',
      yLabel: 'records/s (1 KiB values)',
      groups: result.runs.map((run) => ({
        label: `RF ${run.replicationFactor}`,
        bars: [
          { name: 'raw PutItem/s (same run)', value: run.rawPutItemPerSecond },
          { name: 'produce acks=all', value: run.produce.recordsPerSecond },
          { name: 'consume', value: run.consume.recordsPerSecond },
        ],
      })),
      referenceLines: [{ value: result.raw.meanPerSecond * 0.5, label: 'produce target 0.5x raw' }],
      note: `${result.at}; ${result.settings.producers} producers, batches of ${result.settings.batch}; raw mean ${result.raw.meanPerSecond}/s`,
    });
    return {
      summary: result.runs
        .map((run) => `RF ${run.replicationFactor}: produce ${run.produce.ratioToRawPut}x, consume ${run.consume.ratioToRawPut}x the raw PutItem rate, ${costSummary(run.cost)}`)
        .join('; '),
      charts: [{ file: 'throughput.svg', title: 'throughput vs the raw PutItem rate', svg }],
    };
  },

  latency: (result: LatencyResult, name) => {
    if (!isRecord(result.latencyMs) || Object.keys(result.latencyMs).length === 0) throw new BenchResultShapeError(`${name}.json has no latencyMs summaries`);
    const svg = barChart({
      title: 'Latency of one call, one record (ms)',
      yLabel: 'ms',
      groups: Object.entries(result.latencyMs).map(([call, s]) => ({
        label: call.replace('produce ', '').replace('consume ', 'read '),
        bars: [
          { name: 'p50', value: s.p50 },
          { name: 'p95', value: s.p95 },
          { name: 'p99', value: s.p99 },
        ],
      })),
      referenceLines: [{ value: 50, label: 'acks=all p50 target' }],
      note: `${result.at}; Producer.send / Consumer.poll through the embedded cloud`,
    });
    const acksAll = result.latencyMs['produce rf3 acks=all'];
    const acksAllCost = result.cost?.['produce rf3 acks=all'];
    return {
      summary: acksAll
        ? `acks=all produce at RF 3: p50 ${acksAll.p50} ms, p99 ${acksAll.p99} ms (target p50 <= 50 ms), ${costSummary(acksAllCost)} (one a call)`
        : `${Object.keys(result.latencyMs).length} calls timed`,
      charts: [{ file: 'latency.svg', title: 'latency of one call', svg }],
    };
  },

  scale: (result: ScaleResult, name) => {
    requireList(name, result, 'points', ['n', 'detectionToLastServedMs', 'rawNConditionalWritesMs']);
    const points = result.points;
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
    const scaleSvg = lineChart({
      title: 'Failover at scale: detection to the last of N partitions served',
      xLabel: 'N partitions led by the dead broker',
      yLabel: 'ms after detection',
      xLog: true,
      yLog: true,
      series,
      note: `${result.at}; ratio to N raw conditional writes: ${points.map((p) => `N=${p.n}: ${p.ratioToRaw}`).join(', ')}`,
    });
    const servedSvg = lineChart({
      title: 'Failover at scale: share of the N partitions served over time',
      xLabel: 'ms after detection',
      yLabel: '% of the N partitions served',
      series: points.map((p) => ({ name: `N = ${p.n}`, points: [[0, 0] as [number, number], ...(p.servedCurve ?? []).map((c) => [c.ms, c.fraction * 100] as [number, number])] })),
      note: `${result.at}; 5 brokers, RF 3`,
    });
    return {
      summary: points
        .map((p) => `N = ${p.n}: last served ${p.detectionToLastServedMs} ms (${p.ratioToRaw}x N raw writes), ${costSummary(p.cost)}${p.reconcileCost ? `, reconciler ${costSummary(p.reconcileCost)}` : ''}`)
        .join('; '),
      charts: [
        { file: 'scale.svg', title: 'failover at scale: the last of N partitions served', svg: scaleSvg },
        { file: 'scale-served.svg', title: 'failover at scale: share served over time', svg: servedSvg },
      ],
    };
  },

  clients: (result: ClientsResult, name) => {
    requireList(name, result, 'scenarios', ['name', 'readUnavailabilityMs', 'sendUnavailabilityMs']);
    const svg = barChart({
      title: 'Per-partition unavailability seen by clients (ms)',
      yLabel: 'ms (reads: gap at the move; sends: start to ack)',
      groups: result.scenarios.flatMap((s) => {
        const label = s.name === 'controlled-shutdown' ? 'shutdown' : s.name;
        return [
          { label: `${label}\nreads`, bars: [{ name: 'p50', value: s.readUnavailabilityMs.p50 }, { name: 'p99', value: s.readUnavailabilityMs.p99 }] },
          ...(s.readCadenceMs
            ? [{ label: `${label}\nno move`, bars: [{ name: 'p50', value: s.readCadenceMs.p50 }, { name: 'p99', value: s.readCadenceMs.p99 }] }]
            : []),
          s.sendAcrossMoveMs && s.sendMs
            ? { label: `${label}\nmoved send`, bars: [{ name: 'p50', value: s.sendAcrossMoveMs.p50 }, { name: 'p99', value: s.sendAcrossMoveMs.p99 }] }
            : { label: `${label}\nsends`, bars: [{ name: 'p50', value: s.sendUnavailabilityMs.p50 }, { name: 'p99', value: s.sendUnavailabilityMs.p99 }] },
          ...(s.sendMs ? [{ label: `${label}\nother sends`, bars: [{ name: 'p50', value: s.sendMs.p50 }, { name: 'p99', value: s.sendMs.p99 }] }] : []),
        ];
      }),
      referenceLines: [{ value: 100, label: 'shutdown read p99 target' }],
      note: `${result.at}; "no move": two reads in a row by one leader; "moved send": across the move; failed calls: ${result.scenarios.map((s) => `${s.name} ${s.failedSends + s.failedPolls}`).join(', ')}`,
    });
    return {
      summary: result.scenarios.map((s) => `${s.name}: read gap p99 ${s.readUnavailabilityMs.p99} ms, ${s.failedSends + s.failedPolls} failed calls, ${costSummary(s.cost)}`).join('; '),
      charts: [{ file: 'clients.svg', title: 'unavailability seen by clients', svg }],
    };
  },

  cost: (result: CostResult, name) => {
    requireList(name, result, 'shapes', ['replicationFactor', 'recordsPerCall', 'perMillionRecords', 'floorPerMillionRecords']);
    const replicationFactors = [...new Set(result.shapes.map((shape) => shape.replicationFactor))];
    const recordsPerCall = [...new Set(result.shapes.map((shape) => shape.recordsPerCall))];
    const { kinesisOnDemand, mskServerless } = result.references;
    const floors = replicationFactors.map((rf) => `floor RF ${rf} $${result.shapes.find((shape) => shape.replicationFactor === rf)?.floorPerMillionRecords}`);
    const svg = barChart({
      title: 'Cost per million 1 KiB records, produced (acks=all) and consumed once ($)',
      yLabel: '$ per million records',
      groups: [
        ...recordsPerCall.map((perCall) => ({
          label: `${perCall} per call`,
          bars: result.shapes.filter((shape) => shape.recordsPerCall === perCall).map((shape) => ({ name: `RF ${shape.replicationFactor}`, value: shape.perMillionRecords.total })),
        })),
        // The target shapes, with the clients' default settings (their records per call are what the linger gathered).
        ...(result.doneWhen?.shapes ?? []).map((shape) => ({
          label: `default clients:\n${shape.name}`,
          bars: [{ name: `RF ${result.doneWhen!.replicationFactor}`, value: shape.usdPerMillionRecords }],
        })),
        ...(result.diskless
          ? [{ label: `diskless, default clients:\n${result.diskless.offeredRecordsPerSecond}/s over ${result.diskless.partitions} partitions`, bars: [{ name: `RF ${result.diskless.replicationFactor}`, value: result.diskless.usdPerMillionRecords }] }]
          : []),
      ],
      referenceLines: result.doneWhen?.target ? [{ value: result.doneWhen.target.maxUsdPerMillionRecords, label: `target $${result.doneWhen.target.maxUsdPerMillionRecords}` }] : [],
      // Kinesis, MSK and the floors sit near zero on this scale: named in the note, not drawn.
      note: `${result.at}; us-east-1 prices read ${result.prices.readOn}; per million: Kinesis on-demand $${kinesisOnDemand.usdPerMillionRecords}, MSK Serverless $${mskServerless.usdPerMillionRecords}, ${floors.join(', ')}`,
    });
    const cheapest = [...result.shapes].sort((a, b) => a.perMillionRecords.total - b.perMillionRecords.total)[0];
    return {
      summary:
        `${result.shapes.map((shape) => `RF ${shape.replicationFactor} x ${shape.recordsPerCall}/call $${shape.perMillionRecords.total}`).join(', ')} per million records` +
        ` (best ${cheapest ? `${cheapest.ratioToFloor}x its floor` : 'n/a'}, Kinesis on-demand $${kinesisOnDemand.usdPerMillionRecords});` +
        ` idle cluster $${result.idle.cluster.perMonth}/month, idle consumer of ${result.idle.consumer.partitions} partitions $${result.idle.consumer.perMonth}/month` +
        (result.doneWhen ? `; target at RF ${result.doneWhen.replicationFactor}, default clients: ${doneWhenSummary(result.doneWhen.shapes)}` : '') +
        (result.diskless
          ? `; diskless RF ${result.diskless.replicationFactor}, ${result.diskless.offeredRecordsPerSecond}/s over ${result.diskless.partitions} partitions: $${result.diskless.usdPerMillionRecords} per million (${result.diskless.ratioToKinesisOnDemand}x Kinesis), acks=all p50 ${result.diskless.acksAllLatencyMs.p50} ms, p99 ${result.diskless.acksAllLatencyMs.p99} ms, target ${result.diskless.met ? 'met' : 'not met'}`
          : ''),
      charts: [{ file: 'cost.svg', title: 'cost per million records', svg }],
    };
  },

  runtime: (result: RuntimeResult, name) => {
    if (!isRecord(result.invokeOverheadMs) || !isRecord(result.invokeOverheadMs.sdk) || !isRecord(result.streamDeliveryMs)) {
      throw new BenchResultShapeError(`${name}.json has no invokeOverheadMs.sdk or streamDeliveryMs summary`);
    }
    const overhead = result.invokeOverheadMs;
    const percentiles = (s: Summary) => [
      { name: 'p50', value: s.p50 },
      { name: 'p95', value: s.p95 },
      { name: 'p99', value: s.p99 },
    ];
    const invokeTarget = result.targets?.invokeOverheadP50Ms?.target ?? 5;
    const streamTarget = result.targets?.streamDeliveryP99Ms?.target ?? 500;
    const svg = barChart({
      title: 'What the embedded cloud adds (ms)',
      yLabel: 'ms',
      groups: [
        { label: 'invoke overhead\nSDK via edge', bars: percentiles(overhead.sdk) },
        ...(overhead.http ? [{ label: 'invoke overhead\nHTTP via edge', bars: percentiles(overhead.http) }] : []),
        ...(overhead.inProcess ? [{ label: 'invoke overhead\nin process', bars: percentiles(overhead.inProcess) }] : []),
        { label: 'stream write\nto handler', bars: percentiles(result.streamDeliveryMs) },
      ],
      referenceLines: [
        { value: invokeTarget, label: `invoke p50 target ${invokeTarget} ms` },
        { value: streamTarget, label: `stream p99 target ${streamTarget} ms` },
      ],
      note: 'invoke overhead: round trip minus the handler\'s own time, warm',
    });
    return {
      summary: `invoke overhead p50 ${overhead.sdk.p50} ms (target < ${invokeTarget} ms); stream write to handler p99 ${result.streamDeliveryMs.p99} ms (target < ${streamTarget} ms); ${costSummary(result.cost)}`,
      charts: [{ file: 'runtime.svg', title: 'what the embedded cloud adds', svg }],
    };
  },

  chaos: (result: ChaosResult, name) => {
    requireList(name, result, 'runs', ['seed', 'verdict']);
    const runs = result.runs;
    const faults = (run: ChaosResult['runs'][number]) => Object.values(run.faults ?? {}).reduce((sum, count) => sum + count, 0);
    const bad = runs.filter((run) => run.verdict !== 'ok');
    const svg = lineChart({
      title: 'Chaos runs: faults injected and batches acknowledged, per seed',
      xLabel: 'seed',
      yLabel: 'count per run',
      xFromZero: false,
      series: [
        { name: 'faults injected', points: runs.map((run) => [run.seed, faults(run)]) },
        { name: 'batches acked', points: runs.map((run) => [run.seed, run.batchesAcked ?? Number.NaN]) },
      ],
      note: `${runs.length} runs, ${bad.length === 0 ? 'no violation and no error in any' : `not ok: ${bad.map((run) => `seed ${run.seed} ${run.verdict}`).join(', ')}`}`,
    });
    return {
      summary: `${runs.length} runs: ${runs.length - bad.length} ok, ${bad.length} with violations or errors`,
      charts: [{ file: 'chaos.svg', title: 'chaos runs', svg }],
    };
  },
};

/** Each target shape: $ per million, against its floor and Kinesis, and whether the target is met. */
function doneWhenSummary(shapes: NonNullable<CostResult['doneWhen']>['shapes']): string {
  return shapes
    .map((shape) => `${shape.name} $${shape.usdPerMillionRecords} (${shape.ratioToFloor}x floor, ${shape.ratioToKinesisOnDemand}x Kinesis, ${shape.recordsPerProduceCall}/call) ${shape.met ? 'met' : 'not met'}`)
    .join(', ');
}

function requireList(name: string, result: object, field: string, keys: string[]): void {
  const list = (result as Record<string, unknown>)[field];
  if (!Array.isArray(list) || list.length === 0) throw new BenchResultShapeError(`${name}.json has no "${field}" to draw`);
  const missing = keys.filter((key) => !list.every((item) => isRecord(item) && item[key] !== undefined));
  if (missing.length > 0) throw new BenchResultShapeError(`${name}.json: not every entry of "${field}" has ${missing.map((key) => `"${key}"`).join(', ')}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
