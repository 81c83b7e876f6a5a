/**
 * PartitionLog over the log table (`replica` = `<topic>#<partition>#<brokerId>`, with
 * `#g<n>` for generation n > 0, `offset` N). Each generation of a replica's copy of the
 * log is its own DynamoDB partition of record batches: an item holds consecutive records
 * and is keyed by the first one's offset (items.ts logBatchItem), so an append costs one
 * item write, not one per record. The log end offset (LEO), the generation and the
 * generations' starts live in the metadata table's ReplicaState item.
 *
 * An append or copy is two writes (adapters/replica-append.ts): each batch item put where
 * no item is, then the commit, a conditional update of the ReplicaState (in a transaction
 * with a check of the partition's leader and epoch for a leader append). No batch is in a
 * transaction, which DynamoDB would bill twice. Reads stop at the LEO and read each
 * generation only where it is live (domain/generations.ts), so a batch that was never
 * committed, or that a match cut off, is never returned. A match writes one transaction
 * and deletes nothing.
 *
 * A diskless topic's records (they carry `stored`: their batch was written to the object
 * store first) are items that hold the batch's place in its object instead of the records
 * (items.ts logRefItem): one small item per stored batch, a follower's copy too, so an
 * append costs a write unit whatever its size. Reads fetch each batch's bytes with one
 * ranged read of the object store, in parallel.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StaleEpochError, ValidationError } from '../../domain/errors.js';
import { generationsOf, segmentsOf } from '../../domain/generations.js';
import type { BrokerId, LogRecord, ProducerStates, ReplicaState, StoredBatchRef } from '../../domain/model.js';
import { requireTruncationWithinLog } from '../../domain/partitions.js';
import { appendBatch } from '../../domain/record-batch.js';
import type { Clock, FollowerAppend, FollowerMatch, LeaderAppend, ObjectStore, PartitionLog } from '../../ports/index.js';
import { writeThenCommit, type ReplicaAppendSteps } from '../replica-append.js';
import {
  allOf,
  appendEpochAtMost,
  generationIs,
  guardedBy,
  guardedUpdate,
  itemAbsent,
  leaderEpochIs,
  leaderIs,
  logEndOffsetIs,
  matchedInEpoch,
  notInSyncBelowHighWatermark,
  notMatchedInEpoch,
  type Condition,
} from './conditions.js';
import { checkThat, conditionally, describeLost, lostConditionIndexes, retryingConflicts, transactWrite, updateIf, type TransactWrite } from './conditional-writes.js';
import {
  MAX_RECORDS_PER_LOG_ITEM,
  MalformedItemError,
  logBatchItem,
  logItemRange,
  logRecordsFromItem,
  logRecordsFromRefItem,
  logRefItem,
  replicaStateFromItem,
  storedRefOfItem,
  type Item,
} from './items.js';
import { DynamoMetadataStore } from './metadata-store.js';
import { MAX_BATCH_HEADER_BYTES, MAX_RECORD_OVERHEAD_BYTES, type BatchCompression } from './record-batch-codec.js';
import { logKey, partitionKey, replicaStateKey } from './keys.js';

export interface PartitionLogTables {
  /** Holds the records. */
  logTable: string;
  /** Holds the partitions (leader/epoch checks) and replica states (LEOs). */
  metadataTable: string;
}

/** One append is at most one item's worth of records (a record batch). */
export const MAX_RECORDS_PER_APPEND = MAX_RECORDS_PER_LOG_ITEM;

/**
 * A DynamoDB item holds at most 400 KB; an append whose records are larger than this
 * (98 records of up to 32 KB) is stored as several consecutive items, committed together.
 * It bounds the encoded records uncompressed, so it holds for gzip too (the codec never
 * stores a body larger than the uncompressed one), with room for the plain attributes.
 */
const LOG_ITEM_BUDGET_BYTES = 300 * 1024;

/** Both appends are one batch each, as the port promises: the caller splits longer runs. */
const requireOneTransaction = (count: number): void => {
  if (count > MAX_RECORDS_PER_APPEND) {
    throw new ValidationError(`records: at most ${MAX_RECORDS_PER_APPEND} per append (one DynamoDB transaction), got ${count}.`);
  }
};

/** Where one append or copy goes, and as which epoch's write. */
interface ReplicaWrite {
  topic: string;
  partition: number;
  replica: BrokerId;
  offset: number;
  generation: number;
  leaderEpoch: number;
  writtenAt: number;
}

/** The replica's producer state rides on its ReplicaState item, replaced whole (it was folded from what the condition guards). */
const producersAttribute = (producers: ProducerStates | undefined): Item => (producers ? { producers } : {});

