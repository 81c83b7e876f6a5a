/**
 * Kafka's group coordinator over the GroupStore: each request reads the coordinator
 * partition (its leader and epoch are the fence of every write it makes), reads the group,
 * decides, and writes conditionally on both; a lost group condition is re-read and
 * re-decided. JoinGroup and SyncGroup wait for the rebalance within a bounded window
 * (groupJoinWaitMs), then answer `pending`, and the member calls again.
 */
import type * as wire from '../../protocol/messages.js';
import type { GroupDeps } from '../ports/index.js';
import { createTopic } from './create-topic.js';
import {
  CoordinatorNotAvailableError,
  FencedInstanceIdError,
  GroupChangedError,
  GroupIdNotFoundError,
  IllegalGenerationError,
  InconsistentGroupProtocolError,
  InvalidReplicationFactorError,
  InvalidSessionTimeoutError,
  MemberIdRequiredError,
  NotCoordinatorError,
  RebalanceInProgressError,
  TopicExistsError,
  UnknownMemberIdError,
  UnknownTopicError,
  ValidationError,
  type DomainError,
} from './errors.js';
import type { CommittedOffset, CoordinatorFence, Group, GroupMember } from './group-model.js';
import {
  OFFSETS_TOPIC,
  advanceBarrier,
  afterMembersLeft,
  coordinatorPartitionOf,
  findMember,
  joinedAnswer,
  newGroup,
  offsetsTopicMinInsync,
  requireConsistentProtocols,
  sameProtocols,
  startRebalance,
  tidy,
} from './group-rules.js';
import { GROUP_REJOIN_BACKOFF_MS, GROUP_WAIT_POLL_MS, MAX_OFFSETS_PER_COMMIT } from './limits.js';
import {
  parseFindCoordinatorRequest,
  parseGroupHeartbeatRequest,
  parseJoinGroupRequest,
  parseLeaveGroupRequest,
  parseOffsetCommitRequest,
  parseOffsetFetchRequest,
  parseSyncGroupRequest,
  type JoinGroupRequest,
  type OffsetCommitRequest,
  type SyncGroupRequest,
} from './requests.js';

/** Re-decisions after lost group conditions before the request is answered GroupChangedError (retriable). */
const MAX_GROUP_ATTEMPTS = 10;

// ---- the coordinator

/** Kafka's FindCoordinator: the leader of the group's offsets partition; the offsets topic is created on first use. */
export async function findCoordinator(deps: GroupDeps, input: unknown): Promise<wire.FindCoordinatorResponse> {
  const { groupId } = parseFindCoordinatorRequest(input);
  if ((await deps.metadata.getTopic(OFFSETS_TOPIC)) === null) await createOffsetsTopic(deps);
  const fence = await coordinatorOf(deps, groupId, undefined);
  return { groupId, topic: fence.topic, partition: fence.partition, coordinator: fence.leader, coordinatorEpoch: fence.leaderEpoch };
}

async function createOffsetsTopic(deps: GroupDeps): Promise<void> {
  const replicationFactor = deps.settings.offsetsTopicReplicationFactor;
  try {
    await createTopic(deps, {
      topic: OFFSETS_TOPIC,
      partitions: deps.settings.offsetsTopicNumPartitions,
      replicationFactor,
      minInsyncReplicas: offsetsTopicMinInsync(replicationFactor),
    });
  } catch (error) {
    if (error instanceof InvalidReplicationFactorError) {
      throw new CoordinatorNotAvailableError(`the offsets topic needs ${replicationFactor} live brokers: ${error.message}`);
    }
    // Another FindCoordinator created it (or is creating it: coordinatorOf answers until it is done).
    if (!(error instanceof TopicExistsError)) throw error;
  }
}

