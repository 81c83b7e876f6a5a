/**
 * Topic creation: Kafka's replica assignment over the live brokers, each
 * partition led by its preferred replica at epoch 0 with a full ISR.
 *
 * As Kafka's CreateTopics, the answer says whether the topic was created: once the
 * metadata is written it was, and a failure to announce it on the leadership-events
 * queue afterwards is reported in the answer, not as an error. An error would send a
 * client retrying into TOPIC_ALREADY_EXISTS for a topic it was told was not created.
 */
import type { Deps } from '../ports/index.js';
import { assignReplicas } from './assignment.js';
import { isLeaseAlive } from './broker-lease.js';
import { TopicExistsError } from './errors.js';
import type { BrokerId, PartitionMetadata, ReplicaState, TopicConfig } from './model.js';
import { parseCreateTopicRequest } from './requests.js';
import { toLeadershipEvent, toPartitionView, type PartitionView } from './views.js';

export interface TopicDescription {
  topic: string;
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
  uncleanLeaderElection: boolean;
  assignments: PartitionView[];
  /** Whether the partitions' CREATED leadership events reached the queue; the topic exists either way. */
  eventsPublished: boolean;
  /** Why they did not, when they did not. */
  eventsError?: string;
}

export async function createTopic(deps: Deps, input: unknown): Promise<TopicDescription> {
  const request = parseCreateTopicRequest(input);
  // Like Kafka, an existing topic is reported before the replication factor is judged.
  if (await deps.metadata.getTopic(request.topic)) throw topicExists(request.topic);

  const now = deps.clock.now();
  const liveBrokers = (await deps.brokers.list()).filter((hb) => isLeaseAlive(hb, now)).map((hb) => hb.brokerId);
  const config: TopicConfig = { ...request, createdAt: now };
  const partitions = assignReplicas(liveBrokers, request.partitions, request.replicationFactor).map((replicas, index) =>
    newPartition(request.topic, index + 1, replicas, now),
  );
  // The store refuses atomically if a concurrent request created the topic meanwhile.
  await deps.metadata.createTopic(config, partitions, partitions.flatMap((p) => emptyReplicaStates(p, now)));
  const published = await deps.events.publish(partitions.map(toLeadershipEvent)).then(
    () => ({ eventsPublished: true }),
    (error: unknown) => ({ eventsPublished: false, eventsError: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
  );

  return {
    topic: config.topic,
    partitions: config.partitions,
    replicationFactor: config.replicationFactor,
    minInsyncReplicas: config.minInsyncReplicas,
    uncleanLeaderElection: config.uncleanLeaderElection,
    assignments: partitions.map((partition) => toPartitionView(partition)),
    ...published,
  };
}

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
