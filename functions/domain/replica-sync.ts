/**
 * Moving data from a leader's copy of the log to a follower's, and keeping the
 * high watermark in step. Shared by stream replication, failover, catch-up and
 * the reconciler.
 *
 * The protocol, in Kafka's terms (KIP-101/279, Raft's log matching):
 *  - A follower's state belongs to a leader epoch. Before it may receive copies in
 *    epoch E, its log is compared with the leader's and cut back to where they
 *    agree; that write marks it matched in E. Within E the leader's log only grows
 *    and the follower only receives the leader's records at its own log end, so it
 *    stays a prefix of the leader's log until the epoch ends.
 *  - Every write (copy, cut, HW advance) is conditional on the leadership it was
 *    computed under: a deposed leader's helpers cannot touch the log any more.
 *  - The HW counts a follower's log end only once it is matched in the current
 *    epoch, and advances only at the partition version (leader, epoch, ISR) it was
 *    computed from.
 */
import type { Deps } from '../ports/index.js';
import { StaleEpochError } from './errors.js';
import { currentGeneration } from './generations.js';
import { highWatermarkOf, logEndOffsetOf, replicaStateOf } from './high-watermark.js';
import { COPY_IN_FLIGHT_POLL_MS, IN_DOUBT_BATCH_AGE_MS, MAX_CONDITIONAL_ATTEMPTS, MAX_RECORDS_PER_WRITE } from './limits.js';
import { clipToLogEnd, withRecords } from './idempotence.js';
import { highWatermarkMayAdvance } from './min-isr.js';
import { batchBoundaryAtOrBelow, wholeBatches } from './record-batch.js';
import type { BrokerId, LogRecord, PartitionMetadata, ProducerStates, ReplicaState } from './model.js';
import { isOnline, type OnlinePartition } from './partitions.js';

/** Leader records already in hand (from the log stream), by offset. */
export type KnownRecords = ReadonlyMap<number, LogRecord>;

const NONE_KNOWN: KnownRecords = new Map();

const offsetsBetween = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** The leading run of `records` that continues exactly from `from`: a follower's log must never have holes. */
function contiguousFrom(from: number, records: readonly LogRecord[]): LogRecord[] {
  const run: LogRecord[] = [];
  for (const record of records) {
    if (record.offset !== from + run.length) break;
    run.push(record);
  }
  return run;
}

async function leaderRecords(
  deps: Deps,
  partition: OnlinePartition,
  from: number,
  to: number,
  known: KnownRecords,
): Promise<LogRecord[]> {
  const inHand = offsetsBetween(from, to).map((offset) => known.get(offset));
  if (inHand.every((record): record is LogRecord => record !== undefined)) return inHand;
  return deps.log.read(partition.topic, partition.partition, partition.leader, from, to);
}

/** A batch found where a copy was about to go: another writer's, committed since the follower's state was read, or not (yet). */
interface BatchInTheWay {
  offset: number;
  generation: number;
  writtenAt: number;
}

/**
 * Copies the leader's records [from, to) to a follower matched in this epoch, as
 * many whole leader batches per write as one transaction holds (a batch always fits
 * one), so that the follower never ends inside a batch, wherever the copying stops.
 * Returns the follower's log end after the copy (short of `to` where the leader's
 * log ends). A fenced write throws StaleEpochError: the caller re-reads and decides
 * whether to go on. With `lookFirst`, each put is preceded by a look at the offset:
 * a batch another writer put there is returned instead of raced.
 */
async function copyFromLeader(
  deps: Deps,
  partition: OnlinePartition,
  follower: BrokerId,
  from: number,
  to: number,
  known: KnownRecords,
  producersAtFrom: ProducerStates,
  generation: number,
  lookFirst: boolean,
): Promise<number | BatchInTheWay> {
  let next = from;
  let producers = producersAtFrom;
  while (next < to) {
    const end = Math.min(next + MAX_RECORDS_PER_WRITE, to);
    const run = contiguousFrom(next, await leaderRecords(deps, partition, next, end, known));
    if (run.length === 0) break;
    // Looked at after the leader's records are read, not before: a writer that started with
    // this copier has put its batch by then, so the look finds it rather than just missing it.
    if (lookFirst) {
      const writtenAt = await deps.log.batchWrittenAt(partition.topic, partition.partition, follower, generation, next);
      if (writtenAt !== null) return { offset: next, generation, writtenAt };
    }
    // No whole batch in a full run only where the leader's own log ends inside one (a copy
    // made before copies ended at batch ends): the follower still follows its leader.
    const whole = wholeBatches(run);
    const records = whole.length > 0 ? whole : run;
    // The follower's producer state moves with its log, so it can dedupe retries once it leads.
    producers = withRecords(producers, records, deps.settings.producerIdExpirationMs);
    await deps.log.appendAsFollower({
      topic: partition.topic,
      partition: partition.partition,
      follower,
      leaderEpoch: partition.leaderEpoch,
      records,
      generation,
      producers,
    });
    next += records.length;
  }
  return next;
}

