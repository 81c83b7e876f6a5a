/**
 * The planner: for a load (records per second of a size, kept for a retention) and a topic's
 * replication factor and min.insync.replicas, what a month costs line by line beside Kinesis
 * on-demand and MSK Serverless, how many partitions it needs, the acks=all latency to expect
 * and how many broker failures it survives.
 *
 * Every per-record figure comes from the benchmarks' measured results (bench-results/cost.json,
 * throughput.json, latency.json), picked or scaled as the plan's notes say; the only other
 * inputs are the price table and AWS's documented per-key limit. The diskless mode, until
 * bench:cost has measured it, is planned from a model of its design (cost/diskless-model.ts),
 * labelled as such wherever it shows. Pure: the CLI and the console
 * read the results and pass them in, so both show the same plan.
 */
import { MAX_PARTITIONS, MAX_RECORD_BYTES, MAX_RECORDS_PER_PRODUCE } from '../functions/domain/limits.js';
import { billFor, kinesisOnDemand, mskServerless, type MeteredUsage } from './bill.js';
import { DISKLESS_MODEL, disklessAcksAllLatency, disklessModel, type DisklessModel } from './diskless-model.js';
import { PRICES, PRICES_READ_ON, SECONDS_PER_MONTH, type Prices } from './prices.js';

export type Storage = 'replicated' | 'diskless';
export const STORAGE_MODES: readonly Storage[] = ['replicated', 'diskless'];

/** The planner's inputs, named as the CLI's flags so an error names the flag to fix. */
export const PLAN_FLAGS = ['records-per-second', 'record-bytes', 'rf', 'min-insync', 'retention', 'storage', 'records-per-call', 'brokers', 'partitions'] as const;
export type PlanFlag = (typeof PLAN_FLAGS)[number];

export interface PlanRequest {
  recordsPerSecond: number;
  recordBytes: number;
  replicationFactor: number;
  minInsyncReplicas: number;
  /** As given (`7d`), and in seconds. */
  retention: string;
  retentionSeconds: number;
  storage: Storage;
  /** Records each produce call carries; absent: full batches of the client's default batch.size. */
  recordsPerCall?: number;
  /** Brokers heartbeating; absent: as many as the replication factor needs. */
  brokers?: number;
  /** Partitions the load is spread over (diskless: a flush carries one batch per partition); absent: as many as needed. */
  partitions?: number;
}

/** A bad input, named by its flag. */
export class PlanInputError extends Error {
  constructor(
    readonly flag: PlanFlag,
    problem: string,
  ) {
    super(`--${flag} ${problem}`);
    this.name = 'PlanInputError';
  }
}

/** The results cannot answer this request (a storage mode not measured, results missing or unreadable). */
export class PlanUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanUnavailableError';
  }
}

/** The client Producer's default batch.size (Kafka's): what a busy partition's produce calls carry. */
export const PRODUCER_BATCH_SIZE_BYTES = 16_384;
/** AWS: "each partition ... limited to 1,000 write units per second" (DynamoDB service quotas, per partition key). */
export const DYNAMODB_WCU_PER_KEY_PER_SECOND = 1000;
/** AWS: an on-demand table's default maximum, 40,000 write request units per second (raised on request). */
export const DYNAMODB_TABLE_WRU_PER_SECOND = 40_000;

const RETENTION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Reads the flags' string values (from argv or a form); throws PlanInputError naming the first bad one. */
export function parsePlanRequest(raw: Partial<Record<PlanFlag, string | undefined>>): PlanRequest {
  const recordsPerSecond = positiveNumber(raw['records-per-second'], 'records-per-second');
  const recordBytes = integerFlag(raw['record-bytes'], 'record-bytes', 1, MAX_RECORD_BYTES) ?? missing('record-bytes');
  const replicationFactor = integerFlag(raw.rf, 'rf', 1, 100) ?? missing('rf');
  const minInsyncReplicas = integerFlag(raw['min-insync'], 'min-insync', 1, 100) ?? 1;
  if (minInsyncReplicas > replicationFactor) {
    throw new PlanInputError('min-insync', `must not exceed --rf (${replicationFactor}): a write could never gather ${minInsyncReplicas} in-sync copies, got ${minInsyncReplicas}`);
  }
  const retention = (raw.retention ?? missing('retention')).trim();
  const storage = raw.storage?.trim() ?? 'replicated';
  if (!STORAGE_MODES.includes(storage as Storage)) throw new PlanInputError('storage', `must be ${STORAGE_MODES.join(' or ')}, got "${storage}"`);
  const brokers = integerFlag(raw.brokers, 'brokers', 1, 10_000);
  if (brokers !== undefined && brokers < replicationFactor) {
    throw new PlanInputError('brokers', `must be at least --rf (${replicationFactor}): each replica needs its own broker, got ${brokers}`);
  }
  return {
    recordsPerSecond,
    recordBytes,
    replicationFactor,
    minInsyncReplicas,
    retention,
    retentionSeconds: retentionSeconds(retention),
    storage: storage as Storage,
    recordsPerCall: integerFlag(raw['records-per-call'], 'records-per-call', 1, MAX_RECORDS_PER_PRODUCE),
    brokers,
    partitions: integerFlag(raw.partitions, 'partitions', 1, MAX_PARTITIONS),
  };
}

function missing(flag: PlanFlag): never {
  throw new PlanInputError(flag, 'is required');
}

function positiveNumber(raw: string | undefined, flag: PlanFlag): number {
  if (raw === undefined || raw.trim() === '') missing(flag);
  const value = /^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || value <= 0) throw new PlanInputError(flag, `must be a number > 0, got "${raw}"`);
  return value;
}

