import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { RemoteFunctionError, type DescribeResponse } from '../../../client/lambda-client.js';
import { pollUntil } from '../../../client/poll.js';
import { leadershipClient, partitionOf, stackTarget, uniqueTopic } from './support.js';

/**
 * The controller functions on the deployed stack: controlled shutdown, KIP-320 fencing
 * with OffsetsForLeaderEpoch, on-demand and scheduled preferred-leader election.
 */
describe('controller functions on the deployed stack', () => {
  const target = stackTarget();
  const client = leadershipClient(target);
  const incarnations = new Map<string, number>();
  const simulator = new BrokerSimulator(client, {
    heartbeatIntervalMs: Math.max(200, Math.floor(target.sessionTimeoutMs / 6)),
    credentials: registerCredentials(client),
    onHeartbeat: (brokerId, response) => incarnations.set(brokerId, response.incarnation),
  });
  const brokers = ['cs-1', 'cs-2', 'cs-3'];
  const topic = uniqueTopic('controller');
  const { outputs } = target;
  const shutDown = new Set<string>();

  const partitionsNow = async () => {
    const description: DescribeResponse = await client.describe(topic);
    return description.topics[0].partitions;
  };

  async function refusal(functionName: string, payload: unknown): Promise<RemoteFunctionError> {
    const error = await client.invokeFunction(functionName, payload).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error, 'expected the call to fail').toBeInstanceOf(RemoteFunctionError);
    return error as RemoteFunctionError;
  }

  const controlledShutdown = (brokerId: string) =>
    client.invoke('controlledShutdown', { brokerId, incarnation: incarnations.get(brokerId)!, credential: simulator.credentialOf(brokerId) });

  beforeAll(async () => {
    await simulator.start(brokers);
    // Other files' brokers may hold leases for a few more seconds: the topic must be placed on ours only.
    await pollUntil(
      async () => {
        const { brokers: listed } = await client.describe();
        return listed.filter((b) => b.alive).every((b) => brokers.includes(b.brokerId));
      },
      { timeoutMs: target.sessionTimeoutMs * 4, intervalMs: 250, description: 'only this test’s brokers alive' },
    );
    await client.createTopic({ topic, partitions: 3, replicationFactor: 3 });
    for (const partition of [1, 2, 3]) await client.produce({ topic, partition, records: [{ value: `first@${partition}` }] });
  });

  afterAll(async () => {
    await simulator.stop();
    // Leave no live lease behind for the next file's topic placement.
    for (const brokerId of brokers.filter((id) => !shutDown.has(id))) await controlledShutdown(brokerId).catch(() => undefined);
    client.close();
  });

  it('ControlledShutdown moves the leader’s partition to an in-sync replica (epoch + 1), leaves ISRs and deletes the lease', async () => {
    const leader = partitionOf(await partitionsNow(), 1).Leader!;
    expect(brokers).toContain(leader);
    await simulator.kill(leader);
    const result = await controlledShutdown(leader);
    shutDown.add(leader);
    expect(result).toMatchObject({ deregistered: true, remainingLeaderships: [] });
    expect(result.movedLeaderships).toContain(`${topic}-1`);
    const partitions = await partitionsNow();
    const p1 = partitionOf(partitions, 1);
    expect(p1.Leader).not.toBe(leader);
    expect(p1.LeaderEpoch).toBe(1);
    for (const view of partitions) expect(view.Isr).not.toContain(leader);
    expect((await client.describe()).brokers.map((b) => b.brokerId)).not.toContain(leader);
    // The new leader serves what was committed, and takes writes under the new epoch.
    await expect(client.produce({ topic, partition: 1, records: [{ value: 'after' }] })).resolves.toMatchObject({ leaderEpoch: 1 });
  });

  it('consume refuses a stale epoch (FencedLeaderEpochError) and a newer one (UnknownLeaderEpochError); OffsetsForLeaderEpoch answers', async () => {
    const consume = outputs.ConsumeFunctionName;
    expect((await refusal(consume, { topic, partition: 1, currentLeaderEpoch: 0 })).errorType).toBe('FencedLeaderEpochError');
    expect((await refusal(consume, { topic, partition: 1, currentLeaderEpoch: 7 })).errorType).toBe('UnknownLeaderEpochError');
    expect((await refusal(consume, { topic, partition: 1, currentLeaderEpoch: -1 })).errorType).toBe('ValidationError');
    expect(await client.invoke('consume', { topic, partition: 1, offsetsForLeaderEpoch: 0 })).toMatchObject({
      currentLeaderEpoch: 1,
      leaderEpoch: 0,
      endOffset: 1,
    });
  });

  it('ElectLeaders refuses a missing topic or partition and elects nothing where replicas[0] is gone', async () => {
    const fn = outputs.ElectLeadersFunctionName;
    expect((await refusal(fn, { topic: `${topic}-missing` })).errorType).toBe('UnknownTopicError');
    expect((await refusal(fn, { topic, partitions: [9] })).errorType).toBe('UnknownTopicError');
    expect(await client.invoke('electLeaders', { topic, partitions: [1] })).toEqual([]);
  });

  it('AutoRebalance runs on invoke with its settings (enabled by default)', async () => {
    const result = await client.invoke('autoRebalance', {});
    expect(result.enabled).toBe(true);
    expect(result.events.filter((event) => event.topic === topic)).toEqual([]);
  });
});
