/**
 * Reading topics and partitions on behalf of a client request, turning absence
 * and unusable states into the named errors the client can act on.
 */
import type { Deps } from '../ports/index.js';
import { FencedLeaderEpochError, PartitionOfflineError, UnknownLeaderEpochError, UnknownTopicError, currentLeaderHint } from './errors.js';
import type { PartitionMetadata, TopicConfig } from './model.js';
import { isOnline, type OnlinePartition } from './partitions.js';
import { brokerList, partitionName } from './views.js';

export async function requireTopic(deps: Deps, topic: string): Promise<TopicConfig> {
  const config = await deps.metadata.getTopic(topic);
  if (!config) throw new UnknownTopicError(`topic "${topic}" does not exist`);
  return config;
}

/** Reads the topic only to explain a missing partition, keeping the topic read off the hot path. */
export async function unknownPartition(deps: Deps, topic: string, partition: number): Promise<never> {
  const config = await requireTopic(deps, topic);
  throw new UnknownTopicError(
    `partition ${partition} does not exist: topic "${topic}" has partitions 1 to ${config.partitions}`,
  );
}

export async function requirePartition(deps: Deps, topic: string, partition: number): Promise<PartitionMetadata> {
  return (await deps.metadata.getPartition(topic, partition)) ?? unknownPartition(deps, topic, partition);
}

export interface LeaderRequest {
  topic: string;
  partition: number;
  currentLeaderEpoch?: number;
}

/**
 * The partition's current leader, read strongly consistently. A client that
 * named an epoch must name the current one (KIP-320): otherwise it is acting
 * on a leader that may have been deposed, and must look the leader up again.
 */
export async function requireLeader(deps: Deps, request: LeaderRequest): Promise<OnlinePartition> {
  return leaderOf(await requirePartition(deps, request.topic, request.partition), request.currentLeaderEpoch);
}

/** The partition as read, if it has a leader and the client named its current epoch (or none). */
export function leaderOf(partition: PartitionMetadata, currentLeaderEpoch: number | undefined): OnlinePartition {
  if (!isOnline(partition)) {
    throw new PartitionOfflineError(
      `partition ${partitionName(partition)} has no leader: ` +
        `none of its in-sync replicas ${brokerList(partition.isr)} is alive`,
    );
  }
  requireCurrentEpoch(partition, currentLeaderEpoch);
  return partition;
}

/**
 * KIP-320 fencing: an epoch below the partition's is FENCED_LEADER_EPOCH (the
 * client's leader was deposed), one above it UNKNOWN_LEADER_EPOCH (the client is
 * ahead of this store); either way the client refreshes its metadata and retries.
 */
export function requireCurrentEpoch(partition: PartitionMetadata, currentLeaderEpoch: number | undefined): void {
  if (currentLeaderEpoch === undefined || currentLeaderEpoch === partition.leaderEpoch) return;
  const where = `${partitionName(partition)}: its leader is ${partition.leader ?? 'nobody'} at epoch ${partition.leaderEpoch}`;
  if (currentLeaderEpoch < partition.leaderEpoch) {
    throw new FencedLeaderEpochError(
      `leader epoch ${currentLeaderEpoch} is fenced for ${where}; look the leader up again` +
        currentLeaderHint(partition.leader, partition.leaderEpoch),
    );
  }
  throw new UnknownLeaderEpochError(`leader epoch ${currentLeaderEpoch} is newer than ${where}; refresh and retry`);
}
