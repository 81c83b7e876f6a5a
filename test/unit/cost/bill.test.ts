import { describe, expect, it } from 'vitest';
import { billFor, kinesisOnDemand, mskServerless, recordsPerMonth, replicatedFloorPerRecord } from '../../../cost/bill.js';
import { PRICES } from '../../../cost/prices.js';

describe('billFor', () => {
  it('prices each metered line at its list price', () => {
    const bill = billFor({
      dynamodb: { readUnits: 8e6, writeUnits: 2e6 },
      lambda: { invocations: 1e6, gbSeconds: 60_000, logBytes: 2 * 1024 ** 3 },
      sqs: { billedRequests: 1e6 },
      s3: { tier1Requests: 1000, tier2Requests: 10_000 },
    });
    expect(bill.dynamodbWrites).toBeCloseTo(1.25, 9);
    expect(bill.dynamodbReads).toBeCloseTo(1, 9);
    expect(bill.lambdaRequests).toBeCloseTo(0.2, 9);
    expect(bill.lambdaDuration).toBeCloseTo(1.000002, 6);
    expect(bill.logs).toBeCloseTo(1, 9);
    expect(bill.sqs).toBeCloseTo(0.5, 9);
    expect(bill.s3).toBeCloseTo(0.005 + 0.004, 9);
    expect(bill.total).toBeCloseTo(1.25 + 1 + 0.2 + 1.000002 + 1 + 0.5 + 0.009, 6);
  });
});

describe('reference points', () => {
  it("puts a replicated 1 KiB record's floor at RF write units and a strongly consistent read of its bytes", () => {
    expect(replicatedFloorPerRecord(1024, 3) * 1e6).toBeCloseTo(3 * 0.625 + 0.25 * 0.125, 9);
  });

  it('prices Kinesis on-demand per GiB written (records rounded up to 1 KiB) and read, plus its stream-hours', () => {
    const kinesis = kinesisOnDemand(1024);
    // A million 1 KiB records are 0.954 GiB: $0.08 in and $0.04 out per GiB.
    expect(kinesis.perRecord * 1e6).toBeCloseTo(0.1144, 4);
    expect(kinesis.perStreamMonth).toBeCloseTo(29.2, 9);
    expect(kinesisOnDemand(100).perRecord).toBeGreaterThan((100 / 1024 ** 3) * (PRICES.kinesisOnDemandIngestGb.usd + PRICES.kinesisOnDemandRetrievalGb.usd));
  });

  it('prices MSK Serverless per GiB in and out, plus the cluster and its partitions', () => {
    const msk = mskServerless(1024, 100);
    expect(msk.perRecord * 1e6).toBeCloseTo(0.143, 3);
    expect(msk.perMonth).toBeCloseTo((0.75 + 100 * 0.0015) * 730, 9);
  });

  it('counts the records of a month at a sustained byte rate', () => {
    expect(recordsPerMonth(1024 * 1024, 1024)).toBe(1024 * 730 * 3600);
  });
});
