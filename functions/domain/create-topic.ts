/**
 * Topic creation: Kafka's replica assignment over the live brokers, each
 * partition led by its preferred replica at epoch 0 with a full ISR.
 *
 * As Kafka's CreateTopics, the answer says whether the topic was created: once the
 * metadata is written it was, and a failure to announce it on the leadership-events
 * queue afterwards is reported in the answer, not as an error. An error would send a
 * client retrying into TOPIC_ALREADY_EXISTS for a topic it was told was not created.
 */
import type { CreateTopicResponse } from '../../protocol/messages.js';
import type { Deps } from '../ports/index.js';
import { assignReplicas } from './assignment.js';
import { isLeaseAlive } from './broker-lease.js';
import { TopicExistsError } from './errors.js';
import type { BrokerId, PartitionMetadata, ReplicaState, TopicConfig } from './model.js';
import { parseCreateTopicRequest } from './requests.js';
import { toLeadershipEvent, toPartitionView } from './views.js';

export async function createTopic(deps: Deps, input: unknown): Promise<CreateTopicResponse> {
  const request = parseCreateTopicRequest(input);
  // Like Kafka, an existing topic is reported before the replication factor is judged.
  if (await deps.metadata.getTopic(request.topic)) throw topicExists(request.topic);
  const unfinished = await deps.metadata.getUnfinishedTopic(request.topic);
  if (unfinished) {
    // A retry of a creation cut short finishes it; another request for the name is refused as for any existing topic.
    if (!sameSettings(unfinished, request)) throw topicExists(request.topic);
    return describeCreated(unfinished, await finishTopicCreation(deps, unfinished));
  }

  const now = deps.clock.now();
  const liveBrokers = await liveBrokerIds(deps, now);
  const config: TopicConfig = { ...request, createdAt: now };
  const partitions = assignReplicas(liveBrokers, request.partitions, request.replicationFactor).map((replicas, index) =>
    newPartition(request.topic, index + 1, replicas, now),
  );
  // The store refuses atomically if a concurrent request created the topic meanwhile.
  await deps.metadata.createTopic(config, partitions, partitions.flatMap((p) => emptyReplicaStates(p, now)));
  return describeCreated(config, { partitions, ...(await publishCreated(deps, partitions)) });
}

/**
 * Finishes a creation left CREATING (its creator died between two of the store's
 * transactions): the partitions still missing are assigned over the brokers live now
 * (the ones written keep theirs), written, and the topic marked created; then every
 * partition's CREATED event is published (the queue drops repeats). Throws
 * TopicExistsError when another finisher got there first, InvalidReplicationFactorError
 * while fewer brokers are live than a missing partition needs.
 */
export async function finishTopicCreation(deps: Deps, config: TopicConfig): Promise<CreatedPartitions> {
  const now = deps.clock.now();
  const stored = new Set((await deps.metadata.listPartitions(config.topic)).map((p) => p.partition));
  const missing = Array.from({ length: config.partitions }, (_, i) => i + 1).filter((n) => !stored.has(n));
  const assignment = missing.length > 0 ? assignReplicas(await liveBrokerIds(deps, now), config.partitions, config.replicationFactor) : [];
  const added = missing.map((n) => newPartition(config.topic, n, assignment[n - 1], now));
  await deps.metadata.finishTopicCreation(config.topic, added, added.flatMap((p) => emptyReplicaStates(p, now)));
  const partitions = await deps.metadata.listPartitions(config.topic);
  return { partitions, ...(await publishCreated(deps, partitions)) };
}

interface CreatedPartitions {
  partitions: PartitionMetadata[];
  eventsPublished: boolean;
  eventsError?: string;
}

const liveBrokerIds = async (deps: Deps, now: number): Promise<BrokerId[]> =>
  (await deps.brokers.list()).filter((hb) => isLeaseAlive(hb, now)).map((hb) => hb.brokerId);

const sameSettings = (stored: TopicConfig, request: Omit<TopicConfig, 'createdAt'>): boolean =>
  stored.partitions === request.partitions &&
  stored.replicationFactor === request.replicationFactor &&
  stored.minInsyncReplicas === request.minInsyncReplicas &&
  stored.uncleanLeaderElection === request.uncleanLeaderElection &&
  stored.compressionType === request.compressionType &&
  stored.storage === request.storage;

/** As Kafka's CreateTopics: once the metadata is written the topic was created, and a failed announcement is reported, not thrown. */
const publishCreated = (deps: Deps, partitions: PartitionMetadata[]): Promise<{ eventsPublished: boolean; eventsError?: string }> =>
  deps.events.publish(partitions.map(toLeadershipEvent)).then(
    () => ({ eventsPublished: true }),
    (error: unknown) => ({ eventsPublished: false, eventsError: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
  );

const describeCreated = (config: TopicConfig, { partitions, ...published }: CreatedPartitions): CreateTopicResponse => ({
  topic: config.topic,
  partitions: config.partitions,
  replicationFactor: config.replicationFactor,
  minInsyncReplicas: config.minInsyncReplicas,
  uncleanLeaderElection: config.uncleanLeaderElection,
  compressionType: config.compressionType,
  storage: config.storage,
  assignments: partitions.map((partition) => toPartitionView(partition)),
  ...published,
});

const topicExists = (topic: string) => new TopicExistsError(`topic "${topic}" already exists`);

function newPartition(topic: string, partition: number, replicas: BrokerId[], now: number): PartitionMetadata {
  const leader = replicas[0];
  return {
    topic,
    partition,
    replicas,
    leader,
    leaderEpoch: 0,
    isr: [...replicas],
    elr: [],
    lastKnownElr: [],
    state: 'ONLINE',
    highWatermark: 0,
    version: 0,
    lastChange: {
      reason: 'CREATED',
      previousLeader: null,
      causeBrokerId: null,
      causeIncarnation: null,
      unclean: false,
      at: now,
    },
  };
}

const emptyReplicaStates = (partition: PartitionMetadata, now: number): ReplicaState[] =>
  partition.replicas.map((brokerId) => ({
    topic: partition.topic,
    partition: partition.partition,
    brokerId,
    logEndOffset: 0,
    // Empty logs agree: every replica starts matched with its leader in epoch 0.
    matchedEpoch: 0,
    updatedAt: now,
  }));
