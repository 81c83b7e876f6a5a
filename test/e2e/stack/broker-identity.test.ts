import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { RemoteFunctionError, type HeartbeatResponse } from '../../../client/lambda-client.js';
import { pollUntil } from '../../../client/poll.js';
import { drainLeadershipEvents, leadershipClient, sqsClient, stackTarget, uniqueTopic, waitForLiveBrokers } from './support.js';

/**
 * The security probe's broker-identity finding (section 5, first row) and M3 on the deployed
 * stack: a broker proves itself with the credential RegisterBroker gave it, so neither an
 * incarnation read from describe nor a lapsed broker id is enough to act as it; and one
 * malformed row in the brokers table stops nobody else's heartbeat, describe or create-topic.
 */
describe('broker identity and a malformed brokers row on the deployed stack', () => {
  const target = stackTarget();
  const client = leadershipClient(target);
  const sqs = sqsClient(target);
  const dynamodb = new DynamoDBClient({ endpoint: target.endpoint, region: target.region });
  const { outputs } = target;
  const brokers = ['bid-1', 'bid-2'];
  const heartbeats: Array<{ brokerId: string; response: HeartbeatResponse }> = [];
  const simulator = new BrokerSimulator(client, {
    heartbeatIntervalMs: Math.max(200, Math.floor(target.sessionTimeoutMs / 6)),
    credentials: registerCredentials(client),
    onHeartbeat: (brokerId, response) => heartbeats.push({ brokerId, response }),
  });
  const topic = uniqueTopic('identity');
  const planted = 'bid-malformed';

  async function refusal(call: Promise<unknown>): Promise<RemoteFunctionError> {
    const error = await call.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error, 'expected the call to be refused').toBeInstanceOf(RemoteFunctionError);
    return error as RemoteFunctionError;
  }

  /** A broker's lease as describe shows it, without the times a renewal moves. */
  async function leaseOf(brokerId: string) {
    const found = (await client.describe()).brokers.find((broker) => broker.brokerId === brokerId) as
      | { brokerId: string; incarnation: number; alive: boolean; shuttingDown?: boolean }
      | undefined;
    return found && { incarnation: found.incarnation, alive: found.alive, shuttingDown: found.shuttingDown ?? false };
  }

  beforeAll(async () => {
    await simulator.start(brokers);
    await waitForLiveBrokers(client, brokers, target.sessionTimeoutMs * 8);
    await client.createTopic({ topic, partitions: 2, replicationFactor: 2 });
    await drainLeadershipEvents(target, topic, sqs);
  });

  afterAll(async () => {
    await dynamodb.send(new DeleteItemCommand({ TableName: outputs.BrokersTableName, Key: { brokerId: { S: planted } } }));
    await simulator.stop();
    for (const brokerId of brokers) {
      const incarnation = heartbeats.filter((beat) => beat.brokerId === brokerId).at(-1)?.response.incarnation;
      if (incarnation !== undefined) await client.controlledShutdown(brokerId, incarnation, simulator.credentialOf(brokerId)).catch(() => undefined);
    }
    client.close();
    sqs.destroy();
    dynamodb.destroy();
  });

  it('a caller that read a broker’s incarnation from describe cannot shut it down without its credential: nothing changes', async () => {
    const leader = (await client.describe(topic)).topics[0].partitions[0].Leader!;
    const { incarnation } = (await client.describe()).brokers.find((broker) => broker.brokerId === leader)!;
    const partitionsBefore = JSON.stringify((await client.describe(topic)).topics[0].partitions);
    const leaseBefore = await leaseOf(leader);
    const other = simulator.credentialOf(brokers.find((id) => id !== leader)!);

    const fn = outputs.ControlledShutdownFunctionName;
    const missing = await refusal(client.invokeFunction(fn, { brokerId: leader, incarnation }));
    expect(missing.errorType).toBe('BrokerAuthenticationError');
    expect(missing.message).toMatch(/carries no "credential"/);
    for (const credential of [other, (await client.registerBroker('bid-stranger')).credential]) {
      expect((await refusal(client.controlledShutdown(leader, incarnation, credential))).errorType).toBe('BrokerAuthenticationError');
    }

    expect(JSON.stringify((await client.describe(topic)).topics[0].partitions)).toBe(partitionsBefore);
    expect(await leaseOf(leader)).toEqual(leaseBefore);
    expect(leaseBefore).toEqual({ incarnation, alive: true, shuttingDown: false });
    expect(await drainLeadershipEvents(target, topic, sqs)).toEqual([]);
  });

  it('a heartbeat for a lapsed broker id without its credential registers nothing', async () => {
    const lapsing = new BrokerSimulator(client, { heartbeatIntervalMs: 1000, credentials: registerCredentials(client) });
    await lapsing.start(['bid-lapsed']);
    await lapsing.stop();
    // Wait for the lease to be gone, not just lapsed: live peers' heartbeats sweep a lapsed lease (and the TTL
    // reaper deletes it), so "lapsed" is a passing state; gone is where anyone could register the id before.
    await pollUntil(async () => (await leaseOf('bid-lapsed')) === undefined, {
      timeoutMs: target.sessionTimeoutMs * 3,
      intervalMs: 200,
      description: 'the lease of bid-lapsed to lapse and be swept',
    });
    const fn = outputs.HeartbeatFunctionName;
    expect((await refusal(client.invokeFunction(fn, { brokerId: 'bid-lapsed' }))).errorType).toBe('BrokerAuthenticationError');
    expect((await refusal(client.heartbeat('bid-lapsed', simulator.credentialOf('bid-1')))).errorType).toBe('BrokerAuthenticationError');
    // An id nobody registered is refused alike.
    expect((await refusal(client.heartbeat('bid-never', simulator.credentialOf('bid-1')))).errorType).toBe('BrokerAuthenticationError');

    expect(await leaseOf('bid-lapsed')).toBeUndefined();
    expect(await leaseOf('bid-never')).toBeUndefined();
  });

  it('a wrong credential is refused; a rotation refuses the old one from the next heartbeat on', async () => {
    const first = await client.registerBroker('bid-rotating');
    expect(first).toMatchObject({ brokerId: 'bid-rotating', credential: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const joined = await client.heartbeat('bid-rotating', first.credential);
    expect(joined.rejoined).toBe(true);
    expect((await refusal(client.heartbeat('bid-rotating', simulator.credentialOf('bid-2'), joined.incarnation))).errorType).toBe(
      'BrokerAuthenticationError',
    );

    const rotated = await client.registerBroker('bid-rotating');
    expect(rotated.rotated).toBe(true);
    expect(rotated.credential).not.toBe(first.credential);
    const old = await refusal(client.heartbeat('bid-rotating', first.credential, joined.incarnation));
    expect(old.errorType).toBe('BrokerAuthenticationError');
    await expect(client.heartbeat('bid-rotating', rotated.credential, joined.incarnation)).resolves.toMatchObject({
      incarnation: joined.incarnation,
      rejoined: false,
    });
    await client.controlledShutdown('bid-rotating', joined.incarnation, rotated.credential);
  });

  it('describe returns no credential material', async () => {
    const chosen = await client.registerBroker('bid-described');
    await client.heartbeat('bid-described', chosen.credential);
    const text = JSON.stringify(await client.describe());
    expect(text).toContain('bid-described');
    for (const credential of [chosen.credential, ...brokers.map((id) => simulator.credentialOf(id))]) expect(text).not.toContain(credential);
    expect(text).not.toMatch(/credential|salt|hash/i);
  });

  it('a malformed row in the brokers table stops no heartbeat, describe or create-topic, and counts as no live broker (M3)', async () => {
    const lapsedAt = Date.now() - 60_000;
    // As the probe planted it: no `expiresAt` (and a deadline long past, which no sweep may act on).
    await dynamodb.send(
      new PutItemCommand({
        TableName: outputs.BrokersTableName,
        Item: {
          brokerId: { S: planted },
          incarnation: { N: '1' },
          lastHeartbeatAt: { N: String(lapsedAt - 6000) },
          deadlineMs: { N: String(lapsedAt) },
        },
      }),
    );
    const seenBefore = heartbeats.length;

    // The simulated brokers' heartbeats (each sweeps by listing the whole table) go on.
    await pollUntil(() => brokers.every((id) => heartbeats.slice(seenBefore).some((beat) => beat.brokerId === id)), {
      timeoutMs: target.sessionTimeoutMs * 2,
      intervalMs: 100,
      description: 'a heartbeat of every broker after the row was planted',
    });
    const described = await client.describe();
    expect(described.brokers.map((broker) => broker.brokerId)).not.toContain(planted);
    expect(described.brokers.filter((broker) => brokers.includes(broker.brokerId)).every((broker) => broker.alive)).toBe(true);
    const created = await client.createTopic({ topic: uniqueTopic('identity-m3'), partitions: 1, replicationFactor: 1 });
    expect(created.assignments[0].Replicas).not.toContain(planted);
  });
});
