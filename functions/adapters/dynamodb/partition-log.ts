/**
 * PartitionLog over the log table (`replica` = `<topic>#<partition>#<brokerId>`,
 * `offset` N). Each replica's copy of the log is its own DynamoDB partition;
 * its log end offset (LEO) lives in the metadata table's ReplicaState item.
 *
 * Invariant kept by every write here: a replica has no record at or above its
 * LEO. Appends write records + LEO in one transaction; a follower's match deletes
 * from the top down, lowering the LEO in the same transaction. Every write is
 * fenced by a check on the partition item in the same transaction.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StaleEpochError, ValidationError } from '../../domain/errors.js';
import type { BrokerId, LogRecord, ProducerStates } from '../../domain/model.js';
import { requireTruncationWithinLog } from '../../domain/partitions.js';
import type { Clock, FollowerAppend, FollowerMatch, LeaderAppend, PartitionLog } from '../../ports/index.js';
import {
  allOf,
  itemAbsent,
  leaderEpochIs,
  leaderIs,
  logEndOffsetIs,
  matchedInEpoch,
  notInSyncBelowHighWatermark,
  notMatchedInEpoch,
  type Condition,
} from './conditions.js';
import {
  MAX_TRANSACT_ITEMS,
  checkThat,
  deleteItem,
  describeLost,
  putIf,
  transactWrite,
  updateIf,
  type TransactWrite,
} from './conditional-writes.js';
import { logItem, logRecordFromItem, type Item } from './items.js';
import { logKey, partitionKey, replicaStateKey } from './keys.js';

export interface PartitionLogTables {
  /** Holds the records. */
  logTable: string;
  /** Holds the partitions (leader/epoch checks) and replica states (LEOs). */
  metadataTable: string;
}

/** A transaction holds 100 members; an append spends two on the LEO update and the leader/epoch check. */
export const MAX_RECORDS_PER_APPEND = MAX_TRANSACT_ITEMS - 2;
/** BatchGetItem's limit on keys per call. */
const MAX_BATCH_GET_KEYS = 100;
/** UnprocessedKeys means throttling: back off, but give up eventually rather than spin. */
const MAX_BATCH_GET_ATTEMPTS = 8;
const BATCH_GET_BACKOFF_MS = 20;

/** Both appends are one transaction each, as the port promises: the caller splits longer runs. */
const requireOneTransaction = (count: number): void => {
  if (count > MAX_RECORDS_PER_APPEND) {
    throw new ValidationError(`records: at most ${MAX_RECORDS_PER_APPEND} per append (one DynamoDB transaction), got ${count}.`);
  }
};

/** The replica's producer state rides on its ReplicaState item, replaced whole (it was folded from what the condition guards). */
const producersAttribute = (producers: ProducerStates | undefined): Item => (producers ? { producers } : {});

const offsetFree = (offset: number) => itemAbsent('replica', `offset ${offset}`);

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

const chunks = <T>(items: readonly T[], size: number): T[][] =>
  range(0, Math.ceil(items.length / size)).map((i) => items.slice(i * size, (i + 1) * size));