const offsetFree = (offset: number) => itemAbsent('replica', `a batch at offset ${offset}`);

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

/**
 * The items one append or copy writes: runs of records that point into one stored batch
 * (a diskless topic's) are one small item each, whatever their size; the rest are
 * record batches that each fit one item.
 */
function logItems(records: readonly LogRecord[], compression: BatchCompression, generation: number, writtenAt: number): Item[] {
  const items: Item[] = [];
  let run: LogRecord[] = [];
  const flush = () => {
    if (run.length === 0) return;
    if (run[0].stored) items.push(logRefItem(run, generation, writtenAt));
    else items.push(...recordBatches(run).map((batch) => logBatchItem(batch, compression, generation, writtenAt)));
    run = [];
  };
  for (const record of records) {
    if (run.length > 0 && refKey(run[0].stored) !== refKey(record.stored)) flush();
    run.push(record);
  }
  flush();
  return items;
}

const refKey = (ref: StoredBatchRef | undefined): string => (ref ? `${ref.object}\u0000${ref.start}\u0000${ref.length}` : '');

/** A stored log item (either kind): its first and last offsets, read before its records are. */
interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  item: Item;
}

export class DynamoPartitionLog implements PartitionLog {
  /**
   * Each topic's compression.type, read once per instance: settings do not change while a
   * topic exists, and a stale one (a topic deleted and created again under its name) only
   * picks the codec of new items, each of which names its own.
   */
  private readonly compressions = new Map<string, Promise<BatchCompression>>();
  private readonly topics: DynamoMetadataStore;

