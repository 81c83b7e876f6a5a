/**
 * Reaction to a broker's departure (a REMOVE on the heartbeat stream): its
 * partitions get a new leader, and the ISRs it was in let go of it.
 */
import type { Deps, LeadershipUpdate } from '../ports/index.js';
import { eligibilityAt, type Liveness } from './broker-lease.js';
import { readCluster } from './cluster.js';
import { electLeader } from './election.js';
import { removeFromIsr } from './isr.js';
import type { BrokerHeartbeat, LeadershipEvent, PartitionMetadata } from './model.js';
import {
  type ChangeOutcome,
  changeLeadership,
  completeChange,
  describeChange,
  electionUpdate,
  settleEach,
  valuesOrFirstFailure,
} from './partition-change.js';
import { isCausedBy, placedAfterLapse } from './partitions.js';
import { partitionName } from './views.js';

/** EXPIRED: the lease lapsed (a failure). DEREGISTERED: the lease was deleted while live (a shutdown). */
export type BrokerDeparture = 'EXPIRED' | 'DEREGISTERED';

/**
 * Safe to deliver twice, out of order, or to two detectors at once: a partition
 * no longer led by (or in sync with) the departed broker is left alone, a lost
 * race is re-decided on a fresh read, and a change this departure already made
 * is re-published rather than made again (its earlier publish may have failed).
 */
export async function onBrokerGone(
  deps: Deps,
  gone: BrokerHeartbeat,
  departure: BrokerDeparture,
): Promise<LeadershipEvent[]> {
  const [heartbeats, led] = await Promise.all([deps.brokers.list(), deps.metadata.listPartitionsLedBy(gone.brokerId)]);
  const now = deps.clock.now();
  // A broker back under a new incarnation is alive but not eligible: it must catch up
  // before it may lead or count as in sync.
  // A broker in a controlled shutdown is alive but not eligible either.
  const isAlive = eligibilityAt(heartbeats, now);
  const isEligible: Liveness = (brokerId) => brokerId !== gone.brokerId && isAlive(brokerId);
  // The detector can lag behind direct reads of the broker table: a topic created after
  // this incarnation lapsed may already have placed the broker's next incarnation.
  const concernsGone = (p: PartitionMetadata) =>
    (p.isr.includes(gone.brokerId) && !placedAfterLapse(p, gone)) || isCausedBy(p.lastChange, gone);
  const change = (partition: PartitionMetadata, uncleanAllowed: boolean): Promise<ChangeOutcome> =>
    changeLeadership(deps, partition, (current) => decideAfterDeparture(deps, current, gone, departure, isEligible, uncleanAllowed, now));
  const complete = async (outcome: ChangeOutcome): Promise<LeadershipEvent[]> => {
    const ours = outcome.changed || isCausedBy(outcome.partition.lastChange, gone);
    return ours ? [await completeChange(deps, outcome.partition, isEligible)] : [];
  };
  const handle = async (partition: PartitionMetadata, uncleanAllowed: boolean): Promise<LeadershipEvent[]> =>
    complete(await change(partition, uncleanAllowed));

  // Partitions without a leader are unavailable until elected; ISR shrinks only cost
  // durability. So the partitions the broker led are elected first, found through the
  // leader index (one query, however large the cluster), and the full listing follows.
  // Every election is written before any of them is completed (followers levelled, HW
  // moved, event published): completing costs several writes a partition, and done in
  // between, it held back the last elections (bench:scale, N = 100, one run each on the
  // same loaded machine: the 100th election written 1.30 s after the listing interleaved,
  // 0.88 s this way, against 0.44-0.47 s for 100 raw conditional writes).
  // Completion is safe to delay: until it runs the HW only stays where it was.
  const electing = led.filter(concernsGone);
  const unclean = await topicsAllowingUncleanElection(deps, electing);
  // At most PARTITIONS_IN_FLIGHT at a time (see there).
  const changes = await settleEach(electing, (p) => change(p, unclean.has(p.topic)));
  const elections = await settleEach(changes, (outcome) =>
    outcome.status === 'fulfilled' ? complete(outcome.value) : Promise.reject(outcome.reason as Error),
  );
  const elected = new Set(electing.map(partitionName));
  const cluster = await readCluster(deps, undefined, heartbeats);
  const rest = cluster.partitions.filter((p) => concernsGone(p) && !elected.has(partitionName(p)));
  const others = await settleEach(rest, (p) => handle(p, cluster.uncleanAllowed(p.topic)));
  return valuesOrFirstFailure([...elections, ...others]).flat();
}

async function topicsAllowingUncleanElection(deps: Deps, partitions: readonly PartitionMetadata[]): Promise<Set<string>> {
  const topics = await Promise.all([...new Set(partitions.map((p) => p.topic))].map((topic) => deps.metadata.getTopic(topic)));
  return new Set(topics.filter((config) => config?.uncleanLeaderElection).map((config) => config!.topic));
}

async function decideAfterDeparture(
  deps: Deps,
  partition: PartitionMetadata,
  gone: BrokerHeartbeat,
  departure: BrokerDeparture,
  isEligible: Liveness,
  uncleanAllowed: boolean,
  now: number,
): Promise<LeadershipUpdate | null> {
  if (partition.leader === gone.brokerId) {
    const election = electLeader(partition, isEligible, uncleanAllowed);
    const reason = departure === 'EXPIRED' ? 'LEADER_FAILED' : 'CONTROLLED_SHUTDOWN';
    return electionUpdate(deps, partition, election, reason, gone, now);
  }
  // An offline partition keeps every ISR member it had: any of them may bring it back with all committed records.
  if (partition.leader !== null && partition.isr.includes(gone.brokerId)) {
    // Kafka bumps only the partition epoch (our version) here: the leader did not change, so its epoch must not.
    return {
      leader: partition.leader,
      leaderEpoch: partition.leaderEpoch,
      isr: removeFromIsr(partition.isr, gone.brokerId),
      state: partition.state,
      lastChange: describeChange(departure === 'EXPIRED' ? 'FOLLOWER_FAILED' : 'ISR_SHRUNK', partition.leader, gone, now),
    };
  }
  return null;
}