/** The group's coordinator as of now: its offsets partition's leader and epoch, which every write of this request is fenced on. */
export async function coordinatorOf(deps: GroupDeps, groupId: string, coordinatorEpoch: number | undefined): Promise<CoordinatorFence> {
  const partitionNumber = coordinatorPartitionOf(groupId, deps.settings.offsetsTopicNumPartitions);
  const partition = await deps.metadata.getPartition(OFFSETS_TOPIC, partitionNumber);
  if (partition === null) {
    throw new CoordinatorNotAvailableError(`the offsets topic ${OFFSETS_TOPIC} is not there yet: FindCoordinator creates it`);
  }
  if (partition.leader === null) {
    throw new CoordinatorNotAvailableError(`group "${groupId}": its offsets partition ${OFFSETS_TOPIC}-${partitionNumber} has no leader`);
  }
  if (coordinatorEpoch !== undefined && coordinatorEpoch !== partition.leaderEpoch) {
    throw new NotCoordinatorError(
      `group "${groupId}": coordinator epoch ${coordinatorEpoch} is not current; ${OFFSETS_TOPIC}-${partitionNumber} is led by ${partition.leader} at epoch ${partition.leaderEpoch}`,
    );
  }
  return { topic: OFFSETS_TOPIC, partition: partitionNumber, leader: partition.leader, leaderEpoch: partition.leaderEpoch };
}

// ---- the decide-and-write loop

/** `wait`: until when this phase of the rebalance may still hold calls (see `coordinate`). */
type Outcome<T> = { done: T } | { wait: number } | { refuse: DomainError };

interface Decision<T> {
  /** The group to write (null: delete it), or undefined: nothing to write. */
  write?: Group | null;
  /** Runs once `write` landed. */
  written?: () => void;
  putOffsets?: CommittedOffset[];
  outcome: Outcome<T>;
}

/**
 * Reads the group and decides on it until the decision is written (or needs no write). A
 * waiting decision reads again every GROUP_WAIT_POLL_MS, for at most `waitMs` and only
 * while its rebalance phase is young (its `wait`), then answers `pending`: a call made
 * later answers after one read, and the member calls again after GROUP_REJOIN_BACKOFF_MS,
 * waiting on its own side at no cost. A refusal thrown by `decide` writes nothing.
 */
async function coordinate<T>(
  deps: GroupDeps,
  fence: CoordinatorFence,
  groupId: string,
  decide: (group: Group | null, now: number) => Decision<T>,
  waitMs = 0,
): Promise<T | 'pending'> {
  const waitUntil = deps.clock.now() + waitMs;
  for (let conflicts = 0; ; ) {
    const group = await deps.groups.getGroup(groupId);
    const decision = decide(group, deps.clock.now());
    if (decision.write !== undefined) {
      try {
        await deps.groups.writeGroup({ fence, groupId, expectedVersion: group?.version ?? null, next: decision.write, putOffsets: decision.putOffsets });
        decision.written?.();
      } catch (error) {
        conflicts += 1;
        if (error instanceof GroupChangedError && conflicts < MAX_GROUP_ATTEMPTS) continue;
        throw error;
      }
    }
    const { outcome } = decision;
    if ('refuse' in outcome) throw outcome.refuse;
    if ('done' in outcome) return outcome.done;
    const left = Math.min(waitUntil, outcome.wait) - deps.clock.now();
    if (left <= 0) return 'pending';
    await deps.sleep(Math.min(GROUP_WAIT_POLL_MS, left));
  }
}

/** `coordinate` for a request that never waits: its decisions are done or refused. */
async function coordinateAtOnce<T>(deps: GroupDeps, fence: CoordinatorFence, groupId: string, decide: (group: Group | null, now: number) => Decision<T>): Promise<T> {
  const answer = await coordinate(deps, fence, groupId, decide);
  if (answer === 'pending') throw new Error(`a request to group "${groupId}" that never waits was answered pending`);
  return answer;
}

/** The group with what time alone changed applied; `changed` says whether that needs writing. */
function tidied(group: Group, now: number, deps: GroupDeps): { group: Group; changed: boolean } {
  return { group, changed: tidy(group, now, deps.settings).changed };
}

