/**
 * Small facts about a partition that several use cases ask.
 */
import type { FollowerMatch } from '../ports/index.js';
import type { BrokerHeartbeat, BrokerId, PartitionChange, PartitionMetadata } from './model.js';

/** Listing order: by topic name. */
export const byTopic = (a: { topic: string }, b: { topic: string }): number => a.topic.localeCompare(b.topic);

/** Listing order: by topic name, then partition number. */
export const byTopicAndPartition = (a: PartitionMetadata, b: PartitionMetadata): number =>
  byTopic(a, b) || a.partition - b.partition;

export type OnlinePartition = PartitionMetadata & { leader: BrokerId; state: 'ONLINE' };

export const isOnline = (partition: PartitionMetadata): partition is OnlinePartition =>
  partition.state === 'ONLINE' && partition.leader !== null;

/** The ISR members other than the leader: the replicas the leader must feed. */
export const inSyncFollowers = (partition: OnlinePartition): BrokerId[] =>
  partition.isr.filter((id) => id !== partition.leader);

/** Whether this change was made because of this broker incarnation's departure or arrival. */
export const isCausedBy = (change: PartitionChange, broker: Pick<BrokerHeartbeat, 'brokerId' | 'incarnation'>): boolean =>
  change.causeBrokerId === broker.brokerId && change.causeIncarnation === broker.incarnation;

/**
 * Whether the broker's place in this partition was given after `gone` (one incarnation of
 * it) had already lapsed: the partition was created, or the broker re-admitted to its ISR
 * after catching up, later than that incarnation's deadline. The place then belongs to a
 * later incarnation, and the old one's REMOVE, however late the stream delivers it, must
 * not take it away.
 */
export const placedAfterLapse = (partition: PartitionMetadata, gone: BrokerHeartbeat): boolean => {
  const change = partition.lastChange;
  if (change.at <= gone.deadlineMs) return false;
  return change.reason === 'CREATED' || (change.reason === 'ISR_EXPANDED' && change.causeBrokerId === gone.brokerId);
};

/** A caller bug, not a race: a follower cannot be "truncated" to beyond its own log end. */
export function requireTruncationWithinLog(match: FollowerMatch): void {
  if (!Number.isSafeInteger(match.truncateTo) || match.truncateTo < 0 || match.truncateTo > match.expectedLogEnd) {
    throw new Error(
      `Matching ${match.topic}-${match.partition} on ${match.follower}: offset ${match.truncateTo} is not within its log (end ${match.expectedLogEnd}).`,
    );
  }
}
