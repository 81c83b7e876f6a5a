import { describe, expect, it } from 'vitest';
import { billFor, type MeteredUsage } from '../../../cost/bill.js';
import { PRICES, PRICES_READ_ON } from '../../../cost/prices.js';
import { UsageMeter, type LocalCloud } from '../../../localcloud/index.js';
import { addUsage, costOf, judgeAgainstTarget, judgeDiskless, meterOf, pacedSends, s3RequestsOf, startCostPhase, usageOf } from '../../../scripts/bench/lib/cost.js';

const usage = (writeUnits: number, readUnits = 0, invocations = 0): MeteredUsage => ({
  dynamodb: { readUnits, writeUnits },
  lambda: { invocations, gbSeconds: 0, logBytes: 0 },
  sqs: { billedRequests: 0 },
  s3: { tier1Requests: 0, tier2Requests: 0 },
});

const charge = (table: string, writeUnits: number, readUnits = 0) => [{ table, readUnits, writeUnits, indexReadUnits: 0, indexWriteUnits: 0 }];

/** A meter with two functions' traffic, a benchmark's own DynamoDB call and an SQS reader. */
function meteredTraffic(meter: UsageMeter): void {
  meter.recordDynamoDb('lambda:Produce', 'TransactWriteItems', charge('log', 6));
  meter.recordDynamoDb('lambda:Heartbeat', 'UpdateItem', charge('brokers', 1));
  meter.recordDynamoDb('edge', 'PutItem', charge('raw', 5)); // the benchmark's own raw write
  meter.recordLambda('Produce', 1024, 100, 0);
  meter.recordLambda('Heartbeat', 128, 10, 0);
  meter.recordSqs('SendMessage', 100);
  meter.recordSqs('ReceiveMessage', 10);
  meter.recordS3('lambda:Produce', 1, 2048);
  meter.recordS3('lambda:Heartbeat', 2, 0);
  meter.recordS3('clients', 1, 10); // the benchmark's own object
}

describe('a benchmark phase usage (lib/cost.ts usageOf)', () => {
  it("counts the named functions' DynamoDB units and invocations, and only the messages they send", () => {
    const meter = new UsageMeter();
    meteredTraffic(meter);
    const produce = usageOf(meter.report(), ['Produce']);
    expect(produce.dynamodb).toEqual({ readUnits: 0, writeUnits: 6 });
    expect(produce.lambda.invocations).toBe(1);
    expect(produce.lambda.gbSeconds).toBeCloseTo(0.1);
    expect(produce.sqs.billedRequests).toBe(1);
    expect(produce.s3).toEqual({ tier1Requests: 1, tier2Requests: 0 });
  });

  it('counts every function and every SQS request when none is named, never the callers outside the functions', () => {
    const meter = new UsageMeter();
    meteredTraffic(meter);
    const all = usageOf(meter.report());
    expect(all.dynamodb.writeUnits).toBe(7);
    expect(all.lambda.invocations).toBe(2);
    expect(all.sqs.billedRequests).toBe(2);
    expect(all.s3).toEqual({ tier1Requests: 1, tier2Requests: 1 });
  });

  it('adds phases line by line', () => {
    expect(addUsage(usage(3, 1, 2), usage(4, 2, 1))).toEqual(usage(7, 3, 3));
    expect(addUsage()).toEqual(usage(0));
  });
});

describe('the cost block (lib/cost.ts costOf)', () => {
  it("divides the phase's bill by its records, at the dated price table", () => {
    const phase = usage(3_000_000, 1_000_000, 1000);
    const cost = costOf(phase, { records: 1_000_000 }, ['Produce']);
    const bill = billFor(phase);
    expect(cost.pricesReadOn).toBe(PRICES_READ_ON);
    expect(cost.counted).toEqual(['Produce']);
    expect(cost.records).toBe(1_000_000);
    // 3 write units and 1 read unit a record, and a thousandth of an invocation.
    const expected = 3 * PRICES.dynamodbWriteRequestUnit.usd * 1e6 + PRICES.dynamodbReadRequestUnit.usd * 1e6 + 1000 * PRICES.lambdaRequest.usd;
    expect(cost.usdPerMillionRecords).toBeCloseTo(expected, 3);
    expect(cost.bill.total).toBeCloseTo(bill.total, 6);
    expect(cost.withoutLambdaDuration.usdPerMillionRecords).toBeCloseTo(expected, 3);
    expect(cost.usdPerOperation).toBeUndefined();
  });

  it('is per operation where the phase moves no records, and leaves out the billed duration on request', () => {
    const phase = { ...usage(20, 0, 2), lambda: { invocations: 2, gbSeconds: 1, logBytes: 0 } };
    const cost = costOf(phase, { operations: 2, operation: 'failover' });
    expect(cost.counted).toBe('every function');
    expect(cost.operation).toBe('failover');
    // Three significant digits: a failover costs a few millionths of a dollar.
    expect(cost.usdPerOperation).toBe(Number((billFor(phase).total / 2).toPrecision(3)));
    expect(cost.withoutLambdaDuration.usdPerOperation).toBe(Number(((billFor(phase).total - PRICES.lambdaGbSecondX86.usd) / 2).toPrecision(3)));
    expect(cost.usdPerMillionRecords).toBeUndefined();
  });

  it('refuses to divide by no records or operations, naming what is missing', () => {
    expect(() => costOf(usage(1), { records: 0 })).toThrow(/positive count of records, got 0/);
    expect(() => costOf(usage(1), { operations: Number.NaN, operation: 'failover' })).toThrow(/operations \(failover\), got NaN/);
  });
});

