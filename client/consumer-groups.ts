/**
 * The operator's view of consumer groups, shared by the CLI (`consumer-groups`) and the
 * console: who owns which partition, the committed offset beside the log end (the lag), and
 * Kafka's offset reset for a group with no members. Built from the groups function's
 * DescribeGroups and OffsetFetch, the embedded consumer protocol (a member's assignment) and
 * describe's high watermarks; nothing here writes but `resetConsumerGroupOffsets`.
 */
import { ConsumerProtocolError, decodeAssignment, type TopicPartitions } from '../protocol/consumer-protocol.js';
import type { DescribedGroup, FetchedOffset, GroupStateName, ListedGroup, TopicSummary } from '../protocol/messages.js';
import { RemoteFunctionError, type LeadershipClient } from './lambda-client.js';
import { ClientError, withRetries } from './retry.js';

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

export interface ConsumerGroupView {
  groupId: string;
  state: GroupStateName | 'Dead';
  protocolType: string;
  protocolName: string;
  generationId: number;
  leader: string | null;
  coordinator: string | null;
  coordinatorEpoch: number;
  members: GroupMemberView[];
  /** By topic, then partition. */
  partitions: GroupPartitionView[];
}

/** A group's state refuses what was asked (a reset of a group with members, a group that does not exist). */
export class ConsumerGroupStateError extends Error {
  override readonly name = 'ConsumerGroupStateError';
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
  return {
    groupId: described.groupId,
    state: described.state,
    protocolType: described.protocolType,
    protocolName: described.protocolName,
    generationId: described.generationId,
    leader: described.leader,
    coordinator: described.coordinator,
    coordinatorEpoch: described.coordinatorEpoch,
    members,
    partitions,
  };
}

