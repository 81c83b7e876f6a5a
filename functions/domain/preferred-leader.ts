/**
 * Preferred-leader election (kafka-leader-election --election-type PREFERRED):
 * after failovers, leadership drifts onto fewer brokers; this moves each
 * partition back to replicas[0] where that is safe. On demand for every
 * partition, a topic, or some partitions of a topic; and on a schedule for the
 * brokers whose imbalance exceeds leader.imbalance.per.broker.percentage
 * (Kafka's auto.leader.rebalance.enable).
 */
import type { AutoRebalanceResponse, BrokerImbalance, ElectLeadersResponse } from '../../protocol/messages.js';
import type { Deps, LeadershipUpdate } from '../ports/index.js';
import type { Liveness } from './broker-lease.js';
import { readCluster } from './cluster.js';
import { preferredLeaderMove } from './election.js';
import { UnknownTopicError } from './errors.js';
import { requireTopic } from './lookup.js';
import type { BrokerId, LeadershipEvent, PartitionMetadata } from './model.js';
import { changeLeadership, completeChange, forEachPartition, leaderMoveUpdate } from './partition-change.js';
import { parsePreferredLeaderRequest } from './requests.js';

export async function electPreferredLeaders(deps: Deps, input: unknown): Promise<ElectLeadersResponse> {
  const { topic, partitions } = parsePreferredLeaderRequest(input);
  if (topic !== undefined) {
    const config = await requireTopic(deps, topic);
    const missing = (partitions ?? []).filter((p) => p > config.partitions);
    if (missing.length > 0) {
      throw new UnknownTopicError(
        `partition(s) ${missing.join(', ')} do not exist: topic "${topic}" has partitions 1 to ${config.partitions}; nothing was elected`,
      );
    }
  }
  const cluster = await readCluster(deps, topic);
  const chosen = partitions === undefined ? cluster.partitions : cluster.partitions.filter((p) => partitions.includes(p.partition));
  return electPreferred(deps, chosen, cluster.isAlive);
}

async function electPreferred(deps: Deps, partitions: readonly PartitionMetadata[], isAlive: Liveness): Promise<LeadershipEvent[]> {
  const now = deps.clock.now();
  const events = await forEachPartition(partitions, async (partition) => {
    const outcome = await changeLeadership(deps, partition, (current) => decidePreferred(current, isAlive, now));
    return outcome.changed ? [await completeChange(deps, outcome.partition, isAlive)] : [];
  });
  return events.flat();
}

function decidePreferred(partition: PartitionMetadata, isAlive: Liveness, now: number): LeadershipUpdate | null {
  const preferred = preferredLeaderMove(partition, isAlive);
  if (preferred === null) return null;
  return leaderMoveUpdate(partition, preferred, 'PREFERRED_LEADER', null, now);
}

/**
 * Kafka's scheduled rebalance: for each broker, the share of the partitions it is
 * the preferred replica of but does not lead; above the configured percentage,
 * preferred-leader election runs for those partitions (which moves only to a
 * replicas[0] that is alive and in the ISR, and writes nothing otherwise).
 */
export async function autoRebalance(deps: Deps): Promise<AutoRebalanceResponse> {
  const { autoLeaderRebalanceEnable, leaderImbalancePerBrokerPercentage } = deps.settings;
  if (!autoLeaderRebalanceEnable) return { enabled: false, imbalanced: [], events: [] };
  const cluster = await readCluster(deps);
  const imbalanced = leaderImbalance(cluster.partitions).filter((b) => b.percentage > leaderImbalancePerBrokerPercentage);
  const brokers = new Set(imbalanced.map((b) => b.brokerId));
  const chosen = cluster.partitions.filter((p) => brokers.has(p.replicas[0]) && p.leader !== p.replicas[0]);
  return { enabled: true, imbalanced, events: await electPreferred(deps, chosen, cluster.isAlive) };
}

/** Every preferred broker's imbalance, by broker id. */
export function leaderImbalance(partitions: readonly PartitionMetadata[]): BrokerImbalance[] {
  const counts = new Map<BrokerId, { preferred: number; notLed: number }>();
  for (const partition of partitions) {
    const preferred = partition.replicas[0];
    if (preferred === undefined) continue;
    const count = counts.get(preferred) ?? { preferred: 0, notLed: 0 };
    count.preferred++;
    if (partition.leader !== preferred) count.notLed++;
    counts.set(preferred, count);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([brokerId, { preferred, notLed }]) => ({ brokerId, preferred, notLed, percentage: (notLed / preferred) * 100 }));
}