export class DynamoPartitionLog implements PartitionLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: PartitionLogTables,
    private readonly clock: Clock,
  ) {}

  async appendAsLeader(append: LeaderAppend): Promise<LogRecord[]> {
    const { topic, partition, leader, leaderEpoch, startOffset } = append;
    requireOneTransaction(append.records.length);
    const records: LogRecord[] = append.records.map((r, i) => ({
      topic,
      partition,
      replica: leader,
      offset: startOffset + i,
      leaderEpoch,
      key: r.key,
      value: r.value,
      appendedAt: append.appendedAt,
      copy: 'leader',
      ...(r.producer ? { producer: r.producer } : {}),
    }));
    if (records.length === 0) return [];
    await transactWrite(
      this.client,
      [
        ...this.recordPuts(records),
        this.advanceLogEndOffset(topic, partition, leader, startOffset, records.length, append.appendedAt, append.producers),
        // Fencing: a deposed leader's append must not land, even if it raced the election.
        checkThat(this.tables.metadataTable, partitionKey(topic, partition), allOf(leaderIs(leader), leaderEpochIs(leaderEpoch))),
      ],
      (lost) =>
        new StaleEpochError(
          `Append to ${topic}-${partition} by leader ${leader} at epoch ${leaderEpoch}, offset ${startOffset} was fenced; no longer true: ${describeLost(lost)}.`,
        ),
    );
    return records;
  }

  async appendAsFollower(append: FollowerAppend): Promise<void> {
    const { topic, partition, follower, leaderEpoch } = append;
    requireOneTransaction(append.records.length);
    const first = append.records[0];
    if (!first) return;
    const copies = append.records.map((r, i): LogRecord => {
      if (r.topic !== topic || r.partition !== partition || r.offset !== first.offset + i) {
        // A caller bug, not a race: copying it would leave a hole in the follower's log.
        throw new Error(`Follower append to ${topic}-${partition} got a non-contiguous or foreign record at index ${i}.`);
      }
      return { ...r, replica: follower, copy: 'follower' };
    });
    await transactWrite(
      this.client,
      [
        ...this.recordPuts(copies),
        this.advanceLogEndOffset(
          topic,
          partition,
          follower,
          first.offset,
          copies.length,
          this.clock.now(),
          append.producers,
          matchedInEpoch(leaderEpoch),
        ),
        checkThat(this.tables.metadataTable, partitionKey(topic, partition), leaderEpochIs(leaderEpoch)),
      ],
      (lost) =>
        new StaleEpochError(
          `Replication of ${topic}-${partition} to ${follower} at offset ${first.offset} (epoch ${leaderEpoch}) was fenced; no longer true: ${describeLost(lost)}.`,
        ),
    );
  }

  /** Exact-key BatchGetItem over [fromOffset, toOffset): flat cost per record, unlike a Query (see moto-spike.md). */
  async read(topic: string, partition: number, replica: BrokerId, fromOffset: number, toOffset: number): Promise<LogRecord[]> {
    const keys = range(fromOffset, toOffset).map((offset) => logKey(topic, partition, replica, offset));
    const pages = await Promise.all(chunks(keys, MAX_BATCH_GET_KEYS).map((chunk) => this.batchGet(chunk)));
    return pages
      .flat()
      .map(logRecordFromItem)
      .sort((a, b) => a.offset - b.offset);
  }

  /**
   * Deletes top-down in transactions of at most 98 deletes, each with the fencing
   * check on the partition and a conditional LEO update, so a crash halfway leaves
   * a shorter, still unmatched log; the last transaction also marks the match.
   */
  async matchFollower(match: FollowerMatch): Promise<void> {
    const { topic, partition, follower, leader, leaderEpoch, truncateTo } = match;
    requireTruncationWithinLog(match);
    const fencing = checkThat(
      this.tables.metadataTable,
      partitionKey(topic, partition),
      allOf(leaderIs(leader), leaderEpochIs(leaderEpoch), notInSyncBelowHighWatermark(follower, truncateTo)),
    );
    let top = match.expectedLogEnd;
    do {
      const lowered = Math.max(truncateTo, top - (MAX_TRANSACT_ITEMS - 2));
      const last = lowered === truncateTo;
      await transactWrite(
        this.client,
        [
          ...range(lowered, top).map((offset) => deleteItem(this.tables.logTable, logKey(topic, partition, follower, offset))),
          updateIf(
            this.tables.metadataTable,
            replicaStateKey(topic, partition, follower),
            {
              logEndOffset: lowered,
              updatedAt: this.clock.now(),
              ...(last ? { matchedEpoch: leaderEpoch, ...producersAttribute(match.producers) } : {}),
            },
            allOf(logEndOffsetIs(top), notMatchedInEpoch(leaderEpoch)),
          ),
          fencing,
        ],
        (lost) =>
          new StaleEpochError(
            `Matching ${topic}-${partition} on ${follower} with ${leader} (epoch ${leaderEpoch}) at offset ${truncateTo} refused; no longer true: ${describeLost(lost)}.`,
          ),
      );
      top = lowered;
    } while (top > truncateTo);
  }

  private recordPuts(records: readonly LogRecord[]): TransactWrite[] {
    return records.map((record) => putIf(this.tables.logTable, logItem(record), offsetFree(record.offset)));
  }

  /** Moves a replica's LEO from `from` to `from + count`, only if nobody else moved it first. */
  private advanceLogEndOffset(
    topic: string,
    partition: number,
    brokerId: BrokerId,
    from: number,
    count: number,
    at: number,
    producers: ProducerStates | undefined,
    ...alsoRequired: Condition[]
  ): TransactWrite {
    return updateIf(
      this.tables.metadataTable,
      replicaStateKey(topic, partition, brokerId),
      { logEndOffset: from + count, updatedAt: at, ...producersAttribute(producers) },
      allOf(logEndOffsetIs(from), ...alsoRequired),
    );
  }

  /** One BatchGetItem of up to 100 keys, re-requesting UnprocessedKeys with exponential backoff. */
  private async batchGet(keys: Item[]): Promise<Item[]> {
    const table = this.tables.logTable;
    const found: Item[] = [];
    let pending = keys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === MAX_BATCH_GET_ATTEMPTS) {
        throw new Error(`BatchGetItem on ${table} left ${pending.length} keys unprocessed after ${attempt} attempts.`);
      }
      if (attempt > 0) await delay(BATCH_GET_BACKOFF_MS * 2 ** (attempt - 1));
      const { Responses, UnprocessedKeys } = await this.client.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
      );
      found.push(...(Responses?.[table] ?? []));
      pending = UnprocessedKeys?.[table]?.Keys ?? [];
    }
    return found;
  }
}
