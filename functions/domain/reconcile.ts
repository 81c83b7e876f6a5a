/**
 * The reconciler: on a schedule, every partition is brought to where the stream
 * triggers would have brought it, so that no single stream record (dropped to a
 * DLQ, a crash between two writes, a race lost by everyone) can leave a
 * partition stuck. It needs nothing but the tables:
 *  - a partition led by a broker without a live lease gets a new leader (or goes
 *    OFFLINE), and an OFFLINE one comes back once an eligible replica is alive;
 *  - a partition led by a broker in a controlled shutdown moves to an eligible in-sync
 *    replica if there is one (finishing a shutdown that stopped halfway), never uncleanly;
 *  - dead followers leave the ISR, and so do followers that have lacked a leader
 *    record for longer than replica.lag.time.max.ms (Kafka's ISR shrink by lag);
 *  - live in-sync followers are brought level and the HW is moved on, which
 *    finishes a replication that stopped halfway;
 *  - live replicas outside the ISR catch up and rejoin it;
 *  - a topic creation cut short between the store's transactions is finished.
 * Every write is the same conditional write the triggers make, so the reconciler
 * racing them changes nothing twice.
 */
import type { ReconcileResponse } from '../../protocol/messages.js';
import type { Deps, LeadershipUpdate } from '../ports/index.js';
import { valuesOrFirstFailure } from '../concurrency.js';
import { isLeaseAlive } from './broker-lease.js';
import { rejoinOutOfSyncReplicas } from './broker-return.js';
import { readCluster, readLeases, type ClusterSnapshot, type LeaseSnapshot } from './cluster.js';
import { finishTopicCreation } from './create-topic.js';
import { electLeader } from './election.js';
import { InvalidReplicationFactorError, TopicExistsError } from './errors.js';
import { TOPIC_CREATION_GRACE_MS } from './limits.js';
import { logEndOffsetOf, replicaStateOf } from './high-watermark.js';
import type { BrokerHeartbeat, BrokerId, LeadershipEvent, PartitionMetadata, ReplicaState } from './model.js';
import {
  changeLeadership,
  completeChange,
  electionUpdate,
  forEachPartition,
  isrChange,
  isrOnlyChange,
  leaderlessElectionUpdate,
  levelInSyncFollowers,
  replicaStatesFor,
  settleEach,
  type ChangeCause,
} from './partition-change.js';
import { minIsrReader, type MinIsrOf } from './min-isr.js';
import { inSyncFollowers, isOnline, type OnlinePartition } from './partitions.js';

export async function reconcile(deps: Deps): Promise<ReconcileResponse> {
  const snapshot = await readLeases(deps);
  const cluster = await readCluster(deps, undefined, snapshot);
  const leases = new Map(snapshot.heartbeats.map((hb) => [hb.brokerId, hb]));
  const now = deps.clock.now();
  // One listing of each large topic's replica states instead of two or three queries a
  // partition: at 5,000 partitions the per-partition reads took the run past its 50 s.
  const believed = await replicaStatesFor(deps, cluster.partitions);
  const minIsrOf = minIsrReader(deps, cluster.minIsr);
  const events = valuesOrFirstFailure(
    await settleEach(cluster.partitions, (partition) =>
      reconcilePartition(deps, partition, cluster, leases, now, believed(partition), minIsrOf),
    ),
  );
  await finishAbandonedShutdowns(deps, snapshot);
  await finishUnfinishedTopicCreations(deps, cluster, now);
  return { partitions: cluster.partitions.length, events: events.flat() };
}

// ---- unfinished topic creations

/**
 * A topic creation whose creator died between two of the store's transactions leaves the
 * topic CREATING with some of its partitions: read as absent, its name taken. Once no
 * creator can still be at work on it (TOPIC_CREATION_GRACE_MS), it is finished here as a
 * retried CreateTopic would finish it. Its partitions are not managed until then
 * (readCluster leaves them out). A finisher that lost the race to another, or too few live
 * brokers for the missing partitions, leaves it to the next run.
 */
async function finishUnfinishedTopicCreations(deps: Deps, cluster: ClusterSnapshot, now: number): Promise<void> {
  await forEachPartition(cluster.unfinishedTopics, async (topic) => {
    const config = await deps.metadata.getUnfinishedTopic(topic);
    if (!config || now - config.createdAt <= TOPIC_CREATION_GRACE_MS) return;
    try {
      await finishTopicCreation(deps, config);
    } catch (error) {
      if (!(error instanceof TopicExistsError || error instanceof InvalidReplicationFactorError)) throw error;
    }
  });
}

/**
 * A controlled shutdown whose Lambda stopped before deleting the lease, while the broker
 * kept heartbeating, would leave the broker marked for good: never again eligible, so an
 * OFFLINE partition whose last in-sync replica it is could never come back. Once such a
 * broker leads nothing (the moves are done, or there was nothing to move) its lease is
 * deleted as the shutdown would have done: the failure detector takes it out of the ISRs,
 * and if the broker is still running its next heartbeat registers it afresh, eligible.
 */
async function finishAbandonedShutdowns(deps: Deps, { heartbeats, readAt }: LeaseSnapshot): Promise<void> {
  const marked = heartbeats.filter((hb) => hb.shuttingDown === true && isLeaseAlive(hb, readAt));
  await forEachPartition(marked, async (lease) => {
    if ((await deps.metadata.listPartitionsLedBy(lease.brokerId)).length > 0) return;
    await deps.brokers.deregister(lease.brokerId, lease.incarnation);
  });
}

