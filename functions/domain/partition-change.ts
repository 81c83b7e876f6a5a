/**
 * How every leadership/ISR change is made: decide on a fresh read, write it
 * conditionally on the version that was read, re-decide after losing a race;
 * then bring the followers level, move the high watermark and publish.
 */
import type { Deps, LeadershipUpdate } from '../ports/index.js';
import type { Liveness } from './broker-lease.js';
import type { LeaderElection } from './election.js';
import { StaleEpochError } from './errors.js';
import { MAX_CONDITIONAL_ATTEMPTS } from './limits.js';
import { requirePartition } from './lookup.js';
import type {
  BrokerHeartbeat,
  BrokerId,
  LeadershipEvent,
  LeadershipReason,
  PartitionChange,
  PartitionMetadata,
} from './model.js';
import { inSyncFollowers, isOnline, type OnlinePartition } from './partitions.js';
import { logEndOffsetOf } from './high-watermark.js';
import { advanceHighWatermark, syncFollower } from './replica-sync.js';
import { toLeadershipEvent } from './views.js';

/** What to write given the partition as it stands now; null when nothing should change. May read more state first. */
export type LeadershipDecision = (current: PartitionMetadata) => LeadershipUpdate | null | Promise<LeadershipUpdate | null>;

export interface ChangeOutcome {
  /** The partition after the write, or as last read when nothing was written. */
  partition: PartitionMetadata;
  changed: boolean;
}

/**
 * Applies `decide` with optimistic concurrency. Losing the race is normal (two
 * detectors, a detector and a catch-up): the loser re-reads and decides again,
 * and usually finds there is nothing left to do, which is how racing triggers
 * end up making exactly one change.
 */
export async function changeLeadership(
  deps: Deps,
  start: PartitionMetadata,
  decide: LeadershipDecision,
): Promise<ChangeOutcome> {
  let current = start;
  for (let attempt = 1; ; attempt++) {
    const update = await decide(current);
    if (update === null) return { partition: current, changed: false };
    try {
      const written = await deps.metadata.updateLeadership(current.topic, current.partition, current.version, update);
      return { partition: written, changed: true };
    } catch (error) {
      if (!(error instanceof StaleEpochError) || attempt >= MAX_CONDITIONAL_ATTEMPTS) throw error;
      current = await requirePartition(deps, current.topic, current.partition);
    }
  }
}

/**
 * Everything that follows a change, each step safe to repeat, so a trigger that
 * is retried after a crash or a failed publish can simply run it again:
 *  - live ISR followers are matched with the (possibly new) leader and brought
 *    level: a suffix the new leader never had is dropped, and only then does the
 *    HW count the follower (a lost race is left to whoever won it);
 *  - the HW moves to the new ISR's minimum (a departed member no longer holds it back);
 *  - the event is published (the FIFO queue drops a repeat).
 */
export async function completeChange(deps: Deps, partition: PartitionMetadata, isAlive: Liveness): Promise<LeadershipEvent> {
  if (isOnline(partition)) await levelInSyncFollowers(deps, partition, isAlive);
  const event = toLeadershipEvent(partition);
  await deps.events.publish([event]);
  return event;
}

/** Brings every live in-sync follower level with the leader, then moves the HW as far as they allow. */
export async function levelInSyncFollowers(deps: Deps, partition: OnlinePartition, isAlive: Liveness): Promise<number> {
  await Promise.all(
    inSyncFollowers(partition)
      .filter(isAlive)
      .map((follower) => syncFollower(deps, partition, follower)),
  );
  return advanceHighWatermark(deps, partition);
}

/** The broker incarnation whose departure or arrival caused a change; null for operator-driven changes. */
export type ChangeCause = Pick<BrokerHeartbeat, 'brokerId' | 'incarnation'> | null;

export function describeChange(
  reason: LeadershipReason,
  previousLeader: BrokerId | null,
  cause: ChangeCause,
  at: number,
  unclean = false,
): PartitionChange {
  return {
    reason,
    previousLeader,
    causeBrokerId: cause?.brokerId ?? null,
    causeIncarnation: cause?.incarnation ?? null,
    unclean,
    at,
  };
}

/**
 * The write for an election's outcome (see updateAfterElection). An unclean
 * leader may lack records below the HW, so the HW comes down to its log end:
 * consumers are never promised offsets the new leader's log does not hold.
 */
export async function electionUpdate(
  deps: Deps,
  partition: PartitionMetadata,
  election: LeaderElection,
  reason: LeadershipReason,
  cause: ChangeCause,
  at: number,
): Promise<LeadershipUpdate> {
  const update = updateAfterElection(partition, election, reason, cause, at);
  if (election.outcome !== 'UNCLEAN') return update;
  const states = await deps.metadata.getReplicaStates(partition.topic, partition.partition);
  return { ...update, highWatermark: Math.min(partition.highWatermark, logEndOffsetOf(states, election.leader)) };
}

/**
 * The write for an election's outcome. Every outcome bumps the epoch: an offline
 * partition must fence its old leader too.
 */
export function updateAfterElection(
  partition: PartitionMetadata,
  election: LeaderElection,
  reason: LeadershipReason,
  cause: ChangeCause,
  at: number,
): LeadershipUpdate {
  const common = { leaderEpoch: partition.leaderEpoch + 1, isr: election.isr };
  const previousLeader = partition.leader;
  switch (election.outcome) {
    case 'CLEAN':
      return {
        ...common,
        leader: election.leader,
        state: 'ONLINE',
        lastChange: describeChange(reason, previousLeader, cause, at),
      };
    case 'UNCLEAN':
      return {
        ...common,
        leader: election.leader,
        state: 'ONLINE',
        lastChange: describeChange('UNCLEAN_ELECTION', previousLeader, cause, at, true),
      };
    case 'OFFLINE':
      return { ...common, leader: null, state: 'OFFLINE', lastChange: describeChange(reason, previousLeader, cause, at) };
  }
}

/**
 * Runs `work` for every partition concurrently (they are independent) and, unlike
 * Promise.all, waits for all of them before reporting the first failure: a Lambda
 * must not return, and be frozen, while writes for other partitions are still in flight.
 */
export async function forEachPartition<P, R>(partitions: readonly P[], work: (partition: P) => Promise<R>): Promise<R[]> {
  return valuesOrFirstFailure(await Promise.allSettled(partitions.map(work)));
}

/**
 * How many partitions one invocation works on at once when it has many: enough to keep
 * the data plane busy. Thousands at once only queue inside the SDK (50 sockets) after
 * each was built and signed: in bench:scale (N = 1000) the first of 1000 elections issued
 * together was written 2.6 s after they were issued.
 */
export const PARTITIONS_IN_FLIGHT = 32;

/**
 * Promise.allSettled over `work(item)` for every item, at most `limit` at once, results in
 * the items' order. Like forEachPartition it returns only once every item has settled.
 */
export async function settleEach<P, R>(
  items: readonly P[],
  work: (item: P) => Promise<R>,
  limit = PARTITIONS_IN_FLIGHT,
): Promise<Array<PromiseSettledResult<R>>> {
  const results = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await work(items[index]) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export function valuesOrFirstFailure<R>(settled: ReadonlyArray<PromiseSettledResult<R>>): R[] {
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<R>).value);
}
