/**
 * Consumer groups over the memory stores: the classic protocol's membership, the bounded
 * rebalance barrier, fenced commits, and a coordinator that moves with its partition's
 * leadership.
 */
import { describe, expect, it } from 'vitest';
import {
  FencedInstanceIdError,
  GroupChangedError,
  IllegalGenerationError,
  InconsistentGroupProtocolError,
  InvalidSessionTimeoutError,
  MemberIdRequiredError,
  NotCoordinatorError,
  RebalanceInProgressError,
  UnknownMemberIdError,
  ValidationError,
  coordinatorPartitionOf,
  findCoordinator,
  groupHeartbeat,
  joinGroup,
  leaveGroup,
  offsetCommit,
  offsetFetch,
  sweepGroups,
  syncGroup,
  type JoinedGroup,
  type SyncedGroup,
} from '../../../functions/domain/index.js';
import type { MemoryDeps } from '../../../functions/adapters/memory/index.js';
import { conflictRefusal } from '../../../functions/adapters/memory/conflicts.js';
import { GROUP_REJOIN_BACKOFF_MS, GROUP_WAIT_POLL_MS } from '../../../functions/domain/limits.js';
import { ClusterHarness, type HarnessOptions } from '../../factories/cluster.js';

const GROUP = 'orders-app';
const PARTITIONS = 6;
const SUBSCRIPTION = JSON.stringify({ topics: ['orders'] });
const PROTOCOLS = [{ name: 'range', metadata: SUBSCRIPTION }];

async function groupCluster(options: HarnessOptions = {}): Promise<{ cluster: ClusterHarness; deps: MemoryDeps }> {
  const cluster = new ClusterHarness(options);
  await cluster.start('A', 'B', 'C');
  await cluster.createTopic('orders', PARTITIONS, 3);
  await findCoordinator(cluster.deps, { groupId: GROUP });
  return { cluster, deps: cluster.deps };
}

/** Everything the group coordinator could have written. */
const groupTables = (deps: MemoryDeps): string =>
  JSON.stringify({ groups: [...deps.tables.groups], offsets: [...deps.tables.groupOffsets].map(([id, offsets]) => [id, [...offsets]]) });

const join = (deps: MemoryDeps, memberId: string, extra: object = {}) =>
  joinGroup(deps, { groupId: GROUP, memberId, protocolType: 'consumer', protocols: PROTOCOLS, ...extra });

/** KIP-394's first round: the group hands out a member id. */
async function memberIdFor(deps: MemoryDeps, extra: object = {}): Promise<string> {
  const refusal = await join(deps, '', extra).then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(refusal instanceof MemberIdRequiredError)) throw new Error(`expected MEMBER_ID_REQUIRED, got ${String(refusal)}`);
  return refusal.memberId;
}

/** A member joins as a client would: again while the answer is `pending`. */
async function joinUntilDone(deps: MemoryDeps, memberId: string, extra: object = {}): Promise<JoinedGroup> {
  for (;;) {
    const answer = await join(deps, memberId, extra);
    if (!('pending' in answer)) return answer;
    deps.clock.advance(answer.retryAfterMs);
  }
}

async function syncUntilDone(deps: MemoryDeps, joined: JoinedGroup, assign?: (members: string[]) => Map<string, number[]>): Promise<SyncedGroup> {
  const assignments = assign && [...assign(joined.members.map((m) => m.memberId))].map(([memberId, partitions]) => ({ memberId, assignment: JSON.stringify(partitions) }));
  for (;;) {
    const answer = await syncGroup(deps, { groupId: GROUP, memberId: joined.memberId, generationId: joined.generationId, ...(assignments ? { assignments } : {}) });
    if (!('pending' in answer)) return answer;
    deps.clock.advance(answer.retryAfterMs);
  }
}

/** A range assignor over the test topic's partitions. */
function rangeAssign(members: string[]): Map<string, number[]> {
  const sorted = [...members].sort();
  const parts = new Map<string, number[]>(sorted.map((m) => [m, []]));
  for (let p = 1; p <= PARTITIONS; p += 1) parts.get(sorted[(p - 1) % sorted.length])?.push(p);
  return parts;
}

