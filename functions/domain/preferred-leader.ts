/**
 * Preferred-leader election (kafka-leader-election --election-type PREFERRED):
 * after failovers, leadership drifts onto fewer brokers; this moves each
 * partition back to replicas[0] where that is safe.
 */
import type { Deps, LeadershipUpdate } from '../ports/index.js';
import type { Liveness } from './broker-lease.js';
import { readCluster } from './cluster.js';
import { preferredLeaderMove } from './election.js';
import { requireTopic } from './lookup.js';
import type { LeadershipEvent, PartitionMetadata } from './model.js';
import { changeLeadership, completeChange, describeChange, forEachPartition } from './partition-change.js';
import { parsePreferredLeaderRequest } from './requests.js';

export async function electPreferredLeaders(deps: Deps, input: unknown): Promise<LeadershipEvent[]> {
  const { topic } = parsePreferredLeaderRequest(input);
  if (topic !== undefined) await requireTopic(deps, topic);
  const cluster = await readCluster(deps, topic);
  const now = deps.clock.now();
  const events = await forEachPartition(cluster.partitions, async (partition) => {
    const outcome = await changeLeadership(deps, partition, (current) => decidePreferred(current, cluster.isAlive, now));
    return outcome.changed ? [await completeChange(deps, outcome.partition, cluster.isAlive)] : [];
  });
  return events.flat();
}

function decidePreferred(partition: PartitionMetadata, isAlive: Liveness, now: number): LeadershipUpdate | null {
  const preferred = preferredLeaderMove(partition, isAlive);
  if (preferred === null) return null;
  return {
    leader: preferred,
    leaderEpoch: partition.leaderEpoch + 1,
    isr: partition.isr,
    state: 'ONLINE',
    lastChange: describeChange('PREFERRED_LEADER', partition.leader, null, now),
  };
}
