/**
 * PartitionLog over the log table (`replica` = `<topic>#<partition>#<brokerId>`,
 * `offset` N). Each replica's copy of the log is its own DynamoDB partition of
 * record batches: an item holds consecutive records and is keyed by the first one's
 * offset (items.ts logBatchItem), so an append costs one item write, not one per
 * record. The log end offset (LEO) lives in the metadata table's ReplicaState item.
 *
 * Invariant kept by every write here: a replica has no record at or above its
 * LEO. Appends write the batch + LEO in one transaction; a follower's match deletes
 * (or cuts short) batches from the top down, lowering the LEO in the same
 * transaction. Every write is fenced by a check on the partition item in the same
 * transaction.
 */
import { QueryCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StaleEpochError, ValidationError } from '../../domain/errors.js';
import type { BrokerId, LogRecord, ProducerStates } from '../../domain/model.js';
import { requireTruncationWithinLog } from '../../domain/partitions.js';
import { appendBatch } from '../../domain/record-batch.js';
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
  put,
  putIf,
  transactWrite,
  updateIf,
  type TransactWrite,
} from './conditional-writes.js';
import { MAX_RECORDS_PER_LOG_ITEM, logBatchItem, logRecordsFromItem, type Item } from './items.js';
import { DynamoMetadataStore } from './metadata-store.js';
import { MAX_BATCH_HEADER_BYTES, MAX_RECORD_OVERHEAD_BYTES, type BatchCompression } from './record-batch-codec.js';
import { logKey, partitionKey, replicaStateKey } from './keys.js';

export interface PartitionLogTables {
  /** Holds the records. */
  logTable: string;
  /** Holds the partitions (leader/epoch checks) and replica states (LEOs). */
  metadataTable: string;
}

/** One append is one transaction and at most one item's worth of records (a record batch). */
export const MAX_RECORDS_PER_APPEND = MAX_RECORDS_PER_LOG_ITEM;

/**
 * A DynamoDB item holds at most 400 KB; an append whose records are larger than this
 * (98 records of up to 32 KB) is stored as several consecutive items of one transaction.
 * It bounds the encoded records uncompressed, so it holds for gzip too (the codec never
 * stores a body larger than the uncompressed one), with room for the plain attributes.
 */
const LOG_ITEM_BUDGET_BYTES = 300 * 1024;

/** Both appends are one transaction each, as the port promises: the caller splits longer runs. */
const requireOneTransaction = (count: number): void => {
  if (count > MAX_RECORDS_PER_APPEND) {
    throw new ValidationError(`records: at most ${MAX_RECORDS_PER_APPEND} per append (one DynamoDB transaction), got ${count}.`);
  }
};

/** The replica's producer state rides on its ReplicaState item, replaced whole (it was folded from what the condition guards). */
const producersAttribute = (producers: ProducerStates | undefined): Item => (producers ? { producers } : {});

const offsetFree = (offset: number) => itemAbsent('replica', `offset ${offset}`);

/** At most what the record adds to its item's encoded batch. */
const storedBytes = (record: LogRecord): number =>
  MAX_RECORD_OVERHEAD_BYTES + Buffer.byteLength(record.value) + (record.key === null ? 0 : Buffer.byteLength(record.key));

