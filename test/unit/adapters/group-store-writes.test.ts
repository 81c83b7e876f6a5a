/**
 * The DynamoDB group store's requests, without DynamoDB: what a write's transaction holds, what a
 * TransactionConflict becomes (the memory store's fault injection, adapters/memory/conflicts.ts,
 * must name the same error), and that a write too large for one transaction is refused before
 * anything is sent. The conditions themselves are proved on DynamoDB Local by the group store contract.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DynamoGroupStore } from '../../../functions/adapters/dynamodb/group-store.js';
import { groupFromItem, groupItem, MalformedItemError } from '../../../functions/adapters/dynamodb/items.js';
import { conflictRefusal } from '../../../functions/adapters/memory/conflicts.js';
import { ValidationError } from '../../../functions/domain/errors.js';
import type { CommittedOffset, Group } from '../../../functions/domain/group-model.js';

interface Sent {
  input: { TransactItems?: Array<Record<string, { Key?: Record<string, unknown>; Item?: Record<string, unknown> }>> };
}

function recordingClient(fail?: () => Error) {
  const sent: Sent[] = [];
  const client = {
    send: (command: Sent) => {
      sent.push(command);
      return fail ? Promise.reject(fail()) : Promise.resolve({});
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, sent };
}

const fence = { topic: '__consumer_offsets', partition: 7, leader: 'B', leaderEpoch: 3 };
const group: Group = {
  groupId: 'app',
  version: 2,
  incarnation: 1,
  nextMemberNumber: 2,
  state: 'Stable',
  stateSince: 1,
  generationId: 1,
  protocolType: 'consumer',
  protocolName: 'range',
  leader: 'm-1',
  members: [{ memberId: 'm-1', groupInstanceId: null, clientId: 'c', protocols: [{ name: 'range', metadata: '' }], sessionTimeoutMs: 1, rebalanceTimeoutMs: 1, sessionDeadlineMs: 1, joined: false, assignment: null }],
  pending: [],
  rebalance: null,
};
const offsets = (n: number): CommittedOffset[] =>
  Array.from({ length: n }, (_, i) => ({ groupId: 'app', topic: 'orders', partition: i + 1, offset: i, committedLeaderEpoch: 0, metadata: '', committedAt: 1 }));

const kinds = (sent: Sent) => (sent.input.TransactItems ?? []).map((item) => Object.keys(item)[0]);

describe('DynamoDB group store', () => {
  afterEach(() => vi.useRealTimers());

  it("checks the coordinator's partition item first in every transaction, then the group, then one item per offset", async () => {
    const { client, sent } = recordingClient();
    const store = new DynamoGroupStore(client, 'metadata');
    await store.writeGroup({ fence, groupId: 'app', expectedVersion: 2, next: group, putOffsets: offsets(2), deleteOffsets: [{ topic: 'orders', partition: 2 }, { topic: 'orders', partition: 9 }] });
    await store.commitMemberOffsets({ fence, groupId: 'app', generationId: 1, memberId: 'm-1', offsets: [...offsets(3), ...offsets(1)] });
    expect(sent.map(kinds)).toEqual([
      ['ConditionCheck', 'Put', 'Delete', 'Put', 'Put'],
      ['ConditionCheck', 'ConditionCheck', 'Put', 'Put', 'Put'],
    ]);
    expect(sent[0]?.input.TransactItems?.[0]?.ConditionCheck?.Key).toEqual({ pk: 'topic#__consumer_offsets', sk: 'partition#000007' });
    expect(sent[0]?.input.TransactItems?.[1]?.Put?.Item).toMatchObject({ pk: 'group#app', sk: 'group', version: 3, memberIds: ['m-1'] });
    expect(sent[0]?.input.TransactItems?.[2]?.Delete?.Key).toEqual({ pk: 'group#app', sk: 'offset#orders#000009' });
  });

  it('refuses more offsets than one transaction holds beside the fence and the group, sending nothing', async () => {
    const { client, sent } = recordingClient();
    const store = new DynamoGroupStore(client, 'metadata');
    await expect(store.commitMemberOffsets({ fence, groupId: 'app', generationId: 1, memberId: 'm-1', offsets: offsets(99) })).rejects.toThrow(ValidationError);
    await expect(store.writeGroup({ fence, groupId: 'app', expectedVersion: 2, next: group, putOffsets: offsets(50), deleteOffsets: offsets(99).slice(50) })).rejects.toThrow(ValidationError);
    expect(sent).toEqual([]);
    await store.commitMemberOffsets({ fence, groupId: 'app', generationId: 1, memberId: 'm-1', offsets: offsets(98) });
    expect(sent[0]?.input.TransactItems).toHaveLength(100);
  });

  it('answers a transaction that keeps conflicting with the error the memory store injects for it', async () => {
    const conflict = () => new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }] });
    const store = new DynamoGroupStore(recordingClient(conflict).client, 'metadata');
    vi.useFakeTimers();
    for (const [operation, write] of [
      ['groups.writeGroup', () => store.writeGroup({ fence, groupId: 'app', expectedVersion: 2, next: group })],
      ['groups.commitMemberOffsets', () => store.commitMemberOffsets({ fence, groupId: 'app', generationId: 1, memberId: 'm-1', offsets: offsets(1) })],
    ] as const) {
      const refusal = expect(write()).rejects.toMatchObject({ name: conflictRefusal(operation).name });
      await vi.runAllTimersAsync();
      await refusal;
    }
  });

  it('reads back what it writes, and refuses a malformed group item by field', () => {
    expect(groupFromItem(groupItem(group))).toEqual(group);
    expect(() => groupFromItem({ ...groupItem(group), state: 'Dead' })).toThrow(MalformedItemError);
    expect(() => groupFromItem({ ...groupItem(group), members: [{ memberId: 'm-1' }] })).toThrow(/clientId/);
  });
});
