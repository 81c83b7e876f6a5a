/**
 * What a benchmark's measured phase would cost on AWS, written beside its speed: the usage
 * the local cloud's meter saw (start the cloud with `meterUsage`), its bill at cost/prices.ts's
 * dated list prices, and dollars per million records, or per operation where the phase moves
 * no records (a failover, a reconciler run, an invocation).
 *
 *   const phase = startCostPhase(bench.cloud, { functions: recordPathFunctions(bench.outputs) });
 *   ... the measured phase ...
 *   const cost = costOf(await phase.usage(), { records });
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { billFor, type Bill, type MeteredUsage } from '../../../cost/bill.js';
import { PRICES_READ_ON } from '../../../cost/prices.js';
import type { LocalCloud, UsageMeter, UsageReport } from '../../../localcloud/index.js';
import type { LeadershipStackOutputs } from '../../../client/stack-outputs.js';

/** What a phase's cost is divided by: the records it moved, or the operations it ran. */
export type CostUnit = { records: number } | { operations: number; operation: string };

/** The `cost` block of a benchmark result. */
export interface RunCost {
  /** us-east-1 list prices, read on this date (cost/prices.ts). */
  pricesReadOn: string;
  /** Whose usage is counted: the named functions (their DynamoDB calls, invocations, SQS sends), or every function. */
  counted: string[] | 'every function';
  usage: MeteredUsage;
  /** Dollars for the whole phase, by line. */
  bill: Bill;
  records?: number;
  usdPerMillionRecords?: number;
  operation?: string;
  operations?: number;
  usdPerOperation?: number;
  /**
   * The same without Lambda's billed duration: durations are this machine's (an emulator
   * sharing its cores), an upper bound; units and requests are what AWS would count.
   */
  withoutLambdaDuration: { usdPerMillionRecords?: number; usdPerOperation?: number };
}

/** The functions on a record's path: what a produce and a consume invoke, and the replication the produce triggers. */
export function recordPathFunctions(outputs: LeadershipStackOutputs): string[] {
  return [outputs.ProduceFunctionName, outputs.ReplicateFunctionName, outputs.InitProducerIdFunctionName, outputs.DescribeFunctionName, outputs.ConsumeFunctionName];
}

const SQS_SENDS = new Set(['SendMessage', 'SendMessageBatch']);

/**
 * The usage of the named functions (their invocations and the DynamoDB and S3 calls they
 * made), or of every function. SQS is metered per request, not per caller: with functions
 * named, SQS counts only the messages sent (the functions publish; readers of the queue are
 * the benchmark's).
 */
export function usageOf(report: UsageReport, functionNames?: readonly string[]): MeteredUsage {
  const names = functionNames ?? Object.keys(report.lambda.byFunction);
  const sqs = functionNames
    ? Object.entries(report.sqs.byAction).reduce((sum, [action, usage]) => sum + (SQS_SENDS.has(action) ? usage.billedRequests : 0), 0)
    : report.sqs.total.billedRequests;
  const usage: MeteredUsage = {
    dynamodb: { readUnits: 0, writeUnits: 0 },
    lambda: { invocations: 0, gbSeconds: 0, logBytes: 0 },
    sqs: { billedRequests: sqs },
    s3: { tier1Requests: 0, tier2Requests: 0 },
  };
  for (const name of names) {
    const calls = report.dynamodb.byCaller[`lambda:${name}`];
    usage.dynamodb.readUnits += calls?.readUnits ?? 0;
    usage.dynamodb.writeUnits += calls?.writeUnits ?? 0;
    const runs = report.lambda.byFunction[name];
    usage.lambda.invocations += runs?.invocations ?? 0;
    usage.lambda.gbSeconds += runs?.gbSeconds ?? 0;
    usage.lambda.logBytes += runs?.logBytes ?? 0;
    const s3 = report.s3.byCaller[`lambda:${name}`];
    usage.s3.tier1Requests += s3?.tier1.billedRequests ?? 0;
    usage.s3.tier2Requests += s3?.tier2.billedRequests ?? 0;
  }
  return usage;
}

