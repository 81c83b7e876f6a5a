import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { billFor, kinesisOnDemand, mskServerless, type MeteredUsage } from '../../../cost/bill.js';
import {
  DYNAMODB_WCU_PER_KEY_PER_SECOND,
  formatPlan,
  measurementsFrom,
  parsePlanRequest,
  planCluster,
  PlanInputError,
  PlanUnavailableError,
  type PlanFlag,
} from '../../../cost/plan.js';
import { readMeasurements } from '../../../cost/measurements.js';
import { PRICES, SECONDS_PER_MONTH } from '../../../cost/prices.js';
import { repoRoot } from '../../../tools/synth.js';

const usage = (writeUnits: number, readUnits: number, invocations: number, gbSeconds = 0, s3Puts = 0): MeteredUsage => ({
  dynamodb: { readUnits, writeUnits },
  lambda: { invocations, gbSeconds, logBytes: 0 },
  sqs: { billedRequests: 0 },
  s3: { tier1Requests: s3Puts, tier2Requests: 0 },
});
const none = usage(0, 0, 0);

/** A cost.json as bench:cost writes it, with round figures: 100 records per shape, consume reads 1 unit per record. */
function costJson(extraShapes: unknown[] = []) {
  const shape = (replicationFactor: number, recordsPerCall: number, writeUnitsPerRecord: number) => ({
    replicationFactor,
    recordsPerCall,
    records: 100,
    usage: { produce: usage(writeUnitsPerRecord * 100, 0, 100 / recordsPerCall), consume: usage(0, 100, 100 / recordsPerCall) },
  });
  return {
    at: '2026-01-01T00:00:00.000Z',
    settings: { recordBytes: 1024 },
    shapes: [shape(2, 1, 20), shape(2, 16, 6), shape(3, 1, 30), shape(3, 16, 9), ...extraShapes],
    idle: {
      cluster: { brokers: 4, partitions: 100, heartbeatIntervalMs: 2000, usdPerHeartbeat: 1e-6, scheduled: [{ name: 'Reconcile', usdPerMonth: 2 }, { name: 'Sweep', usdPerMonth: 0.5 }] },
    },
  };
}
const throughputJson = {
  at: '2026-01-02T00:00:00.000Z',
  settings: { batch: 98 },
  runs: [
    { replicationFactor: 2, partitions: 8, produce: { recordsPerSecond: 1600 } },
    { replicationFactor: 3, partitions: 8, produce: { recordsPerSecond: 800 } },
  ],
};
const latencyJson = {
  latencyMs: {
    'produce rf3 acks=all': { p50: 40, p99: 90 },
    'produce rf3 acks=1': { p50: 20, p99: 50 },
    'produce rf2 acks=all': { p50: 25, p99: 50 },
  },
};
const measured = measurementsFrom({ cost: costJson(), throughput: throughputJson, latency: latencyJson });

const flags = (overrides: Partial<Record<PlanFlag, string>> = {}) => ({ 'records-per-second': '1000', 'record-bytes': '1024', rf: '3', retention: '7d', ...overrides });
const plan = (overrides: Partial<Record<PlanFlag, string>> = {}) => planCluster(parsePlanRequest(flags(overrides)), measured);

