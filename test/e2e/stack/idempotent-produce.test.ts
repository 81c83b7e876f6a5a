import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { RemoteFunctionError } from '../../../client/lambda-client.js';
import { Producer } from '../../../client/producer.js';
import { leadershipClient, stackTarget, uniqueTopic } from './support.js';

/**
 * The idempotent producer on the deployed functions: a resent batch is answered with its
 * original offsets and written once; sequence gaps, unknown producer ids and bad epochs are
 * refused by name, and nothing is written.
 */
describe('idempotent produce on the deployed stack', () => {
  const target = stackTarget();
  const client = leadershipClient(target);
  const simulator = new BrokerSimulator(client, { heartbeatIntervalMs: Math.max(200, Math.floor(target.sessionTimeoutMs / 6)), credentials: registerCredentials(client) });
  const topic = uniqueTopic('idempotent');

  async function refusal(call: Promise<unknown>): Promise<RemoteFunctionError> {
    const error = await call.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error, 'expected the call to fail').toBeInstanceOf(RemoteFunctionError);
    return error as RemoteFunctionError;
  }

  const logValues = async (): Promise<string[]> =>
    (await client.consume({ topic, partition: 1, offset: 0, maxRecords: 1000 })).records.map((record) => record.value);

  beforeAll(async () => {
    await simulator.start(['idem-1', 'idem-2']);
    await client.createTopic({ topic, partitions: 1, replicationFactor: 2, minInsyncReplicas: 2 });
  });

  afterAll(async () => {
    await simulator.stop();
    client.close();
  });

  it('answers a resent batch with the original offsets and writes it once', async () => {
    const { producerId, producerEpoch } = await client.initProducerId();
    const batch = { topic, partition: 1, records: [{ value: 'a' }, { value: 'b' }], producerId, producerEpoch, baseSequence: 0 };
    const first = await client.produce(batch);
    const resent = await client.produce(batch);

    expect(first).toMatchObject({ baseOffset: 0, lastOffset: 1, highWatermark: 2 });
    expect(first.duplicate).toBeUndefined();
    expect(resent).toMatchObject({ baseOffset: 0, lastOffset: 1, duplicate: true });
    expect(await logValues()).toEqual(['a', 'b']);
  });

  it('the client Producer sends once per send, in order, across its own retries', async () => {
    const producer = new Producer(client);
    const acks = [];
    for (const value of ['c', 'd', 'e']) acks.push(await producer.send(topic, 1, [{ value }]));
    expect(acks.map((ack) => ack.baseOffset)).toEqual([2, 3, 4]);
    expect(await logValues()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('refuses an unknown producer id, a sequence gap, a negative epoch and a partial set of fields; writes nothing', async () => {
    const { producerId } = await client.initProducerId();
    const before = await logValues();
    const records = [{ value: 'never' }];
    const cases: Array<[object, string, RegExp]> = [
      [{ producerId: 999_999_999, producerEpoch: 0, baseSequence: 0 }, 'UnknownProducerIdError', /never handed out/],
      [{ producerId, producerEpoch: 0, baseSequence: 7 }, 'OutOfOrderSequenceError', /starts at sequence 0/],
      [{ producerId, producerEpoch: -1, baseSequence: 0 }, 'ValidationError', /"producerEpoch" must be an integer between 0 and 32767, got -1/],
      [{ producerId, baseSequence: 0 }, 'ValidationError', /missing "producerEpoch"/],
    ];
    for (const [fields, errorType, message] of cases) {
      const error = await refusal(client.invokeFunction(target.outputs.ProduceFunctionName, { topic, partition: 1, records, ...fields }));
      expect(error.errorType, JSON.stringify(fields)).toBe(errorType);
      expect(error.message).toMatch(message);
    }
    const init = await refusal(client.invokeFunction(target.outputs.InitProducerIdFunctionName, { transactionalId: 'tx' }));
    expect(init.errorType).toBe('ValidationError');
    expect(await logValues()).toEqual(before);
  });
});