/** Consecutive records cut into record batches that each fit one item. */
function recordBatches(records: readonly LogRecord[]): LogRecord[][] {
  const batches: LogRecord[][] = [];
  let current: LogRecord[] = [];
  let bytes = MAX_BATCH_HEADER_BYTES;
  for (const record of records) {
    const size = storedBytes(record);
    if (current.length > 0 && (bytes + size > LOG_ITEM_BUDGET_BYTES || current.length === MAX_RECORDS_PER_LOG_ITEM)) {
      batches.push(current);
      current = [];
      bytes = MAX_BATCH_HEADER_BYTES;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** A stored record batch: its items' first and last offsets, and its records. */
interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  records: LogRecord[];
}

export class DynamoPartitionLog implements PartitionLog {
  /**
   * Each topic's compression.type, read once per instance: settings do not change while a
   * topic exists, and a stale one (a topic deleted and created again under its name) only
   * picks the codec of new items, each of which names its own.
   */
  private readonly compressions = new Map<string, Promise<BatchCompression>>();
  private readonly topics: DynamoMetadataStore;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: PartitionLogTables,
    private readonly clock: Clock,
  ) {
    this.topics = new DynamoMetadataStore(client, tables.metadataTable);
  }

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
      batch: appendBatch(startOffset, append.records.length),
    }));
    if (records.length === 0) return [];
    await transactWrite(
      this.client,
      [
        ...(await this.recordPuts(records)),
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
        ...(await this.recordPuts(copies)),
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

  /**
   * At most two Queries, returning only the batches that hold [fromOffset, toOffset): the
   * one holding `fromOffset`, then, only if the range goes past it, those after it.
   */
  async read(topic: string, partition: number, replica: BrokerId, fromOffset: number, toOffset: number): Promise<LogRecord[]> {
    if (toOffset <= fromOffset) return [];
    const batches = await this.batchesOverlapping(topic, partition, replica, fromOffset, toOffset);
    return batches.flatMap((batch) => batch.records).filter((record) => record.offset >= fromOffset && record.offset < toOffset);
  }

  /**
   * Deletes top-down in transactions of at most 98 deletes, each with the fencing
   * check on the partition and a conditional LEO update, so a crash halfway leaves
   * a shorter, still unmatched log; the last transaction also marks the match. A
   * batch that straddles `truncateTo` is rewritten with only its records below it.
   */
  async matchFollower(match: FollowerMatch): Promise<void> {
    const { topic, partition, follower, leader, leaderEpoch, truncateTo } = match;
    requireTruncationWithinLog(match);
    const fencing = checkThat(
      this.tables.metadataTable,
      partitionKey(topic, partition),
      allOf(leaderIs(leader), leaderEpochIs(leaderEpoch), notInSyncBelowHighWatermark(follower, truncateTo)),
    );
    // Top first. Read before the writes, which are conditional on the log end the
    // comparison saw, so a log that changed since makes them fail rather than miss a batch.
    const doomed = (await this.batchesOverlapping(topic, partition, follower, truncateTo, match.expectedLogEnd)).reverse();
    const compression = await this.compressionOf(topic);
    let top = match.expectedLogEnd;
    do {
      const step = doomed.splice(0, MAX_TRANSACT_ITEMS - 2);
      const bottom = step.at(-1);
      const lowered = bottom ? Math.max(truncateTo, bottom.baseOffset) : truncateTo;
      const last = doomed.length === 0;
      await transactWrite(
        this.client,
        [
          ...step.map((batch) =>
            batch.baseOffset >= truncateTo
              ? deleteItem(this.tables.logTable, logKey(topic, partition, follower, batch.baseOffset))
              : put(this.tables.logTable, logBatchItem(batch.records.filter((record) => record.offset < truncateTo), compression)),
          ),
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
    } while (doomed.length > 0);
  }

  private async recordPuts(records: readonly LogRecord[]): Promise<TransactWrite[]> {
    const compression = await this.compressionOf(records[0].topic);
    return recordBatches(records).map((batch) => putIf(this.tables.logTable, logBatchItem(batch, compression), offsetFree(batch[0].offset)));
  }

  /** Kafka's compression.type: `gzip` compresses; `producer` (records as sent, uncompressed here) and `uncompressed` do not. */
  private compressionOf(topic: string): Promise<BatchCompression> {
    let compression = this.compressions.get(topic);
    if (!compression) {
      compression = this.topics.getTopic(topic).then((config) => (config?.compressionType === 'gzip' ? 'gzip' : 'none'));
      // A failed read is not remembered: the next write asks again.
      compression.catch(() => this.compressions.delete(topic));
      this.compressions.set(topic, compression);
    }
    return compression;
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

  /**
   * The replica's stored batches holding any offset in [fromOffset, toOffset), in offset
   * order, and no others: DynamoDB bills a Query for every item it returns, so a look-back
   * wide enough for the largest batch would pay for up to 97 batches that end below
   * `fromOffset`. The batch holding `fromOffset` is the last one starting at or below it;
   * the rest start above its end. The second Query starts right after the batch the first
   * found, so the two together leave no offset between them unread.
   */
  private async batchesOverlapping(
    topic: string,
    partition: number,
    replica: BrokerId,
    fromOffset: number,
    toOffset: number,
  ): Promise<StoredBatch[]> {
    if (toOffset <= fromOffset) return [];
    const { replica: key } = logKey(topic, partition, replica, fromOffset);
    const [holding] = await this.queryBatches(key, '#offset <= :from', { ':from': fromOffset }, { ScanIndexForward: false, Limit: 1 });
    const batches = holding && holding.lastOffset >= fromOffset ? [holding] : [];
    const next = holding ? holding.lastOffset + 1 : 0;
    if (next >= toOffset) return batches;
    const rest = await this.queryBatches(key, '#offset BETWEEN :next AND :highest', { ':next': next, ':highest': toOffset - 1 });
    return [...batches, ...rest.filter((batch) => batch.lastOffset >= fromOffset)];
  }

  /** Strongly consistent, every page: a read must see every append acknowledged before it. */
  private async queryBatches(
    key: string,
    offsetCondition: string,
    values: Record<string, number>,
    options: { ScanIndexForward?: boolean; Limit?: number } = {},
  ): Promise<StoredBatch[]> {
    const request = {
      TableName: this.tables.logTable,
      KeyConditionExpression: `#replica = :replica AND ${offsetCondition}`,
      ExpressionAttributeNames: { '#replica': 'replica', '#offset': 'offset' },
      ExpressionAttributeValues: { ':replica': key, ...values },
      ConsistentRead: true,
      ...options,
    };
    const batches: StoredBatch[] = [];
    // The paginator would take a Limit for a page size and read on to the partition's end.
    const pages = options.Limit === undefined ? paginateQuery({ client: this.client }, request) : [await this.client.send(new QueryCommand(request))];
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const records = logRecordsFromItem(item);
        batches.push({ baseOffset: records[0].offset, lastOffset: records.at(-1)!.offset, records });
      }
    }
    return batches;
  }
}
