/**
 * The Consumer in a group, over the real group coordinator, consume and describe (memory
 * stores) on a virtual clock: members share a topic's partitions, take over a closed or
 * silent member's, hand partitions over cooperatively, and a zombie's commit is refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CommitFailedError, Consumer, type ConsumerOptions, type ConsumerRecord } from '../../../client/consumer.js';
import { FatalGroupError } from '../../../client/groups/membership.js';
import { ClientError } from '../../../client/retry.js';
import { LeadershipClient } from '../../../client/lambda-client.js';
import { fakeOutputs } from './fake-lambda.js';
import type { TopicPartitions } from '../../../protocol/consumer-protocol.js';
import { controlledShutdown, findCoordinator } from '../../../functions/domain/index.js';
import { credentialFor } from '../../factories/cluster.js';
import { GroupWorld, type Link } from './group-harness.js';

const GROUP = 'orders-app';
const TOPIC = 'orders';
const PARTITIONS = 12;

const keyOf = (topic: string, partition: number) => `${topic}-${partition}`;
const flat = (parts: TopicPartitions[]) => parts.flatMap(({ topic, partitions }) => partitions.map((p) => keyOf(topic, p)));

interface Member {
  name: string;
  link: Link;
  consumer: Consumer;
  stopped: boolean;
  assigned: string[][];
  revoked: string[][];
  lost: string[][];
}

let world: GroupWorld;
afterEach(() => world?.stop());

async function startWorld(recordsPerPartition: number): Promise<GroupWorld> {
  world = new GroupWorld();
  await world.start(TOPIC, PARTITIONS);
  await produceWave(recordsPerPartition, 'a');
  return world;
}

async function produceWave(perPartition: number, tag: string): Promise<void> {
  for (let partition = 1; partition <= PARTITIONS; partition += 1) {
    await world.domain(() => world.cluster.produceValues(TOPIC, partition, Array.from({ length: perPartition }, (_, i) => `${tag}${partition}.${i}`)));
  }
}

/** Which member owns each partition, by the listener's account; a second owner of one partition is recorded. */
const owners = new Map<string, string>();
const overlaps: string[] = [];
/** Per partition: how many times each offset was delivered. */
const deliveries = new Map<string, number>();
const redeliveredCommitted: string[] = [];

function member(name: string, options: ConsumerOptions = {}): Member {
  const link = world.link();
  const m: Member = { name, link, consumer: undefined as unknown as Consumer, stopped: false, assigned: [], revoked: [], lost: [] };
  m.consumer = new Consumer(link.client, {
    groupId: GROUP,
    clientId: name,
    autoOffsetReset: 'earliest',
    enableAutoCommit: false,
    clock: world.clock,
    random: () => 0.5,
    rebalanceListener: {
      onPartitionsAssigned: (parts) => {
        m.assigned.push(flat(parts));
        for (const key of flat(parts)) {
          if (owners.has(key) && owners.get(key) !== name) overlaps.push(`${key}: ${name} while ${owners.get(key) ?? ''} owns it`);
          owners.set(key, name);
        }
      },
      onPartitionsRevoked: async (parts) => {
        m.revoked.push(flat(parts));
        // Commit-after-process: what was processed of the partitions going away is committed now.
        const offsets = parts.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition, offset: m.consumer.position(topic, partition) })));
        await m.consumer.commitSync(offsets).catch(() => undefined);
        for (const key of flat(parts)) if (owners.get(key) === name) owners.delete(key);
      },
      onPartitionsLost: (parts) => {
        m.lost.push(flat(parts));
        for (const key of flat(parts)) if (owners.get(key) === name) owners.delete(key);
      },
    },
    ...options,
  });
  m.consumer.subscribe([TOPIC]);
  return m;
}