describe('plan: the monthly cost from the measured usage per record', () => {
  it('bills the measured shape per record, times the records of a month, line by line', () => {
    const planned = plan({ 'records-per-call': '16', 'min-insync': '2' });
    const recordsPerMonth = 1000 * SECONDS_PER_MONTH;
    const perRecord = billFor(usage(9, 1, 2 / 16));
    expect(planned.usage.shapes).toEqual([{ replicationFactor: 3, recordsPerCall: 16, records: 100 }]);
    expect(planned.usage.writeUnitsPerRecord).toBeCloseTo(9, 9);
    expect(planned.monthly.dynamodbWrites).toBeCloseTo(perRecord.dynamodbWrites * recordsPerMonth, 3);
    expect(planned.monthly.dynamodbReads).toBeCloseTo(perRecord.dynamodbReads * recordsPerMonth, 3);
    expect(planned.monthly.lambdaRequests).toBeCloseTo(perRecord.lambdaRequests * recordsPerMonth, 3);
    // RF copies of the bytes, for the retention, at the table's storage price.
    const storedGb = (1000 * 1024 * 7 * 86_400 * 3) / 1024 ** 3;
    expect(planned.storedGb).toBeCloseTo(storedGb, 6);
    expect(planned.monthly.storage).toBeCloseTo(storedGb * PRICES.dynamodbStorageGbMonth.usd, 6);
    // 3 brokers (the least RF 3 needs), heartbeating every 2 s, plus the scheduled runs.
    expect(planned.brokers).toBe(3);
    expect(planned.monthly.idleCluster).toBeCloseTo(1e-6 * (SECONDS_PER_MONTH / 2) * 3 + 2.5, 6);
    const lines = (Object.entries(planned.monthly) as Array<[string, number]>).flatMap(([line, value]) => (line === 'total' ? [] : [value]));
    expect(planned.monthly.total).toBeCloseTo(lines.reduce((sum, value) => sum + value, 0), 6);
    const kinesis = kinesisOnDemand(1024);
    expect(planned.references.kinesisOnDemand).toBeCloseTo(kinesis.perRecord * recordsPerMonth + kinesis.perStreamMonth, 6);
    const msk = mskServerless(1024, planned.partitions.needed);
    expect(planned.references.mskServerless).toBeCloseTo(msk.perRecord * recordsPerMonth + msk.perMonth, 6);
  });

  it('defaults to full 16 KiB batches, and picks the largest measured call at most the one asked for, saying so', () => {
    expect(plan().recordsPerCall).toBe(16);
    expect(plan({ 'record-bytes': '4096' }).recordsPerCall).toBe(4);
    const between = plan({ 'records-per-call': '50' });
    expect(between.usage.shapes[0].recordsPerCall).toBe(16);
    expect(between.notes.join('\n')).toContain('50 records per call was not measured; used the measured 16');
    const big = plan({ 'records-per-call': '500' });
    expect(big.usage.shapes[0].recordsPerCall).toBe(16);
    expect(plan({ 'records-per-call': '1' }).usage.writeUnitsPerRecord).toBeCloseTo(30, 9);
  });

  it('interpolates or extrapolates linearly in RF from the measured ones, saying so', () => {
    const rf4 = plan({ rf: '4' });
    expect(rf4.usage.writeUnitsPerRecord).toBeCloseTo(12, 9);
    expect(rf4.notes.join('\n')).toContain('RF 4 was not measured; usage per record extrapolated linearly in RF from the measured RF 2 and RF 3');
    expect(plan({ rf: '1' }).usage.writeUnitsPerRecord).toBeCloseTo(3, 9);
  });

  it('scales DynamoDB units up with larger records and keeps them for smaller ones, saying so', () => {
    expect(plan({ 'record-bytes': '2048', 'records-per-call': '16' }).usage.writeUnitsPerRecord).toBeCloseTo(18, 9);
    const small = plan({ 'record-bytes': '100', 'records-per-call': '16' });
    expect(small.usage.writeUnitsPerRecord).toBeCloseTo(9, 9);
    expect(small.notes.join('\n')).toContain('100 B records are planned at the measured units');
  });

  it('counts partitions from the lower of the measured per-partition rate and the AWS per-key write limit', () => {
    // Measured: 800 records/s over 8 partitions = 100 each. AWS: the leader key takes 9 / 3 = 3 units per record → 333/s.
    const planned = plan({ 'records-per-call': '16' });
    expect(planned.partitions.measured?.recordsPerSecond).toBe(100);
    expect(planned.partitions.awsKeyLimit.recordsPerSecond).toBeCloseTo(DYNAMODB_WCU_PER_KEY_PER_SECOND / 3, 6);
    expect(planned.partitions).toMatchObject({ needed: 10, binding: 'measured' });
    // Without a measured rate the key limit alone: 1000 / (30 / 3) = 100/s at one record per call.
    const keyOnly = planCluster(parsePlanRequest(flags({ 'records-per-second': '250', 'records-per-call': '1' })), measurementsFrom({ cost: costJson() }));
    expect(keyOnly.partitions).toMatchObject({ needed: 3, binding: 'aws-key-limit', measured: undefined });
  });

  it("says when a load needs more than one topic's partitions, or more than a table's default write quota", () => {
    // 100/s per partition measured; 9 write units per record.
    const big = plan({ 'records-per-second': '150000', 'records-per-call': '16' });
    expect(big.partitions.needed).toBe(1500);
    expect(big.notes.join('\n')).toContain('a topic holds at most 1,000; spread the load over 2 topics');
    expect(big.notes.join('\n')).toContain("1,350,000 write units/s is over an on-demand table's default 40,000/s");
    expect(plan().notes.join('\n')).not.toMatch(/quota|spread the load/);
  });

  it('gives the measured acks=all latency for the RF and the AWS estimate, labelled apart', () => {
    const planned = plan({ rf: '2' });
    expect(planned.latency.measured).toEqual({ replicationFactor: 2, p50Ms: 25, p99Ms: 50 });
    expect(planned.latency.awsEstimate?.replicationFactor).toBe(2);
    const text = formatPlan(planned).join('\n');
    expect(text).toContain('measured (embedded cloud, bench:latency, RF 2): p50 25 ms, p99 50 ms');
    expect(text).toMatch(/AWS estimate \(not measured; .*RF 2\)/);
  });

  it('counts the broker failures survived from RF and min.insync.replicas', () => {
    expect(plan({ rf: '3', 'min-insync': '2' }).failures).toEqual({ writesContinueThrough: 1, acknowledgedSurvive: 2, acknowledgedSurviveWorstCase: 1 });
    expect(plan({ rf: '3' }).failures).toEqual({ writesContinueThrough: 2, acknowledgedSurvive: 2, acknowledgedSurviveWorstCase: 0 });
    expect(plan({ rf: '1' }).failures).toEqual({ writesContinueThrough: 0, acknowledgedSurvive: 0, acknowledgedSurviveWorstCase: 0 });
    const text = formatPlan(plan({ rf: '3', 'min-insync': '2' })).join('\n');
    expect(text).toContain('acks=all writes keep working through 1 lost broker');
    expect(text).toContain('losing 2: acks=all writes are refused');
    expect(text).toContain('losing all 3: the partition goes OFFLINE');
    expect(text).toContain('unclean election (data loss) only if the topic opted in');
  });
});

