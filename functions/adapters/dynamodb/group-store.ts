/**
 * GroupStore over the metadata table (keys.ts: `group#<groupId>` with the group item and one
 * item per committed offset). Every write is one TransactWriteItems: a ConditionCheck that the
 * coordinator partition still has the fence's leader and epoch, the group item's condition, and
 * the offsets, so a deposed coordinator or a lost race writes nothing.
 */
import { GetCommand, paginateQuery, paginateScan, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GroupChangedError, NotCoordinatorError, ValidationError } from '../../domain/errors.js';
import type { CommittedOffset, CoordinatorFence, Group } from '../../domain/group-model.js';
import { MAX_OFFSETS_PER_COMMIT } from '../../domain/limits.js';
import type { GroupStore, GroupWrite, MemberOffsetCommit } from '../../ports/index.js';
import { allOf, groupHoldsMember, groupVersionIs, itemAbsent, leaderEpochIs, leaderIs } from './conditions.js';
import { checkThat, deleteIf, deleteItem, describeLost, put, putIf, transactWrite, type TransactWrite } from './conditional-writes.js';
import { groupFromItem, groupItem, groupOffsetFromItem, groupOffsetItem, type Item } from './items.js';
import { GROUP_OFFSET_SK_PREFIX, GROUP_SK, groupKey, groupOffsetKey, groupOffsetsPk, partitionKey } from './keys.js';

const groupAbsent = itemAbsent('pk', 'group item');

/** Items read per page of a listing, as the metadata store pages (a smaller page lets other requests in on DynamoDB Local). */
const PAGE_ITEMS = 500;

export class DynamoGroupStore implements GroupStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getGroup(groupId: string): Promise<Group | null> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: groupKey(groupId), ConsistentRead: true }));
    return Item ? groupFromItem(Item) : null;
  }

  /** A filtered Scan, as the metadata store's cross-topic listings: the table holds no log records. */
  async listGroups(): Promise<Group[]> {
    const groups: Group[] = [];
    const pages = paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        Limit: PAGE_ITEMS,
        FilterExpression: '#sk = :groupSk',
        ExpressionAttributeNames: { '#sk': 'sk' },
        ExpressionAttributeValues: { ':groupSk': GROUP_SK },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) groups.push(...(page.Items ?? []).map(groupFromItem));
    return groups.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  async getOffsets(groupId: string): Promise<CommittedOffset[]> {
    const items: Item[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        Limit: PAGE_ITEMS,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :offsetPrefix)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': groupOffsetsPk(groupId), ':offsetPrefix': GROUP_OFFSET_SK_PREFIX },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) items.push(...(page.Items ?? []));
    // Sort keys hold the padded partition, but a topic that prefixes another (`a`, `a.b`) sorts by `#` vs `.`: order here.
    return items
      .map(groupOffsetFromItem)
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  async writeGroup(write: GroupWrite): Promise<void> {
    const puts = lastPerPartition(write.putOffsets ?? []);
    // Put after delete, as the memory store applies them: a partition in both ends up put, and a transaction may name an item once.
    const putKeys = new Set(puts.map((offset) => partitionOf(offset)));
    const deletes = [...new Set((write.deleteOffsets ?? []).map(partitionOf))].filter((key) => !putKeys.has(key));
    requireFits(write.groupId, puts.length + deletes.length);
    const groupCondition = write.expectedVersion === null ? groupAbsent : groupVersionIs(write.expectedVersion);
    const groupWrite: TransactWrite =
      write.next === null
        ? deleteIf(this.tableName, groupKey(write.groupId), groupCondition)
        : putIf(this.tableName, groupItem({ ...write.next, groupId: write.groupId, version: (write.expectedVersion ?? 0) + 1 }), groupCondition);
    await this.fencedWrite(write.fence, write.groupId, [
      groupWrite,
      ...deletes.map((key) => deleteItem(this.tableName, groupOffsetKey(write.groupId, ...splitPartition(key)))),
      ...puts.map((offset) => put(this.tableName, groupOffsetItem(offset))),
    ]);
  }

  async commitMemberOffsets(commit: MemberOffsetCommit): Promise<void> {
    const puts = lastPerPartition(commit.offsets);
    requireFits(commit.groupId, puts.length);
    if (puts.length === 0) return;
    await this.fencedWrite(commit.fence, commit.groupId, [
      checkThat(this.tableName, groupKey(commit.groupId), groupHoldsMember(commit.generationId, commit.memberId)),
      ...puts.map((offset) => put(this.tableName, groupOffsetItem(offset))),
    ]);
  }

  /** The writes with the coordinator's fence first; a lost fence wins over a lost group condition, as in the memory store. */
  private async fencedWrite(fence: CoordinatorFence, groupId: string, writes: TransactWrite[]): Promise<void> {
    const fenceCondition = allOf(leaderIs(fence.leader), leaderEpochIs(fence.leaderEpoch));
    await transactWrite(this.client, [checkThat(this.tableName, partitionKey(fence.topic, fence.partition), fenceCondition), ...writes], (lost) =>
      lost.includes(fenceCondition)
        ? new NotCoordinatorError(
            `the coordinator moved: ${fence.topic}-${fence.partition} is no longer led by ${fence.leader} at epoch ${fence.leaderEpoch}; find the coordinator again`,
          )
        : new GroupChangedError(`group "${groupId}" changed concurrently: no longer true: ${describeLost(lost)}`),
    );
  }
}

const partitionOf = ({ topic, partition }: { topic: string; partition: number }): string => `${partition}#${topic}`;

const splitPartition = (key: string): [string, number] => {
  const at = key.indexOf('#');
  return [key.slice(at + 1), Number(key.slice(0, at))];
};

/** One item per partition (the last given wins, as the memory store's overwrites do): a transaction may name an item once. */
const lastPerPartition = (offsets: readonly CommittedOffset[]): CommittedOffset[] => [
  ...new Map(offsets.map((offset) => [partitionOf(offset), offset])).values(),
];

/** The fence and the group item take two of a transaction's 100 members; the domain never asks for more than the rest. */
function requireFits(groupId: string, offsetItems: number): void {
  if (offsetItems > MAX_OFFSETS_PER_COMMIT) {
    throw new ValidationError(`a write of group "${groupId}" names ${offsetItems} offsets; one transaction holds at most ${MAX_OFFSETS_PER_COMMIT}`);
  }
}
