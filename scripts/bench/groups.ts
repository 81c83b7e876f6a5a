/**
 * `npm run bench:groups`: consumer groups on a fresh metered embedded cloud.
 *
 * - Rebalance after a join: members join a group one at a time; from a member's first poll
 *   to every partition of the topic owned by exactly one member (cooperative-sticky, the
 *   default, takes two rounds when partitions move).
 * - Rebalance after a death: a member is killed (its calls cut off: it never leaves); from
 *   the kill to every partition owned again, and the excess over its session timeout.
 * - Commit latency: commitSync of the member's positions, p50/p99, beside a raw round trip of
 *   the same function (a request it refuses before reading anything) measured in the same run.
 * - A group at rest: members polling an idle topic with Kafka's defaults (session 45 s,
 *   heartbeats every 3 s, auto-commit every 5 s, fetches every 500 ms), metered, as dollars
 *   per member per month: the group's own calls (heartbeats, commits) and its members' fetches.
 *
 *   npm run bench:groups -- [--iterations 3] [--session-timeout-ms 10000] [--heartbeat-interval-ms 1000] [--rest-seconds 60] [--quick]
 */
import { parseArgs } from 'node:util';
import { BrokerSimulator, registerCredentials } from '../../client/broker-simulator.js';
import { Consumer } from '../../client/consumer.js';
import { pollUntil } from '../../client/poll.js';
import { Producer } from '../../client/producer.js';
import { SECONDS_PER_MONTH } from '../../cost/prices.js';
import { killableClient, type KillableClient } from '../../tools/killable-client.js';
import { summarize } from '../../tools/stats.js';
import { costSummary } from '../../web/bench-charts.js';
import { startBenchCloud } from './lib/cloud.js';
import { costOf, startCostPhase } from './lib/cost.js';
import { ratio, startRun, writeResult } from './lib/results.js';

