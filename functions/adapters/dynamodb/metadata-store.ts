/**
 * MetadataStore over the metadata table (pk `topic#<topic>`, sk `config` |
 * `partition#<6 digits>` | `replica#<6 digits>#<brokerId>`).
 */
import {
  BatchExecuteStatementCommand,
  GetCommand,
  UpdateCommand,
  paginateQuery,
  paginateScan,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { PartitionMetadata, ReplicaState, TopicConfig } from '../../domain/model.js';
import { byTopic, byTopicAndPartition } from '../../domain/partitions.js';
import type { LeadershipUpdate, LeadershipWrite, MetadataStore } from '../../ports/index.js';
import { StaleEpochError, partitionVersionMoved, topicAlreadyStored } from '../../domain/errors.js';
import {
  allOf,
  guardedUpdate,
  highWatermarkAtMost,
  highWatermarkBelow,
  itemAbsent,
  partitionVersionIs,
} from './conditions.js';
import { MAX_TRANSACT_ITEMS, conditionally, putIf, transactWrite, type TransactWrite } from './conditional-writes.js';
import {
  partitionFromItem,
  partitionItem,
  replicaStateFromItem,
  replicaStateItem,
  topicFromItem,
  topicItem,
  num,
  type Item,
} from './items.js';
import {
  LEADER_INDEX,
  PARTITION_SK_PREFIX,
  PRODUCER_ID_COUNTER_KEY,
  REPLICA_SK_PREFIX,
  TOPIC_CONFIG_SK,
  partitionKey,
  replicaStateSkPrefix,
  topicKey,
  topicPk,
} from './keys.js';

const metadataItemAbsent = itemAbsent('pk', 'topic metadata item');

/** BatchExecuteStatement's limit on statements per call. */
export const MAX_BATCH_STATEMENTS = 25;

/** Batches of updateLeaderships sent at once. */
const BATCHES_IN_FLIGHT = 4;

/**
 * Items read per page of a listing (Query, Scan). DynamoDB's own page limit is 1 MB, which on
 * DynamoDB Local is a request of several hundred ms during which no other request is served
 * (the embedded cloud forwards one at a time): a whole-table scan of 5,000 partitions held
 * consumes back by seconds. Smaller pages cost the same in all and let other requests in.
 */
const PAGE_ITEMS = 500;

/** A PartiQL identifier: double-quoted, so reserved words (state, version) are names. */
const quoted = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export interface MetadataStoreOptions {
  /**
   * Keep each topic's configuration once read, for the life of the container. Sound
   * because nothing changes a topic's configuration after its creation (there is no
   * alter-configs or delete-topic); an absent topic is never cached. Saves every
   * produce and consume a read.
   */
  cacheTopicConfigs?: boolean;
}

export class DynamoMetadataStore implements MetadataStore {
  private readonly topicConfigs: Map<string, TopicConfig> | undefined;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: MetadataStoreOptions = {},
  ) {
    this.topicConfigs = options.cacheTopicConfigs ? new Map() : undefined;
  }

  async getTopic(topic: string): Promise<TopicConfig | null> {
    const cached = this.topicConfigs?.get(topic);
    if (cached) return { ...cached };
    const item = await this.getItem(topicKey(topic));
    const config = item ? topicFromItem(item) : null;
    if (config) this.topicConfigs?.set(topic, config);
    return config ? { ...config } : null;
  }

  async listTopics(): Promise<TopicConfig[]> {
    const items = await this.scanWhere('#sk = :sk', { ':sk': TOPIC_CONFIG_SK });
    return items.map(topicFromItem).sort(byTopic);
  }

  /**
   * Atomic for up to 100 items (1 + partitions + partitions x RF), which covers
   * e.g. 24 partitions at RF 3. Larger topics are written in transactions of 100
   * with the topic config in the LAST one, so a topic is only visible once all
   * its partitions exist. Every item is created with attribute_not_exists, so an
   * existing topic fails the first transaction and nothing is written.
   */
  async createTopic(config: TopicConfig, partitions: PartitionMetadata[], replicas: ReplicaState[]): Promise<void> {
    const creates: TransactWrite[] = [
      ...partitions.map(partitionItem),
      ...replicas.map(replicaStateItem),
      topicItem(config),
    ].map((item) => putIf(this.tableName, item, metadataItemAbsent));
    for (let start = 0; start < creates.length; start += MAX_TRANSACT_ITEMS) {
      await transactWrite(
        this.client,
        creates.slice(start, start + MAX_TRANSACT_ITEMS),
        () => topicAlreadyStored(config.topic),
      );
    }
  }

  async getPartition(topic: string, partition: number): Promise<PartitionMetadata | null> {
    const item = await this.getItem(partitionKey(topic, partition));
    return item ? partitionFromItem(item) : null;
  }

  async listPartitions(topic?: string): Promise<PartitionMetadata[]> {
    const items =
      topic === undefined
        ? await this.scanWhere('begins_with(#sk, :sk)', { ':sk': PARTITION_SK_PREFIX })
        : await this.queryTopic(topic, PARTITION_SK_PREFIX);
    return items.map(partitionFromItem).sort(byTopicAndPartition);
  }

  /**
   * A GSI read, so eventually consistent: a leader elected a moment ago may be missing.
   * The failure detector uses it to elect first and follows with a full listing.
   */
  async listPartitionsLedBy(brokerId: string): Promise<PartitionMetadata[]> {
    const items = await this.queryAll({
      IndexName: LEADER_INDEX.indexName,
      KeyConditionExpression: '#leaderKey = :brokerId',
      ExpressionAttributeNames: { '#leaderKey': LEADER_INDEX.keyAttribute },
      ExpressionAttributeValues: { ':brokerId': brokerId },
    });
    return items.map(partitionFromItem).sort(byTopicAndPartition);
  }

  async updateLeadership(
    topic: string,
    partition: number,
    expectedVersion: number,
    update: LeadershipUpdate,
  ): Promise<PartitionMetadata> {
    const outcome = await conditionally(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: partitionKey(topic, partition),
          // Only leadership attributes: the high watermark is advanced separately, by the leader's epoch.
          ...guardedUpdate(
            leadershipAttributes(expectedVersion, update),
            update.highWatermarkAtMost === undefined
              ? partitionVersionIs(expectedVersion)
              : allOf(partitionVersionIs(expectedVersion), highWatermarkAtMost(update.highWatermarkAtMost)),
          ),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!outcome.held) {
      throw partitionVersionMoved(topic, partition, expectedVersion);
    }
    // ALL_NEW always returns the item; an empty one fails the codec loudly rather than passing silently.
    return partitionFromItem(outcome.result.Attributes ?? {});
  }

  /**
   * The writes as conditional PartiQL UPDATEs, 25 per BatchExecuteStatement (a few calls in
   * flight): each statement is applied or refused on its own, like the UpdateItem of
   * updateLeadership, whose attributes and condition (version) it writes. A fraction of the
   * round trips: 1,000 elections are 40 requests, not 1,000. A statement refused for another
   * reason than its condition (a transaction in progress on the item, throttling) is
   * retried as one updateLeadership; a write with highWatermarkAtMost goes that way too.
   */
  async updateLeaderships(writes: readonly LeadershipWrite[]): Promise<Array<PartitionMetadata | null>> {
    const results = new Array<PartitionMetadata | null>(writes.length);
    const single = async (index: number): Promise<void> => {
      const { partition, update } = writes[index];
      try {
        results[index] = await this.updateLeadership(partition.topic, partition.partition, partition.version, update);
      } catch (error) {
        if (!(error instanceof StaleEpochError)) throw error;
        results[index] = null;
      }
    };
    const batchable = writes.flatMap((write, index) => (write.update.highWatermarkAtMost === undefined ? [index] : []));
    const batches: number[][] = [];
    for (let start = 0; start < batchable.length; start += MAX_BATCH_STATEMENTS) {
      batches.push(batchable.slice(start, start + MAX_BATCH_STATEMENTS));
    }
    const sendBatch = async (indexes: number[]): Promise<void> => {
      const { Responses = [] } = await this.client.send(
        new BatchExecuteStatementCommand({ Statements: indexes.map((index) => this.leadershipStatement(writes[index])) }),
      );
      const retries: number[] = [];
      indexes.forEach((index, position) => {
        const error = Responses[position]?.Error;
        const { partition, update } = writes[index];
        if (!error && Responses[position]) results[index] = writtenPartition(partition, update);
        else if (error?.Code === 'ConditionalCheckFailed') results[index] = null;
        else retries.push(index);
      });
      for (const index of retries) await single(index);
    };
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < batches.length) await sendBatch(batches[next++]);
    };
    const singles = writes.flatMap((write, index) => (write.update.highWatermarkAtMost === undefined ? [] : [index]));
    await Promise.all([...Array.from({ length: Math.min(BATCHES_IN_FLIGHT, batches.length) }, lane), ...singles.map(single)]);
    return results;
  }

  /** updateLeadership's write as a PartiQL UPDATE conditional on the version. */
  private leadershipStatement({ partition, update }: LeadershipWrite): { Statement: string; Parameters: unknown[] } {
    const attributes = leadershipAttributes(partition.version, update);
    const set = Object.entries(attributes).filter(([, value]) => value !== undefined);
    const removed = Object.entries(attributes).filter(([, value]) => value === undefined);
    const key = partitionKey(partition.topic, partition.partition);
    const clauses = [
      ...set.map(([name]) => `SET ${quoted(name)} = ?`),
      ...removed.map(([name]) => `REMOVE ${quoted(name)}`),
    ];
    return {
      Statement:
        `UPDATE ${quoted(this.tableName)} ${clauses.join(' ')} ` +
        `WHERE ${quoted('pk')} = ? AND ${quoted('sk')} = ? AND ${quoted('version')} = ?`,
      Parameters: [...set.map(([, value]) => value), key.pk, key.sk, partition.version],
    };
  }

  async advanceHighWatermark(topic: string, partition: number, expectedVersion: number, hw: number): Promise<boolean> {
    const outcome = await conditionally(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: partitionKey(topic, partition),
          ...guardedUpdate({ highWatermark: hw }, allOf(partitionVersionIs(expectedVersion), highWatermarkBelow(hw))),
        }),
      ),
    );
    return outcome.held;
  }

  async allocateProducerId(): Promise<number> {
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: PRODUCER_ID_COUNTER_KEY,
        UpdateExpression: 'ADD #last :one',
        ExpressionAttributeNames: { '#last': 'lastProducerId' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return num(Attributes ?? {}, 'lastProducerId');
  }

  async isProducerIdAllocated(producerId: number): Promise<boolean> {
    const item = await this.getItem(PRODUCER_ID_COUNTER_KEY);
    return producerId >= 1 && item !== undefined && producerId <= num(item, 'lastProducerId');
  }

  async listReplicaStates(topic: string): Promise<ReplicaState[]> {
    // Sort keys `replica#<6-digit partition>#<brokerId>`: the Query returns them by partition, then broker id.
    const items = await this.queryTopic(topic, REPLICA_SK_PREFIX);
    return items.map(replicaStateFromItem);
  }

  async getReplicaStates(topic: string, partition: number): Promise<ReplicaState[]> {
    const items = await this.queryTopic(topic, replicaStateSkPrefix(partition));
    return items.map(replicaStateFromItem);
  }

  private async getItem(Key: Item): Promise<Item | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
    return Item;
  }

  /** One topic's items whose sort key starts with `skPrefix`, strongly consistent. */
  private queryTopic(topic: string, skPrefix: string): Promise<Item[]> {
    return this.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': topicPk(topic), ':prefix': skPrefix },
      ConsistentRead: true,
    });
  }

  /** Every page of a Query on this table (or one of its indexes), at most PAGE_ITEMS a page. */
  private async queryAll(query: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    const pages = paginateQuery({ client: this.client }, { TableName: this.tableName, Limit: PAGE_ITEMS, ...query });
    for await (const page of pages) items.push(...(page.Items ?? []));
    return items;
  }

  /** Cross-topic listings: the metadata table is small (no log records live here), so a filtered Scan is fine. */
  private async scanWhere(filter: string, values: Item): Promise<Item[]> {
    const items: Item[] = [];
    const pages = paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        Limit: PAGE_ITEMS,
        FilterExpression: filter,
        ExpressionAttributeNames: { '#sk': 'sk' },
        ExpressionAttributeValues: values,
        ConsistentRead: true,
      },
    );
    for await (const page of pages) items.push(...(page.Items ?? []));
    return items;
  }
}

/** What a leadership write sets (undefined: removed), at the version after `expectedVersion`. */
function leadershipAttributes(expectedVersion: number, update: LeadershipUpdate): Record<string, unknown> {
  return {
    leader: update.leader,
    leaderEpoch: update.leaderEpoch,
    isr: update.isr,
    state: update.state,
    lastChange: update.lastChange,
    version: expectedVersion + 1,
    [LEADER_INDEX.keyAttribute]: update.leader ?? undefined,
    // Otherwise the HW is the replication path's, advanced by version; only an unclean election sets it.
    ...(update.highWatermark === undefined ? {} : { highWatermark: update.highWatermark }),
  };
}

/** The partition after a leadership write that held (the HW as read, unless the write set it). */
function writtenPartition(read: PartitionMetadata, update: LeadershipUpdate): PartitionMetadata {
  return {
    ...read,
    leader: update.leader,
    leaderEpoch: update.leaderEpoch,
    isr: [...update.isr],
    state: update.state,
    lastChange: { ...update.lastChange },
    highWatermark: update.highWatermark ?? read.highWatermark,
    version: read.version + 1,
  };
}