function requireMember(group: Group | null, request: { groupId: string; memberId: string; groupInstanceId?: string }): { group: Group; member: GroupMember } {
  const { groupId, memberId, groupInstanceId } = request;
  const instance = groupInstanceId === undefined ? undefined : group?.members.find((m) => m.groupInstanceId === groupInstanceId);
  if (group !== null && instance !== undefined && instance.memberId !== memberId) throw fencedInstance(group, instance, memberId);
  const member = group === null ? undefined : findMember(group, memberId);
  if (group === null || member === undefined) {
    throw new UnknownMemberIdError(`group "${groupId}" has no member ${memberId}${group === null ? ' (no such group)' : ''}; join with no member id`);
  }
  return { group, member };
}

function requireGeneration(group: Group, generationId: number, memberId: string): void {
  if (generationId !== group.generationId) {
    throw new IllegalGenerationError(`group "${group.groupId}" is at generation ${group.generationId}, not ${generationId} (member ${memberId}); join again`);
  }
}

// ---- JoinGroup

export async function joinGroup(deps: GroupDeps, input: unknown): Promise<wire.JoinGroupResponse> {
  let request = parseJoinGroupRequest(input);
  const { groupMinSessionTimeoutMs: min, groupMaxSessionTimeoutMs: max } = deps.settings;
  if (request.sessionTimeoutMs < min || request.sessionTimeoutMs > max) {
    throw new InvalidSessionTimeoutError(`"sessionTimeoutMs" must be between ${min} and ${max} (group.min/max.session.timeout.ms), got ${request.sessionTimeoutMs}`);
  }
  const fence = await coordinatorOf(deps, request.groupId, request.coordinatorEpoch);
  const answer = await coordinate(
    deps,
    fence,
    request.groupId,
    (group, now) => {
      const decision = decideJoin(deps, group, request, now);
      // A static member given its id joins under it from then on (once the write holding it landed).
      return { ...decision, written: () => (request = { ...request, memberId: decision.memberId }) };
    },
    deps.settings.groupJoinWaitMs,
  );
  return answer === 'pending' ? pendingAnswer(request.memberId) : answer;
}

const pendingAnswer = (memberId: string): wire.GroupCallPending => ({ memberId, pending: true, retryAfterMs: GROUP_REJOIN_BACKOFF_MS });

const nextMemberId = (group: Group, clientId: string): string => {
  const memberId = `${clientId}-${group.incarnation.toString(36)}-${group.nextMemberNumber}`;
  group.nextMemberNumber += 1;
  return memberId;
};

