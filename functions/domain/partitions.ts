/**
 * Small facts about a partition that several use cases ask.
 */
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