function integerFlag(raw: string | undefined, flag: PlanFlag, min: number, max: number): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new PlanInputError(flag, `must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

function retentionSeconds(retention: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(retention);
  if (!match) throw new PlanInputError('retention', `must be a number and a unit (ms, s, m, h, d or w), e.g. 7d, got "${retention}"`);
  const [, amount, unit] = match;
  if (unit === '') throw new PlanInputError('retention', `needs a unit (ms, s, m, h, d or w), e.g. 7d, got "${retention}"`);
  if (!Object.hasOwn(RETENTION_UNITS, unit)) throw new PlanInputError('retention', `has an unknown unit "${unit}" (use ms, s, m, h, d or w), got "${retention}"`);
  const seconds = Number(amount) * RETENTION_UNITS[unit];
  if (!(seconds > 0)) throw new PlanInputError('retention', `must be more than 0, got "${retention}"`);
  return seconds;
}

// ---------------------------------------------------------------------------------------------
// The measured results the plan is drawn from.

/** One measured call shape of bench:cost: the usage of `records` records produced and consumed once. */
export interface MeasuredShape {
  storage: Storage;
  replicationFactor: number;
  recordsPerCall: number;
  records: number;
  usage: { produce: MeteredUsage; consume: MeteredUsage };
  /** acks=all latency measured with the shape (bench:cost's diskless shape reports it). */
  acksAllLatencyMs?: { p50: number; p99: number };
}

export interface Measurements {
  cost: {
    /** When and where the results were measured, for the plan to say. */
    at?: string;
    recordBytes: number;
    shapes: MeasuredShape[];
    idle?: {
      brokers: number;
      partitions: number;
      heartbeatIntervalMs: number;
      usdPerHeartbeat: number;
      /** The scheduled functions' dollars a month, measured at `partitions`. */
      scheduledUsdPerMonth: number;
    };
  };
  /** bench:throughput's produce runs: records/s over `partitions` at `recordsPerCall`. */
  throughput?: { at?: string; recordsPerCall: number; runs: Array<{ replicationFactor: number; partitions: number; recordsPerSecond: number }> };
  /** bench:latency's one-record acks=all produce, per replication factor. */
  latency?: { at?: string; acksAll: Array<{ replicationFactor: number; p50: number; p99: number }> };
  /** Results that could not be read, each said in the plan's notes. */
  problems?: string[];
}

/** Reads bench-results' JSON as the benchmarks write them; throws PlanUnavailableError naming what is missing. */
export function measurementsFrom(results: { cost: unknown; throughput?: unknown; latency?: unknown }): Measurements {
  const cost = record(results.cost, 'cost.json');
  const settings = record(cost.settings, 'cost.json settings');
  const shapeOf = (raw: unknown, what: string): MeasuredShape => {
    const shape = record(raw, what);
    const usage = record(shape.usage, `${what}.usage`);
    const storage = shape.storage === undefined ? 'replicated' : shape.storage;
    if (!STORAGE_MODES.includes(storage as Storage)) throw new PlanUnavailableError(`${what} has an unknown storage ${JSON.stringify(storage)}`);
    const latency = isRecord(shape.acksAllLatencyMs) ? shape.acksAllLatencyMs : undefined;
    return {
      storage: storage as Storage,
      ...(latency ? { acksAllLatencyMs: { p50: amount(latency.p50, `${what}.acksAllLatencyMs.p50`), p99: amount(latency.p99, `${what}.acksAllLatencyMs.p99`) } } : {}),
      replicationFactor: count(shape.replicationFactor, `${what}.replicationFactor`),
      recordsPerCall: count(shape.recordsPerCall, `${what}.recordsPerCall`),
      records: count(shape.records, `${what}.records`),
      usage: { produce: usageOf(usage.produce, `${what}.usage.produce`), consume: usageOf(usage.consume, `${what}.usage.consume`) },
    };
  };
  // bench:cost writes the diskless mode's target shape apart from the replicated ones (its own block), storage included.
  const shapes = [
    ...array(cost.shapes, 'cost.json shapes').map((raw, index) => shapeOf(raw, `cost.json shapes[${index}]`)),
    ...(isRecord(cost.diskless) ? [shapeOf({ ...cost.diskless, storage: 'diskless' }, 'cost.json diskless')] : []),
  ];
  if (shapes.length === 0) throw new PlanUnavailableError('cost.json has no measured shapes: run `npm run bench:cost`');
  const idleCluster = isRecord(cost.idle) && isRecord(cost.idle.cluster) ? cost.idle.cluster : undefined;
  const idle = idleCluster && {
    brokers: count(idleCluster.brokers, 'cost.json idle.cluster.brokers'),
    partitions: count(idleCluster.partitions, 'cost.json idle.cluster.partitions'),
    heartbeatIntervalMs: count(idleCluster.heartbeatIntervalMs, 'cost.json idle.cluster.heartbeatIntervalMs'),
    usdPerHeartbeat: amount(idleCluster.usdPerHeartbeat, 'cost.json idle.cluster.usdPerHeartbeat'),
    scheduledUsdPerMonth: array(idleCluster.scheduled ?? [], 'cost.json idle.cluster.scheduled').reduce<number>(
      (sum, run, index) => sum + amount(record(run, `cost.json idle.cluster.scheduled[${index}]`).usdPerMonth, `cost.json idle.cluster.scheduled[${index}].usdPerMonth`),
      0,
    ),
  };
  return {
    cost: { at: text(cost.at), recordBytes: count(settings.recordBytes, 'cost.json settings.recordBytes'), shapes, idle },
    throughput: results.throughput === undefined ? undefined : throughputOf(results.throughput),
    latency: results.latency === undefined ? undefined : latencyOf(results.latency),
  };
}

export function throughputOf(raw: unknown): Measurements['throughput'] {
  const result = record(raw, 'throughput.json');
  const settings = record(result.settings, 'throughput.json settings');
  return {
    at: text(result.at),
    recordsPerCall: count(settings.batch, 'throughput.json settings.batch'),
    runs: array(result.runs, 'throughput.json runs').map((run, index) => {
      const entry = record(run, `throughput.json runs[${index}]`);
      const produce = record(entry.produce, `throughput.json runs[${index}].produce`);
      return {
        replicationFactor: count(entry.replicationFactor, `throughput.json runs[${index}].replicationFactor`),
        partitions: count(entry.partitions, `throughput.json runs[${index}].partitions`),
        recordsPerSecond: amount(produce.recordsPerSecond, `throughput.json runs[${index}].produce.recordsPerSecond`),
      };
    }),
  };
}

export function latencyOf(raw: unknown): Measurements['latency'] {
  const result = record(raw, 'latency.json');
  const series = record(result.latencyMs, 'latency.json latencyMs');
  const acksAll = Object.entries(series).flatMap(([name, value]) => {
    const match = /^produce rf(\d+) acks=all$/.exec(name);
    if (!match) return [];
    const entry = record(value, `latency.json latencyMs["${name}"]`);
    return [{ replicationFactor: Number(match[1]), p50: amount(entry.p50, `latency.json "${name}".p50`), p99: amount(entry.p99, `latency.json "${name}".p99`) }];
  });
  return { at: text(result.at), acksAll };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function record(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new PlanUnavailableError(`${what} is missing or not an object`);
  return value;
}

function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new PlanUnavailableError(`${what} is missing or not a list`);
  return value;
}

function amount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new PlanUnavailableError(`${what} is not a number >= 0`);
  return value;
}

function count(value: unknown, what: string): number {
  const number = amount(value, what);
  if (number < 1) throw new PlanUnavailableError(`${what} is not >= 1`);
  return number;
}

function usageOf(value: unknown, what: string): MeteredUsage {
  const usage = record(value, what);
  const dynamodb = record(usage.dynamodb, `${what}.dynamodb`);
  const lambda = record(usage.lambda, `${what}.lambda`);
  const sqs = isRecord(usage.sqs) ? usage.sqs : {};
  const s3 = isRecord(usage.s3) ? usage.s3 : {};
  return {
    dynamodb: { readUnits: amount(dynamodb.readUnits, `${what}.dynamodb.readUnits`), writeUnits: amount(dynamodb.writeUnits, `${what}.dynamodb.writeUnits`) },
    lambda: {
      invocations: amount(lambda.invocations, `${what}.lambda.invocations`),
      gbSeconds: amount(lambda.gbSeconds, `${what}.lambda.gbSeconds`),
      logBytes: amount(lambda.logBytes ?? 0, `${what}.lambda.logBytes`),
    },
    sqs: { billedRequests: amount(sqs.billedRequests ?? 0, `${what}.sqs.billedRequests`) },
    s3: { tier1Requests: amount(s3.tier1Requests ?? 0, `${what}.s3.tier1Requests`), tier2Requests: amount(s3.tier2Requests ?? 0, `${what}.s3.tier2Requests`) },
  };
}

// ---------------------------------------------------------------------------------------------
// The plan.

export interface MonthlyCost {
  dynamodbWrites: number;
  dynamodbReads: number;
  /** DynamoDB table storage (replicated) or S3 storage (diskless) for the retention. */
  storage: number;
  lambdaRequests: number;
  lambdaDuration: number;
  logs: number;
  sqs: number;
  s3Requests: number;
  /** Heartbeats and scheduled functions, with no traffic. */
  idleCluster: number;
  total: number;
}

export interface Plan {
  request: PlanRequest;
  /** Where the usage per record came from: bench:cost's measured shapes, or (diskless, not measured yet) the design's model. */
  basis: 'measured' | 'model';
  /** The diskless model's flushes, when the plan is drawn from it. */
  disklessModel?: Omit<DisklessModel, 'usagePerRecord'> & { partitions: number; flushMs: number };
  recordsPerCall: number;
  brokers: number;
  recordsPerMonth: number;
  /** Which measured shape (or two, for a replication factor between or beyond them) the usage came from. */
  usage: { shapes: Array<{ replicationFactor: number; recordsPerCall: number; records: number }>; writeUnitsPerRecord: number; readUnitsPerRecord: number; measuredAt?: string };
  monthly: MonthlyCost;
  perMillionRecords: number;
  storedGb: number;
  references: { kinesisOnDemand: number; mskServerless: number };
  partitions: {
    needed: number;
    binding: 'measured' | 'aws-key-limit' | 'flush-batch-limit';
    measured?: { recordsPerSecond: number; replicationFactor: number; recordsPerCall: number; partitions: number };
    awsKeyLimit: { recordsPerSecond: number; writeUnitsPerRecordPerKey: number };
  };
  latency: {
    measured?: { replicationFactor: number; p50Ms: number; p99Ms: number; source?: string };
    /** Diskless: the flush bound + an S3 PUT + the replicated path's commit, a model. */
    disklessEstimate?: { flushMs: number; s3PutP50Ms: number; s3PutP99Ms: number; p50Ms: number; p99Ms: number };
    awsEstimate?: { replicationFactor: number; p50Ms: number; p99Ms: number; conflictP50Ms?: number; conflictP99Ms?: number };
  };
  failures: { writesContinueThrough: number; acknowledgedSurvive: number; acknowledgedSurviveWorstCase: number };
  /** What was picked, scaled or left out, in words: printed with the plan. */
  notes: string[];
  pricesReadOn: string;
}

/**
 * acks=all produce of one 1 KiB record on AWS, warm Lambda in one region: an estimate from
 * published per-call AWS latencies (Lambda invoke, DynamoDB GetItem/Query/TransactWriteItems)
 * convolved along the produce path's round trips, not a measurement. The conflict figures
 * apply if RF 3's two parallel follower copies conflict on the partition item.
 */
export const AWS_ACKS_ALL_ESTIMATE: ReadonlyArray<{ replicationFactor: number; p50Ms: number; p99Ms: number; conflictP50Ms?: number; conflictP99Ms?: number }> = [
  { replicationFactor: 2, p50Ms: 84, p99Ms: 159 },
  { replicationFactor: 3, p50Ms: 86, p99Ms: 169, conflictP50Ms: 122, conflictP99Ms: 214 },
];

const GB = 1024 ** 3;

export function planCluster(request: PlanRequest, measured: Measurements, prices: Prices = PRICES): Plan {
  const notes: string[] = [...(measured.problems ?? [])];
  const shapes = measured.cost.shapes.filter((shape) => shape.storage === request.storage);
  if (shapes.length === 0 && request.storage !== 'diskless') {
    throw new PlanUnavailableError(`bench-results/cost.json has no ${request.storage} measurements: run \`npm run bench:cost\``);
  }
  const brokers = request.brokers ?? request.replicationFactor;
  const modelled = shapes.length === 0;
  // Diskless: the design's model, for the records each flush carries by default and, until measured, for the usage.
  const modelPartitions = request.partitions ?? disklessModel({ ...request, partitions: 1 }).partitionsForBatchLimit;
  const model = request.storage === 'diskless' ? disklessModel({ ...request, partitions: modelPartitions }) : undefined;
  let usage: MeteredUsage;
  let recordsPerCall: number;
  let usedShapes: MeasuredShape[] = [];
  if (modelled && model) {
    usage = model.usagePerRecord;
    recordsPerCall = Math.max(1, Math.round(model.recordsPerCall));
    notes.push(
      `diskless: a MODEL of the design (cost/diskless-model.ts), not a measurement: bench-results/cost.json has no diskless shape yet (\`npm run bench:cost\` measures it). ` +
        `A flush every ${DISKLESS_MODEL.flushMs} ms (the producer's disklessLingerMs) is one produce call and one S3 PUT of ${formatCount(model.recordsPerCall)} records, one batch for each of ${modelPartitions} partitions ` +
        `(${round(model.recordsPerBatch, 1)} records a batch); each batch writes RF ref items and commits (${DISKLESS_MODEL.refItemWriteUnits} + ${DISKLESS_MODEL.commitWriteUnits} write units each) and a high watermark; ` +
        `the consumer fetches once a flush and reads each batch with one ranged GET; Lambda durations assumed (${DISKLESS_MODEL.produceCallMs} ms a produce call, ${DISKLESS_MODEL.fetchCallMs} ms a fetch).`,
    );
    if (request.partitions === undefined) notes.push(`partitions: none given; the model spreads the load over ${modelPartitions} (the fewest whose batches stay within ${MAX_RECORDS_PER_PRODUCE} records a flush); --partitions for your topic's (more partitions, more batches, more write units).`);
    if (request.recordsPerCall !== undefined) notes.push('records per call: a diskless producer sends what a flush gathers; --records-per-call is not used by the model.');
  } else {
    const defaultCall = model
      ? Math.max(1, Math.round(model.recordsPerCall))
      : Math.min(MAX_RECORDS_PER_PRODUCE, Math.max(1, Math.floor(PRODUCER_BATCH_SIZE_BYTES / request.recordBytes)));
    recordsPerCall = request.recordsPerCall ?? defaultCall;
    if (request.recordsPerCall === undefined) {
      notes.push(
        model
          ? `records per call: ${recordsPerCall}, what a flush every ${DISKLESS_MODEL.flushMs} ms gathers at this rate (the producer's disklessLingerMs).`
          : `records per call: ${recordsPerCall}, full ${PRODUCER_BATCH_SIZE_BYTES / 1024} KiB batches (the producer's default batch.size); at a low rate per partition its 5 ms linger sends fewer, so pass --records-per-call for your producers' real batches.`,
      );
    }
    const picked = perRecordUsage(shapes, request.replicationFactor, recordsPerCall, notes);
    usage = picked.usage;
    usedShapes = picked.shapes;
    if (request.recordBytes > measured.cost.recordBytes) {
      const factor = request.recordBytes / measured.cost.recordBytes;
      usage = { ...usage, dynamodb: { readUnits: usage.dynamodb.readUnits * factor, writeUnits: usage.dynamodb.writeUnits * factor } };
      notes.push(
        `record size: measured at ${measured.cost.recordBytes} B; DynamoDB units scaled linearly by ${round(factor, 3)} to ${request.recordBytes} B (errs high: the fixed items of each call do not grow with the record).`,
      );
    } else if (request.recordBytes < measured.cost.recordBytes) {
      notes.push(
        `record size: measured at ${measured.cost.recordBytes} B; ${request.recordBytes} B records are planned at the measured units (errs high for batches; DynamoDB bills each item by the whole KB, so a small record alone costs the same).`,
      );
    }
  }
  const perRecord = billFor(usage, prices);
  const recordsPerMonth = request.recordsPerSecond * SECONDS_PER_MONTH;
  if (!modelled) {
    const measuredRecords = Math.min(...usedShapes.map((shape) => shape.records));
    notes.push(`usage per record measured over ${measuredRecords.toLocaleString('en-US')} records of that shape, scaled linearly to ${formatCount(recordsPerMonth)} records a month.`);
    notes.push('Lambda GB-s: billed durations measured on the embedded cloud (an emulator sharing two cores), so an upper bound; units, requests and bytes are what AWS would count.');
  }

  // Retained bytes: every replica's copy in the table, or the one S3 copy of diskless batches (and their ref items in the table).
  const copies = request.storage === 'replicated' ? request.replicationFactor : 1;
  const storedGb = (request.recordsPerSecond * request.recordBytes * request.retentionSeconds * copies) / GB;
  const refItemsGb = model ? (request.recordsPerSecond * model.refItemBytesPerRecord * request.retentionSeconds) / GB : 0;
  const storageUsd = request.storage === 'replicated' ? storedGb * prices.dynamodbStorageGbMonth.usd : storedGb * prices.s3StorageGbMonth.usd + refItemsGb * prices.dynamodbStorageGbMonth.usd;
  notes.push(
    `storage: ${request.storage === 'replicated' ? `${copies} copies of the record bytes in DynamoDB` : `one copy of the record bytes in S3, and each batch's ${request.replicationFactor} ref items in DynamoDB (${round(refItemsGb, 2)} GB)`} for ${request.retention} (item overhead not counted). The log is not trimmed yet: until retention is enforced, stored bytes keep growing.`,
  );

  const idleCluster = idleFloor(measured, brokers, request, notes);
  const monthly: Omit<MonthlyCost, 'total'> = {
    dynamodbWrites: perRecord.dynamodbWrites * recordsPerMonth,
    dynamodbReads: perRecord.dynamodbReads * recordsPerMonth,
    storage: storageUsd,
    lambdaRequests: perRecord.lambdaRequests * recordsPerMonth,
    lambdaDuration: perRecord.lambdaDuration * recordsPerMonth,
    logs: perRecord.logs * recordsPerMonth,
    sqs: perRecord.sqs * recordsPerMonth,
    s3Requests: perRecord.s3 * recordsPerMonth,
    idleCluster,
  };
  const total = Object.values(monthly).reduce((sum, usd) => sum + usd, 0);

  const partitions = partitionsNeeded(request, recordsPerCall, usage.dynamodb.writeUnits, measured, notes, model);
  if (partitions.needed > MAX_PARTITIONS) notes.push(`partitions: a topic holds at most ${MAX_PARTITIONS.toLocaleString('en-US')}; spread the load over ${Math.ceil(partitions.needed / MAX_PARTITIONS)} topics.`);
  const writeUnitsPerSecond = usage.dynamodb.writeUnits * request.recordsPerSecond;
  if (writeUnitsPerSecond > DYNAMODB_TABLE_WRU_PER_SECOND) {
    notes.push(
      `DynamoDB quota: ${Math.round(writeUnitsPerSecond).toLocaleString('en-US')} write units/s is over an on-demand table's default ${DYNAMODB_TABLE_WRU_PER_SECOND.toLocaleString('en-US')}/s: ask AWS to raise it first.`,
    );
  }
  const kinesis = kinesisOnDemand(request.recordBytes, prices);
  const msk = mskServerless(request.recordBytes, partitions.needed, prices);
  notes.push(`Kinesis on-demand: one stream, 24 h retention; MSK Serverless: ${partitions.needed} ${partitions.needed === 1 ? 'partition' : 'partitions'}. Neither includes storage beyond what its base price covers.`);

  return {
    request,
    basis: modelled ? 'model' : 'measured',
    ...(model && modelled ? { disklessModel: { ...withoutUsage(model), partitions: modelPartitions, flushMs: DISKLESS_MODEL.flushMs } } : {}),
    recordsPerCall,
    brokers,
    recordsPerMonth,
    usage: {
      shapes: usedShapes.map(({ replicationFactor, recordsPerCall: calls, records }) => ({ replicationFactor, recordsPerCall: calls, records })),
      writeUnitsPerRecord: usage.dynamodb.writeUnits,
      readUnitsPerRecord: usage.dynamodb.readUnits,
      measuredAt: measured.cost.at,
    },
    monthly: { ...monthly, total },
    perMillionRecords: ((total - idleCluster - monthly.storage) / recordsPerMonth) * 1e6,
    storedGb,
    references: {
      kinesisOnDemand: kinesis.perRecord * recordsPerMonth + kinesis.perStreamMonth,
      mskServerless: msk.perRecord * recordsPerMonth + msk.perMonth,
    },
    partitions,
    latency: latencyPlan(request, measured, usedShapes, notes),
    failures: {
      writesContinueThrough: request.replicationFactor - request.minInsyncReplicas,
      acknowledgedSurvive: request.replicationFactor - 1,
      acknowledgedSurviveWorstCase: request.minInsyncReplicas - 1,
    },
    notes,
    pricesReadOn: PRICES_READ_ON,
  };
}

