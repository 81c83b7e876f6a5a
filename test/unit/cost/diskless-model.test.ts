import { describe, expect, it } from 'vitest';
import { MAX_CALL_BYTES, RECORD_CALL_OVERHEAD_BYTES } from '../../../client/producer.js';
import { DISKLESS_MODEL, disklessAcksAllLatency, disklessModel } from '../../../cost/diskless-model.js';

describe('the diskless cost model (cost/diskless-model.ts)', () => {
  it('counts one produce call and one PUT per flush, one batch per partition per flush, one GET per batch consumed', () => {
    const model = disklessModel({ recordsPerSecond: 5000, recordBytes: 1024, replicationFactor: 3, partitions: 16 });
    expect(model).toMatchObject({ callsPerSecond: 4, recordsPerCall: 1250, batchesPerSecond: 64, partitionsForBatchLimit: 3 });
    expect(model.recordsPerBatch).toBeCloseTo(78.125, 9);
    const { usagePerRecord: usage } = model;
    expect(usage.s3.tier1Requests).toBeCloseTo(4 / 5000, 12);
    expect(usage.s3.tier2Requests).toBeCloseTo(64 / 5000, 12);
    // Per batch: RF ref items and RF commits, and the high watermark.
    expect(usage.dynamodb.writeUnits).toBeCloseTo((64 * (3 * 2 + 1)) / 5000, 12);
    // Produce: 2 reads a batch; consume: every partition's item once a flush and each batch's ref item.
    expect(usage.dynamodb.readUnits).toBeCloseTo((64 * 3 + 4 * 16) / 5000, 12);
    expect(usage.lambda.invocations).toBeCloseTo((2 * 4 + 64) / 5000, 12);
    expect(usage.sqs.billedRequests).toBe(0);
  });

  it('flushes at the call bound before the time bound, and never more often than records come', () => {
    const big = disklessModel({ recordsPerSecond: 20_000, recordBytes: 1024, replicationFactor: 3, partitions: 8 });
    expect(big.callsPerSecond).toBeCloseTo((20_000 * (1024 + RECORD_CALL_OVERHEAD_BYTES)) / MAX_CALL_BYTES, 9);
    expect(big.callsPerSecond).toBeGreaterThan(1000 / DISKLESS_MODEL.flushMs);
    const trickle = disklessModel({ recordsPerSecond: 2, recordBytes: 1024, replicationFactor: 3, partitions: 8 });
    expect(trickle).toMatchObject({ callsPerSecond: 2, recordsPerCall: 1, batchesPerSecond: 2 });
    // A slower flush bound: fewer calls, fuller batches.
    expect(disklessModel({ recordsPerSecond: 1000, recordBytes: 1024, replicationFactor: 3, partitions: 16, flushMs: 1000 }).callsPerSecond).toBe(1);
  });

  it('refuses a load it cannot model, naming it', () => {
    expect(() => disklessModel({ recordsPerSecond: 0, recordBytes: 1024, replicationFactor: 3, partitions: 1 })).toThrow(/positive rate/);
    expect(() => disklessModel({ recordsPerSecond: 5, recordBytes: 1024, replicationFactor: 3, partitions: 0 })).toThrow(/partitions >= 1/);
  });

  it('estimates acks=all as the flush wait, the PUT and the commit, p99s added (errs high)', () => {
    expect(disklessAcksAllLatency({ p50Ms: 86, p99Ms: 169 })).toEqual({ p50Ms: 125 + 30 + 86, p99Ms: Math.round(247.5 + 150 + 169) });
    expect(disklessAcksAllLatency({ p50Ms: 86, p99Ms: 169 }, 50).p50Ms).toBe(25 + 30 + 86);
  });
});
