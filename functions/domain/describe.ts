/**
 * The cluster as `kafka-topics --describe` and `kafka-broker-api-versions` would show it.
 */
import type { DescribeResponse, TopicSummary } from '../../protocol/messages.js';
import type { Deps } from '../ports/index.js';
import { compareBrokerIds } from './assignment.js';
import { isLeaseAlive, isShuttingDown } from './broker-lease.js';
import { readLeases } from './cluster.js';
import { requireTopic } from './lookup.js';
import type { PartitionMetadata, ReplicaState, TopicConfig } from './model.js';
import { byTopic } from './partitions.js';
import { parseDescribeRequest } from './requests.js';
import { toPartitionView } from './views.js';

export async function describe(deps: Deps, input: unknown): Promise<DescribeResponse> {
  const { topic } = parseDescribeRequest(input);
  const [topics, partitions, leases] = await Promise.all([
    topic === undefined ? deps.metadata.listTopics() : requireTopic(deps, topic).then((config) => [config]),
    deps.metadata.listPartitions(topic),
    readLeases(deps),
  ]);
  const states = (await Promise.all(topics.map((config) => deps.metadata.listReplicaStates(config.topic)))).flat();
  return {
    topics: [...topics].sort(byTopic).map((config) => summarize(config, partitions, states)),
    brokers: leases.heartbeats
      .map((hb) => ({
        brokerId: hb.brokerId,
        incarnation: hb.incarnation,
        lastHeartbeatAt: hb.lastHeartbeatAt,
        deadlineMs: hb.deadlineMs,
        // Judged when read: the listings beside it can take seconds at scale.
        alive: isLeaseAlive(hb, leases.readAt),
        ...(isShuttingDown(hb, leases.readAt) ? { shuttingDown: true as const } : {}),
      }))
      .sort((a, b) => compareBrokerIds(a.brokerId, b.brokerId)),
  };
}

function summarize(config: TopicConfig, partitions: readonly PartitionMetadata[], states: readonly ReplicaState[]): TopicSummary {
  return {
    topic: config.topic,
    partitionCount: config.partitions,
    replicationFactor: config.replicationFactor,
    minInsyncReplicas: config.minInsyncReplicas,
    uncleanLeaderElection: config.uncleanLeaderElection,
    compressionType: config.compressionType,
    storage: config.storage,
    partitions: partitions
      .filter((p) => p.topic === config.topic)
      .sort((a, b) => a.partition - b.partition)
      .map((partition) => toPartitionView(partition, states)),
  };
}
