/**
 * Consume: read the leader's copy of the log, below the high watermark only, so
 * a consumer never sees a record that a failover could still take back.
 */
import type { Deps } from '../ports/index.js';
import { OffsetOutOfRangeError, UnknownLeaderEpochError } from './errors.js';
import { logEndOffsetOf } from './high-watermark.js';
import { requireLeader } from './lookup.js';
import type { BrokerId, LogRecord } from './model.js';
import {
  isOffsetsForLeaderEpochRequest,
  parseConsumeRequest,
  parseOffsetsForLeaderEpochRequest,
} from './requests.js';
import { partitionName } from './views.js';

export type ConsumedRecord = Pick<LogRecord, 'offset' | 'leaderEpoch' | 'key' | 'value' | 'appendedAt'>;

export interface ConsumeResult {
  topic: string;
  partition: number;
  leader: BrokerId;
  leaderEpoch: number;
  highWatermark: number;
  records: ConsumedRecord[];
  /** Where the next request should start. */
  nextOffset: number;
}

const toConsumedRecord = ({ offset, leaderEpoch, key, value, appendedAt }: LogRecord): ConsumedRecord => ({
  offset,
  leaderEpoch,
  key,
  value,
  appendedAt,
});

/** How many of the records fit `maxBytes` of key and value as JSON; at least one, as in Kafka, so a large record never blocks a consumer. */
function recordsWithinBytes(records: readonly LogRecord[], maxBytes: number): number {
  let bytes = 0;
  for (const [i, record] of records.entries()) {
    bytes += Buffer.byteLength(JSON.stringify(record.value)) + (record.key === null ? 0 : Buffer.byteLength(JSON.stringify(record.key)));
    if (i > 0 && bytes > maxBytes) return i;
  }
  return records.length;
}

export async function consume(deps: Deps, input: unknown): Promise<ConsumeResult> {
  const request = parseConsumeRequest(input);
  const partition = await requireLeader(deps, request);
  const { highWatermark } = partition;
  if (request.offset > highWatermark) {
    throw new OffsetOutOfRangeError(
      `offset ${request.offset} is beyond the high watermark ${highWatermark} of ${partitionName(partition)}`,
    );
  }
  const end = Math.min(highWatermark, request.offset + request.maxRecords);
  const read = await deps.log.read(partition.topic, partition.partition, partition.leader, request.offset, end);
  const records = read.slice(0, recordsWithinBytes(read, request.maxBytes));
  return {
    topic: partition.topic,
    partition: partition.partition,
    leader: partition.leader,
    leaderEpoch: partition.leaderEpoch,
    highWatermark,
    records: records.map(toConsumedRecord),
    // A log has no holes, so this is the offset after the last record; after an unclean election the leader
    // may not have reached the high watermark yet, and the consumer must not skip what it writes there next.
    nextOffset: request.offset + records.length,
  };
}

export interface OffsetsForLeaderEpochResult {
  topic: string;
  partition: number;
  leader: BrokerId;
  /** The partition's current leader epoch. */
  currentLeaderEpoch: number;
  /** The largest epoch at or below the one asked for that has records on the leader (or the one asked for, if none). */
  leaderEpoch: number;
  /** The first offset of the leader's log with a larger epoch than the one asked for, or its log end. */
  endOffset: number;
}

/**
 * KIP-320's OffsetsForLeaderEpoch, answered from the current leader's log: where
 * the asked epoch ended there. A consumer that read up to offset n in epoch e and
 * gets an endOffset below n knows an unclean election truncated what it read
 * (Kafka's consumer then resets to endOffset). Epochs never decrease along a log,
 * so the end is found by a binary search over the leader's records.
 */
export async function offsetsForLeaderEpoch(deps: Deps, input: unknown): Promise<OffsetsForLeaderEpochResult> {
  const request = parseOffsetsForLeaderEpochRequest(input);
  const partition = await requireLeader(deps, request);
  if (request.leaderEpoch > partition.leaderEpoch) {
    throw new UnknownLeaderEpochError(
      `leader epoch ${request.leaderEpoch} is beyond the current epoch ${partition.leaderEpoch} of ${partitionName(partition)}`,
    );
  }
  const { topic, partition: number, leader } = partition;
  const logEnd = logEndOffsetOf(await deps.metadata.getReplicaStates(topic, number), leader);
  const epochAt = async (offset: number): Promise<number> => {
    const [record] = await deps.log.read(topic, number, leader, offset, offset + 1);
    // A leader's log has no holes below its log end; a missing record means the log moved on under us.
    return record?.leaderEpoch ?? Number.POSITIVE_INFINITY;
  };
  // The first offset in [0, logEnd) whose epoch is above the one asked for, or logEnd.
  let low = 0;
  let high = logEnd;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if ((await epochAt(middle)) > request.leaderEpoch) high = middle;
    else low = middle + 1;
  }
  const endOffset = low;
  const leaderEpoch = endOffset > 0 ? await epochAt(endOffset - 1) : request.leaderEpoch;
  return {
    topic,
    partition: number,
    leader,
    currentLeaderEpoch: partition.leaderEpoch,
    leaderEpoch: Number.isFinite(leaderEpoch) ? leaderEpoch : request.leaderEpoch,
    endOffset,
  };
}

/** What the consume function serves: records, or with `offsetsForLeaderEpoch` given, that epoch's end offset. */
export function serveConsumer(deps: Deps, input: unknown): Promise<ConsumeResult | OffsetsForLeaderEpochResult> {
  return isOffsetsForLeaderEpochRequest(input) ? offsetsForLeaderEpoch(deps, input) : consume(deps, input);
}
