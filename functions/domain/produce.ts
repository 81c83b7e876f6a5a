/**
 * Produce: append on the partition's leader, fenced by its epoch, and for
 * acks=all wait until the whole ISR has the records (the high watermark passed them).
 */
import type { Deps } from '../ports/index.js';
import {
  ConcurrentAppendError,
  NotEnoughReplicasAfterAppendError,
  NotEnoughReplicasError,
  NotLeaderError,
  ReplicationTimeoutError,
  StaleEpochError,
} from './errors.js';
import { logEndOffsetOf } from './high-watermark.js';
import { APPEND_RETRY_BACKOFF_MS, MAX_APPEND_ATTEMPTS, MAX_RECORDS_PER_WRITE } from './limits.js';
import { requireLeader, requirePartition, requireTopic } from './lookup.js';
import type { BrokerId, LogRecord, PartitionMetadata } from './model.js';
import type { OnlinePartition } from './partitions.js';
import { parseProduceRequest, type ProducedRecord } from './requests.js';
import { brokerList, partitionName } from './views.js';

export interface ProduceResult {
  topic: string;
  partition: number;
  leader: BrokerId;
  leaderEpoch: number;
  baseOffset: number;
  lastOffset: number;
  highWatermark: number;
}

/**
 * Requests of more than 98 records are written as several appends: each is
 * atomic and contiguous, but another producer's records may land between them,
 * and a failure midway leaves the earlier ones written (like separate Kafka batches).
 */
export async function produce(deps: Deps, input: unknown): Promise<ProduceResult> {
  const request = parseProduceRequest(input);
  const [config, partition] = await Promise.all([requireTopic(deps, request.topic), requireLeader(deps, request)]);
  // Kafka applies min.insync.replicas to acks=all only: acks=1 never promised more than the leader's copy.
  if (request.acks === 'all' && partition.isr.length < config.minInsyncReplicas) {
    throw new NotEnoughReplicasError(
      `partition ${partitionName(partition)} has ${partition.isr.length} in-sync replica(s) ${brokerList(partition.isr)}, ` +
        `fewer than min.insync.replicas ${config.minInsyncReplicas}; nothing was written`,
    );
  }
  const appended = await appendAll(deps, partition, request.records);
  const lastOffset = appended[appended.length - 1].offset;
  const highWatermark =
    request.acks === 'all'
      ? await awaitCommit(deps, partition, lastOffset + 1, config.minInsyncReplicas)
      : partition.highWatermark;
  return {
    topic: partition.topic,
    partition: partition.partition,
    leader: partition.leader,
    leaderEpoch: partition.leaderEpoch,
    baseOffset: appended[0].offset,
    lastOffset,
    highWatermark,
  };
}

async function appendAll(deps: Deps, partition: OnlinePartition, records: readonly ProducedRecord[]): Promise<LogRecord[]> {
  const appended: LogRecord[] = [];
  for (let start = 0; start < records.length; start += MAX_RECORDS_PER_WRITE) {
    appended.push(...(await appendChunk(deps, partition, records.slice(start, start + MAX_RECORDS_PER_WRITE))));
  }
  return appended;
}

/**
 * Appends at the leader's current log end. A concurrent producer that took those
 * offsets first means: retry at the new end.
 */
async function appendChunk(deps: Deps, partition: OnlinePartition, records: ProducedRecord[]): Promise<LogRecord[]> {
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) await deps.sleep(APPEND_RETRY_BACKOFF_MS * (attempt - 1));
    const states = await deps.metadata.getReplicaStates(partition.topic, partition.partition);
    try {
      return await deps.log.appendAsLeader({
        topic: partition.topic,
        partition: partition.partition,
        leader: partition.leader,
        leaderEpoch: partition.leaderEpoch,
        startOffset: logEndOffsetOf(states, partition.leader),
        records,
        appendedAt: deps.clock.now(),
      });
    } catch (error) {
      if (!(error instanceof StaleEpochError)) throw error;
      // The same error covers a lost offset race and a lost leadership; only the first is worth retrying.
      await requireSameLeadership(deps, partition);
      if (attempt >= MAX_APPEND_ATTEMPTS) {
        throw new ConcurrentAppendError(
          `${MAX_APPEND_ATTEMPTS} appends to ${partitionName(partition)} in a row lost the race for the log end to ` +
            `other producers; nothing of this batch was written - retry`,
        );
      }
    }
  }
}

/**
 * Polls the partition until the high watermark passes `target`, as long as the
 * leadership the records went to lasts. Like Kafka's delayed produce, the ISR is
 * judged when the records are committed: one that shrank below min.insync.replicas
 * meanwhile is NOT_ENOUGH_REPLICAS_AFTER_APPEND, not success.
 */
async function awaitCommit(deps: Deps, partition: OnlinePartition, target: number, minInsyncReplicas: number): Promise<number> {
  const { produceAckTimeoutMs, produceAckPollMs } = deps.settings;
  const deadline = deps.clock.now() + produceAckTimeoutMs;
  for (;;) {
    const current = await requireSameLeadership(deps, partition);
    if (current.highWatermark >= target) {
      if (current.isr.length >= minInsyncReplicas) return current.highWatermark;
      throw new NotEnoughReplicasAfterAppendError(
        `records up to offset ${target - 1} of ${partitionName(partition)} were written, but the ISR ` +
          `${brokerList(current.isr)} shrank below min.insync.replicas ${minInsyncReplicas} before they were committed; ` +
          `they are not acknowledged (a retry may write them twice)`,
      );
    }
    if (deps.clock.now() >= deadline) {
      throw new ReplicationTimeoutError(
        `records up to offset ${target - 1} of ${partitionName(partition)} were written by ${partition.leader}, ` +
          `but the ISR ${brokerList(current.isr)} did not confirm them within ${produceAckTimeoutMs} ms ` +
          `(high watermark ${current.highWatermark}); they may still be committed later`,
      );
    }
    await deps.sleep(produceAckPollMs);
  }
}

/**
 * After a leader change the records may or may not survive (the new leader may
 * lack them), so the only honest answer is NOT_LEADER: the client looks the
 * leader up and retries.
 */
async function requireSameLeadership(deps: Deps, expected: OnlinePartition): Promise<PartitionMetadata> {
  const current = await requirePartition(deps, expected.topic, expected.partition);
  if (current.leader !== expected.leader || current.leaderEpoch !== expected.leaderEpoch) {
    throw new NotLeaderError(
      `leadership of ${partitionName(expected)} moved from ${expected.leader} (epoch ${expected.leaderEpoch}) ` +
        `to ${current.leader ?? 'nobody'} (epoch ${current.leaderEpoch}) during the request; look the leader up and retry`,
    );
  }
  return current;
}