/**
 * The measured usage per record (produce and consume once) for a call shape: the largest
 * measured call at most `recordsPerCall` (per-record cost falls as calls grow, so a smaller
 * measured one errs high), at the replication factor, or linear in it through the two
 * nearest measured ones (each replica adds its copy's writes).
 */
function perRecordUsage(shapes: MeasuredShape[], replicationFactor: number, recordsPerCall: number, notes: string[]): { usage: MeteredUsage; shapes: MeasuredShape[] } {
  const calls = [...new Set(shapes.map((shape) => shape.recordsPerCall))].sort((a, b) => a - b);
  const call = [...calls].reverse().find((measured) => measured <= recordsPerCall) ?? calls[0];
  if (call === recordsPerCall) notes.push(`call shape: ${call} ${call === 1 ? 'record' : 'records'} per call, as measured.`);
  else if (call < recordsPerCall) {
    notes.push(`call shape: ${recordsPerCall} records per call was not measured; used the measured ${call} (the largest at most ${recordsPerCall}: larger calls cost less per record, so this errs high).`);
  } else notes.push(`call shape: ${recordsPerCall} records per call was not measured; used the smallest measured, ${call} (this errs low).`);
  const atCall = shapes.filter((shape) => shape.recordsPerCall === call).sort((a, b) => a.replicationFactor - b.replicationFactor);
  const exact = atCall.find((shape) => shape.replicationFactor === replicationFactor);
  if (exact) return { usage: scaleUsage(sumUsage(exact.usage.produce, exact.usage.consume), 1 / exact.records), shapes: [exact] };
  if (atCall.length === 1) {
    notes.push(`replication factor: RF ${replicationFactor} was not measured; used RF ${atCall[0].replicationFactor}'s usage as it is (only that one was measured at this call shape).`);
    return { usage: scaleUsage(sumUsage(atCall[0].usage.produce, atCall[0].usage.consume), 1 / atCall[0].records), shapes: [atCall[0]] };
  }
  const below = atCall.filter((shape) => shape.replicationFactor < replicationFactor);
  const above = atCall.filter((shape) => shape.replicationFactor > replicationFactor);
  const [low, high] = below.length === 0 ? [atCall[0], atCall[1]] : above.length === 0 ? atCall.slice(-2) : [below[below.length - 1], above[0]];
  const weight = (replicationFactor - low.replicationFactor) / (high.replicationFactor - low.replicationFactor);
  const lowUsage = scaleUsage(sumUsage(low.usage.produce, low.usage.consume), 1 / low.records);
  const highUsage = scaleUsage(sumUsage(high.usage.produce, high.usage.consume), 1 / high.records);
  const usage = mapUsage(lowUsage, highUsage, (a, b) => Math.max(0, a + (b - a) * weight));
  notes.push(
    `replication factor: RF ${replicationFactor} was not measured; usage per record ${below.length > 0 && above.length > 0 ? 'interpolated' : 'extrapolated'} linearly in RF from the measured RF ${low.replicationFactor} and RF ${high.replicationFactor}.`,
  );
  return { usage, shapes: [low, high] };
}

