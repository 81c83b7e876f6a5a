/**
 * MetadataStore with the DynamoDB adapter's conditions and transactions: topic
 * creation in the same steps (topic-creation-steps.ts), each all or nothing;
 * leadership writes conditional on the version (and an admission on the HW); HW
 * advances monotonic and conditional on the version they were computed at.
 */
import { updateEachLeadership } from '../leadership-writes.js';
import { partitionVersionMoved, topicAlreadyStored } from '../../domain/errors.js';
import type { BrokerCredential, BrokerId, PartitionMetadata, ReplicaState, TopicConfig } from '../../domain/model.js';
import { byTopic, byTopicAndPartition } from '../../domain/partitions.js';
import type { LeadershipUpdate, LeadershipWrite, MetadataStore } from '../../ports/index.js';
import { finishingSteps, topicCreationSteps, type TopicCreationStep } from '../topic-creation-steps.js';
import { copyOf, partitionKey, replicaKey, type MemoryTables } from './tables.js';

export class MemoryMetadataStore implements MetadataStore {
  /** Leadership writes refused by a lost condition (version moved, HW past the limit, no such partition): how tests see that a race really happened. */
  rejectedLeadershipWrites = 0;

  constructor(private readonly tables: MemoryTables) {}

  async getTopic(topic: string): Promise<TopicConfig | null> {
    await this.tables.yieldPoint('metadata.getTopic');
    const config = this.tables.topics.get(topic);
    return config && !this.tables.unfinishedTopics.has(topic) ? copyOf(config) : null;
  }

  async getUnfinishedTopic(topic: string): Promise<TopicConfig | null> {
    await this.tables.yieldPoint('metadata.getTopic');
    const config = this.tables.topics.get(topic);
    return config && this.tables.unfinishedTopics.has(topic) ? copyOf(config) : null;
  }

  async listTopics(): Promise<TopicConfig[]> {
    await this.tables.yieldPoint('metadata.listTopics');
    return [...this.tables.topics.values()]
      .filter((config) => !this.tables.unfinishedTopics.has(config.topic))
      .map(copyOf)
      .sort(byTopic);
  }

  /** The DynamoDB store's transactions (topicCreationSteps), each its own yield point and atomic write. */
  async createTopic(config: TopicConfig, partitions: PartitionMetadata[], replicas: ReplicaState[]): Promise<void> {
    for (const step of topicCreationSteps(partitions, replicas, this.tables.maxTransactionItems)) {
      await this.tables.yieldPoint('metadata.createTopic');
      this.writeCreationStep(config.topic, step, config);
    }
  }

  async finishTopicCreation(topic: string, partitions: PartitionMetadata[], replicas: ReplicaState[]): Promise<void> {
    for (const step of finishingSteps(partitions, replicas, this.tables.maxTransactionItems)) {
      await this.tables.yieldPoint('metadata.finishTopicCreation');
      this.writeCreationStep(topic, step);
    }
  }

  /** One step, all or nothing: every item it puts must be absent, and a mark needs the topic CREATING. */
  private writeCreationStep(topic: string, step: TopicCreationStep, config?: TopicConfig): void {
    const partitionKeys = step.partitions.map((p) => partitionKey(p.topic, p.partition));
    const replicaKeys = step.replicas.map((r) => replicaKey(r.topic, r.partition, r.brokerId));
    const holds =
      (step.topic === undefined || !this.tables.topics.has(topic)) &&
      partitionKeys.every((key) => !this.tables.partitions.has(key)) &&
      replicaKeys.every((key) => !this.tables.replicaStates.has(key)) &&
      (!step.markCreated || this.tables.unfinishedTopics.has(topic));
    if (!holds) throw topicAlreadyStored(topic);
    if (step.topic !== undefined) {
      if (!config) throw new Error(`a step putting topic ${topic} needs its configuration`);
      this.tables.topics.set(topic, copyOf(config));
      if (step.topic === 'CREATING') this.tables.unfinishedTopics.add(topic);
    }
    step.partitions.forEach((partition, i) => this.tables.writePartition(partitionKeys[i], copyOf(partition)));
    step.replicas.forEach((state, i) => this.tables.replicaStates.set(replicaKeys[i], copyOf(state)));
    if (step.markCreated) this.tables.unfinishedTopics.delete(topic);
  }

  async getPartition(topic: string, partition: number): Promise<PartitionMetadata | null> {
    await this.tables.yieldPoint('metadata.getPartition');
    const stored = this.tables.partitions.get(partitionKey(topic, partition));
    return stored ? copyOf(stored) : null;
  }

  async getPartitions(keys: ReadonlyArray<{ topic: string; partition: number }>): Promise<Array<PartitionMetadata | null>> {
    // One read after another, each its own step for the simulation: a batch read is no snapshot.
    const partitions: Array<PartitionMetadata | null> = [];
    for (const { topic, partition } of keys) partitions.push(await this.getPartition(topic, partition));
    return partitions;
  }

