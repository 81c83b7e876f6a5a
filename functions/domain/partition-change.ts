/**
 * How every leadership/ISR change is made: decide on a fresh read, write it
 * conditionally on the version that was read, re-decide after losing a race;
 * then bring the followers level, move the high watermark and publish.
 */
import type { Deps, LeadershipUpdate } from '../ports/index.js';
import type { Liveness } from './broker-lease.js';
import { electLeader, type ElectionOptions, type LeaderElection } from './election.js';
import { settleBounded, valuesOrFirstFailure } from '../concurrency.js';
import { BulkWriteError, StaleEpochError } from './errors.js';
import { MAX_CONDITIONAL_ATTEMPTS } from './limits.js';
import { requirePartition } from './lookup.js';
import type {
  BrokerHeartbeat,
  BrokerId,
  LeadershipEvent,
  LeadershipReason,
  PartitionChange,
  PartitionMetadata,
  ReplicaState,
} from './model.js';
import { inSyncFollowers, isOnline, type OnlinePartition } from './partitions.js';
import { highWatermarkOf, logEndOffsetOf } from './high-watermark.js';
import { advanceHighWatermark, syncFollower } from './replica-sync.js';
import { minIsrReader, type MinIsrOf } from './min-isr.js';
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
 * changeLeadership for many partitions, with the first write of each sent in bulk
 * (MetadataStore.updateLeaderships: many conditional writes in one call): every
 * decision is taken on the partition as given, every write is still conditional on the
 * version it was decided from and applied or refused on its own, and a refused one goes
 * through changeLeadership on a fresh read (re-decided, as after any lost race). Results
 * in the partitions' order; like settleEach, returns only once every partition settled.
 */
