/**
 * The groups function's use case over the memory stores: one Kafka group API per request,
 * named by `api`, and the read-only APIs (ListGroups, DescribeGroups) that show each group as
 * its coordinator would now, without writing.
 */
import { describe, expect, it } from 'vitest';
import {
  MemberIdRequiredError,
  UnknownMemberIdError,
  ValidationError,
  coordinatorPartitionOf,
  serveGroups,
  type JoinedGroup,
  type SyncedGroup,
} from '../../../functions/domain/index.js';
import type { MemoryDeps } from '../../../functions/adapters/memory/index.js';
import { MAX_GROUPS_PER_DESCRIBE } from '../../../functions/domain/limits.js';
import type { GroupsApi, GroupsResponses } from '../../../protocol/messages.js';
import { ClusterHarness, observableState, type HarnessOptions } from '../../factories/cluster.js';

const PROTOCOLS = [{ name: 'range', metadata: JSON.stringify({ topics: ['orders'] }) }];

async function groupCluster(options: HarnessOptions = {}): Promise<{ cluster: ClusterHarness; deps: MemoryDeps }> {
  const cluster = new ClusterHarness(options);
  await cluster.start('A', 'B', 'C');
  await cluster.createTopic('orders', 6, 3);
  return { cluster, deps: cluster.deps };
}

/** One request to the groups function, typed by its api as the client's invoke is. */
const serve = <A extends GroupsApi>(deps: MemoryDeps, api: A, request: object): Promise<GroupsResponses[A]> =>
  serveGroups(deps, { api, ...request }) as Promise<GroupsResponses[A]>;

/** Everything the groups function could have written: the cluster's state and the groups'. */
const everything = async (deps: MemoryDeps): Promise<string> =>
  (await observableState(deps)) +
  JSON.stringify({ groups: [...deps.tables.groups], offsets: [...deps.tables.groupOffsets].map(([id, offsets]) => [id, [...offsets]]) });

const refusalOf = (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => undefined,
    (error: unknown) => error,
  );

/** JoinGroup again while the answer is `pending`, as a client would. */
async function joinAgain(deps: MemoryDeps, groupId: string, memberId: string, extra: object = {}): Promise<JoinedGroup> {
  for (;;) {
    const answer = await serve(deps, 'JoinGroup', { groupId, memberId, protocolType: 'consumer', protocols: PROTOCOLS, ...extra });
    if (!('pending' in answer)) return answer;
    deps.clock.advance(answer.retryAfterMs);
  }
}

async function syncAll(deps: MemoryDeps, groupId: string, joined: JoinedGroup[]): Promise<SyncedGroup[]> {
  const assignments = joined.map(({ memberId }, index) => ({ memberId, assignment: `part-${index + 1}` }));
  return Promise.all(
    joined.map(async ({ memberId, generationId, leader }) => {
      for (;;) {
        const answer = await serve(deps, 'SyncGroup', { groupId, memberId, generationId, ...(memberId === leader ? { assignments } : {}) });
        if (!('pending' in answer)) return answer;
        deps.clock.advance(answer.retryAfterMs);
      }
    }),
  );
}

/** A group of `members` new members, joined together and synced: Stable. */
async function stableGroup(deps: MemoryDeps, groupId: string, members: number, extra: object = {}): Promise<SyncedGroup[]> {
  const ids: string[] = [];
  for (let i = 0; i < members; i += 1) {
    const refusal = await refusalOf(serve(deps, 'JoinGroup', { groupId, memberId: '', protocolType: 'consumer', protocols: PROTOCOLS, ...extra }));
    ids.push((refusal as MemberIdRequiredError).memberId);
  }
  const joined = await Promise.all(ids.map((id) => joinAgain(deps, groupId, id, extra)));
  return syncAll(deps, groupId, joined);
}

