/**
 * Reaction to a broker's departure (a REMOVE on the heartbeat stream): its
 * partitions get a new leader, and the ISRs it was in let go of it.
 */
import type { Deps, LeadershipUpdate } from '../ports/index.js';
import { valuesOrFirstFailure } from '../concurrency.js';
import { eligibilityAt, livenessAt, type Liveness } from './broker-lease.js';
import { readLeases } from './cluster.js';
import { electLeader, type ElectionOptions } from './election.js';
import { minIsrReader, type MinIsrOf } from './min-isr.js';
import type { BrokerHeartbeat, LeadershipEvent, PartitionMetadata } from './model.js';
import {
  type ChangeOutcome,
  changeLeaderships,
  levelChanges,
  publishChanges,
  electionUpdate,
  isrChange,
  isrOnlyChange,
} from './partition-change.js';
import { isCausedBy, placedAfterLapse } from './partitions.js';
import { partitionName } from './views.js';

/** EXPIRED: the lease lapsed (a failure). DEREGISTERED: the lease was deleted while live (a shutdown). */
export type BrokerDeparture = 'EXPIRED' | 'DEREGISTERED';

export interface BrokerGoneOptions {
  /**
   * When (on deps.clock) to stop starting the levelling of further partitions, so the
   * invocation ends within its timeout: the elections and ISR shrinks are done before, every
   * event is published after, and a partition left unlevelled only keeps its HW where it was
   * until the reconciler (every minute) or its next produce levels its followers.
   */
  levelUntil?: number;
}

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
  options: BrokerGoneOptions = {},
): Promise<LeadershipEvent[]> {
  const [leases, led] = await Promise.all([readLeases(deps), deps.metadata.listPartitionsLedBy(gone.brokerId)]);
  const now = deps.clock.now();
  // A broker back under a new incarnation is alive but not eligible: it must catch up
  // before it may lead or count as in sync.
  // A broker in a controlled shutdown is alive but not eligible either.
  const isAlive = eligibilityAt(leases.heartbeats, leases.readAt);
  const isEligible: Liveness = (brokerId) => brokerId !== gone.brokerId && isAlive(brokerId);
  const hasLease = livenessAt(leases.heartbeats, leases.readAt);
  // A broker whose shutdown was abandoned after its mark still leads rather than nobody (electLeader).
  const election: ElectionOptions = {
    isRunning: (brokerId) => brokerId !== gone.brokerId && hasLease(brokerId),
    elrEnabled: deps.settings.eligibleLeaderReplicasEnabled,
  };
  const minIsrOf = minIsrReader(deps);
  // The detector can lag behind direct reads of the broker table: a topic created after
  // this incarnation lapsed may already have placed the broker's next incarnation.
  const concernsGone = (p: PartitionMetadata) =>
    (p.isr.includes(gone.brokerId) && !placedAfterLapse(p, gone)) || isCausedBy(p.lastChange, gone);
  const decide = (uncleanAllowed: (topic: string) => boolean) => (current: PartitionMetadata) =>
    decideAfterDeparture(deps, current, gone, departure, isEligible, election, uncleanAllowed(current.topic), now, minIsrOf);
  // Changes this departure made, or made by an earlier delivery of it (to complete again).
  const ours = (outcomes: ReadonlyArray<PromiseSettledResult<ChangeOutcome>>): PartitionMetadata[] =>
    outcomes.flatMap((outcome) =>
      outcome.status === 'fulfilled' && (outcome.value.changed || isCausedBy(outcome.value.partition.lastChange, gone))
        ? [outcome.value.partition]
        : [],
    );

  // Partitions without a leader are unavailable until elected; ISR shrinks only cost
  // durability (and hold back acks=all produces). So the partitions the broker led are
  // elected first, found through the leader index (one query, however large the cluster),
  // then the full listing gives the ISRs to shrink, and only then are the changes completed
  // (followers levelled and HW moved, then every event published). Both kinds of change are
  // written in bulk (changeLeaderships: conditional writes, many in flight).
  // Completing each election before the next is written would put every levelling and
  // publish ahead of the last election: with thousands of partitions, past the invocation's
  // timeout. The events go out last, in batches of 10, so that publishing (a FIFO send costs
  // about 25 ms a message on the local cloud's queue emulator) does not take the data plane's
  // CPU while clients move to the new leaders. Completion is safe to delay: until it runs the
  // HW only stays where it was.
  // A topic's unclean-election setting matters only where no in-sync replica can take over
  // (Kafka's controller reads it then too), so a clean failover reads no topic on its way to the elections.
  const mayNeedUnclean = (p: PartitionMetadata) =>
    p.leader === gone.brokerId && electLeader(p, isEligible, false, election).outcome === 'OFFLINE';
  const electing = led.filter(concernsGone);
  const unclean = await topicsAllowingUncleanElection(deps, electing.filter(mayNeedUnclean));
  const changes = await changeLeaderships(deps, electing, decide((topic) => unclean.has(topic)));
  const elected = ours(changes);
  const done = new Set(electing.map(partitionName));
  // The listing of every partition, without readCluster's listing of every topic (a second
  // scan of the whole table): only the topics of the partitions concerned are read.
  const rest = (await deps.metadata.listPartitions()).filter((p) => concernsGone(p) && !done.has(partitionName(p)));
  const uncleanRest = await topicsAllowingUncleanElection(deps, rest.filter(mayNeedUnclean));
  const shrinks = await changeLeaderships(deps, rest, decide((topic) => uncleanRest.has(topic)));
  const changed = [...elected, ...ours(shrinks)];
  const levelled = await settled(levelChanges(deps, changed, isEligible, options.levelUntil));
  // Every change is published, levelled or not (a failed levelling is retried with the whole record).
  const events = await publishChanges(deps, changed);
  // A failure anywhere is reported only once everything else ran (a retry redoes what is left).
  valuesOrFirstFailure<unknown>([...changes, ...shrinks, levelled]);
  return events;
}

const settled = <T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> =>
  promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );

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
  options: ElectionOptions,
  uncleanAllowed: boolean,
  now: number,
  minIsrOf: MinIsrOf,
): Promise<LeadershipUpdate | null> {
  if (partition.leader === gone.brokerId) {
    const election = electLeader(partition, isEligible, uncleanAllowed, options);
    const reason = departure === 'EXPIRED' ? 'LEADER_FAILED' : 'CONTROLLED_SHUTDOWN';
    return electionUpdate(deps, partition, election, reason, gone, now);
  }
  // An offline partition keeps every ISR member it had: any of them may bring it back with all committed records.
  if (partition.leader !== null && partition.isr.includes(gone.brokerId)) {
    // Kafka bumps only the partition epoch (our version) here: the leader did not change, so its epoch must not.
    const isr = partition.isr.filter((id) => id !== gone.brokerId);
    const reason = departure === 'EXPIRED' ? 'FOLLOWER_FAILED' : 'ISR_SHRUNK';
    return isrChange(deps, partition, isrOnlyChange(partition, isr, reason, gone, now), minIsrOf);
  }
  return null;
}