  /** One read of them all (one yield point), each as `tables.staleness` says an eventually consistent read sees it. */
  async peekPartitions(keys: ReadonlyArray<{ topic: string; partition: number }>): Promise<Array<PartitionMetadata | null>> {
    await this.tables.yieldPoint('metadata.peekPartitions');
    return keys.map(({ topic, partition }) => {
      const seen = this.tables.eventualPartition(partitionKey(topic, partition));
      return seen ? copyOf(seen) : null;
    });
  }

  async listPartitions(topic?: string): Promise<PartitionMetadata[]> {
    await this.tables.yieldPoint('metadata.listPartitions');
    return [...this.tables.partitions.values()]
      .filter((p) => topic === undefined || p.topic === topic)
      .map(copyOf)
      .sort(byTopicAndPartition);
  }

  async listPartitionsLedBy(brokerId: string): Promise<PartitionMetadata[]> {
    return (await this.listPartitions()).filter((p) => p.leader === brokerId);
  }

  async updateLeadership(
    topic: string,
    partition: number,
    expectedVersion: number,
    update: LeadershipUpdate,
  ): Promise<PartitionMetadata> {
    await this.tables.yieldPoint('metadata.updateLeadership');
    const key = partitionKey(topic, partition);
    const stored = this.tables.partitions.get(key);
    const { highWatermarkAtMost, highWatermark, ...leadership } = copyOf(update);
    // A missing partition fails the version condition, as DynamoDB's conditional update on an absent item does.
    const hwAllows = highWatermarkAtMost === undefined || (stored !== undefined && stored.highWatermark <= highWatermarkAtMost);
    if (!stored || stored.version !== expectedVersion || !hwAllows) {
      this.rejectedLeadershipWrites += 1;
      throw partitionVersionMoved(topic, partition, expectedVersion);
    }
    const written: PartitionMetadata = {
      ...stored,
      ...leadership,
      highWatermark: highWatermark ?? stored.highWatermark,
      version: expectedVersion + 1,
    };
    this.tables.writePartition(key, written);
    return copyOf(written);
  }

  /** One by one, each its own atomic write (and yield point), as DynamoDB applies a batch's statements; every one is tried, whatever failed. */
  updateLeaderships(writes: readonly LeadershipWrite[]): Promise<Array<PartitionMetadata | null>> {
    return updateEachLeadership(this, writes, 1);
  }

  async advanceHighWatermark(topic: string, partition: number, expectedVersion: number, hw: number): Promise<boolean> {
    await this.tables.yieldPoint('metadata.advanceHighWatermark');
    const key = partitionKey(topic, partition);
    const stored = this.tables.partitions.get(key);
    if (!stored || stored.version !== expectedVersion || stored.highWatermark >= hw) return false;
    this.tables.writePartition(key, { ...stored, highWatermark: hw });
    return true;
  }

  async allocateProducerId(): Promise<number> {
    await this.tables.yieldPoint('metadata.allocateProducerId');
    this.tables.lastProducerId += 1;
    return this.tables.lastProducerId;
  }

  async isProducerIdAllocated(producerId: number): Promise<boolean> {
    await this.tables.yieldPoint('metadata.isProducerIdAllocated');
    return producerId >= 1 && producerId <= this.tables.lastProducerId;
  }

  async getBrokerCredential(brokerId: BrokerId): Promise<BrokerCredential | null> {
    await this.tables.yieldPoint('metadata.getBrokerCredential');
    const stored = this.tables.brokerCredentials.get(brokerId);
    return stored ? copyOf(stored) : null;
  }

  async putBrokerCredential(credential: BrokerCredential): Promise<boolean> {
    await this.tables.yieldPoint('metadata.putBrokerCredential');
    const replaced = this.tables.brokerCredentials.has(credential.brokerId);
    this.tables.brokerCredentials.set(credential.brokerId, copyOf(credential));
    return replaced;
  }

  async listReplicaStates(topic: string): Promise<ReplicaState[]> {
    await this.tables.yieldPoint('metadata.listReplicaStates');
    return [...this.tables.replicaStates.values()]
      .filter((state) => state.topic === topic)
      .sort((a, b) => a.partition - b.partition || (a.brokerId < b.brokerId ? -1 : a.brokerId > b.brokerId ? 1 : 0))
      .map(copyOf);
  }

  async getReplicaStates(topic: string, partition: number): Promise<ReplicaState[]> {
    await this.tables.yieldPoint('metadata.getReplicaStates');
    return [...this.tables.replicaStates.values()]
      .filter((state) => state.topic === topic && state.partition === partition)
      // DynamoDB's Query returns them in sort-key order, which ends in the broker id.
      .sort((a, b) => (a.brokerId < b.brokerId ? -1 : a.brokerId > b.brokerId ? 1 : 0))
      .map(copyOf);
  }
}