async function recordAt(deps: Deps, partition: OnlinePartition, replica: BrokerId, offset: number): Promise<LogRecord | undefined> {
  const [record] = await deps.log.read(partition.topic, partition.partition, replica, offset, offset + 1);
  return record;
}

/**
 * KIP-101/279: how much of the follower's log the leader also has. Two logs
 * holding a record of the same epoch at an offset hold the same records up to it
 * (one leader per epoch, and every log only ever grows by a leader's records at
 * a point where it matched that leader's log), so "agrees below offset o" is true
 * up to the divergence point and false after it: a binary search finds it in
 * O(log n) single-record reads. A follower that is a prefix of the leader costs
 * one comparison.
 *
 * The point found is a batch boundary wherever both logs hold whole batches (a batch
 * has one epoch, and the epoch's leader wrote it once). A follower that a match
 * interrupted between its transactions may end inside one, at a storage item's
 * boundary, holding records another leader also has: it is cut back to the batch's
 * base, unless that would take an in-sync replica below the high watermark, which
 * the match would refuse.
 */
async function matchingPrefixLength(
  deps: Deps,
  partition: OnlinePartition,
  follower: BrokerId,
  followerEnd: number,
  leaderEnd: number,
): Promise<number> {
  const followerRecords = new Map<number, LogRecord>();
  const agreesBelow = async (offset: number): Promise<boolean> => {
    if (offset === 0) return true;
    const [theirs, ours] = await Promise.all([
      recordAt(deps, partition, follower, offset - 1),
      recordAt(deps, partition, partition.leader, offset - 1),
    ]);
    if (theirs) followerRecords.set(offset - 1, theirs);
    return theirs !== undefined && theirs.leaderEpoch === ours?.leaderEpoch;
  };
  let agreed = 0;
  let disagreed = Math.min(followerEnd, leaderEnd);
  if (await agreesBelow(disagreed)) agreed = disagreed;
  while (disagreed - agreed > 1) {
    const middle = Math.floor((agreed + disagreed) / 2);
    if (await agreesBelow(middle)) agreed = middle;
    else disagreed = middle;
  }
  const last = followerRecords.get(agreed - 1);
  if (!last) return agreed;
  const floor = partition.isr.includes(follower) ? Math.min(agreed, partition.highWatermark) : 0;
  return Math.max(batchBoundaryAtOrBelow(last), floor);
}

/** The partition as it stands, if the same leader still leads it in the same epoch; null once leadership moved. */
async function sameLeadership(deps: Deps, partition: OnlinePartition): Promise<OnlinePartition | null> {
  const current = await deps.metadata.getPartition(partition.topic, partition.partition);
  const same =
    current !== null && isOnline(current) && current.leader === partition.leader && current.leaderEpoch === partition.leaderEpoch;
  return same ? current : null;
}

/**
 * Whether the follower's state has moved from where a batch was found in the way (a commit
 * moved its log end, or a match its generation): at once when the batch was committed
 * before the look, else once the copy in flight commits. False once the batch is old enough
 * to be in doubt (IN_DOUBT_BATCH_AGE_MS: its writer died, and a put takes the offset over),
 * a wait bounded by that age from now, whatever the writer's clock said.
 */
async function followerMovedPast(deps: Deps, partition: OnlinePartition, follower: BrokerId, batch: BatchInTheWay): Promise<boolean> {
  const deadline = Math.min(batch.writtenAt, deps.clock.now()) + IN_DOUBT_BATCH_AGE_MS;
  // Backing off: a live writer commits within a few calls, and each look is a read.
  for (let pause = COPY_IN_FLIGHT_POLL_MS; ; pause *= 2) {
    const state = replicaStateOf(await deps.metadata.getReplicaStates(partition.topic, partition.partition), follower);
    if (!state || state.logEndOffset !== batch.offset || currentGeneration(state) !== batch.generation) return true;
    const now = deps.clock.now();
    if (now >= deadline) return false;
    await deps.sleep(Math.min(pause, deadline - now));
  }
}

