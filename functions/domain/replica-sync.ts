/**
 * Moving data from a leader's copy of the log to a follower's, and keeping the
 * high watermark in step. Shared by stream replication, failover and the
 * catch-up of a returning broker.
 */
import type { Deps } from '../ports/index.js';
import { StaleEpochError } from './errors.js';
import { highWatermarkOf, logEndOffsetOf } from './high-watermark.js';
import { MAX_RECORDS_PER_WRITE } from './limits.js';
import type { BrokerId, LogRecord } from './model.js';
import type { OnlinePartition } from './partitions.js';

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

/**
 * Copies the leader's records [from, to) to the follower, at most one DynamoDB
 * transaction's worth per write, and returns how many it copied. Stops early,
 * without error, where the leader's log ends or where a write is fenced
 * (leadership moved, or a concurrent copy got there first): whoever moved the
 * partition on is responsible for the rest.
 */
export async function copyFromLeader(
  deps: Deps,
  partition: OnlinePartition,
  follower: BrokerId,
  from: number,
  to: number,
  known: KnownRecords = NONE_KNOWN,
): Promise<number> {
  let next = from;
  while (next < to) {
    const end = Math.min(next + MAX_RECORDS_PER_WRITE, to);
    const records = contiguousFrom(next, await leaderRecords(deps, partition, next, end, known));
    if (records.length === 0) break;
    try {
      await deps.log.appendAsFollower({
        topic: partition.topic,
        partition: partition.partition,
        follower,
        leaderEpoch: partition.leaderEpoch,
        records,
      });
    } catch (error) {
      if (error instanceof StaleEpochError) break;
      throw error;
    }
    next += records.length;
  }
  return next - from;
}

async function epochAt(
  deps: Deps,
  partition: OnlinePartition,
  replica: BrokerId,
  offset: number,
): Promise<number | undefined> {
  const [record] = await deps.log.read(partition.topic, partition.partition, replica, offset, offset + 1);
  return record?.leaderEpoch;
}

/**
 * KIP-101/279: how much of the follower's log the leader also has. Two logs
 * holding a record of the same epoch at an offset hold the same records up to it
 * (one leader per epoch, followers only ever copy contiguous prefixes), so
 * "agrees below offset o" is true up to the divergence point and false after it:
 * a binary search finds it in O(log n) single-record reads. The common case, a
 * follower that is a prefix of the leader, costs one comparison.
 */
async function matchingPrefixLength(
  deps: Deps,
  partition: OnlinePartition,
  follower: BrokerId,
  followerEnd: number,
  leaderEnd: number,
): Promise<number> {
  const agreesBelow = async (offset: number): Promise<boolean> => {
    if (offset === 0) return true;
    const [theirs, ours] = await Promise.all([
      epochAt(deps, partition, follower, offset - 1),
      epochAt(deps, partition, partition.leader, offset - 1),
    ]);
    return theirs !== undefined && theirs === ours;
  };
  let agreed = 0;
  let disagreed = Math.min(followerEnd, leaderEnd);
  if (await agreesBelow(disagreed)) return disagreed;
  while (disagreed - agreed > 1) {
    const middle = Math.floor((agreed + disagreed) / 2);
    if (await agreesBelow(middle)) agreed = middle;
    else disagreed = middle;
  }
  return agreed;
}

/**
 * Makes the follower's log a copy of the leader's: first drops any suffix the
 * leader never had (records a deposed leader replicated but never committed; a
 * new leader writes different records at those offsets), then copies what is
 * missing. Returns the follower's log end offset afterwards.
 */
export async function levelFollower(deps: Deps, partition: OnlinePartition, follower: BrokerId): Promise<number> {
  const states = await deps.metadata.getReplicaStates(partition.topic, partition.partition);
  const leaderEnd = logEndOffsetOf(states, partition.leader);
  const followerEnd = logEndOffsetOf(states, follower);
  const matching = await matchingPrefixLength(deps, partition, follower, followerEnd, leaderEnd);
  if (matching < followerEnd) await deps.log.truncate(partition.topic, partition.partition, follower, matching);
  return matching + (await copyFromLeader(deps, partition, follower, matching, leaderEnd));
}

/**
 * Raises the HW to the smallest log end offset in the ISR, read fresh. The store
 * refuses to lower it and refuses a deposed epoch. Returns the HW as far as this
 * call knows.
 */
export async function advanceHighWatermark(deps: Deps, partition: OnlinePartition): Promise<number> {
  const states = await deps.metadata.getReplicaStates(partition.topic, partition.partition);
  const highWatermark = highWatermarkOf(partition.isr, states);
  const advanced = await deps.metadata.advanceHighWatermark(
    partition.topic,
    partition.partition,
    partition.leaderEpoch,
    highWatermark,
  );
  return advanced ? highWatermark : partition.highWatermark;
}
