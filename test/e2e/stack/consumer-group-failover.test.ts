import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { CommitFailedError, Consumer } from '../../../client/consumer.js';
import { LeadershipClient } from '../../../client/lambda-client.js';
import { pollUntil } from '../../../client/poll.js';
import { Producer } from '../../../client/producer.js';
import { asLeadershipOutputs } from '../../../client/stack-outputs.js';
import { startLocalCloud, type LocalCloud } from '../../../localcloud/index.js';
import { killableClient, type KillableClient } from '../../../tools/killable-client.js';
import { stackTarget, uniqueTopic, waitForLiveBrokers } from './support.js';

const PARTITIONS = 12;
const MEMBERS = 3;
/** The shortest session the coordinator accepts (group.min.session.timeout.ms). */
const SESSION_TIMEOUT_MS = 6_000;
/**
 * A member learns of a rebalance from its next heartbeat, as in Kafka, so the reassignment
 * takes up to two heartbeat intervals past the session (the first survivor's, then the
 * other's) before the rejoin: a 2 s bound asks for intervals well under a second.
 */
const HEARTBEAT_INTERVAL_MS = 300;
/** The bound on moving a dead member's partitions: its session, and 2 s. */
const REASSIGNMENT_BOUND_MS = SESSION_TIMEOUT_MS + 2_000;

interface Processed {
  member: string;
  partition: number;
  offset: number;
  value: string;
  /** When the poll that delivered it began. */
  pollStartedAt: number;
}

interface AckedCommit {
  member: string;
  partition: number;
  offset: number;
  ackedAt: number;
}

/**
 * The issue's done-when, on the embedded cloud: three members of a group share twelve
 * partitions and process-then-commit; one member is killed (it stops answering, it never
 * leaves), and its partitions are owned again within its session + 2 s; no acknowledged
 * record is skipped, and a record is processed twice only where the earlier processing was
 * not covered by an acknowledged commit. Then the broker leading the group's offsets
 * partition (the coordinator) is killed: the coordinator moves with that partition's
 * leadership, commits go on, and every acknowledged commit is still there.
 *
 * It starts its own cloud: the offsets topic is placed on the brokers live when it is
 * created, and in the shared stack those are other files' brokers, stopped when their
 * file ends (an offsets partition with no live replica has no coordinator, as in Kafka).
 */