function decideJoin(deps: GroupDeps, stored: Group | null, request: JoinGroupRequest, now: number): Decision<wire.JoinedGroup> & { memberId: string } {
  if (stored === null && request.memberId !== '') {
    throw new UnknownMemberIdError(`group "${request.groupId}" does not exist; join with no member id`);
  }
  const { group, changed } = stored === null ? { group: newGroup(request.groupId, now), changed: true } : tidied(stored, now, deps);
  const instance = request.groupInstanceId === undefined ? undefined : group.members.find((m) => m.groupInstanceId === request.groupInstanceId);
  if (instance !== undefined && request.memberId !== '' && instance.memberId !== request.memberId) throw fencedInstance(group, instance, request.memberId);
  requireConsistentProtocols(group, instance?.memberId ?? request.memberId, request.protocolType, request.protocols);
  let memberId = request.memberId;
  let write = changed;
  if (memberId === '' && request.groupInstanceId === undefined) {
    // KIP-394: the id is recorded (until a session passes) before the member may use it.
    memberId = nextMemberId(group, request.clientId);
    group.pending.push({ memberId, deadlineMs: now + request.sessionTimeoutMs });
    return { write: group, memberId, outcome: { refuse: new MemberIdRequiredError(memberId) } };
  }
  if (memberId === '' && instance !== undefined) {
    // KIP-345: the restarted instance takes its old place under a new id, which fences the old one; no rebalance unless its subscriptions changed.
    memberId = nextMemberId(group, request.clientId);
    if (group.leader === instance.memberId) group.leader = memberId;
    const newProtocols = !sameProtocols(instance.protocols, request.protocols);
    Object.assign(instance, memberFields(request, memberId, now), { joined: group.state === 'PreparingRebalance' || newProtocols });
    if (newProtocols && group.state !== 'PreparingRebalance') startRebalance(group, now, deps.settings, memberId);
    advanceBarrier(group, now);
    write = true;
  } else if (findMember(group, memberId) === undefined) {
    if (memberId === '') {
      memberId = nextMemberId(group, request.clientId);
    } else {
      const pending = group.pending.findIndex((p) => p.memberId === memberId);
      if (pending < 0) throw new UnknownMemberIdError(`group "${request.groupId}" has no member ${memberId}; join with no member id`);
      group.pending.splice(pending, 1);
    }
    group.members.push({ ...memberFields(request, memberId, now), joined: true, assignment: null });
    group.protocolType ??= request.protocolType;
    if (group.state !== 'PreparingRebalance') startRebalance(group, now, deps.settings, memberId);
    advanceBarrier(group, now);
    write = true;
  } else {
    const member = findMember(group, memberId) as GroupMember;
    const newProtocols = !sameProtocols(member.protocols, request.protocols);
    const rejoin = () => {
      Object.assign(member, memberFields(request, memberId, now), { joined: true });
      write = true;
    };
    if (group.state === 'PreparingRebalance') {
      if (!member.joined || newProtocols) rejoin();
      if (advanceBarrier(group, now).length > 0 || group.state !== 'PreparingRebalance') write = true;
    } else if (newProtocols || (group.state === 'Stable' && group.leader === member.memberId)) {
      // Kafka: a follower rejoining with what it had gets the current generation; the leader's join means the subscriptions changed.
      rejoin();
      startRebalance(group, now, deps.settings, member.memberId);
      advanceBarrier(group, now);
    }
  }
  const joined = findMember(group, memberId);
  if (joined === undefined) throw new UnknownMemberIdError(`group "${request.groupId}" removed member ${memberId}; join with no member id`);
  const barrier = group.rebalance;
  const outcome: Outcome<wire.JoinedGroup> =
    group.state === 'PreparingRebalance' && barrier !== null
      ? { wait: Math.max(barrier.notBeforeMs, barrier.startedAt + deps.settings.groupJoinWaitMs) }
      : { done: joinedAnswer(group, joined) };
  return write ? { write: group, memberId, outcome } : { memberId, outcome };
}

/** What a JoinGroup sets on its member: the subscriptions, timeouts and a fresh session. */
const memberFields = (request: JoinGroupRequest, memberId: string, now: number): Omit<GroupMember, 'joined' | 'assignment'> => ({
  memberId,
  groupInstanceId: request.groupInstanceId ?? null,
  clientId: request.clientId,
  protocols: request.protocols,
  sessionTimeoutMs: request.sessionTimeoutMs,
  rebalanceTimeoutMs: request.rebalanceTimeoutMs,
  sessionDeadlineMs: now + request.sessionTimeoutMs,
});

const fencedInstance = (group: Group, instance: GroupMember, memberId: string): FencedInstanceIdError =>
  new FencedInstanceIdError(`group "${group.groupId}": instance ${instance.groupInstanceId ?? ''} is member ${instance.memberId} now, not ${memberId}`);

// ---- SyncGroup

export async function syncGroup(deps: GroupDeps, input: unknown): Promise<wire.SyncGroupResponse> {
  const request = parseSyncGroupRequest(input);
  const fence = await coordinatorOf(deps, request.groupId, request.coordinatorEpoch);
  const answer = await coordinate(deps, fence, request.groupId, (group, now) => decideSync(deps, group, request, now), deps.settings.groupJoinWaitMs);
  return answer === 'pending' ? pendingAnswer(request.memberId) : answer;
}