async function reconcilePartition(
  deps: Deps,
  partition: PartitionMetadata,
  cluster: ClusterSnapshot,
  leases: ReadonlyMap<BrokerId, BrokerHeartbeat>,
  now: number,
  believed: readonly ReplicaState[] | undefined,
  minIsrOf: MinIsrOf,
): Promise<LeadershipEvent[]> {
  const events: LeadershipEvent[] = [];
  // The states read for the whole run describe the partition as listed, not a version written since.
  const believedAt = (current: PartitionMetadata) => (current.version === partition.version ? believed : undefined);
  const outcome = await changeLeadership(deps, partition, (current) =>
    decideReconciled(deps, current, cluster, leases, now, believedAt(current), minIsrOf),
  );
  const latest = outcome.partition;
  if (outcome.changed) events.push(await completeChange(deps, latest, cluster.isAlive));
  else if (isOnline(latest)) await levelInSyncFollowers(deps, latest, cluster.isAlive, believedAt(latest));
  if (isOnline(latest)) {
    const rejoin = await rejoinOutOfSyncReplicas(deps, latest, null, cluster, now);
    events.push(...rejoin.events);
  }
  return events;
}

/** The broker incarnation to name as a change's cause: the lapsed lease, if its item is still stored. */
const causeOf = (leases: ReadonlyMap<BrokerId, BrokerHeartbeat>, brokerId: BrokerId): ChangeCause => {
  const lease = leases.get(brokerId);
  return lease ? { brokerId, incarnation: lease.incarnation } : null;
};

async function decideReconciled(
  deps: Deps,
  current: PartitionMetadata,
  cluster: ClusterSnapshot,
  leases: ReadonlyMap<BrokerId, BrokerHeartbeat>,
  now: number,
  believed: readonly ReplicaState[] | undefined,
  minIsrOf: MinIsrOf,
): Promise<LeadershipUpdate | null> {
  const uncleanAllowed = cluster.uncleanAllowed(current.topic);
  const elrEnabled = deps.settings.eligibleLeaderReplicasEnabled;
  // A broker whose shutdown was abandoned after its mark still leads rather than nobody (electLeader).
  const failover = { isRunning: cluster.hasLiveLease, elrEnabled };
  if (!isOnline(current)) return leaderlessElectionUpdate(deps, current, cluster.isAlive, uncleanAllowed, failover, null, now);
  if (!cluster.hasLiveLease(current.leader)) {
    const election = electLeader(current, cluster.isAlive, uncleanAllowed, failover);
    return electionUpdate(deps, current, election, 'LEADER_FAILED', causeOf(leases, current.leader), now);
  }
  if (!cluster.isAlive(current.leader)) {
    // A leader in a controlled shutdown (one that stopped halfway, or raced a catch-up): only a clean move,
    // as the shutdown itself makes; without an eligible in-sync replica it keeps leading until its lease ends.
    const election = electLeader(current, cluster.isAlive, false, { elrEnabled });
    if (election.outcome === 'CLEAN') {
      return electionUpdate(deps, current, election, 'CONTROLLED_SHUTDOWN', causeOf(leases, current.leader), now);
    }
  }
  const dead = inSyncFollowers(current).filter((id) => !cluster.isAlive(id));
  const lagging = await laggingFollowers(deps, current, dead, now, believed);
  const leaving = [...dead, ...lagging];
  if (leaving.length === 0) return null;
  const isr = current.isr.filter((id) => !leaving.includes(id));
  const reason = dead.length > 0 ? 'FOLLOWER_FAILED' : 'ISR_SHRUNK';
  return isrChange(deps, current, isrOnlyChange(current, isr, reason, causeOf(leases, leaving[0]), now), minIsrOf);
}

/**
 * Followers that have lacked a leader record for longer than replica.lag.time.max.ms:
 * the age of the oldest record they miss, counted at the earliest from the
 * partition's last change (a new leader gives its followers a fresh start, as
 * Kafka's makeLeader does).
 */
async function laggingFollowers(
  deps: Deps,
  partition: OnlinePartition,
  exclude: readonly BrokerId[],
  now: number,
  believed?: readonly ReplicaState[],
): Promise<BrokerId[]> {
  const { replicaLagMaxMs } = deps.settings;
  if (now - partition.lastChange.at <= replicaLagMaxMs) return [];
  const candidates = inSyncFollowers(partition).filter((id) => !exclude.includes(id));
  // States read for the whole run may only clear followers (one that fell behind since then has
  // not lagged for long); a verdict against a follower is taken on a fresh read.
  if (believed && candidates.every((id) => isLevel(partition, believed, id))) return [];
  const states = await deps.metadata.getReplicaStates(partition.topic, partition.partition);
  const leaderEnd = logEndOffsetOf(states, partition.leader);
  const verdicts = await Promise.all(
    candidates.map(async (follower) => {
      const state = replicaStateOf(states, follower);
      const matched = state !== undefined && state.matchedEpoch === partition.leaderEpoch;
      const end = state?.logEndOffset ?? 0;
      if (matched && end >= leaderEnd) return false;
      const firstMissing = Math.min(end, leaderEnd);
      const [missing] = await deps.log.read(partition.topic, partition.partition, partition.leader, firstMissing, firstMissing + 1);
      const behindSince = Math.max(missing?.appendedAt ?? partition.lastChange.at, partition.lastChange.at);
      return now - behindSince > replicaLagMaxMs;
    }),
  );
  return candidates.filter((_, i) => verdicts[i]);
}

/** Matched with the leader in its epoch and at the leader's log end. */
function isLevel(partition: OnlinePartition, states: readonly ReplicaState[], follower: BrokerId): boolean {
  const state = replicaStateOf(states, follower);
  return state !== undefined && state.matchedEpoch === partition.leaderEpoch && state.logEndOffset >= logEndOffsetOf(states, partition.leader);
}