describe('consumer group: a member dies, then the coordinator broker dies', () => {
  const target = stackTarget();
  let cloud: LocalCloud | undefined;
  let client: LeadershipClient;
  let simulator: BrokerSimulator;
  let endpoint: string;
  const memberClients: KillableClient[] = [];
  const brokers = ['grp-1', 'grp-2', 'grp-3', 'grp-4'];
  const topic = uniqueTopic('group-failover');
  const groupId = uniqueTopic('group');

  beforeAll(async () => {
    let outputs = target.outputs;
    endpoint = target.endpoint;
    if (target.kind === 'embedded') {
      cloud = await startLocalCloud({ port: 0, assemblyDir: target.assemblyDir!, ttlPeriodMs: 0 });
      outputs = asLeadershipOutputs('PartitionLeadership', cloud.stacks[0]?.outputs);
      endpoint = cloud.endpoint;
    }
    client = new LeadershipClient(outputs, { endpoint, region: target.region });
    simulator = new BrokerSimulator(client, { heartbeatIntervalMs: 1000, credentials: registerCredentials(client) });
    await simulator.start(brokers);
    await waitForLiveBrokers(client, brokers, SESSION_TIMEOUT_MS * 4);
    await client.createTopic({ topic, partitions: PARTITIONS, replicationFactor: 2 });
  });

  afterAll(async () => {
    await simulator?.stop();
    client?.close();
    for (const member of memberClients) member.close();
    await cloud?.stop();
  });

  it('moves a dead member\'s partitions within its session + 2 s, skips nothing, and keeps every acknowledged commit through a coordinator failover', async () => {
    const acked = new Map<string, string>(); // "partition/offset" -> value
    const processed: Processed[] = [];
    const commits: AckedCommit[] = [];
    const producer = new Producer(client);
    let producing = true;
    let sent = 0;
    const producerLoop = (async () => {
      while (producing) {
        const partition = (sent % PARTITIONS) + 1;
        const value = `v${sent}`;
        sent += 1;
        const ack = await producer.send(topic, partition, [{ value }]);
        acked.set(`${partition}/${ack.baseOffset}`, value);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    const members = Array.from({ length: MEMBERS }, (_, index) => {
      const name = `member-${index + 1}`;
      const killable = killableClient(client.outputs, { endpoint, region: target.region });
      memberClients.push(killable);
      const consumer = new Consumer(killable.client, {
        groupId,
        clientId: name,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
        maxPollIntervalMs: 30_000,
        enableAutoCommit: false,
        autoOffsetReset: 'earliest',
        fetchMaxWaitMs: 100,
      });
      consumer.subscribe([topic]);
      return { name, consumer, kill: () => killable.kill(), running: true, dead: false, dieAfterProcessing: false, killedAt: 0, loop: Promise.resolve() };
    });

    // Process, then commit what was processed (commit-after-process), with the generation.
    for (const member of members) {
      member.loop = (async () => {
        while (member.running) {
          const pollStartedAt = Date.now();
          let records;
          try {
            records = await member.consumer.poll();
          } catch (error) {
            if (member.dead) return;
            throw error;
          }
          for (const record of records) processed.push({ member: member.name, partition: record.partition, offset: record.offset, value: record.value, pollStartedAt });
          if (member.dieAfterProcessing && records.length > 0) {
            // Killed between processing and committing: this work is the group's to do again.
            member.dead = true;
            member.running = false;
            member.kill();
            member.killedAt = Date.now();
            return;
          }
          const positions = member.consumer.assignment().map(({ topic: t, partition }) => ({ partition, offset: member.consumer.position(t, partition) }));
          try {
            await member.consumer.commitSync();
            const ackedAt = Date.now();
            for (const { partition, offset } of positions) commits.push({ member: member.name, partition, offset, ackedAt });
          } catch (error) {
            // A rebalance moved past this member, or it was killed: what it did not commit is processed again by the next owner.
            if (member.dead || error instanceof CommitFailedError) continue;
            throw error;
          }
        }
      })();
    }

    // The group as DescribeGroups shows it, each change with its time: printed at the end, to read a slow rebalance from.
    const timeline: string[] = [];
    let watching = true;
    const watcher = (async () => {
      let last = '';
      while (watching) {
        const described = await client.invoke('groups', { api: 'DescribeGroups', groupIds: [groupId] }).catch(() => undefined);
        const group = described?.groups[0];
        const shown = group ? `${group.state} generation ${group.generationId}, members ${group.members.map((m) => m.clientId).join(' ')}` : 'unknown';
        if (shown !== last) timeline.push(`${Date.now()}: ${shown}`);
        last = shown;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const stopAll = async () => {
      watching = false;
      producing = false;
      for (const member of members) member.running = false;
      await Promise.allSettled([watcher, producerLoop, ...members.map((member) => member.loop)]);
    };
    try {
      const owners = () => {
        const owned = new Map<number, string[]>();
        for (const member of members.filter((m) => !m.dead)) {
          for (const { partition } of member.consumer.assignment()) owned.set(partition, [...(owned.get(partition) ?? []), member.name]);
        }
        return owned;
      };
      const everyPartitionOwnedOnce = () => {
        const owned = owners();
        return owned.size === PARTITIONS && [...owned.values()].every((names) => names.length === 1);
      };

      // 1. The three share the twelve partitions, and have processed and committed some work.
      await pollUntil(() => everyPartitionOwnedOnce() && members.every((m) => m.consumer.assignment().length > 0) && commits.length > 3 * MEMBERS, {
        timeoutMs: 60_000,
        description: 'three members owning every partition once, with commits made',
      });

      // 2. A member dies after processing records it never commits: it stops answering, and never leaves the group.
      const victim = members[0];
      victim.dieAfterProcessing = true;
      const killedAt = await pollUntil(() => victim.killedAt || undefined, { timeoutMs: 60_000, description: 'the victim processing records' });
      const uncommitted = processed.filter((p) => p.member === victim.name && p.pollStartedAt >= Math.max(...commits.filter((c) => c.member === victim.name).map((c) => c.ackedAt)));
      expect(uncommitted.length, 'records the victim processed and never committed').toBeGreaterThan(0);
      const reassignedAt = await pollUntil(() => (everyPartitionOwnedOnce() && members.slice(1).every((m) => m.consumer.assignment().length > 0) ? Date.now() : undefined), {
        timeoutMs: REASSIGNMENT_BOUND_MS * 3,
        intervalMs: 20,
        description: "the dead member's partitions owned by the others",
      });
      const reassignmentMs = reassignedAt - killedAt;
      expect(reassignmentMs, `reassigned ${reassignmentMs} ms after the kill`).toBeLessThanOrEqual(REASSIGNMENT_BOUND_MS);

      // 3. The coordinator's broker dies: the leader of the group's offsets partition.
      const before = await client.invoke('groups', { api: 'FindCoordinator', groupId });
      const commitsBeforeCoordinatorKill = commits.length;
      await simulator.kill(before.coordinator);
      const after = await pollUntil(
        async () => {
          const found = await client.invoke('groups', { api: 'FindCoordinator', groupId }).catch(() => undefined);
          return found && found.coordinator !== before.coordinator ? found : undefined;
        },
        { timeoutMs: SESSION_TIMEOUT_MS * 6, description: 'a new coordinator' },
      );
      expect(after.coordinatorEpoch).toBeGreaterThan(before.coordinatorEpoch);
      const failedOverAt = Date.now();
      // Commits go on after the failover.
      await pollUntil(() => commits.some((commit) => commit.ackedAt > failedOverAt && commit.member !== victim.name), {
        timeoutMs: SESSION_TIMEOUT_MS * 6,
        description: 'a commit acknowledged by the new coordinator',
      });
      expect(commits.length).toBeGreaterThan(commitsBeforeCoordinatorKill);

      // 4. Stop producing; the survivors read to the end of every acknowledged record.
      producing = false;
      await producerLoop;
      await pollUntil(() => [...acked.keys()].every((key) => processed.some((p) => `${p.partition}/${p.offset}` === key)), {
        timeoutMs: 60_000,
        description: 'every acknowledged record processed by the group',
      });
      for (const member of members.slice(1)) member.running = false;
      await Promise.all(members.slice(1).map((member) => member.loop));

      // Nothing skipped, nothing changed.
      for (const [key, value] of acked) {
        const seen = processed.filter((p) => `${p.partition}/${p.offset}` === key);
        expect(seen.length, `record ${key} processed`).toBeGreaterThan(0);
        expect(seen.every((p) => p.value === value), `record ${key} unchanged`).toBe(true);
      }

      // A record processed again was not covered by an acknowledged commit when the poll that re-delivered it began.
      const firstSeen = new Set<string>();
      let duplicates = 0;
      for (const p of processed) {
        const key = `${p.partition}/${p.offset}`;
        if (!firstSeen.has(key)) {
          firstSeen.add(key);
          continue;
        }
        duplicates += 1;
        expect(uncommitted.some((u) => u.partition === p.partition && u.offset === p.offset), `record ${key} processed twice, not one the victim left uncommitted`).toBe(true);
        const committedBefore = Math.max(-1, ...commits.filter((c) => c.partition === p.partition && c.ackedAt < p.pollStartedAt).map((c) => c.offset));
        expect(p.offset, `record ${key} re-delivered to ${p.member} below the committed offset ${committedBefore}`).toBeGreaterThanOrEqual(committedBefore);
      }

      // Every acknowledged commit survived both failures: the group holds the last one of each partition.
      const survivors = members.slice(1);
      await Promise.all(survivors.map((member) => member.consumer.close()));
      const stored = await client.invoke('groups', { api: 'OffsetFetch', groupId });
      for (let partition = 1; partition <= PARTITIONS; partition += 1) {
        const last = commits.filter((c) => c.partition === partition).sort((a, b) => a.ackedAt - b.ackedAt).at(-1);
        const fetched = stored.partitions.find((p) => p.topic === topic && p.partition === partition);
        expect(fetched?.offset, `partition ${partition}'s committed offset`).toBe(last?.offset);
      }
      // The victim's uncommitted work was done again, by the partitions' new owners.
      expect(uncommitted.every((u) => processed.some((p) => p.member !== victim.name && p.partition === u.partition && p.offset === u.offset))).toBe(true);
      console.log(`group failover: reassigned ${reassignmentMs} ms after the kill (bound ${REASSIGNMENT_BOUND_MS}); ${acked.size} records, ${duplicates} processed twice; ${commits.length} commits`);
      await victim.consumer.close().catch(() => undefined);
    } finally {
      await stopAll();
      console.log(`group timeline (the kill at ${members[0].killedAt}):\n${timeline.join('\n')}`);
    }
  });
});