describe('plan: storage modes', () => {
  it("plans diskless from the design's model while cost.json has no diskless measurements, and says so in the figures and the text", () => {
    // bench:cost's diskless shape: RF 3, 5,000 records/s of 1 KiB over 16 partitions, flushed every 250 ms.
    const planned = planCluster(parsePlanRequest(flags({ storage: 'diskless', 'records-per-second': '5000', partitions: '16', 'min-insync': '2' })), measured);
    expect(planned.basis).toBe('model');
    expect(planned.usage.shapes).toEqual([]);
    expect(planned.disklessModel).toMatchObject({ flushMs: 250, partitions: 16, callsPerSecond: 4, recordsPerCall: 1250, batchesPerSecond: 64 });
    // Per batch: 3 ref items and 3 commits of 1 unit and the high watermark; 64 batches/s over 5,000 records/s.
    expect(planned.usage.writeUnitsPerRecord).toBeCloseTo((64 * 7) / 5000, 9);
    const recordsPerMonth = 5000 * SECONDS_PER_MONTH;
    // One PUT per flush, one ranged GET per batch consumed.
    expect(planned.monthly.s3Requests).toBeCloseTo(((4 * PRICES.s3PutRequest.usd + 64 * PRICES.s3GetRequest.usd) / 5000) * recordsPerMonth, 3);
    expect(planned.monthly.storage).toBeGreaterThan(planned.storedGb * PRICES.s3StorageGbMonth.usd);
    // The target for this shape: at most $0.23 per million, 2x Kinesis on-demand.
    expect(planned.perMillionRecords).toBeLessThan(0.23);
    expect(planned.latency.disklessEstimate).toEqual({ flushMs: 250, s3PutP50Ms: 30, s3PutP99Ms: 150, p50Ms: 125 + 30 + 86, p99Ms: Math.round(247.5 + 150 + 169) });
    expect(planned.latency.measured).toBeUndefined();
    const text = formatPlan(planned).join('\n');
    expect(text).toContain('usage MODELLED from the diskless design, not measured');
    expect(text).toContain('model: a flush every 250 ms: 4 produce calls and S3 PUTs/s of 1,250 records, 64 batches/s over 16 partitions');
    expect(text).toMatch(/AWS estimate \(a MODEL, not measured: .*\): p50 241 ms, p99 567 ms/);
    expect(text).toContain('diskless: a MODEL of the design');
    // Without --partitions: the fewest whose batches a flush can carry (1,250 records a flush, 500 a batch).
    const fewest = planCluster(parsePlanRequest(flags({ storage: 'diskless', 'records-per-second': '5000' })), measured);
    expect(fewest.disklessModel?.partitions).toBe(3);
    expect(fewest.partitions.needed).toBe(3);
  });

  it('plans diskless from its measured shapes when cost.json has them: one S3 copy of the bytes', () => {
    const diskless = { storage: 'diskless', replicationFactor: 3, recordsPerCall: 16, records: 100, usage: { produce: usage(50, 0, 10, 0, 10), consume: usage(0, 10, 10) } };
    const withDiskless = measurementsFrom({ cost: costJson([diskless]), throughput: throughputJson });
    const planned = planCluster(parsePlanRequest(flags({ storage: 'diskless' })), withDiskless);
    expect(planned.usage.writeUnitsPerRecord).toBeCloseTo(0.5, 9);
    expect(planned.monthly.s3Requests).toBeCloseTo(0.1 * PRICES.s3PutRequest.usd * 1000 * SECONDS_PER_MONTH, 3);
    expect(planned.storedGb).toBeCloseTo((1000 * 1024 * 7 * 86_400) / 1024 ** 3, 6);
    expect(planned.basis).toBe('measured');
    // The bytes once in S3; each batch's ref items (one per replica) in the table.
    expect(planned.monthly.storage).toBeGreaterThan(planned.storedGb * PRICES.s3StorageGbMonth.usd);
    expect(planned.monthly.storage).toBeLessThan(planned.storedGb * PRICES.s3StorageGbMonth.usd * 1.1);
    // The replicated plan ignores the diskless shape.
    expect(planCluster(parsePlanRequest(flags()), withDiskless).usage.writeUnitsPerRecord).toBeCloseTo(9, 9);
    // With its acks=all latency measured, that is the diskless plan's measured latency.
    const timed = measurementsFrom({ cost: costJson([{ ...diskless, acksAllLatencyMs: { p50: 260, p99: 410 } }]) });
    expect(planCluster(parsePlanRequest(flags({ storage: 'diskless' })), timed).latency.measured).toMatchObject({ p50Ms: 260, p99Ms: 410, source: 'bench:cost, diskless shape' });
    // bench:cost writes the diskless shape as its own block: read as a diskless shape.
    const block = measurementsFrom({ cost: { ...costJson(), diskless: { ...diskless, storage: undefined, acksAllLatencyMs: { p50: 250, p99: 400 } } } });
    expect(block.cost.shapes.at(-1)).toMatchObject({ storage: 'diskless', recordsPerCall: 16, acksAllLatencyMs: { p50: 250, p99: 400 } });
    expect(planCluster(parsePlanRequest(flags({ storage: 'diskless' })), block).basis).toBe('measured');
    expect(() => measurementsFrom({ cost: { ...costJson(), diskless: { records: 5 } } })).toThrow(/cost.json diskless.usage is missing/);
    // A cost.json with only diskless shapes cannot plan the replicated mode.
    const onlyDiskless = measurementsFrom({ cost: { ...costJson(), shapes: [diskless] } });
    expect(() => planCluster(parsePlanRequest(flags()), onlyDiskless)).toThrow(PlanUnavailableError);
  });
});