describe('the groups function routes each request by its api', () => {
  it.each([
    ['missing', {}],
    ['unknown', { api: 'CreateAcls' }],
    ['not a string', { api: 7 }],
    ['a different case', { api: 'joingroup' }],
  ])('refuses an api that is %s with a ValidationError naming "api", and writes nothing', async (_case, envelope) => {
    const { deps } = await groupCluster();
    await serve(deps, 'FindCoordinator', { groupId: 'g' });
    const before = await everything(deps);
    const refusal = await refusalOf(serveGroups(deps, { ...envelope, groupId: 'g', memberId: '', protocolType: 'consumer', protocols: PROTOCOLS }));
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as Error).message).toContain('"api"');
    expect((refusal as Error).message).toContain('FindCoordinator');
    expect(await everything(deps)).toBe(before);
  });

  it('refuses a request that is not an object, and writes nothing', async () => {
    const { deps } = await groupCluster();
    const before = await everything(deps);
    for (const input of [null, 'FindCoordinator', [{ api: 'FindCoordinator' }]]) {
      expect(await refusalOf(serveGroups(deps, input))).toBeInstanceOf(ValidationError);
    }
    expect(await everything(deps)).toBe(before);
  });

  it("answers each api with its use case's answer, a group's whole life through the one entry point", async () => {
    const { cluster, deps } = await groupCluster();
    const groupId = 'routing';
    const found = await serve(deps, 'FindCoordinator', { groupId });
    const partition = await cluster.partition('__consumer_offsets', coordinatorPartitionOf(groupId, 50));
    expect(found).toEqual({ groupId, topic: '__consumer_offsets', partition: partition.partition, coordinator: partition.leader, coordinatorEpoch: partition.leaderEpoch });

    const joinFirst = { groupId, memberId: '', protocolType: 'consumer', protocols: PROTOCOLS };
    const required = await refusalOf(serve(deps, 'JoinGroup', joinFirst));
    expect(required).toBeInstanceOf(MemberIdRequiredError);
    const joined = await joinAgain(deps, groupId, (required as MemberIdRequiredError).memberId, { coordinatorEpoch: found.coordinatorEpoch });
    expect(joined).toMatchObject({ generationId: 1, leader: joined.memberId, protocolName: 'range' });
    const member = { groupId, memberId: joined.memberId, generationId: 1, coordinatorEpoch: found.coordinatorEpoch };

    expect(await serve(deps, 'SyncGroup', { ...member, assignments: [{ memberId: joined.memberId, assignment: 'all' }] })).toMatchObject({ assignment: 'all' });
    expect(await serve(deps, 'Heartbeat', member)).toEqual({ memberId: joined.memberId, generationId: 1 });
    const offsets = [{ topic: 'orders', partition: 2, offset: 17, committedLeaderEpoch: 0, metadata: 'm' }];
    expect(await serve(deps, 'OffsetCommit', { ...member, offsets })).toEqual({ partitions: [{ topic: 'orders', partition: 2 }] });
    expect(await serve(deps, 'OffsetFetch', { groupId })).toEqual({ partitions: offsets });
    expect(await serve(deps, 'ListGroups', {})).toEqual({ groups: [{ groupId, protocolType: 'consumer', state: 'Stable' }] });
    expect((await serve(deps, 'DescribeGroups', { groupIds: [groupId] })).groups[0]).toMatchObject({ groupId, state: 'Stable', members: [{ memberId: joined.memberId, assignment: 'all' }] });
    expect(await serve(deps, 'LeaveGroup', member)).toEqual({ memberId: joined.memberId });
    await expect(serve(deps, 'Heartbeat', member)).rejects.toThrow(UnknownMemberIdError);
  });

  it("passes each api its own request's fields and checks them: a bad field is named, nothing written", async () => {
    const { deps } = await groupCluster();
    await serve(deps, 'FindCoordinator', { groupId: 'g' });
    const before = await everything(deps);
    await expect(serve(deps, 'JoinGroup', { groupId: 'g', memberId: '', protocolType: 'consumer', protocols: [] })).rejects.toThrow(/"protocols"/);
    await expect(serve(deps, 'Heartbeat', { groupId: 'g', memberId: 'm', generationId: 'one' })).rejects.toThrow(/"generationId"/);
    await expect(serve(deps, 'OffsetCommit', { groupId: 'g', offsets: [{ topic: 'orders', partition: 1, offset: -5 }] })).rejects.toThrow(/"offset"/);
    expect(await everything(deps)).toBe(before);
  });
});

