/**
 * A cost and latency MODEL of the diskless storage mode, counted from its design (not measured):
 * what the planner answers for `--storage diskless` until bench:cost has measured the mode.
 *
 * The client's producer flushes every diskless partition's batch together, every
 * `disklessLingerMs` (or at `disklessCallBytes`): one produce call, one S3 PUT carrying one
 * batch per partition. Each batch then costs, on each of RF replicas, a ref item (the batch's
 * coordinates in the object, well under 1 KB) and the conditional commit of that replica's
 * state, plus one high-watermark update; the consumer reads each batch with one ranged GET.
 * Record bytes are stored once, in S3, for the retention.
 */
import { DEFAULT_DISKLESS_LINGER_MS, MAX_CALL_BYTES, MAX_RECORDS_PER_PRODUCE, RECORD_CALL_OVERHEAD_BYTES } from '../client/producer.js';
import type { MeteredUsage } from './bill.js';

/** The model's per-operation figures, each an assumption the plan names. */
export const DISKLESS_MODEL = {
  flushMs: DEFAULT_DISKLESS_LINGER_MS,
  /** A ref item: topic, partition, offsets and the object's key, start and length: under 1 KB. */
  refItemWriteUnits: 1,
  /** A replica's commit: one conditional update of its small replica-state item. */
  commitWriteUnits: 1,
  /** The partition's high watermark, once per batch under acks=all. */
  highWatermarkWriteUnits: 1,
  /** Produce: per batch, the leader lookup and its log end (strong reads of small items). */
  produceReadUnitsPerBatch: 2,
  /** Consume: per fetch, each assigned partition's item; per batch, its ref item. */
  fetchReadUnitsPerPartition: 1,
  fetchReadUnitsPerBatch: 1,
  /** Billed Lambda durations at 256 MB: a produce call (PUT + commits), a fetch (reads + GETs), a stream-triggered replicate. */
  produceCallMs: 100,
  fetchCallMs: 50,
  replicateCallMs: 15,
  memoryGb: 0.25,
  logBytesPerInvocation: 400,
  /** S3 Standard PUT of an object of a few hundred KB, same region (an assumption; not measured here). */
  s3PutP50Ms: 30,
  s3PutP99Ms: 150,
} as const;

export interface DisklessLoad {
  recordsPerSecond: number;
  recordBytes: number;
  replicationFactor: number;
  /** Partitions the load is spread over: each flush carries one batch per partition with records. */
  partitions: number;
  /** The producer's flush bound (default DISKLESS_MODEL.flushMs). */
  flushMs?: number;
}

export interface DisklessModel {
  /** Produce calls (flushes, PUTs) per second. */
  callsPerSecond: number;
  recordsPerCall: number;
  batchesPerSecond: number;
  recordsPerBatch: number;
  /** Usage per record produced (acks=all) and consumed once. */
  usagePerRecord: MeteredUsage;
  /** Bytes of ref items per record kept, over all replicas (DynamoDB storage). */
  refItemBytesPerRecord: number;
  /** The least partitions the producer's batches allow: at most MAX_RECORDS_PER_PRODUCE records per partition per flush. */
  partitionsForBatchLimit: number;
}

/** Bytes of one ref item as stored (keys, offsets, the object's key and range). */
const REF_ITEM_BYTES = 200;

export function disklessModel(load: DisklessLoad): DisklessModel {
  const { recordsPerSecond: rate, recordBytes, replicationFactor: rf, partitions } = load;
  if (!(rate > 0) || !(recordBytes > 0) || !Number.isInteger(rf) || rf < 1 || !Number.isInteger(partitions) || partitions < 1) {
    throw new Error(`the diskless model needs a positive rate and record size, and integer RF and partitions >= 1, got ${JSON.stringify(load)}`);
  }
  const flushMs = load.flushMs ?? DISKLESS_MODEL.flushMs;
  // A flush is due every flushMs, or sooner once the call's bytes are reached; never more often than records come.
  const bySize = (rate * (recordBytes + RECORD_CALL_OVERHEAD_BYTES)) / MAX_CALL_BYTES;
  const callsPerSecond = Math.min(rate, Math.max(1000 / flushMs, bySize));
  const recordsPerCall = rate / callsPerSecond;
  const batchesPerSecond = callsPerSecond * Math.min(partitions, recordsPerCall);
  const perSecond = {
    writeUnits: batchesPerSecond * (rf * (DISKLESS_MODEL.refItemWriteUnits + DISKLESS_MODEL.commitWriteUnits) + DISKLESS_MODEL.highWatermarkWriteUnits),
    // One fetch per flush reads every partition's item; each batch's ref item once.
    readUnits:
      batchesPerSecond * (DISKLESS_MODEL.produceReadUnitsPerBatch + DISKLESS_MODEL.fetchReadUnitsPerBatch) +
      callsPerSecond * partitions * DISKLESS_MODEL.fetchReadUnitsPerPartition,
    // A produce call and a fetch per flush; the log stream's replicate at most once per leader batch.
    invocations: 2 * callsPerSecond + batchesPerSecond,
    gbSeconds: (DISKLESS_MODEL.memoryGb * (callsPerSecond * (DISKLESS_MODEL.produceCallMs + DISKLESS_MODEL.fetchCallMs) + batchesPerSecond * DISKLESS_MODEL.replicateCallMs)) / 1000,
    puts: callsPerSecond,
    gets: batchesPerSecond,
  };
  const per = (value: number) => value / rate;
  return {
    callsPerSecond,
    recordsPerCall,
    batchesPerSecond,
    recordsPerBatch: rate / batchesPerSecond,
    usagePerRecord: {
      dynamodb: { readUnits: per(perSecond.readUnits), writeUnits: per(perSecond.writeUnits) },
      lambda: { invocations: per(perSecond.invocations), gbSeconds: per(perSecond.gbSeconds), logBytes: per(perSecond.invocations * DISKLESS_MODEL.logBytesPerInvocation) },
      sqs: { billedRequests: 0 },
      s3: { tier1Requests: per(perSecond.puts), tier2Requests: per(perSecond.gets) },
    },
    refItemBytesPerRecord: per(batchesPerSecond * rf * REF_ITEM_BYTES),
    partitionsForBatchLimit: Math.max(1, Math.ceil(recordsPerCall / MAX_RECORDS_PER_PRODUCE)),
  };
}

/**
 * acks=all latency of a diskless produce on AWS, a model: the wait for the flush (a record
 * sent at a uniformly random moment waits up to the flush bound), the S3 PUT, then the
 * replicated path's DynamoDB round trips (`commit`: the AWS estimate of an acks=all append,
 * which the ref items' puts and commits mirror). Adding the parts' p99s errs high.
 */
export function disklessAcksAllLatency(commit: { p50Ms: number; p99Ms: number }, flushMs: number = DISKLESS_MODEL.flushMs): { p50Ms: number; p99Ms: number } {
  return {
    p50Ms: Math.round(flushMs * 0.5 + DISKLESS_MODEL.s3PutP50Ms + commit.p50Ms),
    p99Ms: Math.round(flushMs * 0.99 + DISKLESS_MODEL.s3PutP99Ms + commit.p99Ms),
  };
}
