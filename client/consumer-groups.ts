/**
 * The operator's calls on consumer groups, shared by the CLI (`consumer-groups`) and the
 * console: the groups function's ListGroups, DescribeGroups and OffsetFetch with describe's
 * high watermarks, read into the view of consumer-group-view.ts; and Kafka's offset reset for
 * a group with no members, the one thing here that writes.
 */
import type { GroupStateName, ListedGroup } from '../protocol/messages.js';
import { buildGroupView, highWatermarks, type ConsumerGroupView } from './consumer-group-view.js';
import { RemoteFunctionError, type LeadershipClient } from './lambda-client.js';
import { ClientError, withRetries } from './retry.js';

/** A group's state refuses what was asked (a reset of a group with members, a group that does not exist). */
export class ConsumerGroupStateError extends Error {
  override readonly name = 'ConsumerGroupStateError';
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
