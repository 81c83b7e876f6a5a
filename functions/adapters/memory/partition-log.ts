/**
 * PartitionLog with the DynamoDB adapter's conditions: a leader append checks
 * leader, epoch and its LEO; a follower copy checks the epoch and its LEO; each
 * is all or nothing. Also the log table's stream of leader appends, which drives
 * replication in tests.
 */
import { StaleEpochError, ValidationError } from '../../domain/errors.js';
import { requireTruncationWithinLog } from '../../domain/partitions.js';
import { MAX_RECORDS_PER_WRITE } from '../../domain/limits.js';
import { appendBatch } from '../../domain/record-batch.js';
import type { BrokerId, LogRecord, PartitionMetadata, ProducerStates, ReplicaState } from '../../domain/model.js';
import type { Clock, FollowerAppend, FollowerMatch, LeaderAppend, PartitionLog } from '../../ports/index.js';
import { copyOf, partitionKey, replicaKey, type MemoryTables } from './tables.js';

/** Each append is one DynamoDB transaction there (records + LEO update + epoch check): callers split longer runs. */
const requireOneTransaction = (count: number): void => {
  if (count > MAX_RECORDS_PER_WRITE) {
    throw new ValidationError(`records: at most ${MAX_RECORDS_PER_WRITE} per append (one DynamoDB transaction), got ${count}.`);
  }
};

export class MemoryPartitionLog implements PartitionLog {
  private leaderAppends: LogRecord[] = [];

  constructor(
    private readonly tables: MemoryTables,
    private readonly clock: Clock,
  ) {}

  async appendAsLeader(append: LeaderAppend): Promise<LogRecord[]> {
    await this.tables.yieldPoint('log.appendAsLeader');
    const { topic, partition, leader, leaderEpoch, startOffset } = append;
    requireOneTransaction(append.records.length);
    // DynamoDB's adapter sends no transaction for nothing, so an empty append is neither fenced nor written.
    if (append.records.length === 0) return [];
    this.fenceLeaderAppend(append, this.tables.partitions.get(partitionKey(topic, partition)));
    const state = this.replicaState(topic, partition, leader);
    if (state.logEndOffset !== startOffset) {
      throw new StaleEpochError(
        `Append to ${topic}-${partition} at offset ${startOffset} lost: the log end is ${state.logEndOffset}.`,
      );
    }
    const records: LogRecord[] = append.records.map((record, i) => ({
      topic,
      partition,
      replica: leader,
      offset: startOffset + i,
      leaderEpoch,
      key: record.key,
      value: record.value,
      appendedAt: append.appendedAt,
      copy: 'leader',
      ...(record.producer ? { producer: { ...record.producer } } : {}),
      ...this.batchBounds(startOffset, append.records.length),
    }));
    this.write(state, records, append.appendedAt, append.producers);
    this.leaderAppends.push(...records.map(copyOf));
    return records.map(copyOf);
  }

  /**
   * The batch bounds every record of a leader append carries (protected so that the
   * simulation can prove its checker notices torn batches when a test-only subclass
   * stores records without them, as records stored before batches were recorded).
   */
  protected batchBounds(startOffset: number, count: number): Pick<LogRecord, 'batch'> {
    return { batch: appendBatch(startOffset, count) };
  }

  /**
   * The leader/epoch check of a leader append (protected so that the simulation can
   * prove its checker notices when a test-only subclass leaves it out).
   */
  protected fenceLeaderAppend(append: LeaderAppend, stored: PartitionMetadata | undefined): void {
    const { topic, partition, leader, leaderEpoch } = append;
    if (!stored || stored.leader !== leader || stored.leaderEpoch !== leaderEpoch) {
      throw new StaleEpochError(`Append to ${topic}-${partition} by leader ${leader} at epoch ${leaderEpoch} was fenced.`);
    }
  }

