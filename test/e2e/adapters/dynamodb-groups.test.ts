/**
 * The group coordinator over the DynamoDB stores (DynamoDB Local), brokers and clock in memory:
 * the classic protocol end to end through the real transactions, and a coordinator that moves
 * with its partition's leadership fenced out of the group. The memory-store suite
 * (test/unit/domain/groups.test.ts) covers the protocol's cases; this shows the same domain on
 * the adapter production runs.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, expect, it } from 'vitest';
import { DynamoGroupStore, DynamoMetadataStore } from '../../../functions/adapters/dynamodb/index.js';
import { createMemoryDeps } from '../../../functions/adapters/memory/index.js';
import {
  IllegalGenerationError,
  MemberIdRequiredError,
  NotCoordinatorError,
  createTopic,
  findCoordinator,
  groupHeartbeat,
  heartbeat,
  joinGroup,
  offsetCommit,
  offsetFetch,
  syncGroup,
  type JoinedGroup,
  type SyncedGroup,
} from '../../../functions/domain/index.js';
import type { GroupDeps } from '../../../functions/ports/index.js';
import { LEADERSHIP_TABLES as TABLES, createLeadershipTables } from '../../support/leadership-tables.js';
import { credentialFor, registerBrokers } from '../../factories/cluster.js';
import { useDataPlane } from '../../../localcloud/testing/data-plane.js';

const aws = useDataPlane();
const GROUP = 'orders-app';
const PROTOCOLS = [{ name: 'range', metadata: JSON.stringify({ topics: ['orders'] }) }];
let deps: GroupDeps & { clock: { advance(ms: number): void } };

beforeAll(async () => {
  await createLeadershipTables(aws);
  const documents = DynamoDBDocumentClient.from(aws.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  // Few offsets partitions: DynamoDB Local writes every partition and replica item of the topic.
  const memory = createMemoryDeps({ settings: { offsetsTopicNumPartitions: 3 } });
  deps = { ...memory, metadata: new DynamoMetadataStore(documents, TABLES.metadata), groups: new DynamoGroupStore(documents, TABLES.metadata) };
  // Leases and credentials stay in memory: only the group's stores are under test here.
  await registerBrokers(memory, 'A', 'B', 'C');
  for (const brokerId of ['A', 'B', 'C']) await heartbeat(memory, { brokerId, credential: credentialFor(brokerId) });
  await createTopic(deps, { topic: 'orders', partitions: 4, replicationFactor: 3 });
}, 60_000);

async function memberId(): Promise<string> {
  const refusal = await joinGroup(deps, { groupId: GROUP, memberId: '', protocolType: 'consumer', protocols: PROTOCOLS }).catch((error: unknown) => error);
  if (!(refusal instanceof MemberIdRequiredError)) throw new Error(`expected MEMBER_ID_REQUIRED, got ${String(refusal)}`);
  return refusal.memberId;
}

async function joinUntilDone(id: string): Promise<JoinedGroup> {
  for (;;) {
    const answer = await joinGroup(deps, { groupId: GROUP, memberId: id, protocolType: 'consumer', protocols: PROTOCOLS });
    if (!('pending' in answer)) return answer;
    deps.clock.advance(answer.retryAfterMs);
  }
}

async function syncUntilDone(joined: JoinedGroup): Promise<SyncedGroup> {
  const assignments = joined.members.map((m, i) => ({ memberId: m.memberId, assignment: JSON.stringify(i === 0 ? [1, 2] : [3, 4]) }));
  for (;;) {
    const answer = await syncGroup(deps, { groupId: GROUP, memberId: joined.memberId, generationId: joined.generationId, ...(assignments.length ? { assignments } : {}) });
    if (!('pending' in answer)) return answer;
    deps.clock.advance(answer.retryAfterMs);
  }
}

it('runs a group through join, sync, commit and fetch on DynamoDB, and fences out a coordinator whose partition moved', async () => {
  const found = await findCoordinator(deps, { groupId: GROUP });
  const [a, b] = [await memberId(), await memberId()];
  const joined = await Promise.all([joinUntilDone(a), joinUntilDone(b)]);
  expect(new Set(joined.map((j) => j.generationId)).size).toBe(1);
  const synced = await Promise.all(joined.map(syncUntilDone));
  expect(synced.map((s) => JSON.parse(s.assignment) as number[]).flat().sort()).toEqual([1, 2, 3, 4]);

  const [first] = synced;
  const offsets = [1, 2].map((partition) => ({ topic: 'orders', partition, offset: 10 * partition, committedLeaderEpoch: 0, metadata: '' }));
  await offsetCommit(deps, { groupId: GROUP, memberId: first.memberId, generationId: first.generationId, offsets });
  await expect(offsetCommit(deps, { groupId: GROUP, memberId: first.memberId, generationId: first.generationId + 1, offsets })).rejects.toThrow(IllegalGenerationError);
  const fetched = await offsetFetch(deps, { groupId: GROUP, partitions: [1, 2, 3].map((partition) => ({ topic: 'orders', partition })) });
  expect(fetched.partitions.map((p) => [p.partition, p.offset])).toEqual([[1, 10], [2, 20], [3, -1]]);

  // The offsets partition changes leader: a request under the old coordinator epoch is refused, the new one serves.
  const partition = (await deps.metadata.getPartition(found.topic, found.partition))!;
  const next = partition.replicas.find((r) => r !== partition.leader)!;
  await deps.metadata.updateLeadership(found.topic, found.partition, partition.version, {
    leader: next,
    leaderEpoch: partition.leaderEpoch + 1,
    isr: partition.isr,
    state: 'ONLINE',
    lastChange: { reason: 'LEADER_FAILED', previousLeader: partition.leader, causeBrokerId: partition.leader, causeIncarnation: 1, unclean: false, at: 0 },
  });
  const heartbeat = { groupId: GROUP, memberId: first.memberId, generationId: first.generationId };
  await expect(groupHeartbeat(deps, { ...heartbeat, coordinatorEpoch: found.coordinatorEpoch })).rejects.toThrow(NotCoordinatorError);
  const moved = await findCoordinator(deps, { groupId: GROUP });
  expect(moved).toMatchObject({ coordinator: next, coordinatorEpoch: found.coordinatorEpoch + 1 });
  expect(await groupHeartbeat(deps, { ...heartbeat, coordinatorEpoch: moved.coordinatorEpoch })).toEqual({ memberId: first.memberId, generationId: first.generationId });
}, 60_000);