  /**
   * `objects`: where a diskless topic's batches are (its items hold references into
   * them); without it, reading such an item fails naming the omission.
   */
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: PartitionLogTables,
    private readonly clock: Clock,
    private readonly objects?: ObjectStore,
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
      ...(append.stored ? { stored: { ...append.stored } } : {}),
      ...(append.writerCopies ? { writerCopies: true as const } : {}),
    }));
    if (records.length === 0) return [];
    const write = { topic, partition, replica: leader, offset: startOffset, generation: append.generation, leaderEpoch, writtenAt: append.appendedAt };
    await this.writeThenCommit(write, records, (generation) =>
      transactWrite(
        this.client,
        [
          this.commitUpdate(write, generation, records.length, append.producers),
          // Fencing: a deposed leader's append must not commit, even if it raced the election.
          checkThat(this.tables.metadataTable, partitionKey(topic, partition), allOf(leaderIs(leader), leaderEpochIs(leaderEpoch))),
        ],
        (lost) =>
          new StaleEpochError(
            `Append to ${topic}-${partition} by leader ${leader} at epoch ${leaderEpoch}, offset ${startOffset} was fenced; no longer true: ${describeLost(lost)}.`,
          ),
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
      const { writerCopies: _, ...record } = r;
      return { ...record, replica: follower, copy: 'follower' };
    });
    const write = { topic, partition, replica: follower, offset: first.offset, generation: append.generation, leaderEpoch, writtenAt: this.clock.now() };
    const fenced = (why: string) =>
      new StaleEpochError(`Replication of ${topic}-${partition} to ${follower} at offset ${first.offset} (epoch ${leaderEpoch}) was fenced; no longer true: ${why}.`);
    await this.writeThenCommit(write, copies, async (generation) => {
      const commit = this.commitUpdate(write, generation, copies.length, append.producers, matchedInEpoch(leaderEpoch));
      if (first.stored) {
        // A diskless copy also checks that its epoch still leads the partition: a copier of a deposed
        // epoch must not commit a reference the object sweep judged unreferenced (its check holds only
        // while the epoch stands; functions/domain/object-sweep.ts).
        const epochLeads = checkThat(this.tables.metadataTable, partitionKey(topic, partition), leaderEpochIs(leaderEpoch));
        await transactWrite(this.client, [commit, epochLeads], (lost) => fenced(describeLost(lost)));
        return;
      }
      const outcome = await conditionally(() => this.client.send(new UpdateCommand(commit.item.Update)));
      if (!outcome.held) throw fenced(commit.condition!.description);
    });
  }

  /**
   * One strongly consistent read of the replica's state (its log end and generations),
   * then, per live generation in the range, at most two Queries, returning only the
   * batches that hold that stretch: the one holding its start, then, only if the stretch
   * goes past it, those after it.
   */
  async read(topic: string, partition: number, replica: BrokerId, fromOffset: number, toOffset: number): Promise<LogRecord[]> {
    if (toOffset <= fromOffset) return [];
    const state = await this.replicaState(topic, partition, replica);
    if (!state) return [];
    const segments = segmentsOf(generationsOf(state), fromOffset, Math.min(toOffset, state.logEndOffset));
    const records: LogRecord[] = [];
    for (const segment of segments) {
      const batches = await this.batchesOverlapping(topic, partition, replica, segment.generation, segment.from, segment.to);
      const held = await this.recordsOf(batches);
      records.push(...held.flat().filter((record) => record.offset >= segment.from && record.offset < segment.to));
    }
    return records;
  }

  /**
   * Starts a new generation of the replica's log at `offset`, only if its log end is
   * `offset` and its generation still `generation`: no batch put at that log end before
   * can commit after it (the same write as an append's abandon step). Whether it wrote.
   */
  fenceLogEnd(topic: string, partition: number, replica: BrokerId, offset: number, generation: number): Promise<boolean> {
    return this.startGeneration(topic, partition, replica, offset, generation);
  }

  /**
   * The records of each item, in order: a diskless item's from its stored batch, the
   * batches fetched in parallel, once each however many items point into them.
   */
  private recordsOf(batches: readonly StoredBatch[]): Promise<LogRecord[][]> {
    const fetches = new Map<string, Promise<LogRecord[]>>();
    return Promise.all(
      batches.map(async ({ item }) => {
        const ref = storedRefOfItem(item);
        if (!ref) return logRecordsFromItem(item);
        const objects = this.objects;
        if (!objects) {
          throw new MalformedItemError(`log item at offset ${String(item.offset)} points into ${ref.object}, and this partition log was built without an object store.`);
        }
        let fetch = fetches.get(refKey(ref));
        if (!fetch) {
          fetch = objects.read(ref);
          fetches.set(refKey(ref), fetch);
        }
        return logRecordsFromRefItem(item, await fetch);
      }),
    );
  }

  async batchWrittenAt(topic: string, partition: number, replica: BrokerId, generation: number, offset: number): Promise<number | null> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tables.logTable,
        Key: logKey(topic, partition, replica, offset, generation),
        ConsistentRead: true,
        ProjectionExpression: 'writtenAt',
      }),
    );
    if (!Item) return null;
    return typeof Item.writtenAt === 'number' ? Item.writtenAt : 0;
  }

  /** One transaction: the follower's state (cut, matched, a new generation at the cut) and the fencing check. */
  async matchFollower(match: FollowerMatch): Promise<void> {
    const { topic, partition, follower, leader, leaderEpoch, truncateTo } = match;
    requireTruncationWithinLog(match);
    const generation = match.expectedGeneration + 1;
    const state = replicaStateKey(topic, partition, follower);
    const asCompared = allOf(logEndOffsetIs(match.expectedLogEnd), notMatchedInEpoch(leaderEpoch), generationIs(match.expectedGeneration));
    const update = guardedUpdate(
      {
        logEndOffset: truncateTo,
        matchedEpoch: leaderEpoch,
        appendEpoch: leaderEpoch,
        generation,
        updatedAt: this.clock.now(),
        ...producersAttribute(match.producers),
      },
      asCompared,
    );
    await transactWrite(
      this.client,
      [
        {
          item: { Update: { TableName: this.tables.metadataTable, Key: state, ...withGenerationStarted(update, truncateTo, generation) } },
          condition: asCompared,
        },
        checkThat(
          this.tables.metadataTable,
          partitionKey(topic, partition),
          allOf(leaderIs(leader), leaderEpochIs(leaderEpoch), notInSyncBelowHighWatermark(follower, truncateTo)),
        ),
      ],
      (lost) =>
        new StaleEpochError(
          `Matching ${topic}-${partition} on ${follower} with ${leader} (epoch ${leaderEpoch}) at offset ${truncateTo} refused; no longer true: ${describeLost(lost)}.`,
        ),
    );
  }

  /**
   * The two writes of an append or copy (adapters/replica-append.ts): each batch item put
   * where no item is, in order, then `commit` in the generation they went to.
   */
  private async writeThenCommit(write: ReplicaWrite, records: readonly LogRecord[], commit: (generation: number) => Promise<void>): Promise<void> {
    const { topic, partition, replica, offset, generation } = write;
    const steps: ReplicaAppendSteps = {
      put: async (into) => {
        // A diskless topic's items hold no records to compress: no need to read the topic.
        const compression = records.every((record) => record.stored) ? 'none' : await this.compressionOf(topic);
        for (const [i, item] of logItems(records, compression, into, write.writtenAt).entries()) {
          const found = await this.putBatch(item);
          if (found === null) continue;
          // Past the first item the offset was free when this writer took it: only a writer that read a later log end gets here.
          if (i > 0) throw new StaleEpochError(`Write to ${topic}-${partition} on ${replica} at offset ${String(item.offset)} lost: the offset was taken.`);
          return found;
        }
        return null;
      },
      abandon: () => this.startGeneration(topic, partition, replica, offset, generation),
      commit,
    };
    await writeThenCommit({ where: `${topic}-${partition} on ${replica}`, offset, generation }, steps, () => this.clock.now());
  }

  /** Puts one batch item where no item is; when one is, returns when it was written (0 when it does not say). */
  private async putBatch(item: Item): Promise<{ writtenAt: number } | null> {
    try {
      await retryingConflicts(() =>
        this.client.send(
          new PutCommand({
            TableName: this.tables.logTable,
            Item: item,
            ...guardedBy(offsetFree(item.offset as number)),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return null;
    } catch (error) {
      if (lostConditionIndexes(error) === null) throw error;
      // The old item comes back on the exception, in DynamoDB's own encoding ({ N: "..." }).
      const writtenAt = (error as { Item?: Record<string, { N?: string } | number | undefined> }).Item?.writtenAt;
      const at = typeof writtenAt === 'number' ? writtenAt : Number(writtenAt?.N);
      return { writtenAt: Number.isFinite(at) ? at : 0 };
    }
  }

  /** Starts generation + 1 at `offset`, only if the replica's log end and generation are still those. */
  private async startGeneration(topic: string, partition: number, replica: BrokerId, offset: number, generation: number): Promise<boolean> {
    const update = guardedUpdate({ generation: generation + 1, updatedAt: this.clock.now() }, allOf(logEndOffsetIs(offset), generationIs(generation)));
    const outcome = await conditionally(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tables.metadataTable,
          Key: replicaStateKey(topic, partition, replica),
          ...withGenerationStarted(update, offset, generation + 1),
        }),
      ),
    );
    return outcome.held;
  }

  /**
   * The commit of an append or copy: the replica's LEO from `offset` to `offset + count`,
   * only if it is still there in `generation` and no later epoch wrote to it.
   */
  private commitUpdate(
    write: ReplicaWrite,
    generation: number,
    count: number,
    producers: ProducerStates | undefined,
    ...alsoRequired: Condition[]
  ): TransactWriteUpdate {
    return updateIf(
      this.tables.metadataTable,
      replicaStateKey(write.topic, write.partition, write.replica),
      { logEndOffset: write.offset + count, appendEpoch: write.leaderEpoch, updatedAt: write.writtenAt, ...producersAttribute(producers) },
      allOf(logEndOffsetIs(write.offset), generationIs(generation), appendEpochAtMost(write.leaderEpoch), ...alsoRequired),
    ) as TransactWriteUpdate;
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

  private async replicaState(topic: string, partition: number, replica: BrokerId): Promise<ReplicaState | null> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tables.metadataTable, Key: replicaStateKey(topic, partition, replica), ConsistentRead: true }),
    );
    return Item ? replicaStateFromItem(Item) : null;
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
    generation: number,
    fromOffset: number,
    toOffset: number,
  ): Promise<StoredBatch[]> {
    if (toOffset <= fromOffset) return [];
    const { replica: key } = logKey(topic, partition, replica, fromOffset, generation);
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
      for (const item of page.Items ?? []) batches.push({ ...logItemRange(item), item });
    }
    return batches;
  }
}

/** A transaction member that updates one item (what commitUpdate builds). */
type TransactWriteUpdate = TransactWrite & { item: { Update: NonNullable<TransactWrite['item']['Update']> } };

/**
 * Adds to an update the start of `generation` at `at` to the replica's generations
 * (appended: the live ones are worked out on reading, domain/generations.ts liveGenerations).
 */
function withGenerationStarted<T extends { UpdateExpression: string; ExpressionAttributeValues?: Item }>(update: T, at: number, generation: number): T {
  return {
    ...update,
    UpdateExpression: update.UpdateExpression.replace(
      /^SET /,
      'SET #generations = list_append(if_not_exists(#generations, :firstGeneration), :startedGeneration), ',
    ),
    ExpressionAttributeNames: { ...(update as { ExpressionAttributeNames?: Record<string, string> }).ExpressionAttributeNames, '#generations': 'generations' },
    ExpressionAttributeValues: {
      ...update.ExpressionAttributeValues,
      ':firstGeneration': [{ from: 0, generation: 0 }],
      ':startedGeneration': [{ from: at, generation }],
    },
  };
}
