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
import type { MemoryObjectStore } from './object-store.js';
import { currentGeneration, generationsOf, withGenerationAt } from '../../domain/generations.js';
import { writeThenCommit, type ReplicaAppendSteps } from '../replica-append.js';
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
    /** Where diskless records' bytes are: reads resolve each stored record there. */
    private readonly objects?: MemoryObjectStore,
  ) {}

  async appendAsLeader(append: LeaderAppend): Promise<LogRecord[]> {
    await this.tables.yieldPoint('log.appendAsLeader');
    const { topic, partition, leader, leaderEpoch, startOffset } = append;
    requireOneTransaction(append.records.length);
    // DynamoDB's adapter writes nothing for nothing, so an empty append is neither fenced nor written.
    if (append.records.length === 0) return [];
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
      ...(append.stored ? { stored: { ...append.stored } } : {}),
      ...(append.writerCopies ? { writerCopies: true as const } : {}),
    }));
    if (append.stored) this.requireStoredAsAppended(append);
    const write = { replica: leader, offset: startOffset, generation: append.generation, leaderEpoch, writtenAt: append.appendedAt };
    await this.writeThenCommit(topic, partition, write, records, append.producers, () => {
      this.fenceLeaderAppend(append, this.tables.partitions.get(partitionKey(topic, partition)));
      return undefined;
    });
    return records.map(copyOf);
  }

  /**
   * A diskless batch is appended exactly where its object says it was meant to go (the
   * sweep judges an object by the offsets its manifest names): a domain bug otherwise. An
   * object already gone is left to the append's own fate (its writer was fenced).
   */
  private requireStoredAsAppended(append: LeaderAppend): void {
    const { stored, topic, partition, leader, startOffset } = append;
    if (!stored || !this.objects?.has(stored.object)) return;
    const held = this.objects.peek(stored);
    const first = held[0];
    if (held.length !== append.records.length || first.topic !== topic || first.partition !== partition || first.replica !== leader || first.offset !== startOffset) {
      throw new Error(
        `Leader append to ${topic}-${partition} on ${leader} at ${startOffset} (${append.records.length} records) carries the range of ` +
          `${first.topic}-${first.partition} on ${first.replica} at ${first.offset} (${held.length}) in ${stored.object}.`,
      );
    }
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
   * The commit's check that no later epoch wrote to the replica (protected, like
   * fenceLeaderAppend, so that the simulation can prove its checker notices stale-epoch
   * writes when a test-only subclass leaves the epoch fencing out).
   */
  protected fenceByAppendEpoch(state: ReplicaState, leaderEpoch: number): string | undefined {
    return (state.appendEpoch ?? 0) > leaderEpoch ? `epoch ${state.appendEpoch} already wrote to it` : undefined;
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

  /**
   * The partition check of a diskless follower copy (protected so that the simulation can prove
   * its checker notices a deleted object a stale copy still points into, when a test-only subclass
   * leaves it out).
   */
  protected disklessCopyFence(topic: string, partition: number, leaderEpoch: number): string | undefined {
    const stored = this.tables.partitions.get(partitionKey(topic, partition));
    return stored?.leaderEpoch === leaderEpoch ? undefined : `the partition is at epoch ${stored?.leaderEpoch}, not ${leaderEpoch}`;
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
    const copies = append.records.map((record): LogRecord => ({ ...withoutWriterMark(copyOf(record)), replica: follower, copy: 'follower' }));
    const write = { replica: follower, offset: first.offset, generation: append.generation, leaderEpoch, writtenAt: this.clock.now() };
    await this.writeThenCommit(topic, partition, write, copies, append.producers, (state) => {
      if (state.matchedEpoch !== leaderEpoch) return `its log was last matched in epoch ${state.matchedEpoch}, not ${leaderEpoch}`;
      // As DynamoDB's adapter: a diskless copy commits only while its epoch leads the partition.
      return first.stored ? this.disklessCopyFence(topic, partition, leaderEpoch) : undefined;
    });
  }

  async read(
    topic: string,
    partition: number,
    replica: BrokerId,
    fromOffset: number,
    toOffset: number,
  ): Promise<LogRecord[]> {
    await this.tables.yieldPoint('log.read');
    const records = [...this.tables.committedLog(topic, partition, replica).values()]
      .filter((record) => record.offset >= fromOffset && record.offset < toOffset)
      .sort((a, b) => a.offset - b.offset)
      .map(copyOf);
    return this.resolveStored(records);
  }

  /**
   * A diskless record's key and value are read from its object, as the DynamoDB adapter
   * reads the byte range its item points at (one read per batch); a record whose object is
   * gone fails the read with StoredObjectMissingError.
   */
  private async resolveStored(records: LogRecord[]): Promise<LogRecord[]> {
    if (!records.some((record) => record.stored)) return records;
    if (!this.objects) throw new Error('MemoryPartitionLog: a stored (diskless) record, but no object store to read it from.');
    const batches = new Map<string, Promise<LogRecord[]>>();
    const resolved = await Promise.all(
      records.map(async (record) => {
        const { stored } = record;
        if (!stored) return record;
        const refKey = `${stored.object}#${stored.start}#${stored.length}`;
        let batch = batches.get(refKey);
        if (!batch) batches.set(refKey, (batch = this.objects!.read(stored)));
        const original = (await batch).find((candidate) => candidate.offset === record.offset);
        if (!original) throw new Error(`Object ${stored.object} holds no record at offset ${record.offset} of ${record.topic}-${record.partition}.`);
        return { ...record, key: original.key, value: original.value };
      }),
    );
    return resolved;
  }

  async batchWrittenAt(topic: string, partition: number, replica: BrokerId, generation: number, offset: number): Promise<number | null> {
    await this.tables.yieldPoint('log.batchWrittenAt');
    return this.tables.generationItems(topic, partition, replica, generation).get(offset)?.writtenAt ?? null;
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
    const generation = currentGeneration(state) + 1;
    state.generations = withGenerationAt(generationsOf(state), truncateTo, generation);
    state.generation = generation;
    state.logEndOffset = truncateTo;
    state.matchedEpoch = leaderEpoch;
    state.appendEpoch = leaderEpoch;
    state.updatedAt = this.clock.now();
    if (match.producers) state.producers = copyOf(match.producers);
  }

  async fenceLogEnd(topic: string, partition: number, replica: BrokerId, offset: number, generation: number): Promise<boolean> {
    await this.tables.yieldPoint('log.fenceLogEnd');
    return this.startGeneration(topic, partition, replica, offset, generation);
  }

  /** Starts generation + 1 at `offset`, only if the replica's log end and generation are still those. */
  private startGeneration(topic: string, partition: number, replica: BrokerId, offset: number, generation: number): boolean {
    const state = this.replicaState(topic, partition, replica);
    if (state.logEndOffset !== offset || currentGeneration(state) !== generation) return false;
    state.generations = withGenerationAt(generationsOf(state), offset, generation + 1);
    state.generation = generation + 1;
    return true;
  }

  /** The leader batches written since the last drain (committed or not), in order: what the log table's stream would deliver. */
  drainLeaderAppends(): LogRecord[] {
    const drained = this.leaderAppends;
    this.leaderAppends = [];
    return drained;
  }

  /** One replica's whole copy of the log, for assertions. */
  replicaRecords(topic: string, partition: number, replica: BrokerId): LogRecord[] {
    return [...this.tables.committedLog(topic, partition, replica).values()].sort((a, b) => a.offset - b.offset).map(copyOf);
  }

  private replicaState(topic: string, partition: number, brokerId: BrokerId): ReplicaState {
    const state = this.tables.replicaStates.get(replicaKey(topic, partition, brokerId));
    // DynamoDB's conditional update of an absent replica-state item fails its condition: a fenced write, not an unknown topic.
    if (!state) throw new StaleEpochError(`${brokerId} holds no replica of partition ${topic}-${partition}: the write was fenced.`);
    return state;
  }

  /**
   * The two writes of an append or copy (adapters/replica-append.ts), each after a yield
   * point, as the DynamoDB adapter makes them: the batch item, then the commit, conditional
   * on the log end and generation written at, on no later epoch having written, and on
   * what `refusal` judges (a message when it fails; it may also throw StaleEpochError).
   */
  private async writeThenCommit(
    topic: string,
    partition: number,
    write: ReplicaWrite,
    records: readonly LogRecord[],
    producers: ProducerStates | undefined,
    refusal: (state: ReplicaState) => string | undefined,
  ): Promise<void> {
    const { replica, offset, generation, leaderEpoch, writtenAt } = write;
    const where = `${topic}-${partition} on ${replica}`;
    const steps: ReplicaAppendSteps = {
      put: async (into) => {
        await this.tables.yieldPoint('log.putBatch');
        const items = this.tables.generationItems(topic, partition, replica, into);
        const there = items.get(offset);
        if (there) return { writtenAt: there.writtenAt };
        items.set(offset, { records: records.map(copyOf), writtenAt });
        // The log table's stream shows every batch written, committed or not, as DynamoDB's would.
        if (records[0].copy === 'leader') this.leaderAppends.push(...records.map(copyOf));
        return null;
      },
      abandon: async () => {
        await this.tables.yieldPoint('log.abandonBatch');
        return this.startGeneration(topic, partition, replica, offset, generation);
      },
      commit: async (into) => {
        await this.tables.yieldPoint('log.commit');
        const state = this.replicaState(topic, partition, replica);
        const refused =
          state.logEndOffset !== offset
            ? `its log end is ${state.logEndOffset}`
            : currentGeneration(state) !== into
              ? `its generation is ${currentGeneration(state)}, not ${into}`
              : (this.fenceByAppendEpoch(state, leaderEpoch) ?? refusal(state));
        if (refused) throw new StaleEpochError(`Write to ${where} at offset ${offset} (epoch ${leaderEpoch}) refused: ${refused}.`);
        state.logEndOffset = offset + records.length;
        state.appendEpoch = leaderEpoch;
        state.updatedAt = writtenAt;
        if (producers) state.producers = copyOf(producers);
      },
    };
    await writeThenCommit({ where, offset, generation }, steps, () => this.clock.now());
  }
}

