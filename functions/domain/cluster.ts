/**
 * One consistent snapshot of what a leadership decision needs, read once per
 * trigger so that every partition it touches is judged against the same cluster.
 */
import type { Deps } from '../ports/index.js';
import { eligibilityAt, livenessAt, type Liveness } from './broker-lease.js';
import type { BrokerHeartbeat, PartitionMetadata } from './model.js';

/**
 * The broker table as read, and when. Leases are judged at the moment they were read: a
 * lease read before a listing that takes seconds (5,000 partitions) and judged at the clock
 * after it has lapsed, although its broker went on heartbeating meanwhile.
 */
export interface LeaseSnapshot {
  heartbeats: BrokerHeartbeat[];
  readAt: number;
}

export async function readLeases(deps: Deps): Promise<LeaseSnapshot> {
  const heartbeats = await deps.brokers.list();
  return { heartbeats, readAt: deps.clock.now() };
}

export interface ClusterSnapshot {
  partitions: PartitionMetadata[];
  /** Alive and eligible: lease live and not in a controlled shutdown (what elections and ISR admission use). */
  isAlive: Liveness;
  /** Lease live, shutting down or not: a leader that answers this still holds its partitions. */
  hasLiveLease: Liveness;
  uncleanAllowed: (topic: string) => boolean;
  /**
   * Topics with partitions listed but not created (a creation cut short between the store's
   * transactions): their partitions are left out of `partitions`, never managed as live ones.
   */
  unfinishedTopics: string[];
}

/** `leases`, when the caller has just read them, spares a second read of the broker table. */
export async function readCluster(deps: Deps, topic?: string, leases?: LeaseSnapshot): Promise<ClusterSnapshot> {
  const [{ heartbeats, readAt }, topics, partitions] = await Promise.all([
    leases ?? readLeases(deps),
    deps.metadata.listTopics(),
    deps.metadata.listPartitions(topic),
  ]);
  const uncleanTopics = new Set(topics.filter((config) => config.uncleanLeaderElection).map((config) => config.topic));
  const created = new Set(topics.map((config) => config.topic));
  return {
    partitions: partitions.filter((p) => created.has(p.topic)),
    unfinishedTopics: [...new Set(partitions.filter((p) => !created.has(p.topic)).map((p) => p.topic))],
    isAlive: eligibilityAt(heartbeats, readAt),
    hasLiveLease: livenessAt(heartbeats, readAt),
    uncleanAllowed: (name) => uncleanTopics.has(name),
  };
}