function decideSync(deps: GroupDeps, stored: Group | null, request: SyncGroupRequest, now: number): Decision<wire.SyncedGroup> {
  const { group, member } = requireMember(stored && tidied(stored, now, deps).group, request);
  requireGeneration(group, request.generationId, request.memberId);
  if (group.state === 'PreparingRebalance') throw new RebalanceInProgressError(`group "${group.groupId}" is rebalancing; join again`);
  for (const [field, given, actual] of [
    ['protocolType', request.protocolType, group.protocolType],
    ['protocolName', request.protocolName, group.protocolName],
  ] as const) {
    if (given !== undefined && given !== actual) throw new InconsistentGroupProtocolError(`"${field}" ${given} is not the group's (${actual ?? 'none'})`);
  }
  const answer = (): wire.SyncedGroup => ({
    memberId: member.memberId,
    generationId: group.generationId,
    protocolType: group.protocolType ?? '',
    protocolName: group.protocolName ?? '',
    assignment: findMember(group, member.memberId)?.assignment ?? '',
  });
  // Kafka's coordinator renews a member's session on its SyncGroup: the wait for the leader's assignment is not silence.
  const renewed = (): void => void (member.sessionDeadlineMs = now + member.sessionTimeoutMs);
  if (group.state === 'Stable') {
    renewed();
    return { write: group, outcome: { done: answer() } };
  }
  if (group.leader !== member.memberId) return { outcome: { wait: group.stateSince + deps.settings.groupJoinWaitMs } };
  renewed();
  const assignments = request.assignments ?? [];
  assignments.forEach(({ memberId }, index) => {
    if (findMember(group, memberId) === undefined) {
      throw new ValidationError(`"assignments[${index}].memberId": ${memberId} is not a member of generation ${group.generationId}`);
    }
  });
  for (const each of group.members) each.assignment = assignments.find((a) => a.memberId === each.memberId)?.assignment ?? '';
  group.state = 'Stable';
  group.stateSince = now;
  return { write: group, outcome: { done: answer() } };
}

// ---- Heartbeat and LeaveGroup

export async function groupHeartbeat(deps: GroupDeps, input: unknown): Promise<wire.GroupHeartbeatResponse> {
  const request = parseGroupHeartbeatRequest(input);
  const fence = await coordinatorOf(deps, request.groupId, request.coordinatorEpoch);
  return coordinateAtOnce(deps, fence, request.groupId, (stored, now): Decision<wire.GroupHeartbeatResponse> => {
    const { group, member } = requireMember(stored && tidied(stored, now, deps).group, request);
    requireGeneration(group, request.generationId, request.memberId);
    member.sessionDeadlineMs = now + member.sessionTimeoutMs;
    const outcome: Outcome<wire.GroupHeartbeatResponse> =
      group.state === 'PreparingRebalance'
        ? { refuse: new RebalanceInProgressError(`group "${group.groupId}" is rebalancing; join again`) }
        : { done: { memberId: member.memberId, generationId: group.generationId } };
    return { write: group, outcome };
  });
}

export async function leaveGroup(deps: GroupDeps, input: unknown): Promise<wire.LeaveGroupResponse> {
  const request = parseLeaveGroupRequest(input);
  const fence = await coordinatorOf(deps, request.groupId, request.coordinatorEpoch);
  return coordinateAtOnce(deps, fence, request.groupId, (stored, now): Decision<wire.LeaveGroupResponse> => {
    const group = stored && tidied(stored, now, deps).group;
    const pending = group?.pending.findIndex((p) => p.memberId === request.memberId) ?? -1;
    if (group !== null && pending >= 0) {
      group.pending.splice(pending, 1);
    } else {
      const known = requireMember(group, request).group;
      known.members = known.members.filter((member) => member.memberId !== request.memberId);
      afterMembersLeft(known, now, deps.settings);
    }
    return { write: group, outcome: { done: { memberId: request.memberId } } };
  });
}