/** What a commit-after-process application does with a poll's records: checks none was committed already, then counts it. */
async function processRecords(records: ConsumerRecord[]): Promise<void> {
  const committed = new Map((await world.domain(() => world.cluster.deps.groups.getOffsets(GROUP))).map((o) => [keyOf(o.topic, o.partition), o.offset]));
  for (const { topic, partition, offset } of records) {
    if (offset < (committed.get(keyOf(topic, partition)) ?? 0)) redeliveredCommitted.push(`${keyOf(topic, partition)}@${offset}`);
    const key = `${keyOf(topic, partition)}@${offset}`;
    deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
  }
}

/** Polls, processes, commits, until `done` or the member is stopped; a virtual deadline fails it. */
async function run(m: Member, done: () => boolean, virtualMs = 600_000): Promise<void> {
  const deadline = world.clock.now() + virtualMs;
  while (!m.stopped && !done()) {
    if (world.clock.now() > deadline) throw new Error(`${m.name}: not done within ${virtualMs} ms of virtual time`);
    const records = await m.consumer.poll();
    if (m.stopped) return;
    await processRecords(records);
    await m.consumer.commitSync().catch((error: unknown) => {
      if (!(error instanceof CommitFailedError) && !(error instanceof Error && /RebalanceInProgress/.test(error.message))) throw error;
    });
  }
}

const ownedBy = (m: Member) => flat(m.consumer.ownedPartitions());
const everyRecordDelivered = (perPartition: number) => {
  for (let partition = 1; partition <= PARTITIONS; partition += 1) {
    for (let offset = 0; offset < perPartition; offset += 1) if (!deliveries.has(`${keyOf(TOPIC, partition)}@${offset}`)) return false;
  }
  return true;
};
/** Every partition owned once, shared as evenly as the members allow. */
const balanced = (members: Member[]) => {
  const counts = members.map((m) => ownedBy(m).length);
  const all = members.flatMap(ownedBy);
  return new Set(all).size === PARTITIONS && all.length === PARTITIONS && Math.max(...counts) - Math.min(...counts) <= 1 && members.every((m) => m.consumer.group?.isActive);
};

function resetTracking(): void {
  owners.clear();
  overlaps.length = 0;
  deliveries.clear();
  redeliveredCommitted.length = 0;
}

