/**
 * The shapes the functions answer with, as plain types without any import, so that code
 * that must not load the AWS SDK (the console's page) can use them too.
 */

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
  State: 'ONLINE' | 'OFFLINE';
  /** Each replica's log end offset (describe reports it; create-topic's assignments do not). */
  LogEndOffsets?: Record<string, number>;
}

/** A leadership-change event as the functions publish it on the FIFO queue. */
export interface LeadershipEventFields {
  topic: string;
  partition: number;
  previousLeader: string | null;
  newLeader: string | null;
  leaderEpoch: number;
  isr: string[];
  state: 'ONLINE' | 'OFFLINE';
  reason: string;
  unclean: boolean;
  at: number;
  /** The partition's metadata version after the change. */
  version?: number;
}