function idleFloor(measured: Measurements, brokers: number, request: PlanRequest, notes: string[]): number {
  const idle = measured.cost.idle;
  if (!idle) {
    notes.push('idle cluster floor: cost.json has no idle measurement; left out.');
    return 0;
  }
  const heartbeatsPerBrokerMonth = SECONDS_PER_MONTH / (idle.heartbeatIntervalMs / 1000);
  const heartbeats = idle.usdPerHeartbeat * heartbeatsPerBrokerMonth * brokers;
  notes.push(
    `idle cluster floor: ${brokers} brokers heartbeating every ${idle.heartbeatIntervalMs / 1000} s and the scheduled functions as measured at ${idle.partitions} partitions${request.brokers === undefined ? ` (${brokers} brokers: the least RF ${request.replicationFactor} needs; --brokers for more)` : ''}.`,
  );
  return heartbeats + idle.scheduledUsdPerMonth;
}

function partitionsNeeded(request: PlanRequest, recordsPerCall: number, writeUnitsPerRecord: number, measured: Measurements, notes: string[], model?: DisklessModel): Plan['partitions'] {
  // Each replica's log has its own partition key (in both modes), so the leader's key takes one copy's share of the record's writes.
  const writeUnitsPerRecordPerKey = writeUnitsPerRecord / request.replicationFactor;
  const awsKeyLimit = { recordsPerSecond: DYNAMODB_WCU_PER_KEY_PER_SECOND / writeUnitsPerRecordPerKey, writeUnitsPerRecordPerKey };
  const runs = measured.throughput?.runs ?? [];
  const run = nearestBy(runs, (candidate) => Math.abs(candidate.replicationFactor - request.replicationFactor));
  const measuredCeiling = run && measured.throughput && request.storage === 'replicated'
    ? { recordsPerSecond: run.recordsPerSecond / run.partitions, replicationFactor: run.replicationFactor, recordsPerCall: measured.throughput.recordsPerCall, partitions: run.partitions }
    : undefined;
  const binding = measuredCeiling && measuredCeiling.recordsPerSecond < awsKeyLimit.recordsPerSecond ? 'measured' : 'aws-key-limit';
  const ceiling = binding === 'measured' && measuredCeiling ? measuredCeiling.recordsPerSecond : awsKeyLimit.recordsPerSecond;
  if (!measuredCeiling) notes.push('partitions: no measured per-partition rate for this storage mode in throughput.json; the AWS per-key limit alone.');
  else {
    if (measuredCeiling.replicationFactor !== request.replicationFactor) notes.push(`partitions: throughput was measured at RF ${measuredCeiling.replicationFactor}, not ${request.replicationFactor}.`);
    if (recordsPerCall < measuredCeiling.recordsPerCall) {
      notes.push(`partitions: the measured per-partition rate is for calls of ${measuredCeiling.recordsPerCall} records; calls of ${recordsPerCall} append fewer records per second to a partition.`);
    }
  }
  const byRate = Math.max(1, Math.ceil(request.recordsPerSecond / ceiling));
  const needed = Math.max(byRate, model?.partitionsForBatchLimit ?? 1);
  if (request.partitions !== undefined && request.partitions < needed) notes.push(`partitions: --partitions ${request.partitions} is fewer than the ${needed} this load needs.`);
  return { needed, binding: needed > byRate ? 'flush-batch-limit' : binding, measured: measuredCeiling, awsKeyLimit };
}