const { values: args } = parseArgs({
  options: {
    iterations: { type: 'string', default: '3' },
    'session-timeout-ms': { type: 'string', default: '10000' },
    'heartbeat-interval-ms': { type: 'string', default: '1000' },
    'rest-seconds': { type: 'string', default: '60' },
    commits: { type: 'string', default: '100' },
    quick: { type: 'boolean', default: false },
  },
});
const provenance = startRun('groups');
const settings = {
  iterations: args.quick ? 1 : Number(args.iterations),
  sessionTimeoutMs: Number(args['session-timeout-ms']),
  heartbeatIntervalMs: Number(args['heartbeat-interval-ms']),
  restSeconds: args.quick ? 20 : Number(args['rest-seconds']),
  commits: args.quick ? 20 : Number(args.commits),
  partitions: 12,
  members: 3,
  restMembers: 3,
};
for (const [name, value] of Object.entries(settings)) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a positive integer, got ${value}`);
}
if (settings.sessionTimeoutMs < 6000) throw new Error('--session-timeout-ms must be at least 6000 (group.min.session.timeout.ms)');

const bench = await startBenchCloud({ name: 'groups', sessionTimeoutMs: 6000, meterUsage: true });
const admin = bench.newClient();
const simulator = new BrokerSimulator(admin, { heartbeatIntervalMs: 1000, credentials: registerCredentials(admin) });
const memberProcesses: KillableClient[] = [];

interface Member {
  name: string;
  consumer: Consumer;
  process: KillableClient;
  running: boolean;
  loop: Promise<void>;
}

/** A member polling in a loop, as an application's consumer thread does; killing it cuts its calls off. */
function startMember(groupId: string, topic: string, name: string, options: ConstructorParameters<typeof Consumer>[1]): Member {
  const memberProcess = killableClient(bench.outputs, { endpoint: bench.cloud.endpoint });
  memberProcesses.push(memberProcess);
  const consumer = new Consumer(memberProcess.client, { groupId, clientId: name, autoOffsetReset: 'earliest', ...options });
  consumer.subscribe([topic]);
  const member: Member = { name, consumer, process: memberProcess, running: true, loop: Promise.resolve() };
  member.loop = (async () => {
    while (member.running) await consumer.poll().catch(() => undefined);
  })();
  return member;
}

async function stopMembers(members: Member[]): Promise<void> {
  for (const member of members) member.running = false;
  await Promise.allSettled(members.map((member) => member.loop));
  await Promise.allSettled(members.map((member) => member.consumer.close()));
}

/** Every partition of the topic owned by exactly one of these members. */
function ownedOnce(members: Member[], partitions: number): boolean {
  const owners = new Map<number, number>();
  for (const member of members) for (const { partition } of member.consumer.assignment()) owners.set(partition, (owners.get(partition) ?? 0) + 1);
  return owners.size === partitions && [...owners.values()].every((count) => count === 1) && members.every((m) => m.consumer.assignment().length > 0);
}

const rebalance = { afterJoinMs: [] as number[], afterDeathMs: [] as number[], deathExcessMs: [] as number[] };
const commitMs: number[] = [];
const rawMs: number[] = [];
let rest: Record<string, unknown> | undefined;
try {
  await simulator.start(['gb-1', 'gb-2', 'gb-3']);
  await pollUntil(async () => (await admin.describe()).brokers.filter((b) => b.alive).length >= 3 || undefined, { timeoutMs: 30_000, description: '3 live brokers' });
  const topic = 'groups-bench';
  await admin.createTopic({ topic, partitions: settings.partitions, replicationFactor: 3, minInsyncReplicas: 2 });
  await new Producer(admin).send(topic, 1, [{ value: 'a record, so positions are not all 0' }]);
  const timing = { sessionTimeoutMs: settings.sessionTimeoutMs, heartbeatIntervalMs: settings.heartbeatIntervalMs, maxPollIntervalMs: 60_000, fetchMaxWaitMs: 100 };

  for (let iteration = 1; iteration <= settings.iterations; iteration += 1) {
    const groupId = `bench-group-${iteration}`;
    const members: Member[] = [];
    for (let index = 1; index <= settings.members; index += 1) {
      const joinedAt = Date.now();
      members.push(startMember(groupId, topic, `m${index}`, timing));
      await pollUntil(() => ownedOnce(members, settings.partitions) || undefined, { timeoutMs: 60_000, intervalMs: 10, description: `${index} members owning every partition` });
      if (index > 1) rebalance.afterJoinMs.push(Date.now() - joinedAt);
    }
    const [victim, ...survivors] = members;
    victim.running = false;
    victim.process.kill();
    const killedAt = Date.now();
    await pollUntil(() => ownedOnce(survivors, settings.partitions) || undefined, { timeoutMs: settings.sessionTimeoutMs * 4, intervalMs: 10, description: "the dead member's partitions owned again" });
    rebalance.afterDeathMs.push(Date.now() - killedAt);
    rebalance.deathExcessMs.push(Date.now() - killedAt - settings.sessionTimeoutMs);
    console.log(`iteration ${iteration}: joins ${rebalance.afterJoinMs.slice(-(settings.members - 1)).join(', ')} ms; death ${rebalance.afterDeathMs.at(-1)} ms`);

    // Commit latency, from a member that owns partitions, beside the function's raw round trip.
    const committer = survivors[0];
    for (let index = 0; index < settings.commits / settings.iterations; index += 1) {
      const started = Date.now();
      await committer.consumer.commitSync([{ topic, partition: committer.consumer.assignment()[0].partition, offset: index }]).catch(() => undefined);
      commitMs.push(Date.now() - started);
      const rawStarted = Date.now();
      await admin.invokeFunction(admin.functionName('groups'), { api: 'NoSuchApi' }).catch(() => undefined);
      rawMs.push(Date.now() - rawStarted);
    }
    await stopMembers(members);
  }

  // A group at rest, at Kafka's defaults: heartbeats every 3 s, auto-commit every 5 s (of positions that moved: none), fetches every 500 ms.
  const restTopic = 'groups-bench-idle';
  await admin.createTopic({ topic: restTopic, partitions: settings.partitions, replicationFactor: 3, minInsyncReplicas: 2 });
  const restMembers: Member[] = [];
  for (let index = 1; index <= settings.restMembers; index += 1) restMembers.push(startMember('bench-rest', restTopic, `r${index}`, {}));
  await pollUntil(() => ownedOnce(restMembers, settings.partitions) || undefined, { timeoutMs: 120_000, intervalMs: 50, description: 'the resting group stable' });
  const groupsFunction = bench.outputs.GroupsFunctionName;
  const groupPhase = startCostPhase(bench.cloud, { functions: [groupsFunction], quietMs: 0 });
  const startedAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, settings.restSeconds * 1000));
  const seconds = (Date.now() - startedAt) / 1000;
  const groupUsage = await groupPhase.usage();
  const everything = costOf(groupUsage, { operations: settings.restMembers, operation: 'member at rest' }, [groupsFunction]);
  await stopMembers(restMembers);
  const perMember = (usd: number) => Math.round(((usd / settings.restMembers) * (SECONDS_PER_MONTH / seconds)) * 100) / 100;
  const { bill } = everything;
  rest = {
    members: settings.restMembers,
    partitions: settings.partitions,
    seconds: Math.round(seconds),
    groupCallsPerMemberPerMonthUsd: perMember(bill.total),
    // Durations are this machine's (an emulator sharing two cores): an upper bound; units and requests are AWS's.
    groupCallsWithoutLambdaDurationPerMemberPerMonthUsd: perMember(bill.total - bill.lambdaDuration),
    dynamodbPerMemberPerMonthUsd: perMember(bill.dynamodbWrites + bill.dynamodbReads),
    invocationsPerMemberPerSecond: Math.round((groupUsage.lambda.invocations / settings.restMembers / seconds) * 100) / 100,
    note: `the group's own calls only (${groupsFunction}); fetches of an idle partition are the idle consumer's floor, bench:cost`,
    cost: { ...everything, usage: undefined },
  };
  console.log(`at rest: ${costSummary(everything)}`);
} finally {
  await simulator.stop();
  for (const memberProcess of memberProcesses) memberProcess.close();
  await bench.stop();
}

const commitLatency = summarize(commitMs);
const raw = summarize(rawMs);
const result = {
  benchmark: 'groups',
  settings,
  rebalance: {
    afterJoinMs: summarize(rebalance.afterJoinMs),
    afterDeathMs: summarize(rebalance.afterDeathMs),
    deathExcessOverSessionTimeoutMs: summarize(rebalance.deathExcessMs),
  },
  commitMs: commitLatency,
  rawInvokeMs: raw,
  commitToRawInvoke: { p50: ratio(commitLatency.p50, raw.p50), p99: ratio(commitLatency.p99, raw.p99) },
  rest,
};
writeResult('groups', provenance, result);
console.log(JSON.stringify(result, null, 2));