// ---- offsets

export async function offsetCommit(deps: GroupDeps, input: unknown): Promise<wire.OffsetCommitResponse> {
  const request = parseOffsetCommitRequest(input);
  const fence = await coordinatorOf(deps, request.groupId, request.coordinatorEpoch);
  const refusals = await missingPartitions(deps, request.offsets);
  const now = deps.clock.now();
  const offsets: CommittedOffset[] = request.offsets
    .filter((_, index) => !refusals.has(index))
    .map((offset) => ({ groupId: request.groupId, ...offset, committedAt: now }));
  if (offsets.length > 0) {
    if (request.generationId === -1) await commitOutsideGroup(deps, fence, request.groupId, offsets);
    else await commitAsMember(deps, fence, request, offsets);
  }
  return {
    partitions: request.offsets.map(({ topic, partition }, index) => {
      const refusal = refusals.get(index);
      return refusal ? { topic, partition, errorType: refusal.name, errorMessage: refusal.message } : { topic, partition };
    }),
  };
}

/** Kafka answers each partition of a missing topic, or beyond its partitions, UNKNOWN_TOPIC_OR_PARTITION, and commits the rest. */
async function missingPartitions(deps: GroupDeps, offsets: ReadonlyArray<{ topic: string; partition: number }>): Promise<Map<number, UnknownTopicError>> {
  const topics = new Map<string, number | null>();
  for (const { topic } of offsets) if (!topics.has(topic)) topics.set(topic, (await deps.metadata.getTopic(topic))?.partitions ?? null);
  const refusals = new Map<number, UnknownTopicError>();
  offsets.forEach(({ topic, partition }, index) => {
    const count = topics.get(topic) ?? null;
    if (count === null) refusals.set(index, new UnknownTopicError(`topic "${topic}" does not exist`));
    else if (partition > count) refusals.set(index, new UnknownTopicError(`partition ${partition} does not exist: topic "${topic}" has partitions 1 to ${count}`));
  });
  return refusals;
}

/** Generation -1: Kafka's commit for a group with no members (e.g. an admin resetting offsets); it creates the group. */
async function commitOutsideGroup(deps: GroupDeps, fence: CoordinatorFence, groupId: string, offsets: CommittedOffset[]): Promise<void> {
  await coordinateAtOnce(deps, fence, groupId, (stored, now): Decision<true> => {
    const group = stored === null ? newGroup(groupId, now) : tidied(stored, now, deps).group;
    if (group.members.length > 0) {
      throw new UnknownMemberIdError(`group "${groupId}" has members: a commit with generation -1 is for an empty group only; commit as a member`);
    }
    // Written through the group item, whose version fences it against a join and the sweep's expiry.
    return { write: group, putOffsets: offsets, outcome: { done: true } };
  });
}

async function commitAsMember(deps: GroupDeps, fence: CoordinatorFence, request: OffsetCommitRequest, offsets: CommittedOffset[]): Promise<void> {
  const { groupId, generationId, memberId } = request;
  for (let attempt = 1; ; attempt += 1) {
    const stored = await deps.groups.getGroup(groupId);
    if (stored === null) throw new GroupIdNotFoundError(`group "${groupId}" does not exist`);
    const { group } = requireMember(tidied(stored, deps.clock.now(), deps).group, request);
    requireGeneration(group, generationId, memberId);
    if (group.state === 'CompletingRebalance') {
      throw new RebalanceInProgressError(`group "${groupId}" is completing a rebalance: generation ${generationId}'s assignment is not out yet`);
    }
    try {
      await deps.groups.commitMemberOffsets({ fence, groupId, generationId, memberId, offsets });
      return;
    } catch (error) {
      if (!(error instanceof GroupChangedError) || attempt >= MAX_GROUP_ATTEMPTS) throw error;
    }
  }
}