describe('plan: bad input names the flag', () => {
  it.each([
    [{ 'records-per-second': '-5' }, 'records-per-second', '--records-per-second must be a number > 0, got "-5"'],
    [{ 'records-per-second': '0' }, 'records-per-second', '--records-per-second must be a number > 0'],
    [{ 'records-per-second': 'lots' }, 'records-per-second', '--records-per-second must be a number > 0, got "lots"'],
    [{ 'record-bytes': '0' }, 'record-bytes', '--record-bytes must be an integer from 1 to 32768'],
    [{ 'record-bytes': '40000' }, 'record-bytes', '--record-bytes must be an integer from 1 to 32768'],
    [{ rf: '0' }, 'rf', '--rf must be an integer from 1 to 100, got "0"'],
    [{ rf: '2.5' }, 'rf', '--rf must be an integer'],
    [{ rf: '2', 'min-insync': '3' }, 'min-insync', '--min-insync must not exceed --rf (2)'],
    [{ retention: '7y' }, 'retention', '--retention has an unknown unit "y" (use ms, s, m, h, d or w), got "7y"'],
    [{ retention: '7' }, 'retention', '--retention needs a unit'],
    [{ retention: 'a week' }, 'retention', '--retention must be a number and a unit'],
    [{ retention: '0d' }, 'retention', '--retention must be more than 0'],
    [{ storage: 'tiered' }, 'storage', '--storage must be replicated or diskless, got "tiered"'],
    [{ partitions: '0' }, 'partitions', '--partitions must be an integer from 1 to 1000, got "0"'],
    [{ 'records-per-call': '501' }, 'records-per-call', '--records-per-call must be an integer from 1 to 500'],
    [{ rf: '3', brokers: '2' }, 'brokers', '--brokers must be at least --rf (3)'],
    [{ rf: undefined }, 'rf', '--rf is required'],
  ] as Array<[Partial<Record<PlanFlag, string>>, PlanFlag, string]>)('%j → %s', (overrides, flag, message) => {
    let thrown: unknown;
    try {
      parsePlanRequest(flags(overrides));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PlanInputError);
    expect((thrown as PlanInputError).flag).toBe(flag);
    expect((thrown as PlanInputError).message).toContain(message);
  });

  it('reads retention in each unit', () => {
    expect(parsePlanRequest(flags({ retention: '36h' })).retentionSeconds).toBe(36 * 3600);
    expect(parsePlanRequest(flags({ retention: '2w' })).retentionSeconds).toBe(14 * 86_400);
    expect(parsePlanRequest(flags({ retention: '90m' })).retentionSeconds).toBe(5400);
  });

  it('names what is missing from unreadable results', () => {
    expect(() => measurementsFrom({ cost: { settings: { recordBytes: 1024 }, shapes: [] } })).toThrow('cost.json has no measured shapes');
    expect(() => measurementsFrom({ cost: { settings: { recordBytes: 1024 } } })).toThrow('cost.json shapes is missing or not a list');
    expect(() => measurementsFrom({ cost: costJson([{ replicationFactor: 3, recordsPerCall: 1, records: 10, usage: { produce: {}, consume: none } }]) })).toThrow(
      'cost.json shapes[4].usage.produce.dynamodb is missing or not an object',
    );
  });
});

