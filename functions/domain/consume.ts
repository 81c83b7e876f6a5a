/**
 * Consume: read the leader's copy of the log, below the high watermark only, so
 * a consumer never sees a record that a failover could still take back.
 */
import type { Deps } from '../ports/index.js';
import { OffsetOutOfRangeError } from './errors.js';
import { requireLeader } from './lookup.js';
import type { BrokerId, LogRecord } from './model.js';
import { parseConsumeRequest } from './requests.js';
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
  const records = await deps.log.read(partition.topic, partition.partition, partition.leader, request.offset, end);
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