export interface GroupCallOptions {
  /** The overall deadline of each call, retries included (a coordinator moving, a conflict). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export function listConsumerGroups(client: LeadershipClient, states?: GroupStateName[], options: GroupCallOptions = {}): Promise<ListedGroup[]> {
  return withRetries('ListGroups', options.timeoutMs ?? DEFAULT_TIMEOUT_MS, {}, async () => {
    const answer = await client.invoke('groups', { api: 'ListGroups', ...(states && states.length > 0 ? { states } : {}) });
    return answer.groups;
  });
}

/**
 * The groups (one DescribeGroups for all of them), each with its committed offsets (an
 * OffsetFetch per group that exists) and the log ends of one describe of the cluster. A group
 * that does not exist comes back Dead with nothing in it, as Kafka's DescribeGroups answers it.
 */
export async function describeConsumerGroups(client: LeadershipClient, groupIds: string[], options: GroupCallOptions = {}): Promise<ConsumerGroupView[]> {
  return (await readGroups(client, groupIds, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)).views;
}

async function readGroups(client: LeadershipClient, groupIds: string[], timeoutMs: number): Promise<{ views: ConsumerGroupView[]; logEnds: Map<string, Map<number, number>> }> {
  const cluster = await withRetries('describe', timeoutMs, {}, () => client.describe());
  const logEnds = highWatermarks(cluster.topics);
  return { views: await groupViews(client, groupIds, logEnds, { timeoutMs }), logEnds };
}

/** The groups against log ends the caller already has (the console's last describe): one DescribeGroups, an OffsetFetch per group that exists. */
export async function groupViews(client: LeadershipClient, groupIds: string[], logEnds: Map<string, Map<number, number>>, options: GroupCallOptions = {}): Promise<ConsumerGroupView[]> {
  if (groupIds.length === 0) return [];
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const described = await withRetries('DescribeGroups', timeoutMs, {}, () => client.invoke('groups', { api: 'DescribeGroups', groupIds }));
  return Promise.all(
    described.groups.map(async (group) => {
      const committed =
        group.state === 'Dead' ? [] : (await withRetries('OffsetFetch', timeoutMs, {}, () => client.invoke('groups', { api: 'OffsetFetch', groupId: group.groupId }))).partitions;
      return buildGroupView(group, committed, logEnds);
    }),
  );
}

/** "orders(1,2),payments(3)", Kafka's verbose ASSIGNMENT column. */
export function formatAssignment(partitions: readonly TopicPartitions[]): string {
  return partitions
    .filter((entry) => entry.partitions.length > 0)
    .map((entry) => `${entry.topic}(${entry.partitions.join(',')})`)
    .join(',');
}

// ---- reset-offsets

export type OffsetResetSpec = { to: 'earliest' } | { to: 'latest' } | { to: 'offset'; offset: number } | { to: 'shift'; by: number };

/** Which partitions to reset: one topic (all its partitions, or those listed), or every topic the group committed. */
export type OffsetResetScope = { topic: string; partitions?: number[] } | { allTopics: true };

export interface PlannedOffsetReset {
  topic: string;
  partition: number;
  currentOffset: number | null;
  newOffset: number;
  /** Set when the offset asked for was outside the log and was moved to its nearest end, as Kafka does. */
  clamped?: string;
}

/** The log's first offset: records are never deleted from a partition's log, so it is 0. */
const EARLIEST_OFFSET = 0;

/**
 * Kafka's plan for a reset: each partition's new offset, clamped to [earliest, log end]. Bad
 * input (an unknown topic or partition, a shift of a partition with no committed offset) is a
 * ClientError naming it, before anything is written.
 */
export function planOffsetReset(view: ConsumerGroupView, logEnds: Map<string, Map<number, number>>, scope: OffsetResetScope, spec: OffsetResetSpec): PlannedOffsetReset[] {
  const targets: Array<{ topic: string; partition: number }> = [];
  if ('allTopics' in scope) {
    const topics = [...new Set(view.partitions.filter((row) => row.currentOffset !== null).map((row) => row.topic))];
    if (topics.length === 0) throw new ClientError(`--all-topics: group "${view.groupId}" has committed no offsets; name a --topic`);
    for (const topic of topics) for (const partition of [...(logEnds.get(topic)?.keys() ?? [])].sort((a, b) => a - b)) targets.push({ topic, partition });
  } else {
    const partitions = logEnds.get(scope.topic);
    if (!partitions) throw new ClientError(`--topic: topic "${scope.topic}" does not exist`);
    const chosen = scope.partitions ?? [...partitions.keys()].sort((a, b) => a - b);
    for (const partition of chosen) {
      if (!partitions.has(partition)) throw new ClientError(`--topic: topic "${scope.topic}" has partitions 1 to ${partitions.size}, not ${partition}`);
      targets.push({ topic: scope.topic, partition });
    }
  }
  return targets.map(({ topic, partition }) => {
    const logEnd = logEnds.get(topic)!.get(partition)!;
    const currentOffset = view.partitions.find((row) => row.topic === topic && row.partition === partition)?.currentOffset ?? null;
    let wanted: number;
    switch (spec.to) {
      case 'earliest':
        return { topic, partition, currentOffset, newOffset: EARLIEST_OFFSET };
      case 'latest':
        return { topic, partition, currentOffset, newOffset: logEnd };
      case 'offset':
        wanted = spec.offset;
        break;
      case 'shift':
        if (currentOffset === null) throw new ClientError(`--shift-by: group "${view.groupId}" has no committed offset for ${topic}-${partition} to shift`);
        wanted = currentOffset + spec.by;
        break;
    }
    if (wanted > logEnd) return { topic, partition, currentOffset, newOffset: logEnd, clamped: `${wanted} is past the log end ${logEnd} of ${topic}-${partition}: set to ${logEnd}` };
    if (wanted < EARLIEST_OFFSET) return { topic, partition, currentOffset, newOffset: EARLIEST_OFFSET, clamped: `${wanted} is before the earliest offset ${EARLIEST_OFFSET} of ${topic}-${partition}: set to ${EARLIEST_OFFSET}` };
    return { topic, partition, currentOffset, newOffset: wanted };
  });
}

export interface OffsetResetResult {
  groupId: string;
  /** The group's state when the plan was made. */
  state: ConsumerGroupView['state'];
  executed: boolean;
  partitions: PlannedOffsetReset[];
}

/** Kafka's rule: only a group with no members (Empty, or Dead: none yet) has its offsets reset by an admin. */
function requireInactive(groupId: string, state: ConsumerGroupView['state']): void {
  if (state === 'Empty' || state === 'Dead') return;
  throw new ConsumerGroupStateError(`Assignments can only be reset if the group "${groupId}" is inactive, but the current state is ${state}`);
}

/**
 * kafka-consumer-groups --reset-offsets: plans the new offsets and, with `execute`, commits
 * them with generation -1 (a commit outside the group protocol), which the coordinator takes
 * for a group with no members only. A member that joins between the plan and the commit makes
 * the coordinator refuse it (UnknownMemberIdError), and nothing is written.
 */
export async function resetConsumerGroupOffsets(
  client: LeadershipClient,
  groupId: string,
  scope: OffsetResetScope,
  spec: OffsetResetSpec,
  execute: boolean,
  options: GroupCallOptions = {},
): Promise<OffsetResetResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const {
    views: [view],
    logEnds,
  } = await readGroups(client, [groupId], timeoutMs);
  requireInactive(groupId, view.state);
  const partitions = planOffsetReset(view, logEnds, scope, spec);
  if (!execute) return { groupId, state: view.state, executed: false, partitions };
  const answer = await withRetries('OffsetCommit', timeoutMs, {}, async () => {
    // The coordinator as of this attempt: a commit naming a deposed one's epoch is NOT_COORDINATOR, and is retried here.
    const { coordinatorEpoch } = await client.invoke('groups', { api: 'FindCoordinator', groupId });
    return client.invoke('groups', {
      api: 'OffsetCommit',
      groupId,
      coordinatorEpoch,
      generationId: -1,
      offsets: partitions.map(({ topic, partition, newOffset }) => ({ topic, partition, offset: newOffset })),
    });
  }).catch((error: unknown) => {
    if (error instanceof RemoteFunctionError && error.errorType === 'UnknownMemberIdError') {
      throw new ConsumerGroupStateError(
        `Assignments can only be reset if the group "${groupId}" is inactive: a member joined after the plan was made, and the coordinator refused the commit (nothing was written)`,
      );
    }
    throw error;
  });
  const refused = answer.partitions.filter((partition) => 'errorType' in partition);
  if (refused.length > 0) {
    const list = refused.map((p) => `${p.topic}-${p.partition}: ${'errorType' in p ? `${p.errorType}: ${p.errorMessage}` : ''}`).join('; ');
    throw new ConsumerGroupStateError(`the coordinator refused ${refused.length} of ${partitions.length} partition(s): ${list}`);
  }
  return { groupId, state: view.state, executed: true, partitions };
}