/** The sum of several phases' usage (a benchmark that repeats its measured phase). */
export function addUsage(...parts: MeteredUsage[]): MeteredUsage {
  const sum = (pick: (usage: MeteredUsage) => number) => parts.reduce((total, usage) => total + pick(usage), 0);
  return {
    dynamodb: { readUnits: sum((u) => u.dynamodb.readUnits), writeUnits: sum((u) => u.dynamodb.writeUnits) },
    lambda: { invocations: sum((u) => u.lambda.invocations), gbSeconds: sum((u) => u.lambda.gbSeconds), logBytes: sum((u) => u.lambda.logBytes) },
    sqs: { billedRequests: sum((u) => u.sqs.billedRequests) },
    s3: { tier1Requests: sum((u) => u.s3.tier1Requests), tier2Requests: sum((u) => u.s3.tier2Requests) },
  };
}

/** The cost block for a phase's usage, per record or per operation. */
export function costOf(usage: MeteredUsage, per: CostUnit, counted: readonly string[] | 'every function' = 'every function'): RunCost {
  const count = 'records' in per ? per.records : per.operations;
  if (!Number.isFinite(count) || count <= 0) {
    throw new Error(`a cost is divided by a positive count of ${'records' in per ? 'records' : `operations (${per.operation})`}, got ${count}`);
  }
  const bill = billFor(usage);
  const withoutDuration = bill.total - bill.lambdaDuration;
  const rounded = roundBill(bill);
  const base = { pricesReadOn: PRICES_READ_ON, counted: counted === 'every function' ? counted : [...counted], usage, bill: rounded };
  if ('records' in per) {
    return {
      ...base,
      records: per.records,
      usdPerMillionRecords: round((bill.total / per.records) * 1e6, 3),
      withoutLambdaDuration: { usdPerMillionRecords: round((withoutDuration / per.records) * 1e6, 3) },
    };
  }
  return {
    ...base,
    operation: per.operation,
    operations: per.operations,
    usdPerOperation: significant(bill.total / per.operations),
    withoutLambdaDuration: { usdPerOperation: significant(withoutDuration / per.operations) },
  };
}

/** The meter of a cloud started with `meterUsage`, or a clear error. */
export function meterOf(cloud: LocalCloud): UsageMeter {
  if (!cloud.usage) throw new Error('this benchmark reports its cost: start its cloud with meterUsage: true');
  return cloud.usage;
}

export interface CostPhaseOptions {
  /** Count only these functions (default: every function). */
  functions?: readonly string[];
  /**
   * Before reading the meter, wait until the counted functions have not been invoked for this
   * long (work a phase triggers, such as the replication after an ack, finishes after it);
   * 0 reads at once. At most `settleTimeoutMs`.
   */
  quietMs?: number;
  settleTimeoutMs?: number;
}

export interface CostPhase {
  /** The counted usage since the phase started, once quiet. */
  usage(): Promise<MeteredUsage>;
  /** The phase's cost block (usage() divided by `per`). */
  finish(per: CostUnit): Promise<RunCost>;
}

/** Resets the cloud's meter: what it records from now on is the phase's. */
export function startCostPhase(cloud: LocalCloud, options: CostPhaseOptions = {}): CostPhase {
  const meter = meterOf(cloud);
  meter.reset();
  const quietMs = options.quietMs ?? 1000;
  const deadline = () => Date.now() + (options.settleTimeoutMs ?? 30_000);
  const invocations = () => usageOf(meter.report(), options.functions).lambda.invocations;
  const usage = async () => {
    if (quietMs > 0) {
      const until = deadline();
      let seen = invocations();
      let quietSince = Date.now();
      while (Date.now() - quietSince < quietMs && Date.now() < until) {
        await sleep(Math.min(250, quietMs));
        const now = invocations();
        if (now !== seen) {
          seen = now;
          quietSince = Date.now();
        }
      }
    }
    return usageOf(meter.report(), options.functions);
  };
  return {
    usage,
    finish: async (per) => costOf(await usage(), per, options.functions ?? 'every function'),
  };
}

/** Significant digits, not decimals: a cost per operation may be millionths of a dollar. */
function significant(usd: number, digits = 3): number {
  return usd === 0 ? 0 : Number(usd.toPrecision(digits));
}