function latencyPlan(request: PlanRequest, measured: Measurements, usedShapes: MeasuredShape[], notes: string[]): Plan['latency'] {
  const { replicationFactor } = request;
  const estimate = nearestBy(AWS_ACKS_ALL_ESTIMATE, (candidate) => Math.abs(candidate.replicationFactor - replicationFactor));
  if (estimate && estimate.replicationFactor !== replicationFactor) notes.push(`latency: the AWS estimate is for RF ${estimate.replicationFactor}, the nearest to RF ${replicationFactor}.`);
  if (request.storage === 'diskless') {
    // bench:latency measures the replicated path; a diskless figure comes from bench:cost's diskless shape only.
    const shape = usedShapes.find((candidate) => candidate.acksAllLatencyMs);
    const disklessEstimate = estimate && {
      flushMs: DISKLESS_MODEL.flushMs,
      s3PutP50Ms: DISKLESS_MODEL.s3PutP50Ms,
      s3PutP99Ms: DISKLESS_MODEL.s3PutP99Ms,
      ...disklessAcksAllLatency({ p50Ms: estimate.p50Ms, p99Ms: estimate.p99Ms }),
    };
    return {
      measured: shape?.acksAllLatencyMs && { replicationFactor: shape.replicationFactor, p50Ms: shape.acksAllLatencyMs.p50, p99Ms: shape.acksAllLatencyMs.p99, source: 'bench:cost, diskless shape' },
      awsEstimate: estimate && { ...estimate },
      disklessEstimate,
    };
  }
  const series = measured.latency?.acksAll ?? [];
  const point = nearestBy(series, (candidate) => Math.abs(candidate.replicationFactor - replicationFactor));
  if (point && point.replicationFactor !== replicationFactor) notes.push(`latency: measured at RF ${point.replicationFactor}, the nearest to RF ${replicationFactor}.`);
  return {
    measured: point && { replicationFactor: point.replicationFactor, p50Ms: point.p50, p99Ms: point.p99 },
    awsEstimate: estimate && { ...estimate },
  };
}