describe('a metered phase (lib/cost.ts startCostPhase)', () => {
  const cloudWith = (meter?: UsageMeter) => ({ usage: meter }) as unknown as LocalCloud;

  it('needs a metered cloud', () => {
    expect(() => meterOf(cloudWith())).toThrow(/meterUsage: true/);
    expect(() => startCostPhase(cloudWith())).toThrow(/meterUsage: true/);
  });

  it('counts only what the meter saw after the phase started', async () => {
    const meter = new UsageMeter();
    meteredTraffic(meter);
    const phase = startCostPhase(cloudWith(meter), { functions: ['Produce'], quietMs: 0 });
    meter.recordDynamoDb('lambda:Produce', 'TransactWriteItems', charge('log', 4));
    meter.recordLambda('Produce', 1024, 0, 0);
    const cost = await phase.finish({ records: 2 });
    expect(cost.usage.dynamodb.writeUnits).toBe(4);
    expect(cost.usage.lambda.invocations).toBe(1);
    expect(cost.usage.sqs.billedRequests).toBe(0);
  });

  it("waits for the counted functions' trailing work before it reads the meter", async () => {
    const meter = new UsageMeter();
    const phase = startCostPhase(cloudWith(meter), { functions: ['Replicate'], quietMs: 300, settleTimeoutMs: 10_000 });
    // Replication the acks triggered, still running when the phase's last call returns.
    const trailing = setTimeout(() => {
      meter.recordDynamoDb('lambda:Replicate', 'TransactWriteItems', charge('log', 2));
      meter.recordLambda('Replicate', 1024, 0, 0);
    }, 100);
    try {
      const measured = await phase.usage();
      expect(measured.dynamodb.writeUnits).toBe(2);
      expect(measured.lambda.invocations).toBe(1);
    } finally {
      clearTimeout(trailing);
    }
  });
});

describe("the replicated mode's target (lib/cost.ts judgeAgainstTarget)", () => {
  it('compares $ per million with the floor and Kinesis, and meets the target only within 1.3x the floor and $2.45', () => {
    const floor = 1.907; // RF 3, 1 KiB records
    expect(judgeAgainstTarget(2.4, floor, 0.114)).toMatchObject({ ratioToFloor: 1.26, ratioToKinesisOnDemand: 21.1, met: true, target: { maxRatioToFloor: 1.3, maxUsdPerMillionRecords: 2.45 } });
    expect(judgeAgainstTarget(2.5, floor, 0.114).met).toBe(false);
    expect(judgeAgainstTarget(2.4, 1.5, 0.114).met).toBe(false); // 1.6x its floor, though under $2.45
    expect(() => judgeAgainstTarget(2.4, 0, 0.114)).toThrow(/must be positive/);
  });
});

describe("the diskless shape's pure parts (lib/cost.ts)", () => {
  it('judges $ per million against Kinesis on-demand and the target: at most $0.23 and 2x Kinesis', () => {
    expect(judgeDiskless(0.08, 0.114)).toMatchObject({ ratioToKinesisOnDemand: 0.7, met: true, target: { maxUsdPerMillionRecords: 0.23, maxRatioToKinesisOnDemand: 2 } });
    expect(judgeDiskless(0.24, 0.114).met).toBe(false);
    expect(judgeDiskless(0.2, 0.09).met).toBe(false); // under $0.23, but 2.2x a cheaper Kinesis
    expect(() => judgeDiskless(0.1, 0)).toThrow(/must be positive/);
  });

  it('paces an open-loop producer: evenly in time, round-robin over the partitions', () => {
    const sends = pacedSends(5000, 2, 16);
    expect(sends).toHaveLength(10_000);
    expect(sends.slice(0, 3)).toEqual([
      { atMs: 0, partition: 1 },
      { atMs: 0.2, partition: 2 },
      { atMs: 0.4, partition: 3 },
    ]);
    expect(sends[16]).toEqual({ atMs: 3.2, partition: 1 });
    const perPartition = new Map<number, number>();
    for (const { partition } of sends) perPartition.set(partition, (perPartition.get(partition) ?? 0) + 1);
    expect([...perPartition.values()].every((count) => count === 625)).toBe(true);
    expect(() => pacedSends(5000, 2, 0)).toThrow(/partitions >= 1/);
    expect(() => pacedSends(0, 2, 16)).toThrow(/positive rate/);
  });

  it('counts S3 PUTs and GETs in all, per produce call and per million records', () => {
    const withS3 = (puts: number, gets: number): MeteredUsage => ({ ...usage(0), s3: { tier1Requests: puts, tier2Requests: gets } });
    expect(s3RequestsOf(withS3(12, 0), withS3(0, 192), 15_000, 12)).toEqual({ puts: 12, gets: 192, putsPerProduceCall: 1, putsPerMillionRecords: 800, getsPerMillionRecords: 12_800 });
    expect(s3RequestsOf(withS3(0, 0), withS3(0, 0), 10, 0).putsPerProduceCall).toBeNull();
    expect(() => s3RequestsOf(withS3(1, 1), withS3(0, 0), 0, 1)).toThrow(/needs records/);
  });
});
