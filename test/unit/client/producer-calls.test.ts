import { describe, expect, it } from 'vitest';
import { LeadershipClient, RemoteFunctionError, type LambdaTransport, type StorageMode } from '../../../client/lambda-client.js';
import { MAX_CALL_BYTES, MAX_RECORDS_PER_PRODUCE, Producer, RECORD_CALL_OVERHEAD_BYTES, type ProducerOptions } from '../../../client/producer.js';
import { ClientError } from '../../../client/retry.js';
import { FakeClock, FakeLambda, fakeOutputs, holdableProduce } from './fake-lambda.js';

const { ProduceFunctionName: PRODUCE, DescribeFunctionName: DESCRIBE } = fakeOutputs;

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fake Lambda over `partitions` partitions of one topic of the given storage, whose produce answers can be held back. */
function setup(options: ProducerOptions = {}, partitions = 3, storage: StorageMode = 'replicated') {
  const lambda = new FakeLambda('orders', partitions, 'A', storage);
  const { transport, invoked, hold, release } = holdableProduce(lambda);
  const producer = new Producer(new LeadershipClient(fakeOutputs, { transport }), { clock: new FakeClock(), random: () => 0.5, ...options });
  /** Each produce call as the partitions (and values) of its batches. */
  const calls = () =>
    invoked.map((call) => {
      const batches = Array.isArray(call.batches) ? (call.batches as Array<Record<string, unknown>>) : [call];
      return batches.map((batch) => `${String(batch.partition)}:${(batch.records as Array<{ value: string }>).map((record) => record.value).join(',')}`);
    });
  return {
    lambda,
    producer,
    invoked,
    calls,
    hold,
    release,
    log: (partition: number) => lambda.partitions.get(partition)!.records.map((record) => record.value),
  };
}

const errorTypeOf = (outcome: PromiseSettledResult<unknown>) => (outcome.status === 'rejected' ? (outcome.reason as RemoteFunctionError).errorType : 'sent');

