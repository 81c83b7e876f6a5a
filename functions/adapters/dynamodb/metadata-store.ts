/**
 * MetadataStore over the metadata table (pk `topic#<topic>`, sk `config` |
 * `partition#<6 digits>` | `replica#<6 digits>#<brokerId>`; the producer-id counter;
 * broker credentials: the item kinds are listed in keys.ts).
 */
import {
  GetCommand,
  PutCommand,
  UpdateCommand,
  paginateQuery,
  paginateScan,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { BrokerCredential, BrokerId, PartitionMetadata, ReplicaState, TopicConfig } from '../../domain/model.js';
import { byTopic, byTopicAndPartition } from '../../domain/partitions.js';
import type { LeadershipUpdate, LeadershipWrite, MetadataStore } from '../../ports/index.js';
import { partitionVersionMoved, topicAlreadyStored } from '../../domain/errors.js';
import { updateEachLeadership } from '../leadership-writes.js';
import {
  allOf,
  guardedUpdate,
  highWatermarkAtMost,
  highWatermarkBelow,
  itemAbsent,
  partitionVersionIs,
  TOPIC_CREATING,
  topicCreationUnfinished,
} from './conditions.js';
import { batchGetConsistent, batchGetEventually } from './batch-get.js';
import { MAX_TRANSACT_ITEMS, conditionally, putIf, transactWrite, updateIf } from './conditional-writes.js';
import { finishingSteps, topicCreationSteps, type TopicCreationStep } from '../topic-creation-steps.js';
import {
  brokerCredentialFromItem,
  brokerCredentialItem,
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
  brokerCredentialKey,
  partitionKey,
  replicaStateSkPrefix,
  topicKey,
  topicPk,
} from './keys.js';

const metadataItemAbsent = itemAbsent('pk', 'topic metadata item');

/**
 * Conditional writes of updateLeaderships at DynamoDB at once: enough to keep it busy
 * between round trips (DynamoDB Local's raw write rate doubles from 1 to 16 in flight, as
 * `npm run bench:runtime` measures).
 */
const LEADERSHIP_WRITES_IN_FLIGHT = 16;

/** DynamoDB's limit on the keys of one BatchGetItem. */
const MAX_BATCH_GET_KEYS = 100;

/**
 * Items read per page of a listing (Query, Scan). DynamoDB's own page limit is 1 MB, which on
 * DynamoDB Local is a request of several hundred ms during which no other request is served
 * (the embedded cloud forwards one at a time): a whole-table scan of 5,000 partitions held
 * consumes back by seconds. Smaller pages cost the same in all and let other requests in.
 */
const PAGE_ITEMS = 500;

/**
 * A peek reads a topic's partitions with one Query over the span from the lowest asked to the
 * highest when that span holds at most this many partitions per one asked; else item by item
 * (BatchGetItem). A Query is billed on the summed size of what it returns, rounded up to 4 KB
 * (a partition item is about 300 bytes: some 13 to a unit), a BatchGetItem per item (one unit
 * at least each): past this, the partitions between those asked would cost more than they save.
 */
const PEEK_SPAN_PER_PARTITION = 8;

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
    const config = item && !isUnfinished(item) ? topicFromItem(item) : null;
    if (config) this.topicConfigs?.set(topic, config);
    return config ? { ...config } : null;
  }

  async getUnfinishedTopic(topic: string): Promise<TopicConfig | null> {
    const item = await this.getItem(topicKey(topic));
    return item && isUnfinished(item) ? topicFromItem(item) : null;
  }

  async listTopics(): Promise<TopicConfig[]> {
    const items = await this.scanWhere('#sk = :sk', { ':sk': TOPIC_CONFIG_SK });
    return items.filter((item) => !isUnfinished(item)).map(topicFromItem).sort(byTopic);
  }

  /**
   * In the transactions of topicCreationSteps: one for a topic of up to 100 items
   * (1 + partitions + partitions x RF, e.g. 24 partitions at RF 3), atomic; a larger
   * one's first transaction puts the topic item CREATING, the last marks it created,
   * so a creation cut short is read as absent and can be finished (finishTopicCreation).
   * Every item is put with attribute_not_exists: an existing topic fails the first
   * transaction and nothing is written.
   */
  async createTopic(config: TopicConfig, partitions: PartitionMetadata[], replicas: ReplicaState[]): Promise<void> {
    for (const step of topicCreationSteps(partitions, replicas, MAX_TRANSACT_ITEMS)) {
      await this.writeCreationStep(config.topic, step, config);
    }
  }

  async finishTopicCreation(topic: string, partitions: PartitionMetadata[], replicas: ReplicaState[]): Promise<void> {
    for (const step of finishingSteps(partitions, replicas, MAX_TRANSACT_ITEMS)) {
      await this.writeCreationStep(topic, step);
    }
  }

  private async writeCreationStep(topic: string, step: TopicCreationStep, config?: TopicConfig): Promise<void> {
    const puts: Item[] = [...step.partitions.map(partitionItem), ...step.replicas.map(replicaStateItem)];
    if (step.topic !== undefined) {
      if (!config) throw new Error(`a step putting topic ${topic} needs its configuration`);
      puts.unshift(step.topic === 'CREATING' ? { ...topicItem(config), creation: TOPIC_CREATING } : topicItem(config));
    }
    const writes = puts.map((item) => putIf(this.tableName, item, metadataItemAbsent));
    if (step.markCreated) writes.push(updateIf(this.tableName, topicKey(topic), { creation: 'CREATED' }, topicCreationUnfinished));
    await transactWrite(this.client, writes, () => topicAlreadyStored(topic));
  }

  async getPartition(topic: string, partition: number): Promise<PartitionMetadata | null> {
    const item = await this.getItem(partitionKey(topic, partition));
    return item ? partitionFromItem(item) : null;
  }

  async getPartitions(keys: ReadonlyArray<{ topic: string; partition: number }>): Promise<Array<PartitionMetadata | null>> {
    const unique = [...new Map(keys.map(({ topic, partition }) => [`${topic}#${partition}`, partitionKey(topic, partition)])).values()];
    // One partition (a consumer of one): a GetItem, as a consume of it alone costs.
    if (unique.length === 1) {
      const item = await this.getItem(unique[0]);
      const partition = item ? partitionFromItem(item) : null;
      return keys.map(() => partition);
    }
    const found = new Map<string, PartitionMetadata>();
    const chunks: Item[][] = [];
    for (let start = 0; start < unique.length; start += MAX_BATCH_GET_KEYS) chunks.push(unique.slice(start, start + MAX_BATCH_GET_KEYS));
    await Promise.all(
      chunks.map(async (chunk) => {
        for (const item of await this.batchGet(chunk)) {
          const partition = partitionFromItem(item);
          found.set(`${partition.topic}#${partition.partition}`, partition);
        }
      }),
    );
    return keys.map(({ topic, partition }) => found.get(`${topic}#${partition}`) ?? null);
  }

  /** One BatchGetItem of up to 100 keys of this table (batch-get.ts). */
  private async batchGet(keys: Item[], consistent = true): Promise<Item[]> {
    const read = consistent ? batchGetConsistent : batchGetEventually;
    return (await read(this.client, { [this.tableName]: keys }))[this.tableName];
  }

  /** Eventually consistent: per topic, one Query over the span of the partitions asked, or a BatchGetItem of them (PEEK_SPAN_PER_PARTITION). */
  async peekPartitions(keys: ReadonlyArray<{ topic: string; partition: number }>): Promise<Array<PartitionMetadata | null>> {
    const byTopic = new Map<string, Set<number>>();
    for (const { topic, partition } of keys) byTopic.set(topic, (byTopic.get(topic) ?? new Set()).add(partition));
    const found = new Map<string, PartitionMetadata>();
    const itemByItem: Item[] = [];
    const spans: Array<Promise<void>> = [];
    for (const [topic, asked] of byTopic) {
      const numbers = [...asked].sort((a, b) => a - b);
      const [lowest, highest] = [numbers[0], numbers[numbers.length - 1]];
      if (numbers.length > 1 && highest - lowest + 1 <= numbers.length * PEEK_SPAN_PER_PARTITION) {
        spans.push(
          this.queryAll({
            KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lowest AND :highest',
            ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
            ExpressionAttributeValues: { ':pk': topicPk(topic), ':lowest': partitionKey(topic, lowest).sk, ':highest': partitionKey(topic, highest).sk },
            ConsistentRead: false,
          }).then((items) => {
            for (const item of items) {
              const partition = partitionFromItem(item);
              if (asked.has(partition.partition)) found.set(`${topic}#${partition.partition}`, partition);
            }
          }),
        );
      } else {
        itemByItem.push(...numbers.map((partition) => partitionKey(topic, partition)));
      }
    }
    for (let start = 0; start < itemByItem.length; start += MAX_BATCH_GET_KEYS) {
      spans.push(
        this.batchGet(itemByItem.slice(start, start + MAX_BATCH_GET_KEYS), false).then((items) => {
          for (const item of items) {
            const partition = partitionFromItem(item);
            found.set(`${partition.topic}#${partition.partition}`, partition);
          }
        }),
      );
    }
    await Promise.all(spans);
    return keys.map(({ topic, partition }) => found.get(`${topic}#${partition}`) ?? null);
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
   * The index holds keys only (an index that projected the partition would be rewritten by
   * every high-watermark move, a write unit per produce): the partitions are read after it,
   * as eventually consistent as the index, and one that no longer names the broker is left out.
   */
  async listPartitionsLedBy(brokerId: string): Promise<PartitionMetadata[]> {
    const keys = await this.queryAll({
      IndexName: LEADER_INDEX.indexName,
      KeyConditionExpression: '#leaderKey = :brokerId',
      ExpressionAttributeNames: { '#leaderKey': LEADER_INDEX.keyAttribute },
      ExpressionAttributeValues: { ':brokerId': brokerId },
    });
    const items: Item[] = [];
    for (let start = 0; start < keys.length; start += MAX_BATCH_GET_KEYS) {
      const chunk = keys.slice(start, start + MAX_BATCH_GET_KEYS).map((key): Item => ({ pk: String(key.pk), sk: String(key.sk) }));
      items.push(...(await this.batchGet(chunk, false)));
    }
    return items
      .map(partitionFromItem)
      .filter((partition) => partition.leader === brokerId)
      .sort(byTopicAndPartition);
  }

  async updateLeadership(
    topic: string,
    partition: number,
    expectedVersion: number,
    update: LeadershipUpdate,
  ): Promise<PartitionMetadata> {
    const outcome = await conditionally(() =>
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
   * Each write is updateLeadership's conditional UpdateItem, LEADERSHIP_WRITES_IN_FLIGHT at
   * a time (updateEachLeadership). Batched PartiQL UPDATEs (25 per BatchExecuteStatement)
   * ran at about a third of the rate of single UpdateItems through the embedded cloud.
   */
  updateLeaderships(writes: readonly LeadershipWrite[]): Promise<Array<PartitionMetadata | null>> {
    return updateEachLeadership(this, writes, LEADERSHIP_WRITES_IN_FLIGHT);
  }

  async advanceHighWatermark(topic: string, partition: number, expectedVersion: number, hw: number): Promise<boolean> {
    const outcome = await conditionally(() =>
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

  async getBrokerCredential(brokerId: BrokerId): Promise<BrokerCredential | null> {
    const item = await this.getItem(brokerCredentialKey(brokerId));
    return item ? brokerCredentialFromItem(item) : null;
  }

  async putBrokerCredential(credential: BrokerCredential): Promise<boolean> {
    const { Attributes } = await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: brokerCredentialItem(credential), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes !== undefined;
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

/** A topic item written by the first of several creation steps and not yet marked created. */
const isUnfinished = (item: Item): boolean => item.creation === TOPIC_CREATING;

/** What a leadership write sets (undefined: removed), at the version after `expectedVersion`. */
function leadershipAttributes(expectedVersion: number, update: LeadershipUpdate): Record<string, unknown> {
  return {
    leader: update.leader,
    leaderEpoch: update.leaderEpoch,
    isr: update.isr,
    ...(update.elr === undefined ? {} : { elr: update.elr }),
    ...(update.lastKnownElr === undefined ? {} : { lastKnownElr: update.lastKnownElr }),
    state: update.state,
    lastChange: update.lastChange,
    version: expectedVersion + 1,
    [LEADER_INDEX.keyAttribute]: update.leader ?? undefined,
    // Otherwise the HW is the replication path's, advanced by version; only an unclean election sets it.
    ...(update.highWatermark === undefined ? {} : { highWatermark: update.highWatermark }),
  };
}