/** Members join together and sync; the leader assigns with rangeAssign. */
async function rebalance(deps: MemoryDeps, memberIds: string[], extra: object = {}): Promise<SyncedGroup[]> {
  const joined = await Promise.all(memberIds.map((id) => joinUntilDone(deps, id, extra)));
  return Promise.all(joined.map((j) => syncUntilDone(deps, j, j.leader === j.memberId ? rangeAssign : undefined)));
}

/** No partition owned by two members of one generation. */
function expectDisjoint(synced: SyncedGroup[]): void {
  const owner = new Map<string, string>();
  for (const { generationId, memberId, assignment } of synced) {
    for (const partition of JSON.parse(assignment) as number[]) {
      const key = `${generationId}/${partition}`;
      expect(owner.get(key), `partition ${partition} in generation ${generationId}`).toBeUndefined();
      owner.set(key, memberId);
    }
  }
}

const commit = (deps: MemoryDeps, member: { memberId: string; generationId: number }, offsets: Array<[number, number]>, extra: object = {}) =>
  offsetCommit(deps, {
    groupId: GROUP,
    memberId: member.memberId,
    generationId: member.generationId,
    offsets: offsets.map(([partition, offset]) => ({ topic: 'orders', partition, offset, committedLeaderEpoch: 1, metadata: 'm' })),
    ...extra,
  });

const fetchOffsets = async (deps: MemoryDeps, groupId = GROUP) =>
  (await offsetFetch(deps, { groupId, partitions: [1, 2, 3].map((partition) => ({ topic: 'orders', partition })) })).partitions.map((p) => [p.partition, p.offset, p.committedLeaderEpoch]);

describe('the coordinator', () => {
  it("is the leader of the group's partition of the offsets topic, Kafka's abs(hashCode) % 50, from 1", async () => {
    expect(coordinatorPartitionOf('test', 50)).toBe((3556498 % 50) + 1);
    // Its String.hashCode is Integer.MIN_VALUE, which Kafka's Utils.abs maps to 0.
    expect(coordinatorPartitionOf('polygenelubricants', 50)).toBe(1);
    const { cluster, deps } = await groupCluster();
    const found = await findCoordinator(deps, { groupId: GROUP });
    const partition = await cluster.partition('__consumer_offsets', coordinatorPartitionOf(GROUP, 50));
    expect(found).toEqual({ groupId: GROUP, topic: '__consumer_offsets', partition: partition.partition, coordinator: partition.leader, coordinatorEpoch: partition.leaderEpoch });
    expect(await deps.metadata.getTopic('__consumer_offsets')).toMatchObject({ partitions: 50, replicationFactor: 3, minInsyncReplicas: 2 });
  });
});

