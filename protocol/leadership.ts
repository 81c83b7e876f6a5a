/**
 * How partitions and their leadership changes look outside the functions: the describe row
 * and the event on the leadership-events queue. Values, not only types, where a reader must
 * know every one: the stores read them back, and a value left out would fail only there.
 */

export const PARTITION_STATES = ['ONLINE', 'OFFLINE'] as const;
export type PartitionState = (typeof PARTITION_STATES)[number];

export const LEADERSHIP_REASONS = [
  'CREATED',
  'LEADER_FAILED',
  'FOLLOWER_FAILED',
  'UNCLEAN_ELECTION',
  'LEADER_RETURNED',
  'PREFERRED_LEADER',
  'CONTROLLED_SHUTDOWN',
  'ISR_EXPANDED',
  'ISR_SHRUNK',
] as const;
export type LeadershipReason = (typeof LEADERSHIP_REASONS)[number];

/** One partition as describe (and create-topic's assignments) report it, kafka-topics style. */
export interface PartitionView {
  Topic: string;
  Partition: number;
  Leader: string | null;
  Replicas: string[];
  Isr: string[];
  /** KIP-966 eligible leader replicas and last known leader (kafka-topics' Elr and LastKnownElr), when there are any. */
  Elr?: string[];
  LastKnownElr?: string[];
  LeaderEpoch: number;
  HighWatermark: number;
  State: PartitionState;
  /** Each replica's log end offset (as kafka-log-dirs shows it): describe reports it, create-topic's assignments do not. */
  LogEndOffsets?: Record<string, number>;
}

/** Published on the leadership-events FIFO queue, one per partition change. */
export interface LeadershipEvent {
  topic: string;
  partition: number;
  previousLeader: string | null;
  newLeader: string | null;
  leaderEpoch: number;
  isr: string[];
  state: PartitionState;
  reason: LeadershipReason;
  unclean: boolean;
  at: number;
  /**
   * The partition's metadata version after this change. Unlike leaderEpoch it
   * moves on every ISR change too, so (topic, partition, version) names one
   * change exactly: two ISR_EXPANDED at the same epoch are different events.
   */
  version: number;
}