  async appendAsFollower(append: FollowerAppend): Promise<void> {
    await this.tables.yieldPoint('log.appendAsFollower');
    const { topic, partition, follower, leaderEpoch } = append;
    requireOneTransaction(append.records.length);
    const first = append.records[0];
    if (!first) return;
    append.records.forEach((record, i) => {
      if (record.topic !== topic || record.partition !== partition || record.offset !== first.offset + i) {
        throw new Error(`Follower append to ${topic}-${partition} got a non-contiguous or foreign record at index ${i}.`);
      }
    });
    const stored = this.tables.partitions.get(partitionKey(topic, partition));
    if (!stored || stored.leaderEpoch !== leaderEpoch) {
      throw new StaleEpochError(`Replication of ${topic}-${partition} to ${follower} at epoch ${leaderEpoch} was fenced.`);
    }
    const state = this.replicaState(topic, partition, follower);
    if (state.matchedEpoch !== leaderEpoch) {
      throw new StaleEpochError(
        `Replication of ${topic}-${partition} to ${follower} at epoch ${leaderEpoch} refused: ` +
          `its log was last matched in epoch ${state.matchedEpoch}.`,
      );
    }
    if (state.logEndOffset !== first.offset) {
      throw new StaleEpochError(
        `Replication of ${topic}-${partition} to ${follower} at offset ${first.offset} lost: ` +
          `its log end is ${state.logEndOffset}.`,
      );
    }
    const copies = append.records.map((record): LogRecord => ({ ...copyOf(record), replica: follower, copy: 'follower' }));
    this.write(state, copies, this.clock.now(), append.producers);
  }

  async read(
    topic: string,
    partition: number,
    replica: BrokerId,
    fromOffset: number,
    toOffset: number,
  ): Promise<LogRecord[]> {
    await this.tables.yieldPoint('log.read');
    const log = this.tables.replicaLog(topic, partition, replica);
    return [...log.values()]
      .filter((record) => record.offset >= fromOffset && record.offset < toOffset)
      .sort((a, b) => a.offset - b.offset)
      .map(copyOf);
  }

  async matchFollower(match: FollowerMatch): Promise<void> {
    await this.tables.yieldPoint('log.matchFollower');
    const { topic, partition, follower, leader, leaderEpoch, truncateTo } = match;
    requireTruncationWithinLog(match);
    const stored = this.tables.partitions.get(partitionKey(topic, partition));
    const state = this.replicaState(topic, partition, follower);
    const refusal = matchRefusal(match, stored, state);
    if (refusal) {
      throw new StaleEpochError(
        `Matching ${topic}-${partition} on ${follower} with ${leader} (epoch ${leaderEpoch}) at offset ${truncateTo} refused: ${refusal}.`,
      );
    }
    const log = this.tables.replicaLog(topic, partition, follower);
    for (const offset of [...log.keys()]) if (offset >= truncateTo) log.delete(offset);
    state.logEndOffset = truncateTo;
    state.matchedEpoch = leaderEpoch;
    state.updatedAt = this.clock.now();
    if (match.producers) state.producers = copyOf(match.producers);
  }

  /** The leader appends written since the last drain, in order: what the log table's stream would deliver. */
  drainLeaderAppends(): LogRecord[] {
    const drained = this.leaderAppends;
    this.leaderAppends = [];
    return drained;
  }

  /** One replica's whole copy of the log, for assertions. */
  replicaRecords(topic: string, partition: number, replica: BrokerId): LogRecord[] {
    return [...this.tables.replicaLog(topic, partition, replica).values()].sort((a, b) => a.offset - b.offset).map(copyOf);
  }

  private replicaState(topic: string, partition: number, brokerId: BrokerId): ReplicaState {
    const state = this.tables.replicaStates.get(replicaKey(topic, partition, brokerId));
    // DynamoDB's conditional update of an absent replica-state item fails its condition: a fenced write, not an unknown topic.
    if (!state) throw new StaleEpochError(`${brokerId} holds no replica of partition ${topic}-${partition}: the write was fenced.`);
    return state;
  }

  private write(state: ReplicaState, records: readonly LogRecord[], at: number, producers: ProducerStates | undefined): void {
    const log = this.tables.replicaLog(state.topic, state.partition, state.brokerId);
    for (const record of records) log.set(record.offset, record);
    state.logEndOffset += records.length;
    state.updatedAt = at;
    if (producers) state.producers = copyOf(producers);
  }
}

/** The conditions of PartitionLog.matchFollower, as the DynamoDB adapter words them; undefined when all hold. */
function matchRefusal(match: FollowerMatch, stored: PartitionMetadata | undefined, state: ReplicaState): string | undefined {
  if (!stored || stored.leader !== match.leader || stored.leaderEpoch !== match.leaderEpoch) {
    return `the partition is no longer led by ${match.leader} at epoch ${match.leaderEpoch}`;
  }
  if (state.matchedEpoch >= match.leaderEpoch) return `the follower was already matched in epoch ${state.matchedEpoch}`;
  if (state.logEndOffset !== match.expectedLogEnd) return `its log end is ${state.logEndOffset}, not ${match.expectedLogEnd}`;
  if (stored.isr.includes(match.follower) && stored.highWatermark > match.truncateTo) {
    return `an in-sync replica may not lose records below the high watermark ${stored.highWatermark}`;
  }
  return undefined;
}

