import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { RemoteFunctionError, type HeartbeatResponse } from '../../../client/lambda-client.js';
import { pollUntil } from '../../../client/poll.js';
import { drainLeadershipEvents, leadershipClient, partitionOf, sqsClient, stackTarget, uniqueTopic, waitForLiveBrokers } from './support.js';

/**
 * Bad input to the issue-9 functions (ControlledShutdown, ElectLeaders) and to the epochs
 * produce and consume take (KIP-320), refused with an error naming the problem while
 * something WOULD happen on a good call: partition 1 is led by a replica other than its
 * preferred one, which is alive and in sync. After every refusal, nothing was written:
 * describe (partitions, and the brokers' incarnations and shutdown marks) is as before,
 * no leadership event was published, and the next good produce lands right after the
 * records that were there.
 */
describe('bad input to ControlledShutdown, ElectLeaders and the KIP-320 epochs', () => {
  const target = stackTarget();
  const client = leadershipClient(target);
  const sqs = sqsClient(target);
  const { outputs } = target;
  const brokers = ['cbi-1', 'cbi-2', 'cbi-3'];
  const heartbeats: Array<{ brokerId: string; at: number; response: HeartbeatResponse }> = [];
  const heartbeatErrors: Array<{ brokerId: string; error: Error }> = [];
  const simulator = new BrokerSimulator(client, {
    heartbeatIntervalMs: Math.max(200, Math.floor(target.sessionTimeoutMs / 6)),
    credentials: registerCredentials(client),
    onHeartbeat: (brokerId, response) => heartbeats.push({ brokerId, at: Date.now(), response }),
    onError: (brokerId, error) => heartbeatErrors.push({ brokerId, error }),
  });
  const incarnationOf = (brokerId: string) => heartbeats.filter((beat) => beat.brokerId === brokerId).at(-1)!.response.incarnation;
  const topic = uniqueTopic('ctl-bad');
  let formerIncarnation = 0;

  /** What a refused call must leave as it was: the topic's partitions, and the brokers' leases bar their deadlines. */
  async function snapshot(): Promise<string> {
    const description = await client.describe();
    const described = description.topics.find((candidate) => candidate.topic === topic)!;
    const leases = (description.brokers as Array<{ brokerId: string; incarnation: number; alive: boolean; shuttingDown?: boolean }>)
      .filter((broker) => broker.brokerId.startsWith('cbi-'))
      .map(({ brokerId, incarnation, alive, shuttingDown }) => ({ brokerId, incarnation, alive, shuttingDown: shuttingDown ?? false }))
      .sort((a, b) => a.brokerId.localeCompare(b.brokerId));
    return JSON.stringify({ partitions: described.partitions, leases }, null, 1);
  }

  async function expectRefused(functionName: string, payload: unknown, errorType: string, messagePart: RegExp): Promise<void> {
    const error = await client.invokeFunction(functionName, payload).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error, `${JSON.stringify(payload)} was accepted`).toBeInstanceOf(RemoteFunctionError);
    const refused = error as RemoteFunctionError;
    expect({ payload, errorType: refused.errorType }).toEqual({ payload, errorType });
    expect(refused.message, JSON.stringify(payload)).toMatch(messagePart);
  }

  /** Runs the refusals, then checks that they wrote nothing. */
  async function expectNothingWritten(refusals: () => Promise<void>): Promise<void> {
    await drainLeadershipEvents(target, topic, sqs);
    const before = await snapshot();
    await refusals();
    expect(await snapshot()).toBe(before);
    expect(await drainLeadershipEvents(target, topic, sqs), 'leadership events published').toEqual([]);
  }

  beforeAll(async () => {
    await simulator.start(brokers);
    await waitForLiveBrokers(client, brokers, target.sessionTimeoutMs * 8);
    await client.createTopic({ topic, partitions: 2, replicationFactor: 3 });
    for (const partition of [1, 2]) await client.produce({ topic, partition, records: [{ value: `a@${partition}` }, { value: `b@${partition}` }] });
    // Move partition 1 off its preferred replica and bring that replica back in sync: a
    // controlled shutdown of cbi-1 (its heartbeats stopped first), then a restart (a new incarnation).
    expect(partitionOf((await client.describe(topic)).topics[0].partitions, 1).Leader).toBe('cbi-1');
    formerIncarnation = incarnationOf('cbi-1');
    await simulator.kill('cbi-1');
    await client.controlledShutdown('cbi-1', formerIncarnation, simulator.credentialOf('cbi-1'));
    await simulator.revive('cbi-1');
    await pollUntil(
      async () => (await client.describe(topic)).topics[0].partitions.every((view) => view.Isr.includes('cbi-1')),
      { timeoutMs: 120_000, intervalMs: 100, description: 'cbi-1 back in every ISR' },
    );
    const p1 = partitionOf((await client.describe(topic)).topics[0].partitions, 1);
    expect(p1).toMatchObject({ Leader: 'cbi-2', LeaderEpoch: 1, State: 'ONLINE' });
  });

  afterAll(async () => {
    await simulator.stop();
    for (const brokerId of brokers) await client.controlledShutdown(brokerId, incarnationOf(brokerId), simulator.credentialOf(brokerId)).catch(() => undefined);
    client.close();
    sqs.destroy();
  });

  it('ControlledShutdown: malformed requests, an unknown broker, a lapsed lease, a wrong or former incarnation', { timeout: 120_000 }, async () => {
    const fn = outputs.ControlledShutdownFunctionName;
    const leader = 'cbi-2';
    const incarnation = incarnationOf(leader);
    const credential = simulator.credentialOf(leader);
    // A broker with a credential but no lease.
    const nobody = (await client.registerBroker('cbi-nobody')).credential;
    await expectNothingWritten(async () => {
      await expectRefused(fn, null, 'ValidationError', /request/);
      await expectRefused(fn, [], 'ValidationError', /request/);
      await expectRefused(fn, {}, 'ValidationError', /brokerId/);
      await expectRefused(fn, { brokerId: 7, incarnation }, 'ValidationError', /brokerId/);
      await expectRefused(fn, { brokerId: '', incarnation }, 'ValidationError', /brokerId/);
      await expectRefused(fn, { brokerId: 'has#hash', incarnation }, 'ValidationError', /brokerId/);
      await expectRefused(fn, { brokerId: leader }, 'ValidationError', /incarnation/);
      await expectRefused(fn, { brokerId: leader, incarnation: 0 }, 'ValidationError', /incarnation/);
      await expectRefused(fn, { brokerId: leader, incarnation: -1 }, 'ValidationError', /incarnation/);
      await expectRefused(fn, { brokerId: leader, incarnation: incarnation + 0.5 }, 'ValidationError', /incarnation/);
      await expectRefused(fn, { brokerId: leader, incarnation: String(incarnation) }, 'ValidationError', /incarnation/);
      await expectRefused(fn, { brokerId: leader, incarnation }, 'BrokerAuthenticationError', /carries no "credential"/);
      await expectRefused(fn, { brokerId: leader, incarnation, credential: 'short' }, 'ValidationError', /credential.*not shown/);
      await expectRefused(fn, { brokerId: leader, incarnation, credential: nobody }, 'BrokerAuthenticationError', /authentication failed/);
      await expectRefused(fn, { brokerId: 'cbi-nobody', incarnation: 1, credential: nobody }, 'BrokerNotRegisteredError', /cbi-nobody/);
      // The leader of partition 1, alive, named with an incarnation it does not hold.
      await expectRefused(fn, { brokerId: leader, incarnation: incarnation - 1, credential }, 'FencedBrokerError', new RegExp(`${leader}.*${incarnation}`));
      // cbi-1 by the incarnation it held before its restart: that one was shut down already.
      await expectRefused(fn, { brokerId: 'cbi-1', incarnation: formerIncarnation, credential: simulator.credentialOf('cbi-1') }, 'FencedBrokerError', /cbi-1/);
    });
    // The brokers named carry on with their leases: cbi-2 is still heartbeating as the same incarnation.
    const callsDoneAt = Date.now();
    await pollUntil(() => heartbeats.some((beat) => beat.brokerId === leader && beat.at > callsDoneAt), {
      timeoutMs: target.sessionTimeoutMs,
      description: `a heartbeat of ${leader} after the refusals`,
    });
    expect(heartbeats.filter((beat) => beat.brokerId === leader && beat.at > callsDoneAt).map((beat) => beat.response)).toEqual(
      expect.arrayContaining([expect.objectContaining({ incarnation, rejoined: false })]),
    );
    expect(heartbeatErrors).toEqual([]);

    // A broker that hosts nothing and whose lease lapsed has nothing left to shut down.
    let lapsedIncarnation = 0;
    const lapsing = new BrokerSimulator(client, {
      heartbeatIntervalMs: 1000,
      credentials: registerCredentials(client),
      onHeartbeat: (_id, response) => (lapsedIncarnation = response.incarnation),
    });
    await lapsing.start(['cbi-lapsed']);
    await lapsing.stop();
    await pollUntil(async () => !(await client.describe()).brokers.some((broker) => broker.brokerId === 'cbi-lapsed' && broker.alive), {
      timeoutMs: target.sessionTimeoutMs * 3,
      intervalMs: 200,
      description: 'the lease of cbi-lapsed to lapse',
    });
    const topicBefore = JSON.stringify((await client.describe(topic)).topics);
    await expectRefused(
      fn,
      { brokerId: 'cbi-lapsed', incarnation: lapsedIncarnation, credential: lapsing.credentialOf('cbi-lapsed') },
      'BrokerNotRegisteredError',
      /cbi-lapsed.*no live lease/,
    );
    expect(JSON.stringify((await client.describe(topic)).topics)).toBe(topicBefore);
  });

  it('produce and consume: negative, fractional, textual and disagreeing epochs; stale and future epochs', async () => {
    const produce = outputs.ProduceFunctionName;
    const consume = outputs.ConsumeFunctionName;
    const records = [{ value: 'must not be written' }];
    const p1 = { topic, partition: 1 };
    const { highWatermark, records: held } = await client.consume({ ...p1, offset: 0 });
    await expectNothingWritten(async () => {
      await expectRefused(produce, { ...p1, records, currentLeaderEpoch: -1 }, 'ValidationError', /currentLeaderEpoch/);
      await expectRefused(produce, { ...p1, records, leaderEpoch: -1 }, 'ValidationError', /leaderEpoch/);
      await expectRefused(produce, { ...p1, records, currentLeaderEpoch: 0.5 }, 'ValidationError', /currentLeaderEpoch/);
      await expectRefused(produce, { ...p1, records, currentLeaderEpoch: '1' }, 'ValidationError', /currentLeaderEpoch/);
      await expectRefused(produce, { ...p1, records, currentLeaderEpoch: 1, leaderEpoch: 0 }, 'ValidationError', /disagree/);
      await expectRefused(produce, { ...p1, records, currentLeaderEpoch: 1, acks: 2 }, 'ValidationError', /acks/);
      await expectRefused(produce, { ...p1, records, currentLeaderEpoch: 0 }, 'FencedLeaderEpochError', /epoch/i);
      await expectRefused(produce, { ...p1, records, currentLeaderEpoch: 2 }, 'UnknownLeaderEpochError', /epoch/i);

      await expectRefused(consume, { ...p1, currentLeaderEpoch: -1 }, 'ValidationError', /currentLeaderEpoch/);
      await expectRefused(consume, { ...p1, leaderEpoch: -1 }, 'ValidationError', /leaderEpoch/);
      await expectRefused(consume, { ...p1, currentLeaderEpoch: '1' }, 'ValidationError', /currentLeaderEpoch/);
      await expectRefused(consume, { ...p1, currentLeaderEpoch: 1, leaderEpoch: 2 }, 'ValidationError', /disagree/);
      await expectRefused(consume, { ...p1, currentLeaderEpoch: 0 }, 'FencedLeaderEpochError', /epoch/i);
      await expectRefused(consume, { ...p1, currentLeaderEpoch: 2 }, 'UnknownLeaderEpochError', /epoch/i);
      await expectRefused(consume, { ...p1, offsetsForLeaderEpoch: -1 }, 'ValidationError', /offsetsForLeaderEpoch/);
      await expectRefused(consume, { ...p1, offsetsForLeaderEpoch: 'x' }, 'ValidationError', /offsetsForLeaderEpoch/);
      await expectRefused(consume, { ...p1, offsetsForLeaderEpoch: 0, currentLeaderEpoch: -1 }, 'ValidationError', /currentLeaderEpoch/);
      await expectRefused(consume, { ...p1, offsetsForLeaderEpoch: 0, currentLeaderEpoch: 0 }, 'FencedLeaderEpochError', /epoch/i);
    });
    const after = await client.consume({ ...p1, offset: 0, leaderEpoch: 1 });
    expect(after.records).toEqual(held);
    expect(after.highWatermark).toBe(highWatermark);
    // Nothing was appended beyond the high watermark either: the next good produce lands right after.
    await expect(client.produce({ ...p1, records: [{ value: 'good' }], leaderEpoch: 1 })).resolves.toMatchObject({ baseOffset: highWatermark, leaderEpoch: 1 });
  });

  it('ElectLeaders: malformed requests, a missing topic, a missing partition next to an electable one', async () => {
    const fn = outputs.ElectLeadersFunctionName;
    await expectNothingWritten(async () => {
      await expectRefused(fn, [], 'ValidationError', /request/);
      await expectRefused(fn, { partitions: [1] }, 'ValidationError', /topic/);
      await expectRefused(fn, { topic: 42 }, 'ValidationError', /topic/);
      await expectRefused(fn, { topic: 'has#hash' }, 'ValidationError', /topic/);
      await expectRefused(fn, { topic, partitions: [] }, 'ValidationError', /partitions/);
      await expectRefused(fn, { topic, partitions: 1 }, 'ValidationError', /partitions/);
      await expectRefused(fn, { topic, partitions: [0] }, 'ValidationError', /partitions\[0\]/);
      await expectRefused(fn, { topic, partitions: [1, -1] }, 'ValidationError', /partitions\[1\]/);
      await expectRefused(fn, { topic, partitions: ['1'] }, 'ValidationError', /partitions\[0\]/);
      await expectRefused(fn, { topic, partitions: [1.5] }, 'ValidationError', /partitions\[0\]/);
      await expectRefused(fn, { topic: `${topic}-missing` }, 'UnknownTopicError', /missing/);
      await expectRefused(fn, { topic: `${topic}-missing`, partitions: [1] }, 'UnknownTopicError', /missing/);
      // Partition 1 could move back to cbi-1; the request is refused as a whole, so it does not.
      await expectRefused(fn, { topic, partitions: [1, 9] }, 'UnknownTopicError', /9.*nothing was elected/);
    });
    // The same election, well formed, moves it.
    expect(await client.electLeaders({ topic, partitions: [1] })).toEqual([
      expect.objectContaining({ topic, partition: 1, previousLeader: 'cbi-2', newLeader: 'cbi-1', leaderEpoch: 2 }),
    ]);
  });
});