describe("Producer calls (Kafka's ProduceRequest: the partitions' ready batches in one call)", () => {
  it("sends the batches of several partitions ready together in one call, each with its own sequence, each send answered with its own records' offsets", async () => {
    const { producer, invoked, calls, log } = setup();
    const acks = await Promise.all([
      producer.send('orders', 1, [{ value: 'a' }]),
      producer.send('orders', 2, [{ value: 'x' }]),
      producer.send('orders', 1, [{ value: 'b' }, { value: 'c' }]),
      producer.send('orders', 3, [{ value: 'p' }]),
    ]);
    expect(calls()).toEqual([['1:a,b,c', '2:x', '3:p']]);
    expect(invoked[0]).toMatchObject({ acks: 'all' });
    expect((invoked[0].batches as Array<Record<string, unknown>>).map(({ partition, producerId, producerEpoch, baseSequence, leaderEpoch }) => ({ partition, producerId, producerEpoch, baseSequence, leaderEpoch }))).toEqual([
      { partition: 1, producerId: 1, producerEpoch: 0, baseSequence: 0, leaderEpoch: 0 },
      { partition: 2, producerId: 1, producerEpoch: 0, baseSequence: 0, leaderEpoch: 0 },
      { partition: 3, producerId: 1, producerEpoch: 0, baseSequence: 0, leaderEpoch: 0 },
    ]);
    expect(acks.map((ack) => [ack.partition, ack.baseOffset, ack.lastOffset])).toEqual([
      [1, 0, 0],
      [2, 0, 0],
      [1, 1, 2],
      [3, 0, 0],
    ]);
    expect([log(1), log(2), log(3)]).toEqual([['a', 'b', 'c'], ['x'], ['p']]);
  });

  it('retries only the partition whose batch was refused retriably, under its sequence, while the others are acknowledged from the first call', async () => {
    const { lambda, producer, invoked, calls, log } = setup();
    lambda.failNextBatch(2, { errorType: 'NotLeaderError', message: 'B leads now [current leader A epoch 0]' });
    const acks = await Promise.all([1, 2, 3].map((partition) => producer.send('orders', partition, [{ value: `v${partition}` }])));
    expect(calls()).toEqual([['1:v1', '2:v2', '3:v3'], ['2:v2']]);
    // The retry went at once to the leader the refusal named (no describe), as after a single produce's NotLeaderError.
    expect(invoked[1]).toMatchObject({ partition: 2, baseSequence: 0, producerEpoch: 0 });
    expect(lambda.callsTo(DESCRIBE)).toHaveLength(1);
    expect(acks.map((ack) => [ack.partition, ack.baseOffset])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    expect([log(1), log(2), log(3)]).toEqual([['v1'], ['v2'], ['v3']]);
    // The partitions' next batches go on from their own sequences.
    await Promise.all([1, 2, 3].map((partition) => producer.send('orders', partition, [{ value: `w${partition}` }])));
    expect((invoked[2].batches as Array<Record<string, unknown>>).map((batch) => batch.baseSequence)).toEqual([1, 1, 1]);
  });

  it('a batch refused after its append is retried alone and answered as the duplicate it is: written once', async () => {
    const { lambda, producer, calls, log } = setup();
    lambda.failNextBatch(1, { afterAppend: { errorType: 'ReplicationTimeoutError' } });
    const acks = await Promise.all([1, 2].map((partition) => producer.send('orders', partition, [{ value: `v${partition}` }])));
    expect(calls()).toEqual([['1:v1', '2:v2'], ['1:v1']]);
    expect(acks.map((ack) => [ack.partition, ack.baseOffset, ack.duplicate])).toEqual([
      [1, 0, true],
      [2, 0, undefined],
    ]);
    expect([log(1), log(2)]).toEqual([['v1'], ['v2']]);
  });

  it("a final refusal of one batch rejects that partition's sends only; the next batch of every partition goes on", async () => {
    const { lambda, producer, calls, log } = setup();
    lambda.failNextBatch(3, { errorType: 'InvalidRecordError', message: 'a record the leader refuses' });
    const outcomes = await Promise.allSettled([1, 2, 3].map((partition) => producer.send('orders', partition, [{ value: `v${partition}` }])));
    expect(outcomes.map(errorTypeOf)).toEqual(['sent', 'sent', 'InvalidRecordError']);
    const refused = (outcomes[2] as PromiseRejectedResult).reason as RemoteFunctionError;
    expect(refused).toBeInstanceOf(RemoteFunctionError);
    expect(refused.message).toBe(`${PRODUCE}: InvalidRecordError: a record the leader refuses`);
    expect(calls()).toEqual([['1:v1', '2:v2', '3:v3']]);
    await Promise.all([1, 2, 3].map((partition) => producer.send('orders', partition, [{ value: `w${partition}` }])));
    expect([log(1), log(2), log(3)]).toEqual([['v1', 'w1'], ['v2', 'w2'], ['w3']]);
  });

  it('a fault of the whole call retries every batch in it, each written once', async () => {
    const { lambda, producer, calls, log } = setup();
    lambda.failNext(PRODUCE, { afterAppend: { errorType: 'Sandbox.Timedout' } });
    const acks = await Promise.all([1, 2, 3].map((partition) => producer.send('orders', partition, [{ value: `v${partition}` }])));
    expect(calls()).toEqual([
      ['1:v1', '2:v2', '3:v3'],
      ['1:v1', '2:v2', '3:v3'],
    ]);
    expect(acks.every((ack) => ack.duplicate === true && ack.baseOffset === 0)).toBe(true);
    expect([log(1), log(2), log(3)]).toEqual([['v1'], ['v2'], ['v3']]);
  });

  it("keeps one batch in flight per partition and each partition's order: sends made meanwhile gather and go in the next call", async () => {
    const { producer, calls, hold, release, log } = setup();
    hold();
    const first = [1, 2].map((partition) => producer.send('orders', partition, [{ value: `a${partition}` }]));
    await wait(20);
    const later = ['b', 'c', 'd'].flatMap((value) => [1, 2].map((partition) => producer.send('orders', partition, [{ value: `${value}${partition}` }])));
    await wait(20);
    expect(calls()).toEqual([['1:a1', '2:a2']]);
    release();
    const acks = await Promise.all([...first, ...later]);
    expect(calls()).toEqual([
      ['1:a1', '2:a2'],
      ['1:b1,c1,d1', '2:b2,c2,d2'],
    ]);
    expect(acks.filter((ack) => ack.partition === 1).map((ack) => ack.baseOffset)).toEqual([0, 1, 2, 3]);
    expect([log(1), log(2)]).toEqual([
      ['a1', 'b1', 'c1', 'd1'],
      ['a2', 'b2', 'c2', 'd2'],
    ]);
  });

  it('names one acks per call: acks=1 batches ready with acks=all ones go in a call of their own; acks=0 sends stay asynchronous invocations of one partition each', async () => {
    const { lambda, producer, invoked } = setup();
    await Promise.all([
      producer.send('orders', 1, [{ value: 'a' }]),
      producer.send('orders', 2, [{ value: 'b' }]),
      producer.send('orders', 3, [{ value: 'c' }], { acks: 1 }),
      producer.send('orders', 2, [{ value: 'e' }], { acks: 0 }),
      producer.send('orders', 3, [{ value: 'f' }], { acks: 0 }),
    ]);
    const shapes = invoked.map((call) => (Array.isArray(call.batches) ? `${String(call.acks)} x${call.batches.length}` : `${String(call.acks)} p${String(call.partition)}`));
    expect(shapes.sort()).toEqual(['0 p2', '0 p3', '1 p3', 'all x2']);
    expect(lambda.callsTo(PRODUCE).filter((call) => call.invocationType === 'Event')).toHaveLength(2);
  });

  it('lingerMs 0: every send is a call of its own, as given, whatever other partitions send at the same time', async () => {
    const { producer, calls } = setup({ lingerMs: 0 });
    await Promise.all([1, 2, 3].map((partition) => producer.send('orders', partition, [{ value: `v${partition}` }])));
    expect(calls().map((call) => call.length)).toEqual([1, 1, 1]);
  });

  it('refuses an answer that does not match the batches sent, to every send in the call', async () => {
    const lambda = new FakeLambda('orders', 2);
    const transport: LambdaTransport = async (functionName, payload, options) => {
      const answer = await lambda.transport(functionName, payload, options);
      if (functionName !== PRODUCE || !payload.includes('"batches"')) return answer;
      const body = JSON.parse(answer.payload) as { results: unknown[] };
      return { payload: JSON.stringify({ results: body.results.slice(1) }) };
    };
    const producer = new Producer(new LeadershipClient(fakeOutputs, { transport }), { clock: new FakeClock() });
    const outcomes = await Promise.allSettled([1, 2].map((partition) => producer.send('orders', partition, [{ value: 'v' }])));
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: expect.any(ClientError) });
      expect(((outcome as PromiseRejectedResult).reason as Error).message).toMatch(/a produce call of 2 batches was answered with 1 results/);
    }
  });

  it('refuses the sends to a topic that does not exist, after one describe, and produces nothing', async () => {
    const { lambda, producer, invoked } = setup();
    const outcomes = await Promise.allSettled([producer.send('nope', 1, [{ value: 'a' }]), producer.send('nope', 2, [{ value: 'b' }])]);
    expect(outcomes.map(errorTypeOf)).toEqual(['UnknownTopicError', 'UnknownTopicError']);
    expect(lambda.callsTo(DESCRIBE)).toHaveLength(1);
    expect(invoked).toHaveLength(0);
  });
});

