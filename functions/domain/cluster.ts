/**
 * One consistent snapshot of what a leadership decision needs, read once per
 * trigger so that every partition it touches is judged against the same cluster.
 */
import type { Deps } from '../ports/index.js';
import { livenessAt, type Liveness } from './broker-lease.js';
import type { BrokerHeartbeat, PartitionMetadata } from './model.js';

export interface ClusterSnapshot {
  partitions: PartitionMetadata[];
  isAlive: Liveness;
  uncleanAllowed: (topic: string) => boolean;
}

/** `heartbeats`, when the caller has just read them, spares a second read of the broker table. */
export async function readCluster(deps: Deps, topic?: string, heartbeats?: BrokerHeartbeat[]): Promise<ClusterSnapshot> {
  const [leases, topics, partitions] = await Promise.all([
    heartbeats ?? deps.brokers.list(),
    deps.metadata.listTopics(),
    deps.metadata.listPartitions(topic),
  ]);
  const uncleanTopics = new Set(topics.filter((config) => config.uncleanLeaderElection).map((config) => config.topic));
  return {
    partitions,
    isAlive: livenessAt(leases, deps.clock.now()),
    uncleanAllowed: (name) => uncleanTopics.has(name),
  };
}
