/**
 * The high watermark: the first offset not yet held by every in-sync replica.
 * Consumers read only below it, and acks=all acknowledges only up to it.
 */
import type { BrokerId, PartitionMetadata, ReplicaState } from './model.js';

export function replicaStateOf(states: readonly ReplicaState[], brokerId: BrokerId): ReplicaState | undefined {
  return states.find((state) => state.brokerId === brokerId);
}

export function logEndOffsetOf(states: readonly ReplicaState[], brokerId: BrokerId): number {
  // A replica without a state has nothing: counting it as 0 can only hold the HW back, never push it past data.
  return replicaStateOf(states, brokerId)?.logEndOffset ?? 0;
}

/**
 * The smallest log end in the ISR, or null while some in-sync follower has not
 * been matched with the leader in its epoch: until then its log end may count
 * records the leader never had (Kafka's makeLeader resets every follower's
 * position to unknown for the same reason). The leader's own log is the truth.
 */
export function highWatermarkOf(
  partition: Pick<PartitionMetadata, 'isr' | 'leader' | 'leaderEpoch'>,
  states: readonly ReplicaState[],
): number | null {
  const ends = partition.isr.map((brokerId) => {
    const state = replicaStateOf(states, brokerId);
    if (!state) return 0;
    const counts = brokerId === partition.leader || state.matchedEpoch === partition.leaderEpoch;
    return counts ? state.logEndOffset : null;
  });
  return ends.some((end) => end === null) ? null : Math.min(...(ends as number[]));
}