describe('FindCoordinator', () => {
  it('made by several consumers at once (the offsets topic in several transactions): each is answered or told to retry, and the topic is whole', async () => {
    const { deps } = await groupCluster({ maxTransactionItems: 100 });
    const groupIds = ['first', 'second', 'third', 'fourth'];
    const answers = await Promise.all(groupIds.map((groupId) => refusalOf(serve(deps, 'FindCoordinator', { groupId }))));
    for (const refusal of answers) {
      if (refusal !== undefined) expect(refusal).toMatchObject({ name: 'CoordinatorNotAvailableError' });
    }
    // Retried as a client retries COORDINATOR_NOT_AVAILABLE, every one is answered.
    for (const groupId of groupIds) await serve(deps, 'FindCoordinator', { groupId });
    const partitions = await deps.metadata.listPartitions('__consumer_offsets');
    expect(partitions.map((p) => p.partition)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(partitions.every((p) => p.leader !== null && p.replicas.length === 3 && new Set(p.replicas).size === 3)).toBe(true);
    const replicaStates = await Promise.all(partitions.map((p) => deps.metadata.getReplicaStates(p.topic, p.partition)));
    expect(replicaStates.map((states) => states.length)).toEqual(partitions.map(() => 3));
    expect(await deps.metadata.getTopic('__consumer_offsets')).toMatchObject({ partitions: 50, replicationFactor: 3, minInsyncReplicas: 2 });
  });
});

describe('ListGroups', () => {
  it('lists every group sorted by id, with its protocol type and state, and filters by states', async () => {
    // A long initial delay keeps a new group's first rebalance open across calls.
    const { deps } = await groupCluster({ settings: { groupInitialRebalanceDelayMs: 10_000 } });
    await serve(deps, 'FindCoordinator', { groupId: 'x' });
    // Empty: made by an admin's commit with generation -1.
    await serve(deps, 'OffsetCommit', { groupId: 'c-admin', offsets: [{ topic: 'orders', partition: 1, offset: 3 }] });
    await stableGroup(deps, 'b-stable', 2);
    // PreparingRebalance: a member joined and the barrier waits out the initial delay.
    const required = await refusalOf(serve(deps, 'JoinGroup', { groupId: 'a-joining', memberId: '', protocolType: 'consumer', protocols: PROTOCOLS }));
    const pending = await serve(deps, 'JoinGroup', { groupId: 'a-joining', memberId: (required as MemberIdRequiredError).memberId, protocolType: 'consumer', protocols: PROTOCOLS });
    expect(pending).toMatchObject({ pending: true });

    const all = await serve(deps, 'ListGroups', {});
    expect(all.groups).toEqual([
      { groupId: 'a-joining', protocolType: 'consumer', state: 'PreparingRebalance' },
      { groupId: 'b-stable', protocolType: 'consumer', state: 'Stable' },
      { groupId: 'c-admin', protocolType: '', state: 'Empty' },
    ]);
    expect(await serve(deps, 'ListGroups', { states: [] })).toEqual(all);
    expect((await serve(deps, 'ListGroups', { states: ['Stable', 'Empty'] })).groups.map((g) => g.groupId)).toEqual(['b-stable', 'c-admin']);
    expect((await serve(deps, 'ListGroups', { states: ['CompletingRebalance'] })).groups).toEqual([]);
    // Once the initial delay passed, the coordinator would complete the barrier on its next read: shown so, nothing written.
    deps.clock.advance(10_000);
    expect((await serve(deps, 'ListGroups', { states: ['CompletingRebalance'] })).groups.map((g) => g.groupId)).toEqual(['a-joining']);
    expect(deps.tables.groups.get('a-joining')?.state).toBe('PreparingRebalance');
  });

  it.each([
    ['states[1]', { states: ['Stable', 'Rebalancing'] }],
    ['states[0]', { states: ['stable'] }],
    ['states[0]', { states: [3] }],
    ['"states"', { states: 'Stable' }],
  ])('refuses a bad state filter, naming %s and the states there are', async (field, request) => {
    const { deps } = await groupCluster();
    await serve(deps, 'FindCoordinator', { groupId: 'g' });
    const refusal = await refusalOf(serve(deps, 'ListGroups', request));
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as Error).message).toContain(field);
  });

  it('shows a group whose members all lapsed as its coordinator would now (Empty), writing nothing', async () => {
    const { deps } = await groupCluster();
    await serve(deps, 'FindCoordinator', { groupId: 'g' });
    const session = { sessionTimeoutMs: 6_000 };
    await stableGroup(deps, 'lapsing', 2, session);
    expect((await serve(deps, 'ListGroups', {})).groups).toEqual([{ groupId: 'lapsing', protocolType: 'consumer', state: 'Stable' }]);
    deps.clock.advance(session.sessionTimeoutMs + 1);
    const before = await everything(deps);
    // Kafka's coordinator forgets the protocol type of a group left empty.
    expect((await serve(deps, 'ListGroups', {})).groups).toEqual([{ groupId: 'lapsing', protocolType: '', state: 'Empty' }]);
    expect((await serve(deps, 'ListGroups', { states: ['Stable'] })).groups).toEqual([]);
    expect(await everything(deps)).toBe(before);
    expect(deps.tables.groups.get('lapsing')?.state).toBe('Stable');
  });
});