describe('Consumer groups over the real coordinator', () => {
  it('three members share 12 partitions with no overlap and consume every record; one closes and the others take its partitions, skipping nothing', async () => {
    resetTracking();
    await startWorld(5);
    const members = ['c1', 'c2', 'c3'].map((name) => member(name));
    const firstPhase = () => balanced(members) && everyRecordDelivered(5);
    await Promise.all(members.map((m) => run(m, firstPhase)));
    expect(members.map((m) => ownedBy(m).length)).toEqual([4, 4, 4]);
    expect(overlaps).toEqual([]);

    const [c1, c2, c3] = members;
    const c3Had = ownedBy(c3);
    await c3.consumer.close();
    expect(c3.revoked.at(-1)?.sort()).toEqual(c3Had.sort());
    await produceWave(5, 'b');
    const secondPhase = () => balanced([c1, c2]) && everyRecordDelivered(10);
    await Promise.all([c1, c2].map((m) => run(m, secondPhase)));
    expect(ownedBy(c1).length + ownedBy(c2).length).toBe(PARTITIONS);
    expect(overlaps).toEqual([]);
    expect(redeliveredCommitted).toEqual([]);
    // Everything delivered was committed at its close or by the survivors: nothing is delivered twice.
    expect([...deliveries.values()].every((count) => count === 1)).toBe(true);
    await Promise.all([c1, c2].map((m) => m.consumer.close()));
    const committed = await world.cluster.deps.groups.getOffsets(GROUP);
    expect(committed.map((o) => o.offset)).toEqual(Array(PARTITIONS).fill(10));
  });

  it('a member that stops heartbeating (its network cut) loses its partitions after a session; the others take them, and duplicates are only its uncommitted work', async () => {
    resetTracking();
    await startWorld(5);
    const members = ['c1', 'c2', 'c3'].map((name) => member(name));
    await Promise.all(members.map((m) => run(m, () => balanced(members) && everyRecordDelivered(5))));
    const [c1, c2, c3] = members;
    // c3 polls once more (its records processed, not committed), then its network is cut.
    await produceWave(3, 'b');
    const uncommitted = new Set<string>();
    for (let polls = 0; polls < 20 && uncommitted.size === 0; polls += 1) {
      for (const r of await c3.consumer.poll()) uncommitted.add(`${keyOf(r.topic, r.partition)}@${r.offset}`);
    }
    expect(uncommitted.size).toBeGreaterThan(0);
    for (const key of uncommitted) deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
    c3.link.cut = true;
    c3.stopped = true;
    await Promise.all([c1, c2].map((m) => run(m, () => balanced([c1, c2]) && everyRecordDelivered(8))));
    expect(overlaps.filter((o) => !o.includes('c3 owns'))).toEqual([]);
    const duplicated = [...deliveries].filter(([, count]) => count > 1).map(([key]) => key);
    expect(duplicated.length).toBeGreaterThan(0);
    for (const key of duplicated) expect(uncommitted.has(key), key).toBe(true);
    // Its own heartbeat timer found a whole session without a heartbeat: it no longer counts itself a member.
    expect(c3.consumer.group?.isActive).toBe(false);
    expect(c3.consumer.group?.generationId).toBe(-1);
  });

  it('a cooperative rebalance revokes only the partitions that move, and hands them over a generation later', async () => {
    resetTracking();
    await startWorld(2);
    const [c1, c2] = ['c1', 'c2'].map((name) => member(name));
    await Promise.all([c1, c2].map((m) => run(m, () => balanced([c1, c2]) && everyRecordDelivered(2))));
    const before = { c1: ownedBy(c1), c2: ownedBy(c2) };
    expect(c1.revoked.flat().length + c2.revoked.flat().length).toBe(0);
    const c3 = member('c3');
    await Promise.all([c1, c2, c3].map((m) => run(m, () => balanced([c1, c2, c3]))));
    expect([c1, c2, c3].map((m) => ownedBy(m).length)).toEqual([4, 4, 4]);
    for (const [m, had] of [[c1, before.c1], [c2, before.c2]] as const) {
      const revoked = m.revoked.flat();
      expect(revoked.length).toBe(2);
      // Sticky: what it keeps is what it had, less what it revoked.
      expect(ownedBy(m).sort()).toEqual(had.filter((key) => !revoked.includes(key)).sort());
      expect(m.lost).toEqual([]);
    }
    expect(ownedBy(c3).sort()).toEqual([...c1.revoked.flat(), ...c2.revoked.flat()].sort());
    expect(overlaps).toEqual([]);
  });

  it('a follower heartbeats while it waits for the assignment: a leader that dies before its SyncGroup costs only the leader its place', async () => {
    resetTracking();
    await startWorld(2);
    const [c1, c2] = ['c1', 'c2'].map((name) => member(name));
    await Promise.all([c1, c2].map((m) => run(m, () => balanced([c1, c2]) && everyRecordDelivered(2))));
    const leader = [c1, c2].find((m) => m.consumer.group?.leader) as Member;
    const follower = [c1, c2].find((m) => m !== leader) as Member;
    const followerId = follower.consumer.group?.memberId;
    // A third member's join starts a rebalance; the leader dies as it would send the assignment.
    leader.link.cutAt = 'SyncGroup';
    const c3 = member('c3');
    const survivors = [follower, c3];
    await Promise.all([...survivors.map((m) => run(m, () => balanced(survivors))), run(leader, () => leader.link.cut).catch(() => undefined)]);
    leader.stopped = true;
    // The follower waited a whole session for the dead leader's assignment and kept its place: same member id, one generation on.
    expect(follower.consumer.group?.memberId).toBe(followerId);
    const members = (await world.domain(() => world.cluster.deps.groups.getGroup(GROUP)))?.members.map((m) => m.memberId);
    expect(members).toContain(followerId);
    expect(members).toHaveLength(2);
  });

  it("a zombie's commit is refused (its heartbeats stalled past its session) and it rejoins, its partitions lost", async () => {
    resetTracking();
    await startWorld(2);
    const [c1, c2] = ['c1', 'c2'].map((name) => member(name));
    await Promise.all([c1, c2].map((m) => run(m, () => balanced([c1, c2]) && everyRecordDelivered(2))));
    const zombieOwned = ownedBy(c2);
    c2.link.holdHeartbeats();
    await run(c1, () => ownedBy(c1).length === PARTITIONS && c1.consumer.group?.isActive === true);
    const refusal = await c2.consumer.commitSync().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(CommitFailedError);
    expect(String((refusal as CommitFailedError).cause)).toMatch(/UnknownMemberIdError|IllegalGenerationError/);
    c2.link.releaseHeartbeats();
    await Promise.all([c1, c2].map((m) => run(m, () => balanced([c1, c2]))));
    expect(c2.lost.flat().sort()).toEqual(zombieOwned.sort());
    expect(ownedBy(c2).length).toBe(PARTITIONS / 2);
  });

  it('follows its coordinator when the coordinator broker shuts down (NOT_COORDINATOR), and keeps committing', async () => {
    resetTracking();
    await startWorld(3);
    const [c1, c2] = ['c1', 'c2'].map((name) => member(name));
    await Promise.all([c1, c2].map((m) => run(m, () => balanced([c1, c2]) && everyRecordDelivered(3))));
    const { coordinator, coordinatorEpoch } = await world.domain(() => findCoordinator(world.cluster.deps, { groupId: GROUP }));
    await world.domain(() => controlledShutdown(world.cluster.deps, { brokerId: coordinator, incarnation: world.cluster.incarnationOf(coordinator), credential: credentialFor(coordinator) }));
    world.beating.delete(coordinator);
    const moved = await world.domain(() => findCoordinator(world.cluster.deps, { groupId: GROUP }));
    expect(moved.coordinatorEpoch).toBeGreaterThan(coordinatorEpoch);
    await produceWave(2, 'b');
    await Promise.all([c1, c2].map((m) => run(m, () => everyRecordDelivered(5) && balanced([c1, c2]))));
    for (const m of [c1, c2]) expect(m.link.groupCalls.filter((api) => api === 'FindCoordinator').length).toBeGreaterThanOrEqual(2);
    const committed = await world.cluster.deps.groups.getOffsets(GROUP);
    expect(committed.map((o) => o.offset)).toEqual(Array(PARTITIONS).fill(5));
    expect(redeliveredCommitted).toEqual([]);
  });
});

