/**
 * Reaction to a broker's departure (a REMOVE on the heartbeat stream): its
 * partitions get a new leader, and the ISRs it was in let go of it.
 */
import type { Deps, LeadershipUpdate } from '../ports/index.js';
import type { Liveness } from './broker-lease.js';
import { readCluster } from './cluster.js';
import { electLeader } from './election.js';
import { removeFromIsr } from './isr.js';
import type { BrokerHeartbeat, LeadershipEvent, PartitionMetadata } from './model.js';
import {
  changeLeadership,
  completeChange,
  describeChange,
  forEachPartition,
  updateAfterElection,
} from './partition-change.js';
import { isCausedBy, placedAfterLapse } from './partitions.js';

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
  const cluster = await readCluster(deps);
  const now = deps.clock.now();
  // A broker back under a new incarnation is alive but not eligible: it must catch up
  // before it may lead or count as in sync.
  const isEligible: Liveness = (brokerId) => brokerId !== gone.brokerId && cluster.isAlive(brokerId);

  // A leader is always in its ISR, so the ISR test covers the partitions it led too. The
  // detector can lag behind direct reads of the broker table: a topic created after this
  // incarnation lapsed may already have placed the broker's next incarnation.
  const touched = cluster.partitions.filter(
    (p) => (p.isr.includes(gone.brokerId) && !placedAfterLapse(p, gone)) || isCausedBy(p.lastChange, gone),
  );
  const handle = async (partition: PartitionMetadata): Promise<LeadershipEvent[]> => {
    const outcome = await changeLeadership(deps, partition, (current) =>
      decideAfterDeparture(current, gone, departure, isEligible, cluster.uncleanAllowed(current.topic), now),
    );
    const ours = outcome.changed || isCausedBy(outcome.partition.lastChange, gone);
    return ours ? [await completeChange(deps, outcome.partition, isEligible)] : [];
  };
  // Partitions without a leader are unavailable until elected; the ISR shrinks only cost
  // durability. Elect first, so a broker in many ISRs does not delay its own failover.
  const led = touched.filter((p) => p.leader === gone.brokerId);
  const followed = touched.filter((p) => p.leader !== gone.brokerId);
  const events = await forEachPartition([led, followed], handle);
  return events.flat();
}

function decideAfterDeparture(
  partition: PartitionMetadata,
  gone: BrokerHeartbeat,
  departure: BrokerDeparture,
  isEligible: Liveness,
  uncleanAllowed: boolean,
  now: number,
): LeadershipUpdate | null {
  if (partition.leader === gone.brokerId) {
    const election = electLeader(partition, isEligible, uncleanAllowed);
    const reason = departure === 'EXPIRED' ? 'LEADER_FAILED' : 'CONTROLLED_SHUTDOWN';
    return updateAfterElection(partition, election, reason, gone, now);
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