describe('joining a group', () => {
  it('gives a new member its id with MEMBER_ID_REQUIRED, and takes only ids it gave', async () => {
    const { deps } = await groupCluster();
    const refusal = await join(deps, '').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(MemberIdRequiredError);
    const memberId = (refusal as MemberIdRequiredError).memberId;
    expect((refusal as Error).message).toContain(`[member id ${memberId}]`);
    await expect(join(deps, 'consumer-made-up-1')).rejects.toThrow(UnknownMemberIdError);
    const joined = await joinUntilDone(deps, memberId);
    expect(joined).toMatchObject({ memberId, generationId: 1, leader: memberId, protocolName: 'range', members: [{ memberId, metadata: SUBSCRIPTION }] });
  });

  it('puts three members in one generation; the leader gets every subscription, and each SyncGroup gets its own part', async () => {
    const { deps } = await groupCluster();
    const ids = [await memberIdFor(deps), await memberIdFor(deps), await memberIdFor(deps)];
    const joined = await Promise.all(ids.map((id) => joinUntilDone(deps, id)));
    expect(new Set(joined.map((j) => j.generationId))).toEqual(new Set([1]));
    const leader = joined.find((j) => j.memberId === j.leader);
    expect(leader?.members.map((m) => m.memberId).sort()).toEqual([...ids].sort());
    expect(joined.filter((j) => j !== leader).every((j) => j.members.length === 0)).toBe(true);
    const synced = await Promise.all(joined.map((j) => syncUntilDone(deps, j, j === leader ? rangeAssign : undefined)));
    const expected = rangeAssign(ids);
    for (const s of synced) expect(JSON.parse(s.assignment)).toEqual(expected.get(s.memberId));
    expectDisjoint(synced);
  });

  it('holds a call for the barrier only in the first groupJoinWaitMs of a rebalance, reading the group every poll, then answers pending', async () => {
    let reads = 0;
    const { deps } = await groupCluster({
      yieldPoint: (operation) => {
        if (operation === 'groups.getGroup') reads += 1;
        return Promise.resolve();
      },
    });
    const [a, b] = [await memberIdFor(deps), await memberIdFor(deps)];
    await rebalance(deps, [a, b]);
    // a changes its subscription: a rebalance that b does not join in this call's time.
    reads = 0;
    const started = deps.clock.now();
    const answer = await join(deps, a, { protocols: [{ name: 'range', metadata: 'new' }] });
    expect(answer).toEqual({ memberId: a, pending: true, retryAfterMs: GROUP_REJOIN_BACKOFF_MS });
    expect(deps.clock.now() - started).toBe(deps.settings.groupJoinWaitMs);
    expect(reads).toBe(deps.settings.groupJoinWaitMs / GROUP_WAIT_POLL_MS + 1);
    // Past the rebalance's first groupJoinWaitMs a call holds nothing: one read, and the member backs off on its side.
    for (let call = 0; call < 5; call += 1) {
      deps.clock.advance(GROUP_REJOIN_BACKOFF_MS);
      reads = 0;
      const at = deps.clock.now();
      expect(await join(deps, a, { protocols: [{ name: 'range', metadata: 'new' }] })).toMatchObject({ pending: true });
      expect(deps.clock.now()).toBe(at);
      expect(reads).toBe(1);
    }
    await expect(groupHeartbeat(deps, { groupId: GROUP, memberId: b, generationId: 1 })).rejects.toThrow(RebalanceInProgressError);
  });

  it('removes the members that did not rejoin when the rebalance timeout passes', async () => {
    const { deps } = await groupCluster();
    const ids = [await memberIdFor(deps), await memberIdFor(deps), await memberIdFor(deps)];
    await Promise.all(ids.map((id) => joinUntilDone(deps, id, { rebalanceTimeoutMs: 10_000 })));
    const [a, b, c] = ids;
    const started = deps.clock.now();
    const rejoined = await Promise.all([a, b].map((id) => joinUntilDone(deps, id, { rebalanceTimeoutMs: 10_000, protocols: [{ name: 'range', metadata: 'v2' }] })));
    // Completed at the deadline (the late member's session had 35 s left), noticed by a call within a back-off.
    const completedAfter = (deps.tables.groups.get(GROUP)?.stateSince ?? 0) - started;
    expect(completedAfter).toBeGreaterThanOrEqual(10_000);
    expect(completedAfter).toBeLessThanOrEqual(10_000 + GROUP_REJOIN_BACKOFF_MS);
    expect(rejoined[0]).toMatchObject({ generationId: 2 });
    expect(deps.tables.groups.get(GROUP)?.members.map((m) => m.memberId)).toEqual([a, b]);
    await expect(groupHeartbeat(deps, { groupId: GROUP, memberId: c, generationId: 1 })).rejects.toThrow(UnknownMemberIdError);
  });

  it('does not expire a member waiting in a rebalance it joined: the barrier bounds it, not its session', async () => {
    const { deps } = await groupCluster();
    const short = { sessionTimeoutMs: 6_000, rebalanceTimeoutMs: 60_000 };
    const [a, b] = [await memberIdFor(deps, short), await memberIdFor(deps, short)];
    await rebalance(deps, [a, b], short);
    const changed = { ...short, protocols: [{ name: 'range', metadata: 'v2' }] };
    // b heartbeats on for 20 s before it rejoins; a waits in the rebalance, calling again after each pending answer.
    for (let answer = await join(deps, a, changed); 'pending' in answer; answer = await join(deps, a, changed)) {
      if (deps.clock.now() - (deps.tables.groups.get(GROUP)?.rebalance?.startedAt ?? 0) >= 20_000) break;
      deps.clock.advance(answer.retryAfterMs);
      await expect(groupHeartbeat(deps, { groupId: GROUP, memberId: b, generationId: 1 })).rejects.toThrow(RebalanceInProgressError);
    }
    const [again] = await Promise.all([joinUntilDone(deps, a, changed), joinUntilDone(deps, b, short)]);
    expect(again.generationId).toBe(2);
    expect(deps.tables.groups.get(GROUP)?.members.map((m) => m.memberId)).toEqual([a, b]);
  });

  it('refuses a member whose protocol type or protocols the group does not share, and writes nothing', async () => {
    const { deps } = await groupCluster();
    await joinUntilDone(deps, await memberIdFor(deps));
    const before = groupTables(deps);
    await expect(join(deps, '', { protocolType: 'connect' })).rejects.toThrow(InconsistentGroupProtocolError);
    await expect(join(deps, '', { protocols: [{ name: 'roundrobin', metadata: '' }] })).rejects.toThrow(InconsistentGroupProtocolError);
    expect(groupTables(deps)).toBe(before);
  });
});