describe('Consumer group options and calls', () => {
  it('refuses bad group options with an error naming the option, and group options without a groupId', () => {
    const client = new LeadershipClient(fakeOutputs, { transport: () => Promise.reject(new Error('no call expected')) });
    const refusals: Array<[ConsumerOptions, RegExp]> = [
      [{ groupId: '' }, /groupId must be/],
      [{ groupId: 'g g' }, /groupId must be/],
      [{ groupId: 'g', groupInstanceId: '' }, /groupInstanceId must be/],
      [{ groupId: 'g', clientId: 'a b' }, /clientId must be/],
      [{ groupId: 'g', sessionTimeoutMs: 0 }, /sessionTimeoutMs must be a positive integer/],
      [{ groupId: 'g', heartbeatIntervalMs: 1.5 }, /heartbeatIntervalMs must be a positive integer/],
      [{ groupId: 'g', maxPollIntervalMs: -1 }, /maxPollIntervalMs must be a positive integer/],
      [{ groupId: 'g', autoCommitIntervalMs: 2 ** 31 }, /autoCommitIntervalMs must be a positive integer/],
      [{ groupId: 'g', sessionTimeoutMs: 6000, heartbeatIntervalMs: 6000 }, /heartbeatIntervalMs \(6000\) must be lower than sessionTimeoutMs/],
      [{ groupId: 'g', partitionAssignmentStrategy: [] }, /partitionAssignmentStrategy must be a list/],
      [{ groupId: 'g', partitionAssignmentStrategy: ['sticky' as never] }, /partitionAssignmentStrategy must be a list/],
      [{ groupId: 'g', partitionAssignmentStrategy: ['range', 'range'] }, /partitionAssignmentStrategy must be a list of distinct/],
      [{ groupId: 'g', autoOffsetReset: 'smallest' as never }, /autoOffsetReset must be 'earliest', 'latest' or 'none'/],
      [{ groupId: 'g', enableAutoCommit: 'yes' as never }, /enableAutoCommit must be true or false/],
      [{ enableAutoCommit: true }, /enableAutoCommit is a consumer group option: it needs a groupId/],
      [{ sessionTimeoutMs: 10_000 }, /sessionTimeoutMs is a consumer group option/],
    ];
    for (const [options, message] of refusals) {
      expect(() => new Consumer(client, options), JSON.stringify(options)).toThrow(ClientError);
      expect(() => new Consumer(client, options), JSON.stringify(options)).toThrow(message);
    }
    expect(() => new Consumer(client).subscribe(['t'])).toThrow(/subscribe needs a groupId/);
    const grouped = new Consumer(client, { groupId: 'g' });
    expect(() => grouped.subscribe([])).toThrow(/non-empty array of topic names/);
    grouped.subscribe(['t']);
    expect(() => grouped.assign([{ topic: 't', partition: 1 }])).toThrow(/either assigns or subscribes/);
  });

  it("joins as Kafka's client does: FindCoordinator, JoinGroup for a member id (MEMBER_ID_REQUIRED), JoinGroup again (pending while the initial rebalance delay runs), SyncGroup, OffsetFetch; every call names the coordinator epoch", async () => {
    resetTracking();
    await startWorld(1);
    const c1 = member('c1');
    await run(c1, () => ownedBy(c1).length === PARTITIONS && everyRecordDelivered(1));
    const calls = c1.link.groupCalls;
    expect(calls.slice(0, 3)).toEqual(['FindCoordinator', 'JoinGroup', 'JoinGroup']);
    const firstSync = calls.indexOf('SyncGroup');
    expect(calls.slice(3, firstSync).every((api) => api === 'JoinGroup')).toBe(true);
    expect(calls[firstSync + 1]).toBe('OffsetFetch');
    expect(c1.consumer.group?.memberId).toMatch(/^c1-/);
    expect(c1.consumer.group?.calls.get('FindCoordinator')).toBe(1);
  });

  it("autoOffsetReset 'latest' starts a partition with no committed offset at its high watermark", async () => {
    resetTracking();
    await startWorld(3);
    const c1 = member('c1', { autoOffsetReset: 'latest' });
    await run(c1, () => ownedBy(c1).length === PARTITIONS);
    await produceWave(2, 'b');
    await run(c1, () => deliveries.size === 2 * PARTITIONS);
    expect([...deliveries.keys()].every((key) => /@(3|4)$/.test(key))).toBe(true);
  });

  it('auto-commit commits the positions on its interval with the leader epoch of the last record, and at close', async () => {
    resetTracking();
    await startWorld(2);
    const c1 = member('c1', { enableAutoCommit: true, autoCommitIntervalMs: 5_000 });
    // Poll only (no commitSync): the commits are the auto-commit's.
    const deadline = world.clock.now() + 120_000;
    while (!(everyRecordDelivered(2) && world.clock.now() > deadline - 100_000)) await processRecords(await c1.consumer.poll());
    const committed = await world.cluster.deps.groups.getOffsets(GROUP);
    expect(committed.map((o) => o.offset)).toEqual(Array(PARTITIONS).fill(2));
    for (const o of committed) expect(o.committedLeaderEpoch).toBe((await world.cluster.partition(TOPIC, o.partition)).leaderEpoch);
    await produceWave(1, 'b');
    while (!everyRecordDelivered(3)) await processRecords(await c1.consumer.poll());
    await c1.consumer.close();
    expect((await world.cluster.deps.groups.getOffsets(GROUP)).map((o) => o.offset)).toEqual(Array(PARTITIONS).fill(3));
    expect(c1.link.groupCalls.at(-1)).toBe('LeaveGroup');
    await expect(c1.consumer.poll()).rejects.toThrow(/closed/);
  });

  it('a static member (groupInstanceId) closes without LeaveGroup, comes back under a new member id to its own partitions with no rebalance; the instance it replaced is fenced for good', async () => {
    resetTracking();
    await startWorld(1);
    const s1 = member('s1', { groupInstanceId: 'instance-1' });
    const c2 = member('c2');
    await Promise.all([s1, c2].map((m) => run(m, () => balanced([s1, c2]) && everyRecordDelivered(1))));
    const had = ownedBy(s1);
    const generation = c2.consumer.group?.generationId;
    await s1.consumer.close();
    expect(s1.link.groupCalls).not.toContain('LeaveGroup');
    const again = member('s1', { groupInstanceId: 'instance-1' });
    await run(again, () => ownedBy(again).length === had.length);
    expect(ownedBy(again).sort()).toEqual(had.sort());
    expect(again.consumer.group?.generationId).toBe(generation);
    expect(c2.consumer.group?.generationId).toBe(generation);
    // A second process with the same instance id takes the place: the one it replaced is fenced at its next call.
    const usurper = member('s1', { groupInstanceId: 'instance-1' });
    await run(usurper, () => ownedBy(usurper).length > 0);
    const fenced = await (async () => {
      for (let polls = 0; polls < 100; polls += 1) {
        try {
          await again.consumer.poll();
        } catch (error) {
          return error;
        }
      }
      return undefined;
    })();
    expect(fenced).toBeInstanceOf(FatalGroupError);
    await expect(again.consumer.poll()).rejects.toBeInstanceOf(FatalGroupError);
  });

  it('a member that does not poll within maxPollIntervalMs leaves the group (its heartbeats go on meanwhile), and the others take its partitions', async () => {
    resetTracking();
    await startWorld(1);
    const [c1, c2] = ['c1', 'c2'].map((name) => member(name, { maxPollIntervalMs: 60_000 }));
    await Promise.all([c1, c2].map((m) => run(m, () => balanced([c1, c2]) && everyRecordDelivered(1))));
    const stuck = ownedBy(c2);
    await run(c1, () => ownedBy(c1).length === PARTITIONS);
    expect(c2.link.groupCalls).toContain('LeaveGroup');
    // Back from its long processing: it finds its partitions lost and joins again.
    await Promise.all([c1, c2].map((m) => run(m, () => balanced([c1, c2]))));
    expect(c2.lost.flat().sort()).toEqual(stuck.sort());
  });

  it('a member at rest makes one Heartbeat per heartbeatIntervalMs and one fetch per fetchMaxWaitMs, and auto-commits nothing that did not move', async () => {
    resetTracking();
    await startWorld(1);
    const c1 = member('c1', { enableAutoCommit: true });
    await run(c1, () => ownedBy(c1).length === PARTITIONS && everyRecordDelivered(1));
    await processRecords(await c1.consumer.poll()); // the auto-commit of what the first polls moved
    const calls = () => ({ groups: [...c1.link.groupCalls], fetches: c1.link.fetches });
    const before = calls();
    const start = world.clock.now();
    while (world.clock.now() - start < 60_000) await processRecords(await c1.consumer.poll());
    const after = calls();
    const made = after.groups.slice(before.groups.length);
    const elapsed = world.clock.now() - start;
    expect(made.filter((api) => api === 'Heartbeat').length).toBeGreaterThanOrEqual(Math.floor(elapsed / 3_000) - 1);
    expect(made.filter((api) => api === 'Heartbeat').length).toBeLessThanOrEqual(Math.ceil(elapsed / 3_000));
    expect(made.filter((api) => api !== 'Heartbeat')).toEqual([]);
    // Each poll of an idle member is one fetch of all 12 partitions, then fetchMaxWaitMs (500) of waiting.
    expect(after.fetches - before.fetches).toBeLessThanOrEqual(Math.ceil(elapsed / 500));
    expect(after.fetches - before.fetches).toBeGreaterThanOrEqual(Math.floor(elapsed / 500) - 1);
  });
});