export async function changeLeaderships(
  deps: Deps,
  starts: readonly PartitionMetadata[],
  decide: LeadershipDecision,
): Promise<Array<PromiseSettledResult<ChangeOutcome>>> {
  const decisions = await settleEach(starts, async (partition) => decide(partition));
  const results = new Array<PromiseSettledResult<ChangeOutcome>>(starts.length);
  const writes: Array<{ index: number; update: LeadershipUpdate }> = [];
  decisions.forEach((decision, index) => {
    if (decision.status === 'rejected') results[index] = decision;
    else if (decision.value === null) results[index] = { status: 'fulfilled', value: { partition: starts[index], changed: false } };
    else writes.push({ index, update: decision.value });
  });
  let written: Array<PromiseSettledResult<PartitionMetadata | null>>;
  try {
    const values = await deps.metadata.updateLeaderships(writes.map(({ index, update }) => ({ partition: starts[index], update })));
    written = values.map((value) => ({ status: 'fulfilled', value }));
  } catch (reason) {
    // Each write's own outcome when the store reports them; otherwise none is known to have landed.
    written = reason instanceof BulkWriteError ? [...(reason as BulkWriteError<PartitionMetadata | null>).outcomes] : writes.map(() => ({ status: 'rejected', reason }));
  }
  const lost: number[] = [];
  writes.forEach(({ index }, position) => {
    const outcome = written[position];
    if (outcome.status === 'rejected') results[index] = outcome;
    else if (outcome.value) results[index] = { status: 'fulfilled', value: { partition: outcome.value, changed: true } };
    else lost.push(index);
  });
  const retried = await settleEach(lost, async (index) =>
    changeLeadership(deps, await requirePartition(deps, starts[index].topic, starts[index].partition), decide),
  );
  lost.forEach((index, position) => (results[index] = retried[position]));
  return results;
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

/**
 * completeChange for many changed partitions, in two halves: levelChanges, then
 * publishChanges. levelChanges: each partition's followers levelled and its HW moved, from
 * replica states read once per topic where that is cheaper (replicaStatesFor).
 * publishChanges: their events, in one publish (batched by the publisher, in order, so each
 * partition's events keep theirs). Each half is safe to repeat: a retry levels again and
 * re-publishes (a no-op for the FIFO queue).
 */
export async function publishChanges(deps: Deps, partitions: readonly PartitionMetadata[]): Promise<LeadershipEvent[]> {
  const events = partitions.map(toLeadershipEvent);
  if (events.length > 0) await deps.events.publish(events);
  return events;
}

/** The first half of completeChange for many partitions (see above); `until` as BrokerGoneOptions.levelUntil. */
export async function levelChanges(
  deps: Deps,
  partitions: readonly PartitionMetadata[],
  isAlive: Liveness,
  until = Number.POSITIVE_INFINITY,
): Promise<void> {
  const online = partitions.filter(isOnline);
  const believed = await replicaStatesFor(deps, online);
  // Past `until` no further partition is started (see BrokerGoneOptions.levelUntil).
  const level = async (partition: OnlinePartition): Promise<void> => {
    if (deps.clock.now() < until) await levelInSyncFollowers(deps, partition, isAlive, believed(partition));
  };
  valuesOrFirstFailure(await settleEach(online, level, LEVELLING_IN_FLIGHT));
}

/**
 * Partitions levelled at once after a bulk change: fewer than PARTITIONS_IN_FLIGHT, as the
 * levelling (a fenced transaction per follower) is not urgent, and clients reading from
 * the new leaders meanwhile share the same tables (on the embedded cloud, one DynamoDB Local).
 */
export const LEVELLING_IN_FLIGHT = 8;

/**
 * The replica states of many partitions: for a topic with many of them among its
 * partitions, one listing of the topic (one query instead of one a partition, each
 * followed by more); for the others, undefined (read where needed). They are only a
 * starting point: every write made from them is conditional on what they say.
 */
export async function replicaStatesFor(
  deps: Deps,
  partitions: readonly PartitionMetadata[],
): Promise<(partition: PartitionMetadata) => readonly ReplicaState[] | undefined> {
  const counts = new Map<string, number>();
  for (const p of partitions) counts.set(p.topic, (counts.get(p.topic) ?? 0) + 1);
  const listed = new Map<string, Map<number, ReplicaState[]>>();
  const topics = [...counts].filter(([, count]) => count >= TOPIC_LISTING_MIN_PARTITIONS).map(([topic]) => topic);
  await Promise.all(
    topics.map(async (topic) => {
      const byPartition = new Map<number, ReplicaState[]>();
      for (const state of await deps.metadata.listReplicaStates(topic)) {
        byPartition.set(state.partition, [...(byPartition.get(state.partition) ?? []), state]);
      }
      listed.set(topic, byPartition);
    }),
  );
  return (partition) => {
    const states = listed.get(partition.topic);
    return states ? (states.get(partition.partition) ?? []) : undefined;
  };
}

/**
 * From how many partitions of one topic replicaStatesFor lists the whole topic. A listing
 * reads every replica state of the topic (at most 1,000 partitions x RF); the per-partition
 * reads it replaces are two or three queries a partition.
 */
export const TOPIC_LISTING_MIN_PARTITIONS = 16;

/**
 * Brings every live in-sync follower level with the leader, then moves the HW as far as
 * they allow. With `believed` replica states (read a moment ago) it starts from them: a
 * follower they show matched and level costs nothing, and the HW is read again only when
 * the followers' new positions can move it (a stale view only makes the fenced writes
 * refuse, and they are then read afresh).
 */
export async function levelInSyncFollowers(
  deps: Deps,
  partition: OnlinePartition,
  isAlive: Liveness,
  believed?: readonly ReplicaState[],
): Promise<number> {
  const followers = inSyncFollowers(partition).filter(isAlive);
  const reached = await Promise.all(followers.map((follower) => syncFollower(deps, partition, follower, undefined, believed)));
  if (believed && reached.every((end): end is number => end !== null)) {
    // Where the followers now are: matched in this epoch, at the ends they reached.
    const states = believed.map((state) => {
      const at = followers.indexOf(state.brokerId);
      return at < 0 ? state : { ...state, logEndOffset: reached[at], matchedEpoch: partition.leaderEpoch };
    });
    const highWatermark = highWatermarkOf(partition, states);
    if (highWatermark === null || highWatermark <= partition.highWatermark) return partition.highWatermark;
  }
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
  const update = await isrChange(deps, partition, updateAfterElection(partition, election, reason, cause, at));
  if (election.outcome !== 'UNCLEAN') return update;
  const states = await deps.metadata.getReplicaStates(partition.topic, partition.partition);
  return { ...update, highWatermark: Math.min(partition.highWatermark, logEndOffsetOf(states, election.leader)) };
}

/**
 * A leaderless partition whose ISR members, ELR members and last known leader are all
 * gone may still have a live replica holding every committed record: one that left the
 * ISR while it met min.insync.replicas, when nothing was committed after (Kafka cannot
 * tell, its logs being on the brokers; here every replica's log is in the table). Nothing
 * commits without a leader, so the committed records are those below the HW on the last
 * known leader's log, which nothing can change while the partition has no leader. A live
 * replica whose log reaches the HW and holds the record at HW - 1 in the same leader
 * epoch holds all of them (log matching, replica-sync.ts), and is elected cleanly, its log
 * the truth from then on. The write is conditional on the HW it was judged at.
 */
export async function electHolderOfCommitted(
  deps: Deps,
  partition: PartitionMetadata,
  isAlive: Liveness,
): Promise<LeaderElection | null> {
  const reference = partition.lastKnownElr[0];
  if (!deps.settings.eligibleLeaderReplicasEnabled || isOnline(partition) || reference === undefined) return null;
  const candidates = partition.replicas.filter((id) => id !== reference && isAlive(id));
  if (candidates.length === 0) return null;
  const { topic, partition: number, highWatermark } = partition;
  const epochAt = async (replica: BrokerId): Promise<number | undefined> =>
    (await deps.log.read(topic, number, replica, highWatermark - 1, highWatermark))[0]?.leaderEpoch;
  const states = await deps.metadata.getReplicaStates(topic, number);
  const committedEpoch = highWatermark === 0 ? undefined : await epochAt(reference);
  if (highWatermark > 0 && committedEpoch === undefined) return null;
  for (const candidate of candidates) {
    if (logEndOffsetOf(states, candidate) < highWatermark) continue;
    if (highWatermark > 0 && (await epochAt(candidate)) !== committedEpoch) continue;
    return { outcome: 'CLEAN', leader: candidate, isr: [candidate] };
  }
  return null;
}

/**
 * The election for a partition without a leader: a replica known to hold every committed
 * record (electLeader), else one whose log shows it holds them (electHolderOfCommitted),
 * else, where the topic allows it, an unclean one. Written with `highWatermarkAtMost` (the
 * HW does not move without a leader, so the condition only guards the judgement).
 */
export async function leaderlessElectionUpdate(
  deps: Deps,
  current: PartitionMetadata,
  isAlive: Liveness,
  uncleanAllowed: boolean,
  options: ElectionOptions,
  cause: ChangeCause,
  at: number,
): Promise<LeadershipUpdate | null> {
  let election = electLeader(current, isAlive, false, options);
  if (election.outcome === 'OFFLINE') election = (await electHolderOfCommitted(deps, current, isAlive)) ?? electLeader(current, isAlive, uncleanAllowed, options);
  if (election.outcome === 'OFFLINE') return null;
  const update = await electionUpdate(deps, current, election, 'LEADER_RETURNED', cause, at);
  return { ...update, highWatermarkAtMost: current.highWatermark };
}

/** A partition change as its deciders see it: everything but the KIP-966 fields, which follow from it. */
export type IsrChange = Omit<LeadershipUpdate, 'elr' | 'lastKnownElr'>;

/**
 * The funnel every leader/ISR change goes through: the KIP-966 fields that follow from
 * the new ISR (Kafka's PartitionChangeBuilder):
 *  - the ISR at or above min.insync.replicas: no ELR (the HW moves again, and a replica
 *    outside the ISR may miss what it commits);
 *  - below it: the ELR is every replica that was in the ISR or the ELR and is not in the
 *    new ISR (a member that leaves joins it; one elected or readmitted leaves it);
 *  - an unclean election clears both (its leader's log is the truth from then on);
 *  - losing the leader records it as the last known leader, kept while there is none.
 * With ELR off both fields stay empty and the ISR keeps its last member (isr.ts removeFromIsr).
 * min.insync.replicas is read only when the new ISR is smaller than the replica set.
 */
export async function isrChange(
  deps: Deps,
  current: PartitionMetadata,
  change: IsrChange,
  minIsrOf: MinIsrOf = minIsrReader(deps),
): Promise<LeadershipUpdate> {
  if (!deps.settings.eligibleLeaderReplicasEnabled) {
    return { ...change, isr: change.isr.length > 0 ? change.isr : current.isr, elr: [], lastKnownElr: [] };
  }
  if (change.lastChange.unclean) return { ...change, elr: [], lastKnownElr: [] };
  const belowMinIsr = change.isr.length < current.replicas.length && change.isr.length < (await minIsrOf(current.topic));
  const wasEligible = (id: BrokerId) => current.isr.includes(id) || (current.elr ?? []).includes(id);
  const elr = belowMinIsr ? current.replicas.filter((id) => !change.isr.includes(id) && wasEligible(id)) : [];
  const lastKnownElr = change.leader !== null ? [] : current.leader !== null ? [current.leader] : (current.lastKnownElr ?? []);
  return { ...change, elr, lastKnownElr };
}

/**
 * A change of the ISR alone (a member leaves or rejoins): the leader and its epoch stay,
 * only the version moves, as Kafka bumps only the partition epoch there. Goes to isrChange
 * like every other change.
 */
export function isrOnlyChange(
  current: PartitionMetadata,
  isr: BrokerId[],
  reason: LeadershipReason,
  cause: ChangeCause,
  at: number,
): IsrChange {
  return {
    leader: current.leader,
    leaderEpoch: current.leaderEpoch,
    isr,
    state: current.state,
    lastChange: describeChange(reason, current.leader, cause, at),
  };
}

/**
 * A move of the leader within an unchanged ISR (preferred-leader election): the epoch
 * bumps; the ISR is unchanged, so is the ELR, and with a leader there is no last known
 * one. These are the fields isrChange derives, written without its min.insync.replicas
 * read, which an unchanged ISR does not need.
 */
export function leaderMoveUpdate(
  partition: PartitionMetadata,
  leader: BrokerId,
  reason: LeadershipReason,
  cause: ChangeCause,
  at: number,
): LeadershipUpdate {
  return {
    leader,
    leaderEpoch: partition.leaderEpoch + 1,
    isr: partition.isr,
    elr: partition.elr,
    lastKnownElr: [],
    state: 'ONLINE',
    lastChange: describeChange(reason, partition.leader, cause, at),
  };
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
): IsrChange {
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
 * each was built and signed, so even the first write waits until all of them are ready
 * (seconds, for a thousand elections).
 */
export const PARTITIONS_IN_FLIGHT = 32;

/**
 * Promise.allSettled over `work(item)` for every item, at most `limit` at once, results in
 * the items' order. Like forEachPartition it returns only once every item has settled.
 */
export function settleEach<P, R>(
  items: readonly P[],
  work: (item: P) => Promise<R>,
  limit = PARTITIONS_IN_FLIGHT,
): Promise<Array<PromiseSettledResult<R>>> {
  return settleBounded(items, limit, (item) => work(item));
}