describe('a member that dies', () => {
  it('is expired by the sweep; the survivors are told to rejoin, and the next generation shares the partitions among them', async () => {
    const { deps } = await groupCluster();
    const ids = [await memberIdFor(deps), await memberIdFor(deps), await memberIdFor(deps)];
    const first = await rebalance(deps, ids);
    const [a, b, dead] = ids;
    // a and b heartbeat every 3 s; the dead member stops, and the sweep finds its session lapsed.
    const deadline = deps.tables.groups.get(GROUP)?.members.find((m) => m.memberId === dead)?.sessionDeadlineMs ?? 0;
    for (;;) {
      deps.clock.advance(3_000);
      if ((await sweepGroups(deps)).expiredMembers.some((m) => m.memberId === dead)) break;
      for (const memberId of [a, b]) await groupHeartbeat(deps, { groupId: GROUP, memberId, generationId: 1 });
    }
    // Judged on the coordinator's clock, within one sweep period of the lapse.
    expect(deps.clock.now()).toBeGreaterThan(deadline);
    expect(deps.clock.now() - 3_000).toBeLessThanOrEqual(deadline);
    expect(deps.tables.groups.get(GROUP)?.members.map((m) => m.memberId)).toEqual([a, b]);
    for (const memberId of [a, b]) await expect(groupHeartbeat(deps, { groupId: GROUP, memberId, generationId: 1 })).rejects.toThrow(RebalanceInProgressError);
    const second = await rebalance(deps, [a, b]);
    expect(second.map((s) => s.generationId)).toEqual([2, 2]);
    expectDisjoint([...first, ...second]);
    expect(second.flatMap((s) => JSON.parse(s.assignment) as number[]).sort()).toEqual([1, 2, 3, 4, 5, 6]);

    // Zombies: the dead member, and a survivor still at generation 1, commit nothing.
    const before = groupTables(deps);
    await expect(commit(deps, { memberId: dead, generationId: 1 }, [[3, 10]])).rejects.toThrow(UnknownMemberIdError);
    await expect(commit(deps, { memberId: a, generationId: 1 }, [[1, 10]])).rejects.toThrow(IllegalGenerationError);
    await expect(syncGroup(deps, { groupId: GROUP, memberId: dead, generationId: 2 })).rejects.toThrow(UnknownMemberIdError);
    expect(groupTables(deps)).toBe(before);
    await commit(deps, { memberId: a, generationId: 2 }, [[1, 10]]);
    expect(await fetchOffsets(deps)).toEqual([[1, 10, 1], [2, -1, -1], [3, -1, -1]]);
  });

  it('is not a follower that waited for the leader\'s assignment: its SyncGroup renews its session, as Kafka\'s coordinator does', async () => {
    const { deps } = await groupCluster();
    const [a, b] = [await memberIdFor(deps), await memberIdFor(deps)];
    const joined = await Promise.all([a, b].map((id) => joinUntilDone(deps, id)));
    const leader = joined.find((j) => j.leader === j.memberId) as JoinedGroup;
    const follower = joined.find((j) => j.leader !== j.memberId) as JoinedGroup;
    // The leader takes most of a session (45 s) to assign; the follower asks for its part meanwhile and is answered pending.
    deps.clock.advance(40_000);
    expect(await syncGroup(deps, { groupId: GROUP, memberId: follower.memberId, generationId: follower.generationId })).toMatchObject({ pending: true });
    await syncUntilDone(deps, leader, rangeAssign);
    const synced = await syncUntilDone(deps, follower);
    // Both heartbeat their first a session after the barrier: neither has lapsed, since each synced.
    deps.clock.advance(10_000);
    for (const { memberId, generationId } of [leader, synced]) await groupHeartbeat(deps, { groupId: GROUP, memberId, generationId });
    expect(deps.tables.groups.get(GROUP)?.members.map((m) => m.memberId).sort()).toEqual([a, b].sort());
  });

  it('leaves: the others rebalance, and the last to leave empties the group', async () => {
    const { deps } = await groupCluster();
    const [a, b] = [await memberIdFor(deps), await memberIdFor(deps)];
    await rebalance(deps, [a, b]);
    await leaveGroup(deps, { groupId: GROUP, memberId: b });
    await expect(groupHeartbeat(deps, { groupId: GROUP, memberId: a, generationId: 1 })).rejects.toThrow(RebalanceInProgressError);
    expect(await rebalance(deps, [a])).toMatchObject([{ generationId: 2, assignment: JSON.stringify([1, 2, 3, 4, 5, 6]) }]);
    await leaveGroup(deps, { groupId: GROUP, memberId: a });
    expect(deps.tables.groups.get(GROUP)).toMatchObject({ state: 'Empty', generationId: 3, members: [] });
    await expect(leaveGroup(deps, { groupId: GROUP, memberId: a })).rejects.toThrow(UnknownMemberIdError);
  });
});

