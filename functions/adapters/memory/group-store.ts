/**
 * GroupStore with the DynamoDB adapter's conditions: each write checks the coordinator
 * partition's leader and epoch and the group's condition, then writes all of it, atomically
 * (one yield point, then synchronous).
 */
import { GroupChangedError, NotCoordinatorError } from '../../domain/errors.js';
import type { CommittedOffset, CoordinatorFence, Group } from '../../domain/group-model.js';
import type { GroupStore, GroupWrite, MemberOffsetCommit } from '../../ports/index.js';
import { copyOf, partitionKey, type MemoryTables } from './tables.js';

const offsetKey = (topic: string, partition: number): string => `${topic}#${partition}`;

export class MemoryGroupStore implements GroupStore {
  /** Writes refused by a lost condition (coordinator or group): how tests see that a race happened. */
  rejectedWrites = 0;

  constructor(private readonly tables: MemoryTables) {}

  async getGroup(groupId: string): Promise<Group | null> {
    await this.tables.yieldPoint('groups.getGroup');
    const stored = this.tables.groups.get(groupId);
    return stored ? copyOf(stored) : null;
  }

  async listGroups(): Promise<Group[]> {
    await this.tables.yieldPoint('groups.listGroups');
    return [...this.tables.groups.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0)).map(copyOf);
  }

  async getOffsets(groupId: string): Promise<CommittedOffset[]> {
    await this.tables.yieldPoint('groups.getOffsets');
    return [...(this.tables.groupOffsets.get(groupId)?.values() ?? [])]
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
      .map(copyOf);
  }

  async writeGroup(write: GroupWrite): Promise<void> {
    await this.tables.yieldPoint('groups.writeGroup');
    this.requireCoordinator(write.fence);
    const stored = this.tables.groups.get(write.groupId);
    if ((stored?.version ?? null) !== write.expectedVersion) {
      this.rejectedWrites += 1;
      throw new GroupChangedError(`group "${write.groupId}" changed concurrently: its version is no longer ${String(write.expectedVersion)}`);
    }
    if (write.next === null) this.tables.groups.delete(write.groupId);
    else this.tables.groups.set(write.groupId, copyOf({ ...write.next, version: (write.expectedVersion ?? 0) + 1 }));
    const offsets = this.offsetsOf(write.groupId);
    for (const { topic, partition } of write.deleteOffsets ?? []) offsets.delete(offsetKey(topic, partition));
    for (const offset of write.putOffsets ?? []) offsets.set(offsetKey(offset.topic, offset.partition), copyOf(offset));
    if (offsets.size === 0) this.tables.groupOffsets.delete(write.groupId);
  }

  async commitMemberOffsets(commit: MemberOffsetCommit): Promise<void> {
    await this.tables.yieldPoint('groups.commitMemberOffsets');
    this.requireCoordinator(commit.fence);
    const group = this.tables.groups.get(commit.groupId);
    const holds =
      group !== undefined &&
      group.generationId === commit.generationId &&
      group.members.some((member) => member.memberId === commit.memberId) &&
      (group.state === 'Stable' || group.state === 'PreparingRebalance');
    if (!holds) {
      this.rejectedWrites += 1;
      throw new GroupChangedError(`group "${commit.groupId}" no longer has member ${commit.memberId} in generation ${commit.generationId} outside a rebalance's completion`);
    }
    const offsets = this.offsetsOf(commit.groupId);
    for (const offset of commit.offsets) offsets.set(offsetKey(offset.topic, offset.partition), copyOf(offset));
  }

  private offsetsOf(groupId: string): Map<string, CommittedOffset> {
    const offsets = this.tables.groupOffsets.get(groupId) ?? new Map<string, CommittedOffset>();
    this.tables.groupOffsets.set(groupId, offsets);
    return offsets;
  }

  private requireCoordinator(fence: CoordinatorFence): void {
    const partition = this.tables.partitions.get(partitionKey(fence.topic, fence.partition));
    if (partition?.leader !== fence.leader || partition.leaderEpoch !== fence.leaderEpoch) {
      this.rejectedWrites += 1;
      throw new NotCoordinatorError(
        `the coordinator moved: ${fence.topic}-${fence.partition} is no longer led by ${fence.leader} at epoch ${fence.leaderEpoch}; find the coordinator again`,
      );
    }
  }
}