describe('DescribeGroups', () => {
  it('describes members, their assignments, the generation, the protocol and the coordinator; a missing group is Dead', async () => {
    const { deps } = await groupCluster();
    const found = await serve(deps, 'FindCoordinator', { groupId: 'described' });
    const synced = await stableGroup(deps, 'described', 2, { clientId: 'orders-app' });
    const { groups } = await serve(deps, 'DescribeGroups', { groupIds: ['described', 'never-made'] });
    const leader = synced.find((s) => s.assignment === 'part-1');
    expect(groups).toEqual([
      {
        groupId: 'described',
        state: 'Stable',
        protocolType: 'consumer',
        protocolName: 'range',
        generationId: 1,
        leader: leader?.memberId,
        members: synced.map((s) => ({ memberId: s.memberId, groupInstanceId: null, clientId: 'orders-app', assignment: s.assignment })),
        coordinator: found.coordinator,
        coordinatorEpoch: found.coordinatorEpoch,
      },
      expect.objectContaining({ groupId: 'never-made', state: 'Dead', members: [], generationId: -1, leader: null }),
    ]);
    const other = await serve(deps, 'FindCoordinator', { groupId: 'never-made' });
    expect(groups[1]).toMatchObject({ coordinator: other.coordinator, coordinatorEpoch: other.coordinatorEpoch });
  });

  it('names the coordinator after a failover, and shows lapsed members gone without writing', async () => {
    const { cluster, deps } = await groupCluster();
    const before = await serve(deps, 'FindCoordinator', { groupId: 'moving' });
    const [member] = await stableGroup(deps, 'moving', 1, { sessionTimeoutMs: 6_000 });
    await cluster.kill(before.coordinator);
    const after = await serve(deps, 'FindCoordinator', { groupId: 'moving' });
    expect(after.coordinator).not.toBe(before.coordinator);
    // The kill took longer than the member's session.
    const state = await everything(deps);
    const [described] = (await serve(deps, 'DescribeGroups', { groupIds: ['moving'] })).groups;
    expect(described).toMatchObject({ state: 'Empty', members: [], generationId: member.generationId + 1, leader: null, coordinator: after.coordinator, coordinatorEpoch: after.coordinatorEpoch });
    expect(await everything(deps)).toBe(state);
  });

  it('describes a group before the offsets topic exists as Dead with no coordinator', async () => {
    const { deps } = await groupCluster();
    expect((await serve(deps, 'DescribeGroups', { groupIds: ['early'] })).groups).toEqual([
      { groupId: 'early', state: 'Dead', protocolType: '', protocolName: '', generationId: -1, leader: null, members: [], coordinator: null, coordinatorEpoch: -1 },
    ]);
    expect(await deps.metadata.getTopic('__consumer_offsets')).toBeNull();
  });

  it.each([
    ['"groupIds"', {}],
    ['"groupIds"', { groupIds: [] }],
    ['"groupIds"', { groupIds: 'g' }],
    ['"groupIds"', { groupIds: Array.from({ length: MAX_GROUPS_PER_DESCRIBE + 1 }, (_, i) => `g${i}`) }],
    ['"groupIds[1]"', { groupIds: ['g', 'a#b'] }],
    ['"groupIds[0]"', { groupIds: [''] }],
    ['"groupIds[0]"', { groupIds: [7] }],
  ])('refuses bad group ids, naming %s, and writes nothing', async (field, request) => {
    const { deps } = await groupCluster();
    await serve(deps, 'FindCoordinator', { groupId: 'g' });
    const before = await everything(deps);
    const refusal = await refusalOf(serve(deps, 'DescribeGroups', request));
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as Error).message).toContain(field);
    expect(await everything(deps)).toBe(before);
  });
});