describe('a static member (group.instance.id)', () => {
  it('joins without the MEMBER_ID_REQUIRED round; restarted, it takes its old place and assignment without a rebalance, and its old id is fenced', async () => {
    const { deps } = await groupCluster();
    const joinAs = (instance: string) => joinUntilDone(deps, '', { groupInstanceId: instance });
    const joined = await Promise.all([joinAs('i-a'), joinAs('i-b')]);
    expect(joined.map((j) => j.generationId)).toEqual([1, 1]);
    const synced = await Promise.all(joined.map((j) => syncUntilDone(deps, j, j.leader === j.memberId ? rangeAssign : undefined)));
    const [zombie] = synced;
    const restarted = await join(deps, '', { groupInstanceId: 'i-a' });
    if ('pending' in restarted) throw new Error('a restart in a stable group waits for nothing');
    expect(restarted.memberId).not.toBe(zombie.memberId);
    expect(restarted.generationId).toBe(1);
    expect(deps.tables.groups.get(GROUP)?.state).toBe('Stable');
    expect(await syncUntilDone(deps, restarted)).toMatchObject({ generationId: 1, assignment: zombie.assignment });
    await groupHeartbeat(deps, { groupId: GROUP, memberId: synced[1].memberId, generationId: 1, groupInstanceId: 'i-b' });

    const before = groupTables(deps);
    const asZombie = { groupId: GROUP, memberId: zombie.memberId, generationId: 1, groupInstanceId: 'i-a' };
    await expect(groupHeartbeat(deps, asZombie)).rejects.toThrow(FencedInstanceIdError);
    await expect(syncGroup(deps, asZombie)).rejects.toThrow(FencedInstanceIdError);
    await expect(join(deps, zombie.memberId, { groupInstanceId: 'i-a' })).rejects.toThrow(FencedInstanceIdError);
    await expect(commit(deps, zombie, [[1, 10]], { groupInstanceId: 'i-a' })).rejects.toThrow(FencedInstanceIdError);
    await expect(commit(deps, zombie, [[1, 10]])).rejects.toThrow(UnknownMemberIdError);
    await expect(leaveGroup(deps, { groupId: GROUP, memberId: zombie.memberId, groupInstanceId: 'i-a' })).rejects.toThrow(FencedInstanceIdError);
    expect(groupTables(deps)).toBe(before);
    await commit(deps, restarted, [[1, 10]], { groupInstanceId: 'i-a' });
    expect(await fetchOffsets(deps)).toEqual([[1, 10, 1], [2, -1, -1], [3, -1, -1]]);
  });
});

