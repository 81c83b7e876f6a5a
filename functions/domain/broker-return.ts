/**
 * Reaction to a broker's (re)registration (an INSERT on the heartbeat stream):
 * offline partitions it can lead come back, and replicas that fell out of sync
 * catch up and rejoin the ISR.
 */
import type { Deps, LeadershipUpdate } from '../ports/index.js';
import { readCluster, type ClusterSnapshot } from './cluster.js';
import { MAX_CONDITIONAL_ATTEMPTS } from './limits.js';
import { addToIsr, outOfSyncLiveReplicas } from './isr.js';
import type { BrokerHeartbeat, BrokerId, LeadershipEvent, PartitionMetadata } from './model.js';
import {
  changeLeadership,
  completeChange,
  forEachPartition,
  isrChange,
  isrOnlyChange,
  leaderlessElectionUpdate,
  levelInSyncFollowers,
  type ChangeCause,
} from './partition-change.js';
import { inSyncFollowers, isCausedBy, isOnline, type OnlinePartition } from './partitions.js';
import { syncFollower } from './replica-sync.js';

/** Idempotent like onBrokerGone: a repeated delivery finds nothing to do and re-publishes the last change it caused. */
export async function onBrokerRegistered(deps: Deps, joined: BrokerHeartbeat): Promise<LeadershipEvent[]> {
  const cluster = await readCluster(deps);
  const hosted = cluster.partitions.filter((p) => p.replicas.includes(joined.brokerId));
  const events = await forEachPartition(hosted, (partition) => restorePartition(deps, partition, joined, cluster));
  return events.flat();
}

async function restorePartition(
  deps: Deps,
  partition: PartitionMetadata,
  joined: BrokerHeartbeat,
  cluster: ClusterSnapshot,
): Promise<LeadershipEvent[]> {
  const now = deps.clock.now();
  const election = await changeLeadership(deps, partition, (current) => decideReturn(deps, current, joined, cluster, now));
  const events = election.changed ? [await completeChange(deps, election.partition, cluster.isAlive)] : [];
  const rejoin = isOnline(election.partition)
    ? await rejoinOutOfSyncReplicas(deps, election.partition, joined, cluster, now)
    : { latest: election.partition, events: [] };
  events.push(...rejoin.events);
  if (events.length === 0 && isCausedBy(rejoin.latest.lastChange, joined)) {
    events.push(await completeChange(deps, rejoin.latest, cluster.isAlive));
  } else if (events.length === 0 && isOnline(rejoin.latest) && inSyncFollowers(rejoin.latest).includes(joined.brokerId)) {
    // An in-sync follower back from a lapse holds the HW until it is matched in the current epoch: do it now.
    await levelInSyncFollowers(deps, rejoin.latest, cluster.isAlive);
  }
  return events;
}

/**
 * Every live replica outside the ISR, not only the one that joined: one that came
 * back while the partition was offline had no leader to catch up from until now.
 */
export async function rejoinOutOfSyncReplicas(
  deps: Deps,
  partition: OnlinePartition,
  cause: ChangeCause,
  cluster: Pick<ClusterSnapshot, 'isAlive'>,
  now: number,
): Promise<{ latest: OnlinePartition; events: LeadershipEvent[] }> {
  let latest = partition;
  const events: LeadershipEvent[] = [];
  for (const replica of outOfSyncLiveReplicas(partition.replicas, partition.isr, cluster.isAlive)) {
    const rejoined = await catchUp(deps, latest, replica, cause, now);
    if (rejoined) {
      latest = rejoined;
      events.push(await completeChange(deps, rejoined, cluster.isAlive));
    }
  }
  return { latest, events };
}

/** An offline partition elects again now that one more broker is alive; the election's own rules decide who may lead. */
async function decideReturn(
  deps: Deps,
  partition: PartitionMetadata,
  joined: BrokerHeartbeat,
  cluster: ClusterSnapshot,
  now: number,
): Promise<LeadershipUpdate | null> {
  if (partition.state !== 'OFFLINE') return null;
  // A broker whose shutdown was abandoned after its mark leads rather than nobody (electLeader).
  const options = { isRunning: cluster.hasLiveLease, elrEnabled: deps.settings.eligibleLeaderReplicasEnabled };
  return leaderlessElectionUpdate(deps, partition, cluster.isAlive, cluster.uncleanAllowed(partition.topic), options, joined, now);
}

/**
 * KIP-101/279 catch-up: match the replica with the leader in its epoch (dropping
 * what the leader never had), copy what is missing, then rejoin the ISR, which
 * is written only if the HW has not moved past the log end the replica reached.
 * A leader that keeps appending can outrun one pass, so it goes round again.
 * Returns the partition with the replica back in its ISR, or null when
 * leadership moved or the races did not settle: the next trigger (or the
 * reconciler) carries on.
 */
async function catchUp(
  deps: Deps,
  partition: OnlinePartition,
  replica: BrokerId,
  cause: ChangeCause,
  now: number,
): Promise<OnlinePartition | null> {
  for (let attempt = 1; attempt <= MAX_CONDITIONAL_ATTEMPTS; attempt++) {
    const replicaEnd = await syncFollower(deps, partition, replica);
    if (replicaEnd === null) return null;
    const outcome = await changeLeadership(deps, partition, (current) =>
      decideRejoin(deps, current, partition, replica, replicaEnd, cause, now),
    );
    if (outcome.changed) return isOnline(outcome.partition) ? outcome.partition : null;
    const current = outcome.partition;
    const sameLeadership = current.leader === partition.leader && current.leaderEpoch === partition.leaderEpoch;
    if (!sameLeadership || current.isr.includes(replica)) return null;
  }
  return null;
}

async function decideRejoin(
  deps: Deps,
  current: PartitionMetadata,
  matchedWith: OnlinePartition,
  replica: BrokerId,
  replicaEnd: number,
  cause: ChangeCause,
  now: number,
): Promise<LeadershipUpdate | null> {
  const sameLeadership = current.leader === matchedWith.leader && current.leaderEpoch === matchedWith.leaderEpoch;
  // Kafka's admission rule: a follower joins the ISR only once it holds everything committed so far.
  if (!sameLeadership || current.isr.includes(replica) || replicaEnd < current.highWatermark) return null;
  const isr = addToIsr(current.isr, replica, current.replicas);
  return isrChange(deps, current, { ...isrOnlyChange(current, isr, 'ISR_EXPANDED', cause, now), highWatermarkAtMost: replicaEnd });
}