export async function offsetFetch(deps: GroupDeps, input: unknown): Promise<wire.OffsetFetchResponse> {
  const request = parseOffsetFetchRequest(input);
  await coordinatorOf(deps, request.groupId, request.coordinatorEpoch);
  const committed = await deps.groups.getOffsets(request.groupId);
  const fetched = (offset: CommittedOffset): wire.FetchedOffset => ({
    topic: offset.topic,
    partition: offset.partition,
    offset: offset.offset,
    committedLeaderEpoch: offset.committedLeaderEpoch,
    metadata: offset.metadata,
  });
  if (request.partitions === undefined) return { partitions: committed.map(fetched) };
  return {
    partitions: request.partitions.map(({ topic, partition }) => {
      const offset = committed.find((c) => c.topic === topic && c.partition === partition);
      return offset ? fetched(offset) : { topic, partition, offset: -1, committedLeaderEpoch: -1, metadata: '' };
    }),
  };
}

// ---- the sweep

/**
 * What time alone changes in every group, as a schedule runs it: lapsed sessions and
 * rebalance timeouts (tidy), and an empty group's offsets offsets.retention.minutes after
 * both their commit and the group's emptying (KIP-211); an empty group with nothing left is
 * deleted. Each group is written by its coordinator as of the sweep (fenced like any
 * request); a group whose coordinator is unavailable or moves meanwhile is left for the next run.
 */
export async function sweepGroups(deps: GroupDeps): Promise<wire.SweepGroupsResponse> {
  const result: wire.SweepGroupsResponse = { expiredMembers: [], expiredOffsets: 0, deletedGroups: [] };
  for (const { groupId } of await deps.groups.listGroups()) {
    try {
      await sweepGroup(deps, await coordinatorOf(deps, groupId, undefined), groupId, result);
    } catch (error) {
      // This group's coordinator is moving, or its members keep writing: the next run sweeps it.
      if (error instanceof CoordinatorNotAvailableError || error instanceof NotCoordinatorError || error instanceof GroupChangedError) continue;
      throw error;
    }
  }
  return result;
}

async function sweepGroup(deps: GroupDeps, fence: CoordinatorFence, groupId: string, result: wire.SweepGroupsResponse): Promise<void> {
  const retentionMs = deps.settings.offsetsRetentionMinutes * 60_000;
  for (let more = true, conflicts = 0; more; ) {
    const stored = await deps.groups.getGroup(groupId);
    if (stored === null) return;
    const now = deps.clock.now();
    const { removed, changed } = tidy(stored, now, deps.settings);
    const committed = stored.state === 'Empty' ? await deps.groups.getOffsets(groupId) : [];
    const expired = committed.filter((offset) => now >= Math.max(offset.committedAt, stored.stateSince) + retentionMs);
    // A transaction holds at most MAX_OFFSETS_PER_COMMIT deletions: larger expiries take several writes.
    const deleting = expired.slice(0, MAX_OFFSETS_PER_COMMIT);
    const deleteGroup = stored.state === 'Empty' && stored.pending.length === 0 && deleting.length === committed.length;
    if (!changed && deleting.length === 0 && !deleteGroup) return;
    try {
      await deps.groups.writeGroup({ fence, groupId, expectedVersion: stored.version, next: deleteGroup ? null : stored, deleteOffsets: deleting });
    } catch (error) {
      conflicts += 1;
      if (error instanceof GroupChangedError && conflicts < MAX_GROUP_ATTEMPTS) continue;
      throw error;
    }
    result.expiredMembers.push(...removed.map((memberId) => ({ groupId, memberId })));
    result.expiredOffsets += deleting.length;
    if (deleteGroup) result.deletedGroups.push(groupId);
    more = !deleteGroup && expired.length > deleting.length;
  }
}
