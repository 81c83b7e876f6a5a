/**
 * How a topic is written: the one list of transaction boundaries both stores follow, so
 * that the memory store (and the simulation crashing between its steps) sees exactly the
 * intermediate states the DynamoDB store can leave behind.
 *
 * A topic that fits one transaction is written in one, visible at once. A larger one (e.g.
 * 25 partitions x RF 3: 101 items) cannot be atomic, so it is resumable instead: the first
 * transaction puts the topic item in state CREATING (its whole configuration, so anyone can
 * finish it) with the first partitions; each further one adds whole partitions (a partition
 * item with all its replica states, never one without the other); the last marks the topic
 * created. Until then the topic reads as absent (Kafka: UNKNOWN_TOPIC_OR_PARTITION, which
 * clients retry), and a retried CreateTopic or the reconciler finishes it.
 */
import type { PartitionMetadata, ReplicaState } from '../domain/model.js';

/** DynamoDB's limit on the members of one TransactWriteItems call. */
export const MAX_ITEMS_PER_TRANSACTION = 100;

export interface TopicCreationStep {
  /** Puts the topic item (absent before): CREATED when the creation is this one step, else CREATING. */
  topic?: 'CREATED' | 'CREATING';
  /** Put, each absent before, with every replica state of each. */
  partitions: PartitionMetadata[];
  replicas: ReplicaState[];
  /** Marks the topic created; it must be CREATING. */
  markCreated: boolean;
}

/** The items one step writes: what must stay within MAX_ITEMS_PER_TRANSACTION. */
export const stepItems = (step: TopicCreationStep): number =>
  (step.topic ? 1 : 0) + step.partitions.length + step.replicas.length + (step.markCreated ? 1 : 0);

/** A new topic's steps. `maxItems` is the transaction limit (the simulation scales it down with its topics). */
export function topicCreationSteps(
  partitions: readonly PartitionMetadata[],
  replicas: readonly ReplicaState[],
  maxItems = MAX_ITEMS_PER_TRANSACTION,
): TopicCreationStep[] {
  if (1 + partitions.length + replicas.length <= maxItems) {
    return [{ topic: 'CREATED', partitions: [...partitions], replicas: [...replicas], markCreated: false }];
  }
  return withMark(pack(partitions, replicas, 1, maxItems).map((step, i) => (i === 0 ? { ...step, topic: 'CREATING' } : step)), maxItems);
}

/** The steps that finish a creation left CREATING: the partitions still missing, then the mark. */
export function finishingSteps(
  partitions: readonly PartitionMetadata[],
  replicas: readonly ReplicaState[],
  maxItems = MAX_ITEMS_PER_TRANSACTION,
): TopicCreationStep[] {
  return withMark(pack(partitions, replicas, 0, maxItems), maxItems);
}

/** Whole partitions per step, in order; the first step keeps `reserved` items free (the topic item) and holds at least one partition. */
function pack(
  partitions: readonly PartitionMetadata[],
  replicas: readonly ReplicaState[],
  reserved: number,
  maxItems: number,
): TopicCreationStep[] {
  const steps: TopicCreationStep[] = [];
  let current: TopicCreationStep = { partitions: [], replicas: [], markCreated: false };
  let used = reserved;
  for (const partition of partitions) {
    const own = replicas.filter((r) => r.partition === partition.partition && r.topic === partition.topic);
    const size = 1 + own.length;
    if (reserved + size > maxItems) throw new Error(`a partition with its ${own.length} replica states does not fit one transaction of ${maxItems}`);
    if (used + size > maxItems) {
      steps.push(current);
      current = { partitions: [], replicas: [], markCreated: false };
      used = 0;
    }
    current.partitions.push(partition);
    current.replicas.push(...own);
    used += size;
  }
  steps.push(current);
  return steps;
}

/** The mark rides on the last step when it fits, else goes alone. */
function withMark(steps: TopicCreationStep[], maxItems: number): TopicCreationStep[] {
  const last = steps[steps.length - 1];
  if (last && stepItems(last) + 1 <= maxItems) return [...steps.slice(0, -1), { ...last, markCreated: true }];
  return [...steps, { partitions: [], replicas: [], markCreated: true }];
}
