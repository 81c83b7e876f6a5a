import { DynamoDBClient, GetItemCommand, QueryCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { LeadershipClient, isFunctionError, type JoinedGroup, type SyncedGroup } from '../../../client/lambda-client.js';
import { pollUntil } from '../../../client/poll.js';
import { asLeadershipOutputs, type LeadershipStackOutputs } from '../../../client/stack-outputs.js';
import { encodeAssignment, encodeSubscription } from '../../../protocol/consumer-protocol.js';
import { groupKey, partitionKey } from '../../../functions/adapters/dynamodb/keys.js';
import { startLocalCloud, type LocalCloud } from '../../../localcloud/index.js';
import { itemSize, writeUnitsFor } from '../../../localcloud/billing/dynamodb-billing.js';
import { eventShape } from '../../support/dynamodb-items.js';
import { invokeWithAwsCli, refusalOf, stackTarget, uniqueTopic, waitForLiveBrokers } from './support.js';

/**
 * Consumer groups through the deployed groups function: the offsets topic made on first use,
 * the classic protocol's rounds, committed offsets, the read-only APIs, bad input, the
 * coordinator's failover, and the scheduled sweep. It starts its own metered cloud from the
 * shared assembly: the offsets topic lives on the brokers that first asked for a coordinator,
 * which in the shared target would be another file's (stopped) brokers; and the meter checks
 * what each API costs against DynamoDB's rules (a strong read: 1 unit per started 4 KB of the
 * item, or of a Query's items together; a transactional write or ConditionCheck: 2 units per
 * started KB of the item).
 */
const target = stackTarget();
const OFFSETS_TOPIC = '__consumer_offsets';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.runIf(target.kind === 'embedded')('consumer groups on the deployed stack', () => {
  let cloud: LocalCloud;
  let outputs: LeadershipStackOutputs;
  let client: LeadershipClient;
  let simulator: BrokerSimulator;
  let dynamodb: DynamoDBClient;
  const brokers = ['grp-1', 'grp-2', 'grp-3'];
  const topic = uniqueTopic('grp-orders');
  const GROUP = 'orders-app';
  const protocols = [{ name: 'range', metadata: encodeSubscription({ topics: [topic], ownedPartitions: [] }) }];
  const failoverDeadlineMs = target.sessionTimeoutMs * 8;

  beforeAll(async () => {
    cloud = await startLocalCloud({ port: 0, assemblyDir: target.assemblyDir!, ttlPeriodMs: 0, meterUsage: true });
    outputs = asLeadershipOutputs('PartitionLeadership', cloud.stacks[0]?.outputs);
    client = new LeadershipClient(outputs, { endpoint: cloud.endpoint, region: target.region });
    dynamodb = new DynamoDBClient({ endpoint: cloud.endpoint, region: target.region });
    simulator = new BrokerSimulator(client, { heartbeatIntervalMs: Math.max(200, Math.floor(target.sessionTimeoutMs / 6)), credentials: registerCredentials(client) });
    await simulator.start(brokers);
    await waitForLiveBrokers(client, brokers, failoverDeadlineMs);
    await client.createTopic({ topic, partitions: 4, replicationFactor: 2 });
  });

  afterAll(async () => {
    await simulator?.stop();
    client?.close();
    dynamodb?.destroy();
    await cloud?.stop();
  });

  /** Joins as a consumer does: the MEMBER_ID_REQUIRED round, then again after each `pending` answer's retryAfterMs. */
  async function join(groupId: string, extra: { memberId?: string; sessionTimeoutMs?: number; coordinatorEpoch?: number } = {}): Promise<JoinedGroup> {
    let memberId = extra.memberId ?? '';
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        const answer = await client.invoke('groups', { api: 'JoinGroup', groupId, protocolType: 'consumer', protocols, sessionTimeoutMs: 30_000, ...extra, memberId });
        if (!('pending' in answer)) return answer;
        memberId = answer.memberId;
        await sleep(answer.retryAfterMs);
      } catch (error) {
        if (!isFunctionError(error, 'MemberIdRequiredError')) throw error;
        memberId = /\[member id ([^\]]+)\]/.exec(error.message)?.[1] ?? '';
        expect(memberId).not.toBe('');
      }
    }
    throw new Error(`no join of group ${groupId} within 60 s`);
  }

  /** SyncGroup, again after each `pending` answer (a follower waiting for the leader's assignment). */
  async function sync(groupId: string, joined: JoinedGroup, assignments?: Array<{ memberId: string; assignment: string }>): Promise<SyncedGroup> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const answer = await client.invoke('groups', { api: 'SyncGroup', groupId, memberId: joined.memberId, generationId: joined.generationId, ...(assignments ? { assignments } : {}) });
      if (!('pending' in answer)) return answer;
      await sleep(answer.retryAfterMs);
    }
    throw new Error(`no sync of group ${groupId} within 60 s`);
  }

  /**
   * Members run as consumers do until all of them are in one generation, synced: join, sync
   * (the leader assigns with `assign`), then heartbeat; REBALANCE_IN_PROGRESS or
   * ILLEGAL_GENERATION sends a member back to join. A member that joins late (a cold
   * function, a busy machine) starts another rebalance, which the others then join.
   */
  async function joinAsOne(groupId: string, count: number, assign: (members: string[]) => Map<string, string>): Promise<Array<{ joined: JoinedGroup; synced: SyncedGroup }>> {
    const current = new Map<number, { joined: JoinedGroup; synced: SyncedGroup }>();
    const together = () => current.size === count && new Set([...current.values()].map(({ synced }) => synced.generationId)).size === 1;
    const rejoin = (error: unknown) => isFunctionError(error, 'RebalanceInProgressError') || isFunctionError(error, 'IllegalGenerationError');
    const run = async (index: number): Promise<void> => {
      let memberId = '';
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline) {
        const joined = await join(groupId, { memberId });
        memberId = joined.memberId;
        try {
          const assignments = joined.leader === memberId ? [...assign(joined.members.map((m) => m.memberId))].map(([id, assignment]) => ({ memberId: id, assignment })) : undefined;
          current.set(index, { joined, synced: await sync(groupId, joined, assignments) });
          while (!together()) {
            await client.invoke('groups', { api: 'Heartbeat', groupId, memberId, generationId: joined.generationId });
            await sleep(500);
          }
          return;
        } catch (error) {
          if (!rejoin(error)) throw error;
        }
      }
      throw new Error(`member ${index} of ${groupId} not in one generation with the others within 90 s`);
    };
    await Promise.all(Array.from({ length: count }, (_, index) => run(index)));
    return [...current.values()];
  }

  /** The group's items as stored (its group item and committed offsets), to show that a refused request wrote nothing. */
  async function storedGroup(groupId: string): Promise<Array<Record<string, AttributeValue>>> {
    const { Items = [] } = await dynamodb.send(
      new QueryCommand({
        TableName: outputs.MetadataTableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': { S: groupKey(groupId).pk } },
        ConsistentRead: true,
      }),
    );
    return Items;
  }

  async function itemBytes(key: { pk: string; sk: string }): Promise<number> {
    const { Item } = await dynamodb.send(new GetItemCommand({ TableName: outputs.MetadataTableName, Key: { pk: { S: key.pk }, sk: { S: key.sk } }, ConsistentRead: true }));
    if (Item === undefined) throw new Error(`no item ${key.pk} ${key.sk}`);
    return itemSize(eventShape(Item));
  }

  /** The groups function's DynamoDB usage while `call` runs (the brokers' heartbeats and other functions left out). */
  async function groupsUsage(call: () => Promise<unknown>) {
    cloud.usage!.reset();
    await call();
    const byCaller = cloud.usage!.report().dynamodb.byCaller;
    const usage = Object.entries(byCaller).find(([caller]) => caller.includes(outputs.GroupsFunctionName))?.[1];
    expect(usage, `no DynamoDB usage by the groups function among ${Object.keys(byCaller).join(', ')}`).toBeDefined();
    return usage!;
  }

  const strongReadUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));

  let found: { coordinator: string; coordinatorEpoch: number; partition: number };
  let member: SyncedGroup;
  const committed = new Map<number, number>();

  it(`FindCoordinator creates ${OFFSETS_TOPIC} on first use (50 partitions, RF 3, min.insync 2) and names the group's partition leader`, async () => {
    // A first call starts the function, so what is timed next is the topic's creation alone.
    const coldAt = Date.now();
    expect(await client.invoke('groups', { api: 'ListGroups' })).toEqual({ groups: [] });
    const coldMs = Date.now() - coldAt;
    const startedAt = Date.now();
    found = await client.invoke('groups', { api: 'FindCoordinator', groupId: GROUP });
    const firstMs = Date.now() - startedAt;
    const again = Date.now();
    const other = await client.invoke('groups', { api: 'FindCoordinator', groupId: 'another-app' });
    const warmMs = Date.now() - again;
    console.log(`[groups] cold start (a ListGroups): ${coldMs} ms; first FindCoordinator (creating ${OFFSETS_TOPIC}): ${firstMs} ms; the next one: ${warmMs} ms`);

    const [offsets] = (await client.describe(OFFSETS_TOPIC)).topics;
    expect(offsets).toMatchObject({ topic: OFFSETS_TOPIC, partitionCount: 50, replicationFactor: 3, minInsyncReplicas: 2 });
    expect(offsets.partitions.every((p) => p.Leader !== null && p.Replicas.length === 3)).toBe(true);
    const partition = offsets.partitions.find((p) => p.Partition === found.partition);
    expect(found).toEqual({ groupId: GROUP, topic: OFFSETS_TOPIC, partition: partition?.Partition, coordinator: partition?.Leader, coordinatorEpoch: partition?.LeaderEpoch });
    expect(other.topic).toBe(OFFSETS_TOPIC);
  });

  it('two members join (MEMBER_ID_REQUIRED, then pending until the barrier), the leader assigns, both heartbeat, commit and fetch; ListGroups and DescribeGroups show them', async () => {
    const split = new Map<string, number[]>();
    const assign = (members: string[]) => {
      split.clear();
      members.forEach((memberId, index) => split.set(memberId, index === 0 ? [1, 2] : [3, 4]));
      return new Map([...split].map(([memberId, partitions]) => [memberId, encodeAssignment({ partitions: [{ topic, partitions }] })]));
    };
    const members = await joinAsOne(GROUP, 2, assign);
    const joined = members.map((m) => m.joined);
    const synced = members.map((m) => m.synced);
    const generation = synced[0].generationId;
    const leader = joined.find((j) => j.memberId === j.leader);
    expect(leader?.members.map((m) => m.memberId).sort()).toEqual(joined.map((j) => j.memberId).sort());
    expect([...split.keys()].sort()).toEqual(joined.map((j) => j.memberId).sort());
    const assignments = [...assign([...split.keys()])].map(([memberId, assignment]) => ({ memberId, assignment }));
    for (const s of synced) expect(s.assignment).toBe(assignments.find((a) => a.memberId === s.memberId)?.assignment);

    for (const s of synced) {
      expect(await client.invoke('groups', { api: 'Heartbeat', groupId: GROUP, memberId: s.memberId, generationId: generation, coordinatorEpoch: found.coordinatorEpoch })).toEqual({
        memberId: s.memberId,
        generationId: generation,
      });
      const offsets = (split.get(s.memberId) ?? []).map((partition) => ({ topic, partition, offset: partition * 10, committedLeaderEpoch: 0, metadata: s.memberId }));
      const answer = await client.invoke('groups', { api: 'OffsetCommit', groupId: GROUP, memberId: s.memberId, generationId: generation, offsets });
      expect(answer.partitions).toEqual(offsets.map(({ partition }) => ({ topic, partition })));
      for (const { partition, offset } of offsets) committed.set(partition, offset);
    }
    const fetched = await client.invoke('groups', { api: 'OffsetFetch', groupId: GROUP });
    expect(fetched.partitions.map((p) => [p.partition, p.offset])).toEqual([...committed].sort(([a], [b]) => a - b));

    const listed = await client.invoke('groups', { api: 'ListGroups', states: ['Stable'] });
    expect(listed.groups).toEqual([{ groupId: GROUP, protocolType: 'consumer', state: 'Stable' }]);
    const [described] = (await client.invoke('groups', { api: 'DescribeGroups', groupIds: [GROUP] })).groups;
    expect(described).toMatchObject({ groupId: GROUP, state: 'Stable', protocolName: 'range', generationId: generation, leader: leader?.memberId, coordinator: found.coordinator, coordinatorEpoch: found.coordinatorEpoch });
    expect(described.members.map((m) => [m.memberId, m.assignment]).sort()).toEqual(assignments.map((a) => [a.memberId, a.assignment]).sort());

    // One leaves: the other is told to rejoin, and is the next generation alone.
    const [stays, leaves] = synced;
    expect(await client.invoke('groups', { api: 'LeaveGroup', groupId: GROUP, memberId: leaves.memberId })).toEqual({ memberId: leaves.memberId });
    const rebalancing = await refusalOf(client.invoke('groups', { api: 'Heartbeat', groupId: GROUP, memberId: stays.memberId, generationId: generation }));
    expect(rebalancing.errorType).toBe('RebalanceInProgressError');
    const rejoined = await join(GROUP, { memberId: stays.memberId });
    expect(rejoined).toMatchObject({ generationId: generation + 1, leader: stays.memberId });
    member = await sync(GROUP, rejoined, [{ memberId: stays.memberId, assignment: encodeAssignment({ partitions: [{ topic, partitions: [1, 2, 3, 4] }] }) }]);
    const [after] = (await client.invoke('groups', { api: 'DescribeGroups', groupIds: [GROUP] })).groups;
    expect(after).toMatchObject({ state: 'Stable', generationId: generation + 1, members: [{ memberId: stays.memberId }] });
  });

  it('refuses bad requests with the named error and writes nothing', async () => {
    const before = await storedGroup(GROUP);
    const cases: Array<[unknown, string, RegExp]> = [
      [{ groupId: GROUP }, 'ValidationError', /"api"/],
      [{ api: 'DeleteGroups', groupIds: [GROUP] }, 'ValidationError', /"api".*FindCoordinator/],
      [{ api: 'OffsetCommit', groupId: GROUP, memberId: member.memberId, generationId: member.generationId, offsets: [{ topic, partition: 1, offset: -1 }] }, 'ValidationError', /"offset"/],
      [{ api: 'DescribeGroups', groupIds: [GROUP, 'bad#id'] }, 'ValidationError', /groupIds\[1\]/],
      [{ api: 'ListGroups', states: ['Rebalancing'] }, 'ValidationError', /states\[0\]/],
      [{ api: 'OffsetCommit', groupId: GROUP, memberId: member.memberId, generationId: member.generationId - 1, offsets: [{ topic, partition: 1, offset: 99 }] }, 'IllegalGenerationError', new RegExp(`generation ${member.generationId}`)],
      [{ api: 'Heartbeat', groupId: GROUP, memberId: 'consumer-zombie-1', generationId: member.generationId }, 'UnknownMemberIdError', /consumer-zombie-1/],
    ];
    for (const [payload, errorType, message] of cases) {
      const refusal = await refusalOf(client.invokeFunction(outputs.GroupsFunctionName, payload));
      expect(refusal.errorType, JSON.stringify(payload)).toBe(errorType);
      expect(refusal.message).toMatch(message);
    }
    expect(await storedGroup(GROUP)).toEqual(before);
  });

  it('answers the documented `aws lambda invoke` command, and reports a refusal to it as a FunctionError', async () => {
    const cli = { ...target, endpoint: cloud.endpoint };
    const described = await invokeWithAwsCli(cli, outputs.GroupsFunctionName, { api: 'DescribeGroups', groupIds: [GROUP] });
    expect(described).toMatchObject({ statusCode: 200, functionError: undefined, body: { groups: [{ groupId: GROUP, state: 'Stable', generationId: member.generationId }] } });
    const refused = await invokeWithAwsCli(cli, outputs.GroupsFunctionName, { api: 'Nope' });
    expect(refused).toMatchObject({ statusCode: 200, functionError: 'Unhandled', body: { errorType: 'ValidationError', errorMessage: expect.stringMatching(/"api"/) } });
  });

  it("costs what DynamoDB's rules say: a heartbeat, a commit, a fetch, a ListGroups", async () => {
    const partitionBytes = await itemBytes(partitionKey(OFFSETS_TOPIC, found.partition));
    const heartbeat = await groupsUsage(() => client.invoke('groups', { api: 'Heartbeat', groupId: GROUP, memberId: member.memberId, generationId: member.generationId }));
    const groupBytes = await itemBytes(groupKey(GROUP));
    // Reads: the coordinator partition and the group item. Writes: the fence's ConditionCheck and the group item's put, transactional.
    expect(heartbeat).toMatchObject({
      readUnits: strongReadUnits(partitionBytes) + strongReadUnits(groupBytes),
      writeUnits: 2 * writeUnitsFor(partitionBytes) + 2 * writeUnitsFor(groupBytes),
    });

    // Two small offsets: each item of the transaction is rounded up to the KB on its own, not their sizes together.
    const offsets = [1, 2].map((partition) => ({ topic, partition, offset: 100 + partition, committedLeaderEpoch: 0, metadata: '' }));
    const commit = await groupsUsage(() => client.invoke('groups', { api: 'OffsetCommit', groupId: GROUP, memberId: member.memberId, generationId: member.generationId, offsets }));
    for (const { partition, offset } of offsets) committed.set(partition, offset);
    const stored = await storedGroup(GROUP);
    const offsetItems = stored.filter((item) => item.sk.S?.startsWith('offset#'));
    const offsetBytes = offsetItems.map((item) => itemSize(eventShape(item)));
    const committedBytes = offsets.map(({ partition }) => {
      const stored = offsetItems.find((item) => item.sk.S === `offset#${topic}#${String(partition).padStart(6, '0')}`);
      if (!stored) throw new Error(`offset of ${topic}/${partition} not stored`);
      return itemSize(eventShape(stored));
    });
    expect(committedBytes.every((bytes) => bytes < 512)).toBe(true);
    // The transaction: ConditionChecks of the group item (member, generation) and the coordinator partition, and a put per offset.
    expect(commit.writeUnits).toBe(
      2 * writeUnitsFor(groupBytes) + 2 * writeUnitsFor(partitionBytes) + committedBytes.reduce((sum, bytes) => sum + 2 * writeUnitsFor(bytes), 0),
    );

    const fetch = await groupsUsage(() => client.invoke('groups', { api: 'OffsetFetch', groupId: GROUP }));
    // The coordinator partition, and one Query of the group's offsets (their sizes summed, then rounded up to 4 KB).
    expect(fetch).toMatchObject({ readUnits: strongReadUnits(partitionBytes) + strongReadUnits(offsetBytes.reduce((sum, bytes) => sum + bytes, 0)), writeUnits: 0 });

    // ListGroups: a strong Scan of the whole metadata table, billed on every item it reads (in pages of 500 items).
    const list = await groupsUsage(() => client.invoke('groups', { api: 'ListGroups' }));
    const pages: number[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamodb.send(new ScanCommand({ TableName: outputs.MetadataTableName, Limit: 500, ConsistentRead: true, ExclusiveStartKey: startKey }));
      pages.push((page.Items ?? []).reduce((sum, item) => sum + itemSize(eventShape(item)), 0));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    expect(list).toMatchObject({ readUnits: pages.reduce((sum, bytes) => sum + strongReadUnits(bytes), 0), writeUnits: 0 });
    console.log(
      `[groups] ListGroups: ${list.readUnits} RRU for a metadata table of ${pages.reduce((sum, bytes) => sum + bytes, 0)} B in ${pages.length} page(s)`,
    );
    console.log(
      `[groups] by DynamoDB's rules, metered: heartbeat ${heartbeat.readUnits} RRU + ${heartbeat.writeUnits} WRU (group item ${groupBytes} B, partition item ${partitionBytes} B); ` +
        `commit of 2 offsets ${commit.readUnits} RRU + ${commit.writeUnits} WRU; fetch of ${offsetBytes.length} offsets ${fetch.readUnits} RRU`,
    );
  });

  it("moves the coordinator with its partition's leadership: the old epoch is NOT_COORDINATOR, every commit is still there, commits go on", async () => {
    await client.invoke('groups', { api: 'Heartbeat', groupId: GROUP, memberId: member.memberId, generationId: member.generationId, coordinatorEpoch: found.coordinatorEpoch });
    await simulator.kill(found.coordinator);
    const moved = await pollUntil(
      async () => {
        try {
          const now = await client.invoke('groups', { api: 'FindCoordinator', groupId: GROUP });
          return now.coordinator !== found.coordinator ? now : undefined;
        } catch (error) {
          if (isFunctionError(error, 'CoordinatorNotAvailableError')) return undefined;
          throw error;
        }
      },
      { timeoutMs: failoverDeadlineMs, intervalMs: 250, description: `the coordinator of ${GROUP} to move off ${found.coordinator}` },
    );
    const partition = (await client.describe(OFFSETS_TOPIC)).topics[0].partitions.find((p) => p.Partition === found.partition);
    expect(moved).toMatchObject({ partition: found.partition, coordinator: partition?.Leader, coordinatorEpoch: partition?.LeaderEpoch });
    expect(moved.coordinatorEpoch).toBeGreaterThan(found.coordinatorEpoch);

    const before = await storedGroup(GROUP);
    const stale = { groupId: GROUP, memberId: member.memberId, generationId: member.generationId, coordinatorEpoch: found.coordinatorEpoch };
    for (const payload of [
      { api: 'Heartbeat', ...stale },
      { api: 'OffsetCommit', ...stale, offsets: [{ topic, partition: 3, offset: 999 }] },
    ]) {
      const refusal = await refusalOf(client.invokeFunction(outputs.GroupsFunctionName, payload));
      expect(refusal.errorType).toBe('NotCoordinatorError');
      expect(refusal.message).toContain(`epoch ${found.coordinatorEpoch} is not current`);
    }
    expect(await storedGroup(GROUP)).toEqual(before);

    const fetched = await client.invoke('groups', { api: 'OffsetFetch', groupId: GROUP, coordinatorEpoch: moved.coordinatorEpoch });
    expect(fetched.partitions.map((p) => [p.partition, p.offset])).toEqual([...committed].sort(([a], [b]) => a - b));
    const current = { ...stale, coordinatorEpoch: moved.coordinatorEpoch };
    expect(await client.invoke('groups', { api: 'Heartbeat', ...current })).toEqual({ memberId: member.memberId, generationId: member.generationId });
    await client.invoke('groups', { api: 'OffsetCommit', ...current, offsets: [{ topic, partition: 3, offset: 333, committedLeaderEpoch: 0 }] });
    committed.set(3, 333);
    const after = await client.invoke('groups', { api: 'OffsetFetch', groupId: GROUP, coordinatorEpoch: moved.coordinatorEpoch });
    expect(after.partitions.map((p) => [p.partition, p.offset])).toEqual([...committed].sort(([a], [b]) => a - b));
    const [described] = (await client.invoke('groups', { api: 'DescribeGroups', groupIds: [GROUP] })).groups;
    expect(described).toMatchObject({ state: 'Stable', generationId: member.generationId, coordinator: moved.coordinator, coordinatorEpoch: moved.coordinatorEpoch });
  });

  it('the group sweep expires a member whose session lapsed in a group nobody calls', async () => {
    const idle = 'idle-app';
    const sessionTimeoutMs = 6_000;
    const joined = await join(idle, { sessionTimeoutMs });
    await sync(idle, joined, [{ memberId: joined.memberId, assignment: encodeAssignment({ partitions: [{ topic, partitions: [1] }] }) }]);
    // It commits, then dies: the group stays, Empty, with its offsets (an empty group with none would be deleted).
    await client.invoke('groups', { api: 'OffsetCommit', groupId: idle, memberId: joined.memberId, generationId: joined.generationId, offsets: [{ topic, partition: 1, offset: 7 }] });
    const lastCall = Date.now();
    const membersStored = async () => {
      const [item] = (await storedGroup(idle)).filter((stored) => stored.sk.S === groupKey(idle).sk);
      return item?.members?.L?.length ?? -1;
    };
    expect(await membersStored()).toBe(1);
    const [stored] = (await storedGroup(idle)).filter((item) => item.sk.S === groupKey(idle).sk);
    const sessionDeadlineMs = Number(stored.members?.L?.[0]?.M?.sessionDeadlineMs?.N);
    expect(sessionDeadlineMs).toBeGreaterThan(Date.now() - sessionTimeoutMs);
    const expired: string[] = [];
    await pollUntil(
      async () => {
        const swept = await client.invoke('sweepGroups', {});
        expired.push(...swept.expiredMembers.filter((m) => m.groupId === idle).map((m) => m.memberId));
        return (await membersStored()) === 0;
      },
      { timeoutMs: sessionTimeoutMs + 60_000, intervalMs: 1_000, description: `the sweep to expire ${joined.memberId}` },
    );
    // Not before its session lapsed (the coordinator's clock is this machine's).
    expect(Date.now()).toBeGreaterThan(sessionDeadlineMs);
    const [described] = (await client.invoke('groups', { api: 'DescribeGroups', groupIds: [idle] })).groups;
    expect(described).toMatchObject({ state: 'Empty', members: [], generationId: joined.generationId + 1 });
    expect((await client.invoke('groups', { api: 'OffsetFetch', groupId: idle })).partitions).toMatchObject([{ topic, partition: 1, offset: 7 }]);
    console.log(`[groups] the sweep expired ${expired.length > 0 ? expired.join(', ') : `${joined.memberId} (on its scheduled run)`} ${Date.now() - lastCall} ms after its last call`);
  });
});