export interface SyncOptions {
  /**
   * Look at the follower's log end before each put, and wait for a copy another writer has
   * in flight there instead of racing it (DynamoDB bills a refused put at the whole item's
   * size). For copiers that expect company: the log stream's replicate, which runs while the
   * produce call that appended the records copies them itself. Every copier looks once a
   * race was lost.
   */
  yieldToCopiesInFlight?: boolean;
  /** Told each time a copy in flight is taken over, its writer not having committed it within IN_DOUBT_BATCH_AGE_MS. */
  onTakeOver?: () => void;
}

/**
 * Brings a follower level with the leader's log end as read at the start: matches
 * it in this epoch first if nobody has (cutting off what the leader never had),
 * then copies what it lacks. A lost race (a concurrent copier, a concurrent match)
 * is re-read and carried on from where the follower now is, so a fenced copy is
 * never simply dropped. Returns the follower's log end, or null when leadership
 * moved on (the new leader's triggers take over) or the races did not settle.
 */
export async function syncFollower(
  deps: Deps,
  partition: OnlinePartition,
  follower: BrokerId,
  known: KnownRecords = NONE_KNOWN,
  believed?: readonly ReplicaState[],
  options: SyncOptions = {},
): Promise<number | null> {
  // Set when a batch in the way is in doubt: the next put takes its offset over (replica-append.ts).
  let takeOver = false;
  for (let attempt = 1; attempt <= MAX_CONDITIONAL_ATTEMPTS; attempt++) {
    // A caller that just read the replica states (produce) saves the read: if they moved since, the
    // fenced writes below refuse, and the next attempt reads them afresh.
    const states = attempt === 1 && believed ? believed : await deps.metadata.getReplicaStates(partition.topic, partition.partition);
    const leaderEnd = logEndOffsetOf(states, partition.leader);
    const state = replicaStateOf(states, follower);
    if (!state) return null;
    try {
      let followerEnd = state.logEndOffset;
      let generation = currentGeneration(state);
      if (state.matchedEpoch !== partition.leaderEpoch) {
        const agreed = await matchingPrefixLength(deps, partition, follower, followerEnd, leaderEnd);
        await deps.log.matchFollower({
          topic: partition.topic,
          partition: partition.partition,
          follower,
          leader: partition.leader,
          leaderEpoch: partition.leaderEpoch,
          expectedLogEnd: followerEnd,
          expectedGeneration: generation,
          truncateTo: agreed,
          producers: clipToLogEnd(state.producers, agreed),
        });
        followerEnd = agreed;
        // The match starts the follower's next generation at the cut (domain/generations.ts).
        generation += 1;
      }
      const producers = clipToLogEnd(state.producers, followerEnd);
      const lookFirst = !takeOver && (options.yieldToCopiesInFlight === true || attempt > 1);
      takeOver = false;
      const reached = await copyFromLeader(deps, partition, follower, followerEnd, leaderEnd, known, producers, generation, lookFirst);
      if (typeof reached !== 'number') {
        takeOver = !(await followerMovedPast(deps, partition, follower, reached));
        if (takeOver) options.onTakeOver?.();
      }
      else if (reached >= leaderEnd) return reached;
    } catch (error) {
      if (!(error instanceof StaleEpochError)) throw error;
      if ((await sameLeadership(deps, partition)) === null) return null;
    }
  }
  return null;
}

/**
 * Raises the HW to the smallest log end in the ISR (followers counted only once
 * matched in this epoch), conditional on the partition version it was computed
 * at, so an ISR that changed meanwhile is never judged by an old membership. A
 * lost race is re-read while the leadership lasts. Below min.insync.replicas it stays
 * (KIP-966, min-isr.ts). Returns the HW as far as this call knows.
 */
export async function advanceHighWatermark(deps: Deps, start: OnlinePartition): Promise<number> {
  let partition: PartitionMetadata = start;
  for (let attempt = 1; attempt <= MAX_CONDITIONAL_ATTEMPTS; attempt++) {
    const states = await deps.metadata.getReplicaStates(partition.topic, partition.partition);
    const highWatermark = highWatermarkOf(partition, states);
    if (highWatermark === null || highWatermark <= partition.highWatermark) return partition.highWatermark;
    if (!(await highWatermarkMayAdvance(deps, partition))) return partition.highWatermark;
    if (await deps.metadata.advanceHighWatermark(partition.topic, partition.partition, partition.version, highWatermark)) {
      return highWatermark;
    }
    const current = await sameLeadership(deps, start);
    if (current === null) return partition.highWatermark;
    partition = current;
  }
  return partition.highWatermark;
}