describe('committed offsets', () => {
  it('answers each partition on its own: a missing one is UNKNOWN_TOPIC_OR_PARTITION, the rest commit', async () => {
    const { deps } = await groupCluster();
    const result = await offsetCommit(deps, {
      groupId: GROUP,
      offsets: [
        { topic: 'orders', partition: 1, offset: 5 },
        { topic: 'orders', partition: 7, offset: 5 },
        { topic: 'missing', partition: 1, offset: 5 },
      ],
    });
    expect(result.partitions.map((p) => ('errorType' in p ? p.errorType : 'ok'))).toEqual(['ok', 'UnknownTopicError', 'UnknownTopicError']);
    expect(await fetchOffsets(deps)).toEqual([[1, 5, -1], [2, -1, -1], [3, -1, -1]]);
  });

  it('takes a commit with generation -1 only for an empty group', async () => {
    const { deps } = await groupCluster();
    await rebalance(deps, [await memberIdFor(deps)]);
    const before = groupTables(deps);
    await expect(offsetCommit(deps, { groupId: GROUP, offsets: [{ topic: 'orders', partition: 1, offset: 5 }] })).rejects.toThrow(UnknownMemberIdError);
    expect(groupTables(deps)).toBe(before);
  });

  it('survive a coordinator failover; a request naming the old coordinator epoch is NOT_COORDINATOR and writes nothing', async () => {
    const { cluster, deps } = await groupCluster();
    const [member] = await rebalance(deps, [await memberIdFor(deps)]);
    await commit(deps, member, [[1, 42], [2, 7]]);
    const old = await findCoordinator(deps, { groupId: GROUP });
    await cluster.kill(old.coordinator);
    const moved = await findCoordinator(deps, { groupId: GROUP });
    expect(moved.coordinator).not.toBe(old.coordinator);
    expect(moved.coordinatorEpoch).toBe(old.coordinatorEpoch + 1);
    expect(await fetchOffsets(deps)).toEqual([[1, 42, 1], [2, 7, 1], [3, -1, -1]]);
    const before = groupTables(deps);
    await expect(commit(deps, member, [[3, 9]], { coordinatorEpoch: old.coordinatorEpoch })).rejects.toThrow(NotCoordinatorError);
    await expect(groupHeartbeat(deps, { groupId: GROUP, memberId: member.memberId, generationId: 1, coordinatorEpoch: old.coordinatorEpoch })).rejects.toThrow(NotCoordinatorError);
    expect(groupTables(deps)).toBe(before);
    await commit(deps, member, [[3, 9]], { coordinatorEpoch: moved.coordinatorEpoch });
    expect(await fetchOffsets(deps)).toEqual([[1, 42, 1], [2, 7, 1], [3, 9, 1]]);
  });

  it("refuses a write served under a coordinator deposed before it landed, whatever the request named", async () => {
    // The coordinator's broker dies between the request's read of its partition and its write.
    let deposeBefore: string | null = null;
    const started: { cluster?: ClusterHarness } = {};
    const { cluster, deps } = await groupCluster({
      yieldPoint: async (operation) => {
        if (operation !== deposeBefore || started.cluster === undefined) return;
        deposeBefore = null;
        await started.cluster.kill((await findCoordinator(started.cluster.deps, { groupId: GROUP })).coordinator);
      },
    });
    started.cluster = cluster;
    const [member] = await rebalance(deps, [await memberIdFor(deps)]);
    deposeBefore = 'groups.commitMemberOffsets';
    await expect(commit(deps, member, [[1, 42]])).rejects.toThrow(NotCoordinatorError);
    deposeBefore = 'groups.writeGroup';
    await expect(groupHeartbeat(deps, { groupId: GROUP, memberId: member.memberId, generationId: 1 })).rejects.toThrow(NotCoordinatorError);
    expect(await fetchOffsets(deps)).toEqual([[1, -1, -1], [2, -1, -1], [3, -1, -1]]);
    expect(deps.groups.rejectedWrites).toBe(2);
  });

  it("expire for an empty group offsets.retention.minutes after its commit and its emptying, never for an active one", async () => {
    const retentionMs = 120 * 60_000;
    const { deps } = await groupCluster({ settings: { offsetsRetentionMinutes: 120, groupMaxSessionTimeoutMs: 1_800_000 } });
    const session = { sessionTimeoutMs: 1_800_000 };
    const [member] = await rebalance(deps, [await memberIdFor(deps, session)], session);
    await commit(deps, member, [[1, 11]]);
    await offsetCommit(deps, { groupId: 'standalone', offsets: [{ topic: 'orders', partition: 1, offset: 5 }] });
    const heartbeatFor = async (ms: number) => {
      for (let passed = 0; passed < ms; passed += 10 * 60_000) {
        deps.clock.advance(Math.min(10 * 60_000, ms - passed));
        await groupHeartbeat(deps, { groupId: GROUP, memberId: member.memberId, generationId: 1 });
      }
    };
    await heartbeatFor(retentionMs - 60_000);
    expect(await sweepGroups(deps)).toEqual({ expiredMembers: [], expiredOffsets: 0, deletedGroups: [] });
    await heartbeatFor(2 * 60_000);
    expect(await sweepGroups(deps)).toEqual({ expiredMembers: [], expiredOffsets: 1, deletedGroups: ['standalone'] });
    expect(await fetchOffsets(deps, 'standalone')).toEqual([[1, -1, -1], [2, -1, -1], [3, -1, -1]]);
    expect(await fetchOffsets(deps)).toEqual([[1, 11, 1], [2, -1, -1], [3, -1, -1]]);
    // Empty now: the retention runs from here, not from the commit (KIP-211).
    await leaveGroup(deps, { groupId: GROUP, memberId: member.memberId });
    deps.clock.advance(retentionMs - 1);
    expect((await sweepGroups(deps)).expiredOffsets).toBe(0);
    deps.clock.advance(1);
    expect(await sweepGroups(deps)).toEqual({ expiredMembers: [], expiredOffsets: 1, deletedGroups: [GROUP] });
    expect(await fetchOffsets(deps)).toEqual([[1, -1, -1], [2, -1, -1], [3, -1, -1]]);
  });
});

