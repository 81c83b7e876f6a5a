import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { RemoteFunctionError } from '../../../client/lambda-client.js';
import { invokeWithAwsCli, leadershipClient, stackTarget, uniqueTopic } from './support.js';

/** Every function refuses bad input with an error naming the problem, and writes nothing. */
describe('bad input to the deployed functions', () => {
  const target = stackTarget();
  const client = leadershipClient(target);
  const simulator = new BrokerSimulator(client, { heartbeatIntervalMs: 500, credentials: registerCredentials(client) });
  const topic = uniqueTopic('badinput');

  async function errorOf(call: Promise<unknown>): Promise<RemoteFunctionError> {
    const error = await call.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error, 'expected the call to fail').toBeInstanceOf(RemoteFunctionError);
    return error as RemoteFunctionError;
  }

  async function expectRefused(functionName: string, payload: unknown, errorType: string, messagePart: RegExp): Promise<void> {
    const error = await errorOf(client.invokeFunction(functionName, payload));
    expect(error.errorType).toBe(errorType);
    expect(error.message).toMatch(messagePart);
  }

  beforeAll(async () => {
    await simulator.start(['bad-1', 'bad-2']);
    await client.createTopic({ topic, partitions: 2, replicationFactor: 2 });
    await client.produce({ topic, partition: 1, records: [{ value: 'only record' }] });
  });

  afterAll(async () => {
    await simulator.stop();
    client.close();
  });

  it('heartbeat: missing or mistyped brokerId, mistyped incarnation', async () => {
    const fn = target.outputs.HeartbeatFunctionName;
    await expectRefused(fn, {}, 'ValidationError', /brokerId/);
    await expectRefused(fn, { brokerId: 42 }, 'ValidationError', /brokerId/);
    await expectRefused(fn, { brokerId: '' }, 'ValidationError', /brokerId/);
    await expectRefused(fn, { brokerId: 'bad-3', incarnation: 'one' }, 'ValidationError', /incarnation/);
    const brokers = (await client.describe()).brokers.map((broker) => broker.brokerId);
    expect(brokers).not.toContain('bad-3');
  });

  it('create-topic: bad name, counts and types; replication factor above live brokers; duplicate topic', async () => {
    const fn = target.outputs.CreateTopicFunctionName;
    const fresh = uniqueTopic('never');
    await expectRefused(fn, { partitions: 1, replicationFactor: 1 }, 'ValidationError', /topic/);
    await expectRefused(fn, { topic: 'has#hash', partitions: 1, replicationFactor: 1 }, 'ValidationError', /topic/);
    await expectRefused(fn, { topic: fresh, partitions: 0, replicationFactor: 1 }, 'ValidationError', /partitions/);
    await expectRefused(fn, { topic: fresh, partitions: 'four', replicationFactor: 1 }, 'ValidationError', /partitions/);
    await expectRefused(fn, { topic: fresh, partitions: 2, replicationFactor: 1.5 }, 'ValidationError', /replicationFactor/);
    await expectRefused(fn, { topic: fresh, partitions: 2, replicationFactor: 2, minInsyncReplicas: 3 }, 'ValidationError', /minInsyncReplicas/);
    await expectRefused(fn, { topic: fresh, partitions: 2, replicationFactor: 50 }, 'InvalidReplicationFactorError', /50/);
    await expectRefused(fn, { topic, partitions: 2, replicationFactor: 2 }, 'TopicExistsError', new RegExp(topic));
    const topics = (await client.describe()).topics.map((described) => described.topic);
    expect(topics).not.toContain(fresh);
  });

  it('describe: unknown topic', async () => {
    await expectRefused(target.outputs.DescribeFunctionName, { topic: uniqueTopic('ghost') }, 'UnknownTopicError', /ghost/);
  });

  it('produce: unknown topic, bad partition, missing or mistyped records; nothing is appended', async () => {
    const fn = target.outputs.ProduceFunctionName;
    await expectRefused(fn, { topic: uniqueTopic('ghost'), partition: 1, records: [{ value: 'x' }] }, 'UnknownTopicError', /ghost/);
    await expectRefused(fn, { topic, partition: 3, records: [{ value: 'x' }] }, 'UnknownTopicError', /partition/);
    await expectRefused(fn, { topic, partition: 'one', records: [{ value: 'x' }] }, 'ValidationError', /partition/);
    await expectRefused(fn, { topic, partition: 1 }, 'ValidationError', /records/);
    await expectRefused(fn, { topic, partition: 1, records: [] }, 'ValidationError', /records/);
    await expectRefused(fn, { topic, partition: 1, records: [{ value: 7 }] }, 'ValidationError', /value/);
    await expectRefused(fn, { topic, partition: 1, records: [{ value: 'x', key: 7 }] }, 'ValidationError', /key/);
    const read = await client.consume({ topic, partition: 1 });
    expect(read.records.map((record) => record.value)).toEqual(['only record']);
    expect(read.highWatermark).toBe(1);
  });

  it('consume: unknown topic, bad partition, offset and maxRecords', async () => {
    const fn = target.outputs.ConsumeFunctionName;
    await expectRefused(fn, { topic: uniqueTopic('ghost'), partition: 1 }, 'UnknownTopicError', /ghost/);
    await expectRefused(fn, { topic, partition: 0 }, 'ValidationError', /partition/);
    await expectRefused(fn, { topic, partition: 1, offset: -1 }, 'ValidationError', /offset/);
    await expectRefused(fn, { topic, partition: 1, maxRecords: 0 }, 'ValidationError', /maxRecords/);
    await expectRefused(fn, { topic, partition: 1, offset: 99 }, 'OffsetOutOfRangeError', /99/);
  });

  it('fetch: no partitions, a partition twice, a bad entry, too many bytes: refused whole, naming the problem', async () => {
    const fn = target.outputs.ConsumeFunctionName;
    await expectRefused(fn, { partitions: [] }, 'ValidationError', /"partitions" must be an array of 1 to 1000 items/);
    await expectRefused(fn, { partitions: [{ topic, partition: 1 }, { topic, partition: 1, offset: 1 }] }, 'ValidationError', /partitions\[1\] asks for .*-1 again/);
    await expectRefused(fn, { partitions: [{ topic, partition: 1 }, { topic, partition: 2, leaderEpoch: -1 }] }, 'ValidationError', /partitions\[1\]: "leaderEpoch" must be an integer >= 0, got -1/);
    await expectRefused(fn, { partitions: [{ topic, partition: 1 }], maxBytes: 6_000_000 }, 'ValidationError', /maxBytes/);
    // A partition that does not exist is one refused partition, not a refused fetch.
    const answer = await client.fetch({ partitions: [{ topic: uniqueTopic('ghost'), partition: 1 }, { topic, partition: 1 }] });
    expect(answer.partitions.map((p) => ('errorType' in p ? p.errorType : p.records.length))).toEqual(['UnknownTopicError', 1]);
  });

  it('reports a handler error to the AWS CLI as a Lambda FunctionError with errorType and errorMessage', async () => {
    const result = await invokeWithAwsCli(target, target.outputs.CreateTopicFunctionName, { topic: 'x', partitions: -1, replicationFactor: 1 });
    expect(result.statusCode).toBe(200);
    expect(result.functionError).toBe('Unhandled');
    expect(result.body).toMatchObject({ errorType: 'ValidationError', errorMessage: expect.stringMatching(/partitions/) });
  });
});
