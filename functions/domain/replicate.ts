/**
 * Replication driven by the log table's stream: each batch of leader appends is
 * copied to the live in-sync followers, then the high watermark advances.
 */
import type { Deps } from '../ports/index.js';
import { livenessAt, type Liveness } from './broker-lease.js';
import type { BrokerId, LogRecord, PartitionMetadata } from './model.js';
import { forEachPartition } from './partition-change.js';
import { inSyncFollowers, isOnline } from './partitions.js';
import { advanceHighWatermark, syncFollower } from './replica-sync.js';
import { partitionName } from './views.js';

export interface PartitionReplication {
  topic: string;
  partition: number;
  /** Each live in-sync follower's log end after this call; null where leadership moved on meanwhile. */
  followerLogEnds: Record<BrokerId, number | null>;
  highWatermark: number;
  /**
   * Copies another writer had in flight that this call took over once in doubt (its writer had not
   * committed within IN_DOUBT_BATCH_AGE_MS): a dead writer's, or a stalled one's, whose commit then
   * refuses this call's put (billed at the batch's size). Left out when none.
   */
  copiesTakenOver?: number;
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
 * yet matched in the leader's epoch is matched first (syncFollower). The stream's
 * records only say which partitions to look at: what is copied is read from the
 * leader's committed log, since a stream record may be of a batch its writer never
 * committed, which another batch then replaced at those offsets (domain/generations.ts).
 */
export async function replicate(deps: Deps, records: LogRecord[]): Promise<ReplicateResult> {
  // A batch its writer copies (acks=all) is that writer's to replicate (domain/produce.ts).
  const batches = byPartition(records.filter((record) => record.copy === 'leader' && !record.writerCopies));
  if (batches.length === 0) return { partitions: [] };
  // Read once, and only if some partition still needs copying: most batches were
  // replicated in the produce path already, and then need nothing but the partition read.
  let liveness: Promise<Liveness> | undefined;
  const isAlive = (): Promise<Liveness> => (liveness ??= deps.brokers.list().then((heartbeats) => livenessAt(heartbeats, deps.clock.now())));
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

async function replicatePartition(deps: Deps, batch: PartitionBatch, liveness: () => Promise<Liveness>): Promise<PartitionReplication> {
  const partition = await deps.metadata.getPartition(batch.topic, batch.partition);
  // A deposed leader's records are fenced: only the current leader's copy of the log is the truth.
  const fromLeader = batch.records.filter((record) => record.replica === partition?.leader);
  const batchEnd = fromLeader.length === 0 ? 0 : Math.max(...fromLeader.map((record) => record.offset)) + 1;
  return replicateTo(deps, batch, partition, batchEnd, liveness);
}

/**
 * What the log stream does for a batch, done by the writer of a batch it copies itself
 * (LogRecord.writerCopies) whose own copy fell short (a race lost, a follower that was
 * behind): the live in-sync followers brought up to the leader's log end, then the HW moved.
 */
export async function replicateUpTo(
  deps: Deps,
  expected: { topic: string; partition: number; leader: BrokerId; leaderEpoch: number },
  end: number,
): Promise<PartitionReplication> {
  const liveness = async (): Promise<Liveness> => livenessAt(await deps.brokers.list(), deps.clock.now());
  const partition = await deps.metadata.getPartition(expected.topic, expected.partition);
  const same = partition !== null && partition.leader === expected.leader && partition.leaderEpoch === expected.leaderEpoch;
  return replicateTo(deps, expected, same ? partition : null, end, liveness);
}

async function replicateTo(
  deps: Deps,
  where: { topic: string; partition: number },
  partition: PartitionMetadata | null,
  batchEnd: number,
  liveness: () => Promise<Liveness>,
): Promise<PartitionReplication> {
  const nothingDone: PartitionReplication = {
    topic: where.topic,
    partition: where.partition,
    followerLogEnds: {},
    highWatermark: partition?.highWatermark ?? 0,
  };
  if (!partition || !isOnline(partition) || batchEnd === 0) return nothingDone;

  // Committed already (the usual case since acks=all replicates in the produce path): every
  // ISR member holds offsets below the HW (a member joins only once it reached the HW, and is
  // never cut below it), so there is nothing to copy; matching followers in a later epoch is
  // the election's completion's and the next append's business, not this batch's.
  if (partition.highWatermark >= batchEnd) return nothingDone;
  // A dead follower cannot receive data; it holds the HW back until it is dropped from the ISR.
  const followers = inSyncFollowers(partition).filter(await liveness());
  const states = await deps.metadata.getReplicaStates(partition.topic, partition.partition);
  // With acks=all replicated in the produce path, the produce call that appended these records
  // is most likely copying them at this moment: racing its copies would only have DynamoDB bill
  // the loser's refused put of the whole batch. So this path waits for a copy it finds in flight
  // (a dead writer's is taken over once in doubt).
  const yieldToCopiesInFlight = deps.settings.replicateOnProduce;
  let copiesTakenOver = 0;
  const options = { yieldToCopiesInFlight, onTakeOver: () => void copiesTakenOver++ };
  const ends = await Promise.all(followers.map((follower) => syncFollower(deps, partition, follower, undefined, states, options)));
  const followerLogEnds = Object.fromEntries(followers.map((follower, i) => [follower, ends[i]!]));
  const tookOver = copiesTakenOver > 0 ? { copiesTakenOver } : {};
  // The copier it waited for records the HW itself: read again rather than race that write.
  const current = yieldToCopiesInFlight ? await deps.metadata.getPartition(partition.topic, partition.partition) : partition;
  const same = current !== null && isOnline(current) && current.leader === partition.leader && current.leaderEpoch === partition.leaderEpoch;
  if (!same) return { ...nothingDone, followerLogEnds, highWatermark: current?.highWatermark ?? partition.highWatermark, ...tookOver };
  const highWatermark = current.highWatermark >= batchEnd ? current.highWatermark : await advanceHighWatermark(deps, current);
  return { topic: partition.topic, partition: partition.partition, followerLogEnds, highWatermark, ...tookOver };
}
