/**
 * Kafka's embedded consumer protocol (protocol type "consumer"): what a consumer puts in its
 * JoinGroup metadata (its subscription) and what the group's leader puts in each member's
 * SyncGroup assignment. The coordinator passes both through as opaque strings; the client,
 * the CLI and the console read them with this one codec. JSON, versioned, holding the fields
 * of Kafka's ConsumerProtocolSubscription v1 / ConsumerProtocolAssignment v1
 * (ownedPartitions is what the cooperative protocol, KIP-429, needs).
 */

export const CONSUMER_PROTOCOL_TYPE = 'consumer';
export const CONSUMER_PROTOCOL_VERSION = 1;

/** Kafka's assignor names, as partition.assignment.strategy lists them (the JoinGroup protocol names). */
export const ASSIGNOR_NAMES = ['cooperative-sticky', 'range', 'roundrobin'] as const;
export type AssignorName = (typeof ASSIGNOR_NAMES)[number];

export interface TopicPartitions {
  topic: string;
  /** Partition numbers (1-based, as everywhere in this project), ascending. */
  partitions: number[];
}

export interface ConsumerSubscription {
  version: number;
  topics: string[];
  /** The partitions the member owns now: kept through a cooperative rebalance until revoked. */
  ownedPartitions: TopicPartitions[];
  /** Assignor-specific bytes (Kafka's userData), e.g. the generation a sticky assignor saw. */
  userData?: string;
}

export interface ConsumerAssignment {
  version: number;
  partitions: TopicPartitions[];
  userData?: string;
}

export class ConsumerProtocolError extends Error {
  override name = 'ConsumerProtocolError';
}

export const encodeSubscription = (subscription: Omit<ConsumerSubscription, 'version'>): string =>
  JSON.stringify({ version: CONSUMER_PROTOCOL_VERSION, ...subscription });

export const encodeAssignment = (assignment: Omit<ConsumerAssignment, 'version'>): string =>
  JSON.stringify({ version: CONSUMER_PROTOCOL_VERSION, ...assignment });

function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConsumerProtocolError(`${what} is not JSON: ${text.slice(0, 40)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConsumerProtocolError(`${what} must be a JSON object`);
  const { version } = value as Record<string, unknown>;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) throw new ConsumerProtocolError(`${what}: "version" must be a non-negative integer`);
  return value as Record<string, unknown>;
}

function topicPartitions(value: unknown, what: string): TopicPartitions[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConsumerProtocolError(`${what} must be an array`);
  return value.map((entry: unknown, index) => {
    const { topic, partitions } = (entry ?? {}) as Record<string, unknown>;
    if (typeof topic !== 'string' || topic === '') throw new ConsumerProtocolError(`${what}[${index}].topic must be a topic name`);
    if (!Array.isArray(partitions) || !partitions.every((p) => Number.isInteger(p) && (p as number) >= 1)) {
      throw new ConsumerProtocolError(`${what}[${index}].partitions must be partition numbers (1 and up)`);
    }
    return { topic, partitions: [...(partitions as number[])].sort((a, b) => a - b) };
  });
}

const userDataOf = (value: unknown, what: string): { userData?: string } => {
  if (value === undefined) return {};
  if (typeof value !== 'string') throw new ConsumerProtocolError(`${what}.userData must be a string`);
  return { userData: value };
};

/** A member's subscription; "" (a member that offered nothing) reads as no topics. Versions past ours are read for the fields we know, as Kafka's are. */
export function decodeSubscription(text: string): ConsumerSubscription {
  if (text === '') return { version: CONSUMER_PROTOCOL_VERSION, topics: [], ownedPartitions: [] };
  const fields = parseObject(text, 'subscription');
  const { topics } = fields;
  if (!Array.isArray(topics) || !topics.every((t) => typeof t === 'string' && t !== '')) {
    throw new ConsumerProtocolError('subscription.topics must be an array of topic names');
  }
  return {
    version: fields.version as number,
    topics: topics as string[],
    ownedPartitions: topicPartitions(fields.ownedPartitions, 'subscription.ownedPartitions'),
    ...userDataOf(fields.userData, 'subscription'),
  };
}

/** A member's assignment; "" (the leader gave it none) reads as no partitions. */
export function decodeAssignment(text: string): ConsumerAssignment {
  if (text === '') return { version: CONSUMER_PROTOCOL_VERSION, partitions: [] };
  const fields = parseObject(text, 'assignment');
  return {
    version: fields.version as number,
    partitions: topicPartitions(fields.partitions, 'assignment.partitions'),
    ...userDataOf(fields.userData, 'assignment'),
  };
}
