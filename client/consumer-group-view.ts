/**
 * What an operator reads of a consumer group (the CLI's consumer-groups describe, the
 * console's Groups panel): its members with the partitions each holds, and per partition the
 * committed offset, the log end and the lag. Pure and free of Node and SDK types, so the
 * console's page imports its types too; client/consumer-groups.ts makes the calls.
 */
import { ConsumerProtocolError, decodeAssignment, type TopicPartitions } from '../protocol/consumer-protocol.js';
import type { DescribedGroup, FetchedOffset, TopicSummary } from '../protocol/messages.js';

export interface GroupMemberView {
  memberId: string;
  clientId: string;
  groupInstanceId: string | null;
  /** What the member holds in the current generation (none before its SyncGroup). */
  partitions: TopicPartitions[];
  /** Set when its assignment is not the consumer protocol's (another protocol type, or bytes we cannot read). */
  assignmentError?: string;
}

/** One partition a group owns or has committed, as kafka-consumer-groups --describe prints it. */
export interface GroupPartitionView {
  topic: string;
  partition: number;
  /** The group's committed offset; null where it committed none. */
  currentOffset: number | null;
  /** The partition's high watermark; null when describe does not know the topic. */
  logEndOffset: number | null;
  lag: number | null;
  /** The member that owns it in the current generation; null for a commit no member owns. */
  memberId: string | null;
  clientId: string | null;
}

/** DescribeGroups' answer for the group, its members' assignments read, and its partitions. */
export interface ConsumerGroupView extends Omit<DescribedGroup, 'members'> {
  members: GroupMemberView[];
  /** By topic, then partition. */
  partitions: GroupPartitionView[];
}

/** Log end minus committed offset, never below 0 (a commit past a truncated log end reads as no lag); null when either is unknown. */
export function lagOf(currentOffset: number | null, logEndOffset: number | null): number | null {
  if (currentOffset === null || logEndOffset === null) return null;
  return Math.max(0, logEndOffset - currentOffset);
}

/** Each topic's high watermarks by partition, from describe's answer. */
export function highWatermarks(topics: readonly TopicSummary[]): Map<string, Map<number, number>> {
  return new Map(topics.map((topic) => [topic.topic, new Map(topic.partitions.map((view) => [view.Partition, view.HighWatermark]))]));
}

function membersOf(described: DescribedGroup): GroupMemberView[] {
  return described.members.map((member) => {
    const base = { memberId: member.memberId, clientId: member.clientId, groupInstanceId: member.groupInstanceId };
    try {
      return { ...base, partitions: decodeAssignment(member.assignment).partitions };
    } catch (error) {
      if (!(error instanceof ConsumerProtocolError)) throw error;
      return { ...base, partitions: [], assignmentError: error.message };
    }
  });
}

const byTopicPartition = (a: { topic: string; partition: number }, b: { topic: string; partition: number }): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;

/**
 * The group as an operator reads it: every partition a member owns or the group committed,
 * with its owner, committed offset, log end and lag. Pure: the caller fetched the three answers.
 */
export function buildGroupView(described: DescribedGroup, committed: readonly FetchedOffset[], logEnds: Map<string, Map<number, number>>): ConsumerGroupView {
  const members = membersOf(described);
  const rows = new Map<string, GroupPartitionView>();
  const row = (topic: string, partition: number): GroupPartitionView => {
    const key = `${topic}\u0000${partition}`;
    let found = rows.get(key);
    if (!found) {
      const logEndOffset = logEnds.get(topic)?.get(partition) ?? null;
      found = { topic, partition, currentOffset: null, logEndOffset, lag: null, memberId: null, clientId: null };
      rows.set(key, found);
    }
    return found;
  };
  for (const member of members) {
    for (const { topic, partitions } of member.partitions) {
      for (const partition of partitions) Object.assign(row(topic, partition), { memberId: member.memberId, clientId: member.clientId });
    }
  }
  for (const offset of committed) if (offset.offset >= 0) row(offset.topic, offset.partition).currentOffset = offset.offset;
  const partitions = [...rows.values()].sort(byTopicPartition).map((view) => ({ ...view, lag: lagOf(view.currentOffset, view.logEndOffset) }));
  return { ...described, members, partitions };
}

/** "orders(1,2),payments(3)", Kafka's verbose ASSIGNMENT column. */
export function formatAssignment(partitions: readonly TopicPartitions[]): string {
  return partitions
    .filter((entry) => entry.partitions.length > 0)
    .map((entry) => `${entry.topic}(${entry.partitions.join(',')})`)
    .join(',');
}
