/**
 * One consistent snapshot of what a leadership decision needs, read once per
 * trigger so that every partition it touches is judged against the same cluster.
 */
import type { Deps } from '../ports/index.js';
import { eligibilityAt, livenessAt, type Liveness } from './broker-lease.js';
import type { BrokerHeartbeat, PartitionMetadata } from './model.js';

export interface ClusterSnapshot {
  partitions: PartitionMetadata[];
  /** Alive and eligible: lease live and not in a controlled shutdown (what elections and ISR admission use). */
  isAlive: Liveness;
  /** Lease live, shutting down or not: a leader that answers this still holds its partitions. */
  hasLiveLease: Liveness;
  uncleanAllowed: (topic: string) => boolean;
}

/** `heartbeats`, when the caller has just read them, spares a second read of the broker table. */
export async function readCluster(deps: Deps, topic?: string, heartbeats?: BrokerHeartbeat[]): Promise<ClusterSnapshot> {
  const [leases, topics, partitions] = await Promise.all([
    heartbeats ?? deps.brokers.list(),
    deps.metadata.listTopics(),
    deps.metadata.listPartitions(topic),
  ]);
  const now = deps.clock.now();
  const uncleanTopics = new Set(topics.filter((config) => config.uncleanLeaderElection).map((config) => config.topic));
  return {
    partitions,
    isAlive: eligibilityAt(leases, now),
    hasLiveLease: livenessAt(leases, now),
    uncleanAllowed: (name) => uncleanTopics.has(name),
  };
}
