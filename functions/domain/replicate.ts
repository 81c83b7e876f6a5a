/**
 * Replication driven by the log table's stream: each batch of leader appends is
 * copied to the live in-sync followers, then the high watermark advances.
 */
import type { Deps } from '../ports/index.js';
import { livenessAt, type Liveness } from './broker-lease.js';
import { replicaStateOf } from './high-watermark.js';
import type { BrokerId, LogRecord, ReplicaState } from './model.js';
import { forEachPartition } from './partition-change.js';
import { inSyncFollowers, isOnline, type OnlinePartition } from './partitions.js';
import { advanceHighWatermark, syncFollower, type KnownRecords } from './replica-sync.js';
import { partitionName } from './views.js';

export interface PartitionReplication {
  topic: string;
  partition: number;
  /** Each live in-sync follower's log end after this call; null where leadership moved on meanwhile. */
  followerLogEnds: Record<BrokerId, number | null>;
  highWatermark: number;
}

export interface ReplicateResult {
  partitions: PartitionReplication[];
}

interface PartitionBatch {
  topic: string;
  partition: number;
  records: LogRecord[];
}

/**
 * Safe to redeliver: a follower only receives the records from its own log end
 * offset on, so a record it already has is never written twice. A follower not
 * yet matched in the leader's epoch is matched first (syncFollower).
 */
export async function replicate(deps: Deps, records: LogRecord[]): Promise<ReplicateResult> {
  const batches = byPartition(records.filter((record) => record.copy === 'leader'));
  if (batches.length === 0) return { partitions: [] };
  const isAlive = livenessAt(await deps.brokers.list(), deps.clock.now());
  return { partitions: await forEachPartition(batches, (batch) => replicatePartition(deps, batch, isAlive)) };
}

function byPartition(records: readonly LogRecord[]): PartitionBatch[] {
  const batches = new Map<string, PartitionBatch>();
  for (const record of records) {
    const key = partitionName(record);
    const batch = batches.get(key) ?? { topic: record.topic, partition: record.partition, records: [] };
    batch.records.push(record);
    batches.set(key, batch);
  }
  return [...batches.values()];
}

async function replicatePartition(deps: Deps, batch: PartitionBatch, isAlive: Liveness): Promise<PartitionReplication> {
  const partition = await deps.metadata.getPartition(batch.topic, batch.partition);
  const nothingDone: PartitionReplication = {
    topic: batch.topic,
    partition: batch.partition,
    followerLogEnds: {},
    highWatermark: partition?.highWatermark ?? 0,
  };
  if (!partition || !isOnline(partition)) return nothingDone;
  // A deposed leader's records are fenced: only the current leader's copy of the log is the truth.
  const fromLeader = batch.records.filter((record) => record.replica === partition.leader);
  if (fromLeader.length === 0) return nothingDone;

  const known = currentEpochRecords(fromLeader, partition.leaderEpoch);
  // A dead follower cannot receive data; it holds the HW back until it is dropped from the ISR.
  const followers = inSyncFollowers(partition).filter(isAlive);
  const states = await deps.metadata.getReplicaStates(partition.topic, partition.partition);
  const batchEnd = Math.max(...fromLeader.map((record) => record.offset)) + 1;
  if (alreadyReplicated(partition, states, followers, batchEnd)) {
    // The usual case since acks=all replicates in the produce path: nothing to write, so no more reads either.
    return {
      topic: partition.topic,
      partition: partition.partition,
      followerLogEnds: Object.fromEntries(followers.map((follower) => [follower, replicaStateOf(states, follower)!.logEndOffset])),
      highWatermark: partition.highWatermark,
    };
  }
  const ends = await Promise.all(followers.map((follower) => syncFollower(deps, partition, follower, known, states)));
  return {
    topic: partition.topic,
    partition: partition.partition,
    followerLogEnds: Object.fromEntries(followers.map((follower, i) => [follower, ends[i]!])),
    highWatermark: await advanceHighWatermark(deps, partition),
  };
}

/**
 * Whether the batch needs nothing from this call: every live in-sync follower is
 * matched in this epoch and holds the records, and the HW covers them. (A dead ISR
 * member holds the HW back, so then the HW does not cover them and the full path runs.)
 */
function alreadyReplicated(
  partition: OnlinePartition,
  states: readonly ReplicaState[],
  liveFollowers: readonly BrokerId[],
  batchEnd: number,
): boolean {
  if (partition.highWatermark < batchEnd) return false;
  return liveFollowers.every((follower) => {
    const state = replicaStateOf(states, follower);
    return state !== undefined && state.matchedEpoch === partition.leaderEpoch && state.logEndOffset >= batchEnd;
  });
}

/**
 * The stream records that can be copied as they are. Within its epoch a
 * leader's log is append-only, so those match its log; a record it appended in
 * an earlier term may since have been truncated and replaced (it was a follower
 * in between), so older ones are re-read from its log instead.
 */
function currentEpochRecords(records: readonly LogRecord[], leaderEpoch: number): KnownRecords {
  return new Map(records.filter((record) => record.leaderEpoch === leaderEpoch).map((record) => [record.offset, record]));
}