describe('bad input', () => {
  const member = { groupId: GROUP, memberId: 'consumer-x-1', generationId: 1 };
  const offsets = [{ topic: 'orders', partition: 1, offset: 1 }];
  it.each([
    ['FindCoordinator', '"groupId"', { groupId: 'a#b' }, findCoordinator],
    ['JoinGroup', '"protocols"', { groupId: GROUP, protocolType: 'consumer', protocols: [] }, joinGroup],
    ['JoinGroup', '"protocols[0].metadata"', { groupId: GROUP, protocolType: 'consumer', protocols: [{ name: 'range', metadata: 1 }] }, joinGroup],
    ['JoinGroup', '"sessionTimeoutMs"', { groupId: GROUP, protocolType: 'consumer', protocols: PROTOCOLS, sessionTimeoutMs: 'soon' }, joinGroup],
    ['JoinGroup', 'protocols[1]', { groupId: GROUP, protocolType: 'consumer', protocols: [...PROTOCOLS, ...PROTOCOLS] }, joinGroup],
    ['SyncGroup', '"generationId"', { ...member, generationId: -2 }, syncGroup],
    ['SyncGroup', '"assignments[0].assignment"', { ...member, assignments: [{ memberId: 'm', assignment: null }] }, syncGroup],
    ['Heartbeat', '"memberId"', { ...member, memberId: '' }, groupHeartbeat],
    ['Heartbeat', '"coordinatorEpoch"', { ...member, coordinatorEpoch: -1 }, groupHeartbeat],
    ['LeaveGroup', '"memberId"', { groupId: GROUP }, leaveGroup],
    ['OffsetCommit', '"offset"', { groupId: GROUP, offsets: [{ topic: 'orders', partition: 1, offset: -1 }] }, offsetCommit],
    ['OffsetCommit', '"metadata"', { groupId: GROUP, offsets: [{ topic: 'orders', partition: 1, offset: 1, metadata: 'x'.repeat(4097) }] }, offsetCommit],
    ['OffsetCommit', '"generationId"', { groupId: GROUP, generationId: 1, offsets }, offsetCommit],
    ['OffsetCommit', 'offsets[1]', { groupId: GROUP, offsets: [...offsets, ...offsets] }, offsetCommit],
    ['OffsetFetch', '"partition"', { groupId: GROUP, partitions: [{ topic: 'orders', partition: 0 }] }, offsetFetch],
  ] as const)('%s refuses bad %s, naming it, and writes nothing', async (_name, field, input, request) => {
    const { deps } = await groupCluster();
    await offsetCommit(deps, { groupId: GROUP, offsets });
    const before = groupTables(deps);
    const refusal = await (request as (deps: MemoryDeps, input: unknown) => Promise<unknown>)(deps, input).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as Error).message).toContain(field);
    expect(groupTables(deps)).toBe(before);
  });

  it('refuses a session timeout outside the group bounds, and an assignment for a non-member, writing nothing', async () => {
    const { deps } = await groupCluster();
    await expect(join(deps, '', { sessionTimeoutMs: 5_999 })).rejects.toThrow(InvalidSessionTimeoutError);
    await expect(join(deps, '', { sessionTimeoutMs: 1_800_001 })).rejects.toThrow(InvalidSessionTimeoutError);
    expect(deps.tables.groups.size).toBe(0);
    const [joined] = await Promise.all([joinUntilDone(deps, await memberIdFor(deps))]);
    const before = groupTables(deps);
    await expect(
      syncGroup(deps, { groupId: GROUP, memberId: joined.memberId, generationId: 1, assignments: [{ memberId: 'consumer-nobody-9', assignment: '[]' }] }),
    ).rejects.toThrow(/assignments\[0\]\.memberId/);
    expect(groupTables(deps)).toBe(before);
  });

  it('re-decides a write refused by a concurrent transaction', async () => {
    let refuse = 0;
    const { deps } = await groupCluster({
      yieldPoint: (operation) => {
        if (operation !== 'groups.writeGroup' || refuse === 0) return Promise.resolve();
        refuse -= 1;
        return Promise.reject(conflictRefusal(operation));
      },
    });
    const [member] = await rebalance(deps, [await memberIdFor(deps)]);
    const deadline = deps.tables.groups.get(GROUP)?.members[0].sessionDeadlineMs ?? 0;
    deps.clock.advance(1_000);
    refuse = 3;
    await groupHeartbeat(deps, { groupId: GROUP, memberId: member.memberId, generationId: 1 });
    expect(refuse).toBe(0);
    expect(deps.tables.groups.get(GROUP)?.members[0].sessionDeadlineMs).toBe(deadline + 1_000);
  });

  it('re-decides a write that lost its race to another member', async () => {
    const { deps } = await groupCluster();
    const [a, b] = [await memberIdFor(deps), await memberIdFor(deps)];
    await rebalance(deps, [a, b]);
    const rejected = deps.groups.rejectedWrites;
    await Promise.all([a, b].map((memberId) => groupHeartbeat(deps, { groupId: GROUP, memberId, generationId: 1 })));
    expect(deps.groups.rejectedWrites).toBeGreaterThan(rejected);
    expect(GroupChangedError).toBeDefined();
  });
});