const withoutUsage = ({ usagePerRecord: _, ...rest }: DisklessModel): Omit<DisklessModel, 'usagePerRecord'> => rest;

function nearestBy<T>(items: readonly T[], distance: (item: T) => number): T | undefined {
  return items.reduce<T | undefined>((best, item) => (best === undefined || distance(item) < distance(best) ? item : best), undefined);
}

function sumUsage(a: MeteredUsage, b: MeteredUsage): MeteredUsage {
  return mapUsage(a, b, (x, y) => x + y);
}

function scaleUsage(usage: MeteredUsage, factor: number): MeteredUsage {
  return mapUsage(usage, usage, (x) => x * factor);
}

function mapUsage(a: MeteredUsage, b: MeteredUsage, f: (x: number, y: number) => number): MeteredUsage {
  return {
    dynamodb: { readUnits: f(a.dynamodb.readUnits, b.dynamodb.readUnits), writeUnits: f(a.dynamodb.writeUnits, b.dynamodb.writeUnits) },
    lambda: { invocations: f(a.lambda.invocations, b.lambda.invocations), gbSeconds: f(a.lambda.gbSeconds, b.lambda.gbSeconds), logBytes: f(a.lambda.logBytes, b.lambda.logBytes) },
    sqs: { billedRequests: f(a.sqs.billedRequests, b.sqs.billedRequests) },
    s3: { tier1Requests: f(a.s3.tier1Requests, b.s3.tier1Requests), tier2Requests: f(a.s3.tier2Requests, b.s3.tier2Requests) },
  };
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

function formatCount(value: number): string {
  if (value >= 1e9) return `${round(value / 1e9, 2)} billion`;
  if (value >= 1e6) return `${round(value / 1e6, 2)} million`;
  return Math.round(value).toLocaleString('en-US');
}

// ---------------------------------------------------------------------------------------------
// The plan in words, as the CLI prints it and the console shows it.

const usd = (value: number): string =>
  value >= 100 ? `$${Math.round(value).toLocaleString('en-US')}` : value >= 0.01 ? `$${value.toFixed(2)}` : value > 0 ? '<$0.01' : '$0';

const COST_LINES: Array<[keyof Omit<MonthlyCost, 'total'>, string]> = [
  ['dynamodbWrites', 'DynamoDB writes'],
  ['dynamodbReads', 'DynamoDB reads'],
  ['storage', 'storage'],
  ['lambdaRequests', 'Lambda requests'],
  ['lambdaDuration', 'Lambda GB-s'],
  ['logs', 'CloudWatch logs'],
  ['sqs', 'SQS'],
  ['s3Requests', 'S3 requests'],
  ['idleCluster', 'idle cluster floor'],
];

export function formatPlan(plan: Plan): string[] {
  const { request } = plan;
  const mib = (request.recordsPerSecond * request.recordBytes) / 1024 ** 2;
  const lines: string[] = [];
  lines.push(
    `Plan: ${request.recordsPerSecond.toLocaleString('en-US')} records/s of ${request.recordBytes} B (${round(mib, 3)} MiB/s), ${request.storage}, RF ${request.replicationFactor}, min.insync.replicas ${request.minInsyncReplicas}, retention ${request.retention}, ${plan.recordsPerCall} ${plural(plan.recordsPerCall, 'record')} per produce call, ${plan.brokers} brokers`,
  );
  lines.push('');
  lines.push(
    plan.basis === 'model'
      ? `Monthly cost (us-east-1 list prices read ${plan.pricesReadOn}; usage MODELLED from the diskless design, not measured: bench:cost has no diskless shape yet):`
      : `Monthly cost (us-east-1 list prices read ${plan.pricesReadOn}; usage measured by bench:cost${plan.usage.measuredAt ? ` at ${plan.usage.measuredAt}` : ''}):`,
  );
  for (const [key, label] of COST_LINES) {
    const detail = key === 'storage' ? ` (${round(plan.storedGb, plan.storedGb < 10 ? 2 : 0).toLocaleString('en-US')} GB)` : '';
    lines.push(`  ${`${label}${detail}`.padEnd(34)} ${usd(plan.monthly[key]).padStart(12)}`);
  }
  lines.push(`  ${'total'.padEnd(34)} ${usd(plan.monthly.total).padStart(12)}   ($${plan.perMillionRecords.toFixed(2)} per million records produced and consumed once)`);
  lines.push(`  ${'Kinesis Data Streams on-demand'.padEnd(34)} ${usd(plan.references.kinesisOnDemand).padStart(12)}   (${ratio(plan.monthly.total, plan.references.kinesisOnDemand)})`);
  lines.push(`  ${'MSK Serverless'.padEnd(34)} ${usd(plan.references.mskServerless).padStart(12)}   (${ratio(plan.monthly.total, plan.references.mskServerless)})`);
  const flushes = plan.disklessModel;
  if (flushes) {
    lines.push(
      `  model: a flush every ${flushes.flushMs} ms: ${round(flushes.callsPerSecond, 2)} produce calls and S3 PUTs/s of ${formatCount(flushes.recordsPerCall)} records, ${round(flushes.batchesPerSecond, 1)} batches/s over ${flushes.partitions} ${plural(flushes.partitions, 'partition')} (${round(flushes.recordsPerBatch, 1)} records a batch)`,
    );
  }
  lines.push('');
  const { partitions } = plan;
  const bound = { measured: 'measured rate, the lower ceiling', 'aws-key-limit': 'AWS per-key write limit, the lower ceiling', 'flush-batch-limit': `${MAX_RECORDS_PER_PRODUCE} records a produce's batch carries, per partition and flush` };
  lines.push(`Partitions needed: ${partitions.needed} (bound by the ${bound[partitions.binding]})`);
  if (partitions.measured) {
    const m = partitions.measured;
    lines.push(
      `  measured: ${round(m.recordsPerSecond, 1)} records/s per partition (bench:throughput, RF ${m.replicationFactor}, calls of ${m.recordsPerCall}, ${m.partitions} partitions sharing one DynamoDB Local on the bench machine)`,
    );
  }
  lines.push(
    `  AWS bound: ${round(partitions.awsKeyLimit.recordsPerSecond, 1)} records/s per partition (1,000 write units/s per DynamoDB partition key; the leader's log key takes ${round(partitions.awsKeyLimit.writeUnitsPerRecordPerKey, 2)} of the ${plan.basis === 'model' ? 'modelled' : 'measured'} ${round(plan.usage.writeUnitsPerRecord, 2)} write units per record)`,
  );
  lines.push('');
  lines.push('acks=all produce latency, one record:');
  const { measured, awsEstimate, disklessEstimate } = plan.latency;
  if (request.storage === 'diskless') {
    lines.push(
      measured
        ? `  measured (embedded cloud, ${measured.source ?? 'bench:cost'}, RF ${measured.replicationFactor}): p50 ${measured.p50Ms} ms, p99 ${measured.p99Ms} ms`
        : '  measured: not yet (bench:cost measures the diskless shape once the mode is deployed)',
    );
    if (disklessEstimate) {
      lines.push(
        `  AWS estimate (a MODEL, not measured: the wait for the ${disklessEstimate.flushMs} ms flush + an S3 PUT (p50 ${disklessEstimate.s3PutP50Ms}, p99 ${disklessEstimate.s3PutP99Ms} ms, assumed) + the replicated path's commit): p50 ${disklessEstimate.p50Ms} ms, p99 ${disklessEstimate.p99Ms} ms`,
      );
    }
  } else lines.push(measured ? `  measured (embedded cloud, bench:latency, RF ${measured.replicationFactor}): p50 ${measured.p50Ms} ms, p99 ${measured.p99Ms} ms` : '  measured: no latency.json result (run `npm run bench:latency`)');
  if (awsEstimate && request.storage !== 'diskless') {
    const conflict = awsEstimate.conflictP50Ms ? `; ${awsEstimate.conflictP50Ms} / ${awsEstimate.conflictP99Ms} ms if the parallel follower copies conflict` : '';
    lines.push(`  AWS estimate (not measured; warm, one region, RF ${awsEstimate.replicationFactor}): p50 ${awsEstimate.p50Ms} ms, p99 ${awsEstimate.p99Ms} ms${conflict}; a cold start adds about 0.5 s`);
  }
  lines.push('');
  const { failures } = plan;
  const rf = request.replicationFactor;
  lines.push(`Broker failures (of a partition's ${rf} replicas), RF ${rf}, min.insync.replicas ${request.minInsyncReplicas}:`);
  lines.push(`  acks=all writes keep working through ${failures.writesContinueThrough} lost ${plural(failures.writesContinueThrough, 'broker')} (RF - min.insync)`);
  if (failures.writesContinueThrough < rf - 1) {
    const range = failures.writesContinueThrough + 1 === rf - 1 ? `${rf - 1}` : `${failures.writesContinueThrough + 1} to ${rf - 1}`;
    lines.push(`  losing ${range}: acks=all writes are refused (NotEnoughReplicas) until the ISR is back at min.insync.replicas; committed records stay readable`);
  }
  lines.push(
    `  acknowledged records survive ${failures.acknowledgedSurvive} lost ${plural(failures.acknowledgedSurvive, 'broker')} (RF - 1, clean election) while every replica is in sync; ${failures.acknowledgedSurviveWorstCase} (min.insync - 1) for records acknowledged while the ISR was down to ${request.minInsyncReplicas}`,
  );
  lines.push(`  losing all ${rf}: the partition goes OFFLINE until a replica holding every committed record returns; unclean election (data loss) only if the topic opted in`);
  lines.push('');
  lines.push('Notes:');
  for (const note of plan.notes) lines.push(`  - ${note}`);
  return lines;
}

const plural = (n: number, word: string): string => `${word}${n === 1 ? '' : 's'}`;

function ratio(ours: number, theirs: number): string {
  if (theirs <= 0) return '';
  const times = ours / theirs;
  return times >= 1 ? `this plan costs ${times >= 10 ? Math.round(times) : times.toFixed(1)}x as much` : `this plan costs ${(1 / times).toFixed(1)}x less`;
}
