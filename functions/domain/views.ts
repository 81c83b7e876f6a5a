/**
 * How partitions look to the outside: the `kafka-topics --describe` row and the
 * leadership event. Both are derived from the stored partition alone, which is
 * what lets a retried detector re-publish exactly the event it published before.
 */
import type { PartitionView } from '../../protocol/leadership.js';
import type { BrokerId, LeadershipEvent, PartitionMetadata, ReplicaState } from './model.js';

export type { PartitionView } from '../../protocol/leadership.js';

export function toPartitionView(partition: PartitionMetadata, states?: readonly ReplicaState[]): PartitionView {
  const logEnds = states?.filter((state) => state.topic === partition.topic && state.partition === partition.partition);
  return {
    Topic: partition.topic,
    Partition: partition.partition,
    Leader: partition.leader,
    Replicas: [...partition.replicas],
    Isr: [...partition.isr],
    ...(partition.elr.length > 0 ? { Elr: [...partition.elr] } : {}),
    ...(partition.lastKnownElr.length > 0 ? { LastKnownElr: [...partition.lastKnownElr] } : {}),
    LeaderEpoch: partition.leaderEpoch,
    HighWatermark: partition.highWatermark,
    State: partition.state,
    ...(logEnds ? { LogEndOffsets: Object.fromEntries(logEnds.map((state) => [state.brokerId, state.logEndOffset])) } : {}),
  };
}

/** The event describing the partition's last change. */
export function toLeadershipEvent(partition: PartitionMetadata): LeadershipEvent {
  const change = partition.lastChange;
  return {
    topic: partition.topic,
    partition: partition.partition,
    previousLeader: change.previousLeader,
    newLeader: partition.leader,
    leaderEpoch: partition.leaderEpoch,
    isr: [...partition.isr],
    state: partition.state,
    reason: change.reason,
    unclean: change.unclean,
    at: change.at,
    version: partition.version,
  };
}

/** "[A, B]", for broker lists in messages. */
export const brokerList = (brokerIds: readonly BrokerId[]): string => `[${brokerIds.join(', ')}]`;

/** "orders-1", the way Kafka names a topic-partition in logs and errors. */
export const partitionName = (partition: Pick<PartitionMetadata, 'topic' | 'partition'>): string =>
  `${partition.topic}-${partition.partition}`;