describe('the memory GroupStore', () => {
  it('writes only at the version read and under the coordinator read, and commits only for a member of the generation outside a completion', async () => {
    const { deps } = await groupCluster();
    const [member] = await rebalance(deps, [await memberIdFor(deps)]);
    const found = await findCoordinator(deps, { groupId: GROUP });
    const fence = { topic: found.topic, partition: found.partition, leader: found.coordinator, leaderEpoch: found.coordinatorEpoch };
    const group = await deps.groups.getGroup(GROUP);
    if (group === null) throw new Error('no group');
    const offset = { groupId: GROUP, topic: 'orders', partition: 1, offset: 3, committedLeaderEpoch: -1, metadata: '', committedAt: 0 };
    const before = groupTables(deps);
    await expect(deps.groups.writeGroup({ fence, groupId: GROUP, expectedVersion: group.version - 1, next: group })).rejects.toThrow(GroupChangedError);
    await expect(deps.groups.writeGroup({ fence: { ...fence, leaderEpoch: fence.leaderEpoch + 1 }, groupId: GROUP, expectedVersion: group.version, next: group })).rejects.toThrow(NotCoordinatorError);
    await expect(deps.groups.writeGroup({ fence: { ...fence, leader: 'elsewhere' }, groupId: GROUP, expectedVersion: group.version, next: group })).rejects.toThrow(NotCoordinatorError);
    const commitAs = (generationId: number, memberId: string, at = fence) => deps.groups.commitMemberOffsets({ fence: at, groupId: GROUP, generationId, memberId, offsets: [offset] });
    await expect(commitAs(2, member.memberId)).rejects.toThrow(GroupChangedError);
    await expect(commitAs(1, 'consumer-other-7')).rejects.toThrow(GroupChangedError);
    await expect(commitAs(1, member.memberId, { ...fence, leaderEpoch: fence.leaderEpoch + 1 })).rejects.toThrow(NotCoordinatorError);
    deps.tables.groups.set(GROUP, { ...group, state: 'CompletingRebalance' });
    await expect(commitAs(1, member.memberId)).rejects.toThrow(GroupChangedError);
    deps.tables.groups.set(GROUP, group);
    expect(groupTables(deps)).toBe(before);
    await commitAs(1, member.memberId);
    expect(await deps.groups.getOffsets(GROUP)).toEqual([offset]);
  });
});
