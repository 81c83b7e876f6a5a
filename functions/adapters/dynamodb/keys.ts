/**
 * Key layout of the three tables, in one place so the stores, the log and the
 * stream decoders cannot drift apart.
 *
 * Metadata table (pk + sk), and its item kinds (items.ts reads each strictly):
 * - `topic#<topic>` / `config`: the topic's configuration;
 * - `topic#<topic>` / `partition#<6 digits>`: a partition's leadership;
 * - `topic#<topic>` / `replica#<6 digits>#<brokerId>`: a replica's log end and producer state;
 * - `producer-ids` / `counter`: InitProducerId's counter;
 * - `broker#<brokerId>` / `credential`: a broker's credential (salted hash);
 * - `group#<groupId>` / `group`: a consumer group (membership, generation, rebalance);
 * - `group#<groupId>` / `offset#<topic>#<6 digits>`: one committed offset of the group.
 * A topic and everything about it share one partition key, so one Query fetches a
 * topic's partitions or one partition's replica states. Partition numbers are
 * zero-padded to 6 digits so sort-key order is numeric order. The listings filter
 * on the sort key, so the other kinds never reach them.
 */
import type { BrokerId } from '../../domain/model.js';

// Type aliases, not interfaces: only those are assignable to the SDK's `Record<string, ...>` key maps.
export type MetadataKey = {
  pk: string;
  sk: string;
};

export type LogKey = {
  /** `<topic>#<partition>#<brokerId>[#g<generation>]`: one DynamoDB partition per generation of a replica's copy of the log. */
  replica: string;
  offset: number;
};

/**
 * Sparse index of partition items by their current leader: a failover finds the
 * partitions a dead broker led with one Query, however large the cluster. Only a
 * partition with a leader carries the key attribute.
 */
export const LEADER_INDEX = { indexName: 'ByLeader', keyAttribute: 'leaderKey' } as const;

/** The counter InitProducerId draws producer ids from; its pk matches no topic (those start with `topic#`). */
export const PRODUCER_ID_COUNTER_KEY: MetadataKey = { pk: 'producer-ids', sk: 'counter' };

/** Sort key of a broker's credential item; its pk matches no topic either. */
export const BROKER_CREDENTIAL_SK = 'credential';

export const brokerCredentialKey = (brokerId: BrokerId): MetadataKey => ({ pk: `broker#${brokerId}`, sk: BROKER_CREDENTIAL_SK });

/** Sort key of a topic's configuration item. */
export const TOPIC_CONFIG_SK = 'config';
/** Sort-key prefix shared by every partition item. */
export const PARTITION_SK_PREFIX = 'partition#';

const padPartition = (partition: number): string => String(partition).padStart(6, '0');
/** Partition key shared by a topic's config, partitions and replica states. */
export const topicPk = (topic: string): string => `topic#${topic}`;

export const topicKey = (topic: string): MetadataKey => ({ pk: topicPk(topic), sk: TOPIC_CONFIG_SK });

export const partitionKey = (topic: string, partition: number): MetadataKey => ({
  pk: topicPk(topic),
  sk: `${PARTITION_SK_PREFIX}${padPartition(partition)}`,
});

/** Sort-key prefix shared by every replica-state item. */
export const REPLICA_SK_PREFIX = 'replica#';

/** Prefix of the replica-state sort keys of one partition (the broker id follows it). */
export const replicaStateSkPrefix = (partition: number): string => `${REPLICA_SK_PREFIX}${padPartition(partition)}#`;

export const replicaStateKey = (topic: string, partition: number, brokerId: BrokerId): MetadataKey => ({
  pk: topicPk(topic),
  sk: `${replicaStateSkPrefix(partition)}${brokerId}`,
});

/** Sort key of a consumer group's item; its pk (`group#`) matches no topic, so no topic listing sees it. */
export const GROUP_SK = 'group';
/** Sort-key prefix shared by a group's committed offsets: one Query under the group's pk reads them all. */
export const GROUP_OFFSET_SK_PREFIX = 'offset#';

const groupPk = (groupId: string): string => `group#${groupId}`;

export const groupKey = (groupId: string): MetadataKey => ({ pk: groupPk(groupId), sk: GROUP_SK });

/** Topic names cannot hold `#` (Kafka's legal characters), so the sort key splits back unambiguously. */
export const groupOffsetKey = (groupId: string, topic: string, partition: number): MetadataKey => ({
  pk: groupPk(groupId),
  sk: `${GROUP_OFFSET_SK_PREFIX}${topic}#${padPartition(partition)}`,
});

export const groupOffsetsPk = groupPk;

/**
 * Generation 0 of a replica's log is `<topic>#<partition>#<brokerId>` (as logs were keyed
 * before generations), generation g > 0 is that with `#g<g>` (domain/generations.ts).
 */
export const logKey = (topic: string, partition: number, brokerId: BrokerId, offset: number, generation = 0): LogKey => ({
  replica: generation === 0 ? `${topic}#${partition}#${brokerId}` : `${topic}#${partition}#${brokerId}#g${generation}`,
  offset,
});
