/**
 * Benchmark setup only: writes topics straight into the metadata table, as the create-topic
 * function would lay them out (Kafka's assignment over the given brokers, each partition led
 * by its preferred replica at epoch 0, full ISR, empty logs), with BatchWriteItem.
 *
 * Why not the create-topic function: it writes a topic in transactions of 100 items
 * (4 items a partition at RF 3), which DynamoDB Local takes ~1.3 s each on the 2-core
 * machine: 500 partitions took 27 s, and a 1000-partition topic would outlast the
 * function's 30 s timeout. Topic creation is not what the scale benchmark measures.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalCloud } from '../../../localcloud/index.js';
import { partitionItem, replicaStateItem, topicItem, type Item } from '../../../functions/adapters/dynamodb/items.js';
import { assignReplicas } from '../../../functions/domain/assignment.js';
import type { PartitionMetadata, ReplicaState, TopicConfig } from '../../../functions/domain/model.js';

export interface SeededTopic {
  topic: string;
  partitions: PartitionMetadata[];
}

export async function seedTopic(
  cloud: LocalCloud,
  metadataTable: string,
  request: { topic: string; partitions: number; replicationFactor: number; minInsyncReplicas: number; brokers: string[] },
): Promise<SeededTopic> {
  const now = Date.now();
  const config: TopicConfig = {
    topic: request.topic,
    partitions: request.partitions,
    replicationFactor: request.replicationFactor,
    minInsyncReplicas: request.minInsyncReplicas,
    uncleanLeaderElection: false,
    compressionType: 'producer',
    storage: 'replicated',
    createdAt: now,
  };
  const partitions: PartitionMetadata[] = assignReplicas(request.brokers, request.partitions, request.replicationFactor).map((replicas, index) => ({
    topic: request.topic,
    partition: index + 1,
    replicas,
    leader: replicas[0],
    leaderEpoch: 0,
    isr: [...replicas],
    elr: [],
    lastKnownElr: [],
    state: 'ONLINE',
    highWatermark: 0,
    version: 0,
    lastChange: { reason: 'CREATED', previousLeader: null, causeBrokerId: null, causeIncarnation: null, unclean: false, at: now },
  }));
  const replicaStates: ReplicaState[] = partitions.flatMap((p) =>
    p.replicas.map((brokerId) => ({ topic: p.topic, partition: p.partition, brokerId, logEndOffset: 0, matchedEpoch: 0, updatedAt: now })),
  );
  const items: Item[] = [...partitions.map(partitionItem), ...replicaStates.map(replicaStateItem), topicItem(config)];
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: cloud.dynamodbEndpoint, region: cloud.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  try {
    const batches: Item[][] = [];
    for (let start = 0; start < items.length; start += 25) batches.push(items.slice(start, start + 25));
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < batches.length) {
          let requests = batches[next++].map((Item) => ({ PutRequest: { Item } }));
          for (let attempt = 0; requests.length > 0; attempt += 1) {
            if (attempt > 20) throw new Error('BatchWriteItem kept leaving items unprocessed');
            const { UnprocessedItems } = await client.send(new BatchWriteCommand({ RequestItems: { [metadataTable]: requests } }));
            requests = (UnprocessedItems?.[metadataTable] ?? []) as typeof requests;
            if (requests.length > 0) await sleep(20 * (attempt + 1));
          }
        }
      }),
    );
  } finally {
    client.destroy();
  }
  return { topic: request.topic, partitions };
}