/** Where one append or copy goes, and as which epoch's write. */
interface ReplicaWrite {
  replica: BrokerId;
  offset: number;
  generation: number;
  leaderEpoch: number;
  writtenAt: number;
}

/** The conditions of PartitionLog.matchFollower, as the DynamoDB adapter words them; undefined when all hold. */
function matchRefusal(match: FollowerMatch, stored: PartitionMetadata | undefined, state: ReplicaState): string | undefined {
  if (!stored || stored.leader !== match.leader || stored.leaderEpoch !== match.leaderEpoch) {
    return `the partition is no longer led by ${match.leader} at epoch ${match.leaderEpoch}`;
  }
  if (state.matchedEpoch >= match.leaderEpoch) return `the follower was already matched in epoch ${state.matchedEpoch}`;
  if (state.logEndOffset !== match.expectedLogEnd) return `its log end is ${state.logEndOffset}, not ${match.expectedLogEnd}`;
  if (currentGeneration(state) !== match.expectedGeneration) {
    return `its generation is ${currentGeneration(state)}, not ${match.expectedGeneration}`;
  }
  if (stored.isr.includes(match.follower) && stored.highWatermark > match.truncateTo) {
    return `an in-sync replica may not lose records below the high watermark ${stored.highWatermark}`;
  }
  return undefined;
}

/** A follower's copy of a leader's record: the leader's note about who copies it is not the follower's. */
function withoutWriterMark(record: LogRecord): LogRecord {
  const { writerCopies: _, ...copy } = record;
  return copy;
}