function roundBill(bill: Bill): Bill {
  return Object.fromEntries(Object.entries(bill as unknown as Record<string, number>).map(([line, usd]) => [line, significant(usd, 6)])) as unknown as Bill;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** The replicated mode's cost target: at most this many times its floor, and at most this many dollars per million records. */
export const REPLICATED_TARGET = { maxRatioToFloor: 1.3, maxUsdPerMillionRecords: 2.45 } as const;

/** A shape's $ per million records against its floor, Kinesis on-demand and the target. */
export function judgeAgainstTarget(usdPerMillionRecords: number, floorPerMillionRecords: number, kinesisPerMillionRecords: number) {
  if (!(floorPerMillionRecords > 0) || !(kinesisPerMillionRecords > 0)) {
    throw new Error(`the floor and Kinesis figures must be positive dollars per million, got ${floorPerMillionRecords} and ${kinesisPerMillionRecords}`);
  }
  const ratioToFloor = round(usdPerMillionRecords / floorPerMillionRecords, 2);
  return {
    usdPerMillionRecords,
    floorPerMillionRecords,
    ratioToFloor,
    ratioToKinesisOnDemand: round(usdPerMillionRecords / kinesisPerMillionRecords, 1),
    target: REPLICATED_TARGET,
    met: usdPerMillionRecords / floorPerMillionRecords <= REPLICATED_TARGET.maxRatioToFloor && usdPerMillionRecords <= REPLICATED_TARGET.maxUsdPerMillionRecords,
  };
}

/** The diskless mode's cost target: at most this many dollars per million records, and at most this many times Kinesis on-demand. */
export const DISKLESS_TARGET = { maxUsdPerMillionRecords: 0.23, maxRatioToKinesisOnDemand: 2 } as const;

/** The diskless shape's $ per million records against Kinesis on-demand and its target. */
export function judgeDiskless(usdPerMillionRecords: number, kinesisPerMillionRecords: number) {
  if (!(kinesisPerMillionRecords > 0)) throw new Error(`the Kinesis figure must be positive dollars per million, got ${kinesisPerMillionRecords}`);
  const ratio = usdPerMillionRecords / kinesisPerMillionRecords;
  return {
    usdPerMillionRecords,
    ratioToKinesisOnDemand: round(ratio, 2),
    target: DISKLESS_TARGET,
    met: usdPerMillionRecords <= DISKLESS_TARGET.maxUsdPerMillionRecords && ratio <= DISKLESS_TARGET.maxRatioToKinesisOnDemand,
  };
}

/**
 * An open-loop producer's sends: `recordsPerSecond` one-record sends for `seconds`, spread
 * evenly in time and round-robin over partitions 1..`partitions` (so every partition gets an
 * equal share), each with the millisecond it is due at from the start.
 */
export function pacedSends(recordsPerSecond: number, seconds: number, partitions: number): Array<{ atMs: number; partition: number }> {
  if (!(recordsPerSecond > 0) || !(seconds > 0) || !Number.isInteger(partitions) || partitions < 1) {
    throw new Error(`paced sends need a positive rate and duration and an integer number of partitions >= 1, got ${recordsPerSecond}/s for ${seconds} s over ${partitions}`);
  }
  const count = Math.round(recordsPerSecond * seconds);
  return Array.from({ length: count }, (_, index) => ({ atMs: (index * 1000) / recordsPerSecond, partition: (index % partitions) + 1 }));
}

/** What the diskless shape's S3 requests were: PUTs (objects written) and GETs (ranged reads), in all, per produce call and per million records. */
export function s3RequestsOf(produce: MeteredUsage, consume: MeteredUsage, records: number, produceCalls: number) {
  if (!(records > 0)) throw new Error(`S3 requests are counted per record: the shape needs records, got ${records}`);
  const puts = produce.s3.tier1Requests + consume.s3.tier1Requests;
  const gets = produce.s3.tier2Requests + consume.s3.tier2Requests;
  return {
    puts,
    gets,
    putsPerProduceCall: produceCalls > 0 ? round(produce.s3.tier1Requests / produceCalls, 2) : null,
    putsPerMillionRecords: round((puts / records) * 1e6, 1),
    getsPerMillionRecords: round((gets / records) * 1e6, 1),
  };
}