describe('Producer for a diskless topic (the flush bound: disklessLingerMs, disklessCallBytes)', () => {
  const kib = (n: number) => 'x'.repeat(1024 * n);

  it('gathers for disklessLingerMs, not lingerMs, and not cut at batch.size: flush() then sends every partition in one call', async () => {
    const { producer, calls, log } = setup({ disklessLingerMs: 60_000 }, 3, 'diskless');
    const sends = Array.from({ length: 60 }, (_, i) => producer.send('orders', (i % 3) + 1, [{ value: `${i}:${kib(1)}` }]));
    await wait(30); // six times the replicated linger
    expect(calls()).toHaveLength(0);
    await producer.flush();
    await Promise.all(sends);
    // 20 KiB a partition: past batch.size (16 KiB), yet one batch each.
    expect(calls().map((call) => call.map((batch) => batch.split(':')[0]))).toEqual([['1', '2', '3']]);
    expect(log(1)).toHaveLength(20);
  });

  it("sends every diskless partition's batch when one is due: one call, one object", async () => {
    const { producer, calls } = setup({ disklessLingerMs: 60_000 }, 3, 'diskless');
    const sends = [producer.send('orders', 1, [{ value: 'a' }]), producer.send('orders', 2, [{ value: 'b' }])];
    await wait(10);
    expect(calls()).toHaveLength(0);
    // A batch of the most records a produce carries is full: it is due, and takes the others with it.
    sends.push(producer.send('orders', 3, Array.from({ length: MAX_RECORDS_PER_PRODUCE }, (_, i) => ({ value: `c${i}` }))));
    await Promise.all(sends);
    expect(calls().map((call) => call.map((batch) => batch.split(':')[0]))).toEqual([['1', '2', '3']]);
  });

  it('sends at disklessLingerMs after the first send, however the partitions were sent to', async () => {
    const { producer, calls } = setup({ disklessLingerMs: 20, lingerMs: 60_000 }, 3, 'diskless');
    await Promise.all([1, 2, 3].map((partition) => producer.send('orders', partition, [{ value: `v${partition}` }])));
    expect(calls()).toEqual([['1:v1', '2:v2', '3:v3']]);
  });

  it('sends once the gathered batches reach disklessCallBytes, without waiting, and cuts calls at that bound', async () => {
    const record = (partition: number) => ({ value: `${partition}${kib(1).slice(1)}` });
    const perRecord = 1024 + RECORD_CALL_OVERHEAD_BYTES;
    const { producer, calls } = setup({ disklessLingerMs: 60_000, disklessCallBytes: 5 * perRecord }, 3, 'diskless');
    // Two records a partition: 6 records' worth, over the bound of 5, sent at the fifth without waiting.
    const sends = [1, 2, 3, 1, 2, 3].map((partition) => producer.send('orders', partition, [record(partition)]));
    await Promise.all(sends.slice(0, 5));
    expect(calls().flat().join('').length).toBeGreaterThan(0);
    await producer.flush();
    await Promise.all(sends);
    for (const call of calls()) expect(call.reduce((sum, batch) => sum + batch.split(':')[1].split(',').length * perRecord, 0)).toBeLessThanOrEqual(5 * perRecord);
    expect(calls().flat().map((batch) => batch.split(':')[1].split(',').length).reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('refuses a negative or non-numeric disklessLingerMs and a disklessCallBytes outside 1..MAX_CALL_BYTES', () => {
    const client = new LeadershipClient(fakeOutputs, { transport: new FakeLambda('orders', 1).transport });
    expect(() => new Producer(client, { disklessLingerMs: -1 })).toThrow(/disklessLingerMs must be a number >= 0, got -1/);
    expect(() => new Producer(client, { disklessLingerMs: Number.NaN })).toThrow(/disklessLingerMs/);
    expect(() => new Producer(client, { disklessCallBytes: 0 })).toThrow(/disklessCallBytes must be an integer from 1 to 4194304, got 0/);
    expect(() => new Producer(client, { disklessCallBytes: 1.5 })).toThrow(/disklessCallBytes/);
    expect(() => new Producer(client, { disklessCallBytes: MAX_CALL_BYTES + 1 })).toThrow(/disklessCallBytes/);
    expect(() => new Producer(client, { disklessLingerMs: 0, disklessCallBytes: MAX_CALL_BYTES })).not.toThrow();
  });
});

describe('Producer against a produce function that predates calls of several batches', () => {
  it('sends each batch alone once a call of several is refused as malformed, and from then on', async () => {
    const lambda = new FakeLambda('orders', 3);
    const invoked: string[] = [];
    // As the produce function did before ProduceBatchesRequest: a request without "records" is malformed.
    const transport: LambdaTransport = (functionName, payload, options) => {
      if (functionName !== PRODUCE) return lambda.transport(functionName, payload, options);
      const request = JSON.parse(payload) as Record<string, unknown>;
      invoked.push(Array.isArray(request.batches) ? `batches x${request.batches.length}` : `partition ${String(request.partition)}`);
      if (Array.isArray(request.batches)) return Promise.resolve({ functionError: 'Unhandled', payload: JSON.stringify({ errorType: 'ValidationError', errorMessage: '"records" must be a list' }) });
      return lambda.transport(functionName, payload, options);
    };
    const producer = new Producer(new LeadershipClient(fakeOutputs, { transport }), { clock: new FakeClock() });
    const first = await Promise.all([1, 2, 3].map((partition) => producer.send('orders', partition, [{ value: `v${partition}` }])));
    expect(first.map((ack) => [ack.partition, ack.baseOffset])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    await Promise.all([1, 2].map((partition) => producer.send('orders', partition, [{ value: `w${partition}` }])));
    expect(invoked).toEqual(['batches x3', 'partition 1', 'partition 2', 'partition 3', 'partition 1', 'partition 2']);
    expect(lambda.partitions.get(1)!.records.map((record) => record.value)).toEqual(['v1', 'w1']);
  });
});