describe("plan: the repository's own results", () => {
  it('reads bench-results/ as the benchmarks write them, and plans from them', () => {
    const read = (file: string) => JSON.parse(readFileSync(join(repoRoot, 'bench-results', file), 'utf8')) as unknown;
    const results = measurementsFrom({ cost: read('cost.json'), throughput: read('throughput.json'), latency: read('latency.json') });
    const planned = planCluster(parsePlanRequest(flags({ 'min-insync': '2' })), results);
    expect(planned.monthly.total).toBeGreaterThan(0);
    expect(planned.partitions.needed).toBeGreaterThanOrEqual(1);
    expect(planned.latency.measured?.replicationFactor).toBe(3);
    expect(formatPlan(planned)[0]).toBe(
      'Plan: 1,000 records/s of 1024 B (0.977 MiB/s), replicated, RF 3, min.insync.replicas 2, retention 7d, 16 records per produce call, 3 brokers',
    );
  });
});

describe('plan: reading a bench-results folder', () => {
  it('plans without throughput.json or latency.json when they are unreadable, saying so; not without cost.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-results-'));
    writeFileSync(join(dir, 'cost.json'), JSON.stringify(costJson()));
    writeFileSync(join(dir, 'latency.json'), '{ not json');
    writeFileSync(join(dir, 'throughput.json'), JSON.stringify({ settings: {} }));
    const results = await readMeasurements(dir);
    expect(results.latency).toBeUndefined();
    expect(results.throughput).toBeUndefined();
    const planned = planCluster(parsePlanRequest(flags()), results);
    expect(planned.notes.join('\n')).toMatch(/latency\.json left out: .* is not JSON/);
    expect(planned.notes.join('\n')).toContain('throughput.json left out: throughput.json settings.batch is not a number >= 0');
    expect(planned.partitions.binding).toBe('aws-key-limit');
    await expect(readMeasurements(mkdtempSync(join(tmpdir(), 'plan-empty-')))).rejects.toThrow(/no cost\.json in .*: run `npm run bench:cost` first/);
  });
});
