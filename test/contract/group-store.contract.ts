/**
 * The GroupStore contract, run against the memory store (test/unit/adapters/memory-group-store-contract.test.ts)
 * and the DynamoDB store (test/e2e/adapters/dynamodb-group-store-contract.test.ts): the group
 * coordinator's tests and the simulation run on the memory store, so they say something about
 * production only if it refuses exactly what DynamoDB's transaction refuses, with the same error,
 * and writes nothing when it refuses.
 *
 * `open` may hand every test the same stores: every test uses its own group and topic names.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { aTopicFixture } from '../factories/entities.js';
import { GroupChangedError, NotCoordinatorError } from '../../functions/domain/errors.js';
import type { CommittedOffset, CoordinatorFence, Group } from '../../functions/domain/group-model.js';
import type { GroupStore, MetadataStore } from '../../functions/ports/index.js';

export interface GroupContractStores {
  metadata: MetadataStore;
  groups: GroupStore;
}

const T0 = 1_000_000;
let nameCounter = 0;
const fresh = (prefix: string): string => `${prefix}-${++nameCounter}`;

const aGroup = (groupId: string, overrides: Partial<Group> = {}): Group => ({
  groupId,
  version: 0,
  incarnation: T0,
  nextMemberNumber: 3,
  state: 'Stable',
  stateSince: T0,
  generationId: 4,
  protocolType: 'consumer',
  protocolName: 'range',
  leader: 'm-1',
  members: ['m-1', 'm-2'].map((memberId) => ({
    memberId,
    groupInstanceId: memberId === 'm-2' ? 'instance-2' : null,
    clientId: `client-${memberId}`,
    protocols: [{ name: 'range', metadata: '{"topics":["orders"]}' }],
    sessionTimeoutMs: 45_000,
    rebalanceTimeoutMs: 300_000,
    sessionDeadlineMs: T0 + 45_000,
    joined: false,
    assignment: `{"${memberId}":[0]}`,
  })),
  pending: [{ memberId: 'm-9', deadlineMs: T0 + 1_000 }],
  rebalance: null,
  ...overrides,
});

const anOffset = (groupId: string, topic: string, partition: number, offset: number): CommittedOffset => ({
  groupId,
  topic,
  partition,
  offset,
  committedLeaderEpoch: 2,
  metadata: partition % 2 ? '' : `meta-${offset}`,
  committedAt: T0 + offset,
});

export function describeGroupStoreContract(name: string, open: () => Promise<GroupContractStores>): void {
  describe(`group store contract: ${name}`, () => {
    let stores: GroupContractStores;
    beforeEach(async () => {
      stores = await open();
    });

    /** A coordinator partition led by A at epoch 0, and its fence. */
    async function coordinator(): Promise<CoordinatorFence> {
      const fixture = aTopicFixture(fresh('__consumer_offsets'), 1, ['A', 'B'], { at: T0 });
      await stores.metadata.createTopic(fixture.config, fixture.partitions, fixture.replicas);
      const [partition] = fixture.partitions;
      return { topic: fixture.config.topic, partition: partition.partition, leader: partition.leader!, leaderEpoch: partition.leaderEpoch };
    }

    /** A group created at version 1 (and its fence). */
    async function created(overrides: Partial<Group> = {}): Promise<{ fence: CoordinatorFence; group: Group }> {
      const fence = await coordinator();
      const groupId = fresh('group');
      await stores.groups.writeGroup({ fence, groupId, expectedVersion: null, next: aGroup(groupId, overrides) });
      return { fence, group: aGroup(groupId, { ...overrides, version: 1 }) };
    }

    const snapshot = async (groupId: string) => ({ group: await stores.groups.getGroup(groupId), offsets: await stores.groups.getOffsets(groupId) });

    it('creates a group at version 1, reads it back whole, lists it, and has nothing for an unknown group', async () => {
      const { group } = await created({ rebalance: { startedAt: T0, notBeforeMs: T0 + 3_000, deadlineMs: T0 + 300_000 }, state: 'PreparingRebalance' });
      expect(await stores.groups.getGroup(group.groupId)).toEqual(group);
      expect((await stores.groups.listGroups()).filter((g) => g.groupId === group.groupId)).toEqual([group]);
      const unknown = fresh('group');
      expect(await stores.groups.getGroup(unknown)).toBeNull();
      expect(await stores.groups.getOffsets(unknown)).toEqual([]);
    });

    it('refuses a write at a stale version, or a creation over an existing group, with GroupChangedError, writing nothing', async () => {
      const { fence, group } = await created();
      const topic = fresh('orders');
      await stores.groups.writeGroup({ fence, groupId: group.groupId, expectedVersion: 1, next: { ...group, generationId: 5 } });
      const before = await snapshot(group.groupId);
      expect(before.group?.version).toBe(2);
      for (const expectedVersion of [1, null, 3]) {
        await expect(
          stores.groups.writeGroup({ fence, groupId: group.groupId, expectedVersion, next: { ...group, generationId: 9 }, putOffsets: [anOffset(group.groupId, topic, 0, 7)] }),
        ).rejects.toThrow(GroupChangedError);
      }
      await expect(stores.groups.writeGroup({ fence, groupId: group.groupId, expectedVersion: 1, next: null })).rejects.toThrow(GroupChangedError);
      expect(await snapshot(group.groupId)).toEqual(before);
    });

    it('refuses every write under a moved coordinator (leader or epoch) with NotCoordinatorError, writing nothing', async () => {
      const { fence, group } = await created();
      const topic = fresh('orders');
      const [partition] = await stores.metadata.listPartitions(fence.topic);
      await stores.metadata.updateLeadership(fence.topic, fence.partition, partition.version, {
        leader: 'B',
        leaderEpoch: fence.leaderEpoch + 1,
        isr: ['B'],
        state: 'ONLINE',
        lastChange: { reason: 'LEADER_FAILED', previousLeader: 'A', causeBrokerId: 'A', causeIncarnation: 1, unclean: false, at: T0 + 1 },
      });
      const before = await snapshot(group.groupId);
      const stale: CoordinatorFence[] = [fence, { ...fence, leader: 'B' }, { ...fence, leaderEpoch: fence.leaderEpoch + 1, leader: 'A' }];
      for (const moved of stale) {
        await expect(
          stores.groups.writeGroup({ fence: moved, groupId: group.groupId, expectedVersion: 1, next: { ...group, generationId: 5 }, putOffsets: [anOffset(group.groupId, topic, 0, 1)] }),
        ).rejects.toThrow(NotCoordinatorError);
        await expect(
          stores.groups.commitMemberOffsets({ fence: moved, groupId: group.groupId, generationId: 4, memberId: 'm-1', offsets: [anOffset(group.groupId, topic, 0, 1)] }),
        ).rejects.toThrow(NotCoordinatorError);
      }
      // A moved coordinator and a stale version both: the coordinator is what the caller must find again.
      await expect(stores.groups.writeGroup({ fence, groupId: group.groupId, expectedVersion: 7, next: null })).rejects.toThrow(NotCoordinatorError);
      // A new group under a coordinator partition that does not exist.
      await expect(
        stores.groups.writeGroup({ fence: { ...fence, topic: fresh('ghost') }, groupId: fresh('group'), expectedVersion: null, next: aGroup('x') }),
      ).rejects.toThrow(NotCoordinatorError);
      expect(await snapshot(group.groupId)).toEqual(before);
      // The new coordinator's fence writes.
      await stores.groups.writeGroup({ fence: { ...fence, leader: 'B', leaderEpoch: fence.leaderEpoch + 1 }, groupId: group.groupId, expectedVersion: 1, next: group });
      expect((await stores.groups.getGroup(group.groupId))?.version).toBe(2);
    });

    it('commits offsets with a group write and with a member commit, and reads them back by topic then partition, the last commit of each', async () => {
      const { fence, group } = await created();
      const [a, b] = [fresh('orders'), fresh('payments')];
      await stores.groups.writeGroup({
        fence,
        groupId: group.groupId,
        expectedVersion: 1,
        next: group,
        putOffsets: [anOffset(group.groupId, b, 10, 5), anOffset(group.groupId, a, 2, 4), anOffset(group.groupId, a, 1, 3)],
      });
      await stores.groups.commitMemberOffsets({
        fence,
        groupId: group.groupId,
        generationId: 4,
        memberId: 'm-2',
        offsets: [anOffset(group.groupId, a, 2, 40), anOffset(group.groupId, b, 9, 8), anOffset(group.groupId, a, 2, 41)],
      });
      expect(await stores.groups.getOffsets(group.groupId)).toEqual([
        anOffset(group.groupId, a, 1, 3),
        anOffset(group.groupId, a, 2, 41),
        anOffset(group.groupId, b, 9, 8),
        anOffset(group.groupId, b, 10, 5),
      ]);
      // A member commit leaves the group item as it was.
      expect(await stores.groups.getGroup(group.groupId)).toEqual({ ...group, version: 2 });
      expect(await stores.groups.getOffsets(fresh('group'))).toEqual([]);
    });

    it('writes a member commit only while the group is at its generation, holds it, and is Stable or PreparingRebalance', async () => {
      const { fence, group } = await created();
      const topic = fresh('orders');
      const commit = (generationId: number, memberId: string, offset: number) =>
        stores.groups.commitMemberOffsets({ fence, groupId: group.groupId, generationId, memberId, offsets: [anOffset(group.groupId, topic, 0, offset)] });
      await commit(4, 'm-1', 1);
      const before = await snapshot(group.groupId);
      await expect(commit(3, 'm-1', 2)).rejects.toThrow(GroupChangedError);
      await expect(commit(5, 'm-1', 2)).rejects.toThrow(GroupChangedError);
      await expect(commit(4, 'm-3', 2)).rejects.toThrow(GroupChangedError);
      // A pending member id is not a member.
      await expect(commit(4, 'm-9', 2)).rejects.toThrow(GroupChangedError);
      await expect(
        stores.groups.commitMemberOffsets({ fence, groupId: fresh('group'), generationId: 4, memberId: 'm-1', offsets: [anOffset('x', topic, 0, 2)] }),
      ).rejects.toThrow(GroupChangedError);
      expect(await snapshot(group.groupId)).toEqual(before);

      await stores.groups.writeGroup({ fence, groupId: group.groupId, expectedVersion: 1, next: { ...group, state: 'PreparingRebalance' } });
      await commit(4, 'm-2', 3);
      await stores.groups.writeGroup({ fence, groupId: group.groupId, expectedVersion: 2, next: { ...group, state: 'CompletingRebalance' } });
      await expect(commit(4, 'm-2', 4)).rejects.toThrow(GroupChangedError);
      await stores.groups.writeGroup({ fence, groupId: group.groupId, expectedVersion: 3, next: { ...group, state: 'Empty', members: [], leader: null } });
      await expect(commit(4, 'm-2', 5)).rejects.toThrow(GroupChangedError);
      expect((await stores.groups.getOffsets(group.groupId)).map((o) => o.offset)).toEqual([3]);
    });

    it('deletes offsets and the group only at the version read, under the coordinator, and a recreation starts again at version 1', async () => {
      const { fence, group } = await created({ state: 'Empty', members: [], leader: null });
      const topic = fresh('orders');
      const offsets = [0, 1, 2].map((p) => anOffset(group.groupId, topic, p, 10 + p));
      await stores.groups.writeGroup({ fence, groupId: group.groupId, expectedVersion: 1, next: group, putOffsets: offsets });
      await stores.groups.writeGroup({ fence, groupId: group.groupId, expectedVersion: 2, next: group, deleteOffsets: [{ topic, partition: 0 }, { topic, partition: 7 }] });
      expect(await stores.groups.getOffsets(group.groupId)).toEqual(offsets.slice(1));

      const before = await snapshot(group.groupId);
      const deleteAll = { groupId: group.groupId, next: null, deleteOffsets: [1, 2].map((partition) => ({ topic, partition })) };
      await expect(stores.groups.writeGroup({ ...deleteAll, fence, expectedVersion: 2 })).rejects.toThrow(GroupChangedError);
      await expect(stores.groups.writeGroup({ ...deleteAll, fence: { ...fence, leaderEpoch: 9 }, expectedVersion: 3 })).rejects.toThrow(NotCoordinatorError);
      expect(await snapshot(group.groupId)).toEqual(before);

      await stores.groups.writeGroup({ ...deleteAll, fence, expectedVersion: 3 });
      expect(await snapshot(group.groupId)).toEqual({ group: null, offsets: [] });
      expect((await stores.groups.listGroups()).some((g) => g.groupId === group.groupId)).toBe(false);
      await stores.groups.writeGroup({ fence, groupId: group.groupId, expectedVersion: null, next: group });
      expect((await stores.groups.getGroup(group.groupId))?.version).toBe(1);
    });
  });
}
