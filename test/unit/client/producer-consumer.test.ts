import { describe, expect, it } from 'vitest';
import { Consumer } from '../../../client/consumer.js';
import { LeadershipClient, RemoteFunctionError, type InvokeRecord } from '../../../client/lambda-client.js';
import { incrementSequence, Producer } from '../../../client/producer.js';
import { backoffMs, ClientError, ClientTimeoutError, isRetriable } from '../../../client/retry.js';
import { ERROR_CATALOGUE, ERROR_NAMES } from '../../../protocol/errors.js';
import { FakeClock, FakeLambda, fakeOutputs, networkError } from './fake-lambda.js';

const { DescribeFunctionName: DESCRIBE, ProduceFunctionName: PRODUCE, ConsumeFunctionName: CONSUME } = fakeOutputs;

function setup(partitions = 1) {
  const lambda = new FakeLambda('orders', partitions);
  const client = new LeadershipClient(fakeOutputs, { transport: lambda.transport });
  const clock = new FakeClock();
  // random 0.5 = no jitter: the backoffs are exactly 100, 200, 400, 800, 1000, ...
  const retry = { clock, random: () => 0.5 };
  return { lambda, client, clock, retry };
}

function remote(errorType: string): RemoteFunctionError {
  return new RemoteFunctionError('fn', errorType, 'x');
}

describe('retry classification', () => {
  it('retries the retriable function errors, including the future epoch errors, and Lambda/network faults', () => {
    for (const errorType of [
      'NotLeaderError',
      'StaleEpochError',
      'PartitionOfflineError',
      'ReplicationTimeoutError',
      'ConcurrentAppendError',
      'NotEnoughReplicasError',
      'NotEnoughReplicasAfterAppendError',
      'ProducerStateFullError',
      'FencedLeaderEpochError',
      'UnknownLeaderEpochError',
      'Sandbox.Timedout',
      'ThrottlingException',
    ]) {
      expect(isRetriable(remote(errorType)), errorType).toBe(true);
    }
    expect(isRetriable(networkError('ECONNREFUSED'))).toBe(true);
    expect(isRetriable(networkError('ECONNRESET'))).toBe(true);
    expect(isRetriable(Object.assign(new Error('busy'), { name: 'TooManyRequestsException' }))).toBe(true);
    expect(isRetriable(Object.assign(new Error('5xx'), { $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isRetriable(new TypeError('fetch failed', { cause: networkError('ECONNREFUSED') }))).toBe(true);
  });

  it('does not retry final errors: bad input, unknown topic or function, unknown errorTypes', () => {
    for (const errorType of ['ValidationError', 'UnknownTopicError', 'TopicExistsError', 'InvalidReplicationFactorError', 'OffsetOutOfRangeError', 'SomethingNew']) {
      expect(isRetriable(remote(errorType)), errorType).toBe(false);
    }
    expect(isRetriable(Object.assign(new Error('no such function'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } }))).toBe(false);
    expect(isRetriable(new SyntaxError('Unexpected token'))).toBe(false);
    expect(isRetriable('a string')).toBe(false);
  });

  it('retries exactly the function errors the catalogue marks retriable', () => {
    for (const name of ERROR_NAMES) expect(isRetriable(remote(name)), name).toBe(ERROR_CATALOGUE[name].retriable);
    expect(isRetriable(remote('FencedLeaderEpochError'))).toBe(true);
  });

  it('backs off exponentially from retry.backoff.ms to retry.backoff.max.ms, with +-20 % jitter', () => {
    const exact = { random: () => 0.5 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffMs(attempt, exact))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffMs(1, { random: () => 0 })).toBe(80);
    expect(backoffMs(2, { random: () => 0.999999 })).toBe(240);
    expect(backoffMs(9, { random: () => 0.999999 })).toBe(1000);
    expect(backoffMs(3, { retryBackoffMs: 10, retryBackoffMaxMs: 25, random: () => 0.5 })).toBe(25);
  });
});

describe('Producer', () => {
  it('describes a partition once, caches its leader epoch and names it on every produce', async () => {
    const { lambda, client, retry } = setup();
    const producer = new Producer(client, retry);
    const first = await producer.send('orders', 1, [{ key: 'k', value: 'a' }]);
    const second = await producer.send('orders', 1, [{ value: 'b' }, { value: 'c' }], { acks: 1 });
    expect(first).toMatchObject({ baseOffset: 0, lastOffset: 0, leader: 'A', leaderEpoch: 0 });
    expect(second).toMatchObject({ baseOffset: 1, lastOffset: 2 });
    expect(lambda.callsTo(DESCRIBE)).toHaveLength(1);
    expect(lambda.callsTo(PRODUCE).map((call) => [call.payload.leaderEpoch, call.payload.acks])).toEqual([
      [0, 'all'],
      [0, 1],
    ]);
  });

  it('follows a leader change: StaleEpochError drops the metadata, describes again and resends at once under the new epoch', async () => {
    const { lambda, client, clock, retry } = setup();
    const producer = new Producer(client, retry);
    await producer.send('orders', 1, [{ value: 'before' }]);
    lambda.elect(1, 'B');
    const ack = await producer.send('orders', 1, [{ value: 'after' }]);
    expect(ack).toMatchObject({ leader: 'B', leaderEpoch: 1, baseOffset: 1 });
    expect(lambda.callsTo(PRODUCE).map((call) => call.payload.leaderEpoch)).toEqual([0, 0, 1]);
    expect(lambda.callsTo(DESCRIBE)).toHaveLength(2);
    // A moved leadership is stale metadata, not overload: the first retry does not wait.
    expect(clock.sleeps).toEqual([]);
  });

  it('takes the current leader a refusal names (KIP-951) and retries there at once, without describing', async () => {
    const { lambda, client, clock, retry } = setup();
    const producer = new Producer(client, retry);
    await producer.send('orders', 1, [{ value: 'before' }]);
    lambda.elect(1, 'B');
    lambda.failNext(PRODUCE, { errorType: 'FencedLeaderEpochError', message: 'leader epoch 0 is fenced [current leader B epoch 1]' });
    const ack = await producer.send('orders', 1, [{ value: 'after' }]);
    expect(ack).toMatchObject({ leader: 'B', leaderEpoch: 1 });
    expect(lambda.callsTo(PRODUCE).map((call) => call.payload.leaderEpoch)).toEqual([0, 0, 1]);
    expect(lambda.callsTo(DESCRIBE)).toHaveLength(1);
    expect(clock.sleeps).toEqual([]); // not even a 0 ms timer
  });

  it('backs off when the leadership error repeats (the metadata did not catch up yet)', async () => {
    const { lambda, client, clock, retry } = setup();
    lambda.failNext(PRODUCE, { errorType: 'NotLeaderError' }, { errorType: 'NotLeaderError' }, { errorType: 'FencedLeaderEpochError' });
    await new Producer(client, retry).send('orders', 1, [{ value: 'x' }]);
    expect(clock.sleeps).toEqual([200, 400]);
  });

  it('retries every retriable error and fault with growing backoff, then succeeds', async () => {
    const { lambda, client, clock, retry } = setup();
    const retries: string[] = [];
    const producer = new Producer(client, { ...retry, onRetry: ({ error }) => retries.push((error as Error).message) });
    lambda.failNext(
      PRODUCE,
      { errorType: 'NotLeaderError' },
      { errorType: 'PartitionOfflineError' },
      { errorType: 'NotEnoughReplicasError' },
      { errorType: 'ConcurrentAppendError' },
      { errorType: 'Sandbox.Timedout' },
      { throws: networkError('ECONNRESET') },
      { errorType: 'FencedLeaderEpochError' },
    );
    lambda.failNext(DESCRIBE, { throws: Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }) });
    const ack = await producer.send('orders', 1, [{ value: 'v' }]);
    expect(ack.baseOffset).toBe(0);
    expect(retries).toHaveLength(8);
    // The describe that tells the topic's storage mode (its linger) retries on its own; the
    // produce's first retry after NotLeaderError goes at once.
    expect(clock.sleeps).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    // Metadata was dropped after each retriable error: one describe per attempt.
    expect(lambda.callsTo(DESCRIBE)).toHaveLength(9);
  });

  it('surfaces a final error at once, without retrying', async () => {
    const { lambda, client, clock, retry } = setup();
    const producer = new Producer(client, retry);
    lambda.failNext(PRODUCE, { errorType: 'ValidationError', message: '"records[0].value" must be a string' });
    await expect(producer.send('orders', 1, [{ value: 'x' }])).rejects.toMatchObject({ name: 'RemoteFunctionError', errorType: 'ValidationError' });
    await expect(producer.send('ghosts', 1, [{ value: 'x' }])).rejects.toMatchObject({ errorType: 'UnknownTopicError' });
    await expect(producer.send('orders', 7, [{ value: 'x' }])).rejects.toMatchObject({ errorType: 'UnknownTopicError' });
    expect(lambda.callsTo(PRODUCE)).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('gives up at delivery.timeout.ms with the last error, never sleeping past the deadline', async () => {
    const { lambda, client, clock, retry } = setup();
    lambda.elect(1, null);
    const producer = new Producer(client, { ...retry, deliveryTimeoutMs: 5000 });
    const startedAt = clock.now();
    const error = (await producer.send('orders', 1, [{ value: 'x' }]).catch((thrown: unknown) => thrown)) as ClientTimeoutError;
    expect(error).toBeInstanceOf(ClientTimeoutError);
    expect(error.message).toMatch(/produce to orders-1: gave up after 5000 ms/);
    expect((error.lastError as RemoteFunctionError).errorType).toBe('PartitionOfflineError');
    expect(clock.now() - startedAt).toBeLessThanOrEqual(5000);
    expect(clock.sleeps).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    // Offline in the metadata: the producer waits for a leader instead of invoking produce.
    expect(lambda.callsTo(PRODUCE)).toHaveLength(0);
  });

  it('defaults to Kafka\'s delivery.timeout.ms of 120 s', async () => {
    const { lambda, client, clock, retry } = setup();
    lambda.elect(1, null);
    const startedAt = clock.now();
    await expect(new Producer(client, retry).send('orders', 1, [{ value: 'x' }])).rejects.toBeInstanceOf(ClientTimeoutError);
    expect(clock.now() - startedAt).toBeGreaterThan(118_000);
    expect(clock.now() - startedAt).toBeLessThanOrEqual(120_000);
  });

  it('without idempotence, may append twice when an appended attempt is answered with a retriable error', async () => {
    const { lambda, client, retry } = setup();
    lambda.failNext(PRODUCE, { afterAppend: { errorType: 'ReplicationTimeoutError' } });
    const ack = await new Producer(client, { ...retry, enableIdempotence: false }).send('orders', 1, [{ value: 'once?' }]);
    expect(ack.baseOffset).toBe(1);
    expect(lambda.partitions.get(1)!.records.map((record) => record.value)).toEqual(['once?', 'once?']);
    expect(lambda.callsTo(PRODUCE).every((call) => call.payload.producerId === undefined)).toBe(true);
  });

  it('idempotent (the default): a retried batch is answered with its original offsets and written once', async () => {
    const { lambda, client, retry } = setup();
    lambda.failNext(PRODUCE, { afterAppend: { errorType: 'ReplicationTimeoutError' } }, { afterAppend: { errorType: 'NotLeaderError' } });
    const producer = new Producer(client, retry);
    const first = await producer.send('orders', 1, [{ value: 'once' }, { value: 'twice?' }]);
    const second = await producer.send('orders', 1, [{ value: 'next' }]);

    expect(first).toMatchObject({ baseOffset: 0, lastOffset: 1, duplicate: true });
    expect(second).toMatchObject({ baseOffset: 2, lastOffset: 2 });
    expect(lambda.partitions.get(1)!.records.map((record) => record.value)).toEqual(['once', 'twice?', 'next']);
    const produces = lambda.callsTo(PRODUCE).map((call) => [call.payload.producerId, call.payload.producerEpoch, call.payload.baseSequence]);
    expect(produces).toEqual([[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 2]]);
    expect(lambda.callsTo(fakeOutputs.InitProducerIdFunctionName)).toHaveLength(1);
  });

  it('idempotent: concurrent sends to one partition go one at a time, in the order they were made', async () => {
    const { lambda, client, retry } = setup(2);
    lambda.failNext(PRODUCE, { errorType: 'NotLeaderError' });
    // Without lingering each send is a produce call of its own (batching: producer-linger.test.ts).
    const producer = new Producer(client, { ...retry, lingerMs: 0 });
    const acks = await Promise.all(['a', 'b', 'c'].map((value) => producer.send('orders', 1, [{ value }])));
    expect(acks.map((ack) => ack.baseOffset)).toEqual([0, 1, 2]);
    expect(lambda.partitions.get(1)!.records.map((record) => record.value)).toEqual(['a', 'b', 'c']);
    // Each partition has its own sequence.
    expect(await producer.send('orders', 2, [{ value: 'x' }])).toMatchObject({ baseOffset: 0 });
    expect(lambda.callsTo(PRODUCE).at(-1)!.payload.baseSequence).toBe(0);
  });

  it('idempotent: after a send that finally failed or broke the sequence, bumps its epoch on the same producer id and starts from sequence 0 (KIP-360)', async () => {
    const { lambda, client, retry } = setup();
    const producer = new Producer(client, { ...retry, deliveryTimeoutMs: 1_000 });
    await producer.send('orders', 1, [{ value: 'a' }]);
    lambda.failNext(PRODUCE, ...Array.from({ length: 20 }, () => ({ errorType: 'NotLeaderError' })));
    await expect(producer.send('orders', 1, [{ value: 'maybe' }])).rejects.toBeInstanceOf(ClientTimeoutError);
    lambda.clearFaults(PRODUCE);
    lambda.failNext(PRODUCE, { errorType: 'OutOfOrderSequenceError' });
    await expect(producer.send('orders', 1, [{ value: 'refused' }])).rejects.toThrow(/OutOfOrderSequenceError/);
    await producer.send('orders', 1, [{ value: 'b' }]);

    const produces = lambda.callsTo(PRODUCE).map((call) => [call.payload.producerId, call.payload.producerEpoch, call.payload.baseSequence]);
    expect(produces[0]).toEqual([1, 0, 0]);
    expect(produces.slice(1, -2).every(([id, epoch, sequence]) => id === 1 && epoch === 0 && sequence === 1)).toBe(true);
    expect(produces.slice(-2)).toEqual([[1, 1, 0], [1, 2, 0]]);
    expect(await producer.producerIdentity()).toEqual({ producerId: 1, producerEpoch: 2 });
    expect(lambda.callsTo(fakeOutputs.InitProducerIdFunctionName)).toHaveLength(1);
  });

  it('idempotent: a late copy of a given-up send is fenced once the bumped epoch has written, so it cannot land after later sends', async () => {
    const { lambda, client, retry } = setup();
    const producer = new Producer(client, { ...retry, deliveryTimeoutMs: 1_000 });
    await producer.send('orders', 1, [{ value: 'a' }]);
    lambda.failNext(PRODUCE, ...Array.from({ length: 20 }, () => ({ errorType: 'NotLeaderError' })));
    await expect(producer.send('orders', 1, [{ value: 'given-up' }])).rejects.toBeInstanceOf(ClientTimeoutError);
    lambda.clearFaults(PRODUCE);
    const givenUp = lambda.callsTo(PRODUCE).at(-1)!.payload;
    await producer.send('orders', 1, [{ value: 'b' }]);

    // The given-up request reaches the leader after all (a queued invocation).
    const answer = await lambda.transport(PRODUCE, JSON.stringify(givenUp));
    expect(JSON.stringify(answer)).toMatch(/InvalidProducerEpochError/);
    expect(lambda.partitions.get(1)!.records.map((record) => record.value)).toEqual(['a', 'b']);
  });

  it("idempotent: a partition's sequence wraps from 2^31-1 to 0, as Kafka's and the leader's do", async () => {
    expect(incrementSequence(2 ** 31 - 2, 3)).toBe(1);
    const { lambda, client, retry } = setup();
    const producer = new Producer(client, retry);
    await producer.send('orders', 1, [{ value: 'a' }]);
    // As if 2^31 - 3 more records had gone since: the producer and the leader both at sequence 2^31 - 2.
    (producer as unknown as { nextSequence: Map<string, number> }).nextSequence.set('orders-1', 2 ** 31 - 2);
    (lambda as unknown as { sequences: Map<string, { next: number }> }).sequences.get('1/1')!.next = 2 ** 31 - 2;
    await producer.send('orders', 1, [{ value: 'b' }, { value: 'c' }, { value: 'd' }]);
    await producer.send('orders', 1, [{ value: 'e' }]);

    expect(lambda.callsTo(PRODUCE).map((call) => call.payload.baseSequence)).toEqual([0, 2 ** 31 - 2, 1]);
    expect(lambda.partitions.get(1)!.records.map((record) => record.value)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('acks=0 queues the produce (an asynchronous invocation) and answers offsets -1 without idempotence', async () => {
    const { lambda, client, retry } = setup();
    const ack = await new Producer(client, retry).send('orders', 1, [{ value: 'fire' }], { acks: 0 });
    expect(ack).toMatchObject({ leader: 'A', leaderEpoch: 0, baseOffset: -1, lastOffset: -1 });
    const [call] = lambda.callsTo(PRODUCE);
    expect(call).toMatchObject({ invocationType: 'Event', payload: { acks: 0, leaderEpoch: 0 } });
    expect(call.payload.producerId).toBeUndefined();
  });
});

describe('Consumer', () => {
  it('returns records in offset order from its position and advances the position past them', async () => {
    const { lambda, client, retry } = setup(2);
    lambda.append(1, 'a', 'b', 'c');
    lambda.append(2, 'x');
    // No long poll: a poll is one fetch, answered at once.
    const consumer = new Consumer(client, { ...retry, maxPollRecords: 2, fetchMaxWaitMs: 0 });
    consumer.assign([
      { topic: 'orders', partition: 1, offset: 1 },
      { topic: 'orders', partition: 2 },
    ]);
    const first = await consumer.poll();
    expect(first.map((record) => [record.partition, record.offset, record.value])).toEqual([
      [1, 1, 'b'],
      [1, 2, 'c'],
      [2, 0, 'x'],
    ]);
    expect(consumer.position('orders', 1)).toBe(3);
    expect(await consumer.poll()).toEqual([]);
    lambda.append(1, 'd');
    expect((await consumer.poll()).map((record) => record.value)).toEqual(['d']);
    // One fetch a poll, for both partitions, each naming its cached epoch.
    expect(lambda.callsTo(CONSUME)).toHaveLength(3);
    expect(lambda.consumedPartitions().map((asked) => [asked.partition, asked.leaderEpoch])).toEqual([
      [1, 0],
      [2, 0],
      [1, 0],
      [2, 0],
      [1, 0],
      [2, 0],
    ]);
  });

  it('long-polls by default: an idle consumer fetches once per fetchMaxWaitMs, and a poll returns as soon as a fetch brings records', async () => {
    const { lambda, client, clock, retry } = setup(2);
    const consumer = new Consumer(client, retry);
    consumer.assign([1, 2].map((partition) => ({ topic: 'orders', partition })));
    const started = clock.now();
    // Nothing new: a fetch at once, another 500 ms later, then the poll returns empty.
    expect(await consumer.poll()).toEqual([]);
    expect(lambda.callsTo(CONSUME)).toHaveLength(2);
    // The next idle polls: one fetch each, 500 ms after the previous one was answered.
    for (let poll = 0; poll < 3; poll++) expect(await consumer.poll()).toEqual([]);
    expect(lambda.callsTo(CONSUME)).toHaveLength(5);
    expect(clock.now() - started).toBe(4 * 500);
    // The wait is the client's: the function is asked to answer at once.
    expect(lambda.callsTo(CONSUME).every((call) => call.payload.maxWaitMs === undefined)).toBe(true);
    lambda.append(2, 'x');
    expect((await consumer.poll()).map((record) => record.value)).toEqual(['x']);
    // After a fetch that brought records, the next poll fetches at once.
    const before = clock.now();
    lambda.append(1, 'y');
    expect((await consumer.poll()).map((record) => record.value)).toEqual(['y']);
    expect(clock.now()).toBe(before);
  });

  it('with fetchMinBytes, keeps fetching (from the new positions) until the records come to them or the wait is up', async () => {
    const { lambda, client, clock, retry } = setup(1);
    const sleep = clock.sleep.bind(clock);
    // Meanwhile, a second record.
    clock.sleep = (ms) => {
      if (lambda.partitions.get(1)!.records.length === 1) lambda.append(1, 'b');
      return sleep(ms);
    };
    const consumer = new Consumer(client, { ...retry, fetchMinBytes: 100, fetchMaxWaitMs: 1000 });
    consumer.assign([{ topic: 'orders', partition: 1 }]);
    lambda.append(1, 'a');
    const started = clock.now();
    // One record (60 to 70 bytes as the answer carries it) is not enough: the poll waits, fetches again, returns both.
    expect((await consumer.poll()).map((record) => record.value)).toEqual(['a', 'b']);
    expect(lambda.consumedPartitions().map((asked) => asked.offset)).toEqual([0, 1]);
    expect(clock.now() - started).toBe(1000);
    // Not enough by the end of the wait: what there is.
    expect(await consumer.poll()).toEqual([]);
    expect(clock.now() - started).toBe(2000);
  });

  it('with fetchWaitInFunction, asks the function to hold the fetch and does not wait itself', async () => {
    const { lambda, client, clock, retry } = setup(1);
    const consumer = new Consumer(client, { ...retry, fetchWaitInFunction: true, fetchMaxWaitMs: 2000, fetchMinBytes: 10 });
    consumer.assign([{ topic: 'orders', partition: 1 }]);
    const started = clock.now();
    expect(await consumer.poll()).toEqual([]);
    expect(lambda.callsTo(CONSUME).map((call) => [call.payload.maxWaitMs, call.payload.minBytes])).toEqual([[2000, 10]]);
    expect(clock.now()).toBe(started);
  });

  it.each([
    [{ fetchMaxWaitMs: -1 }, /fetchMaxWaitMs must be an integer from 0, got -1/],
    [{ fetchMaxWaitMs: 0.5 }, /fetchMaxWaitMs must be an integer from 0, got 0.5/],
    [{ fetchMaxWaitMs: 5001, fetchWaitInFunction: true }, /fetchMaxWaitMs must be an integer from 0 to 5000 when the function waits, got 5001/],
    [{ fetchMinBytes: 0 }, /fetchMinBytes must be an integer >= 1, got 0/],
  ])('refuses %o, naming it', (options, message) => {
    const { client } = setup(1);
    expect(() => new Consumer(client, options)).toThrow(ClientError);
    expect(() => new Consumer(client, options)).toThrow(message);
  });

  it('describes a topic once for all its partitions, however many a poll fetches', async () => {
    const { lambda, client, retry } = setup(3);
    const consumer = new Consumer(client, retry);
    consumer.assign([1, 2, 3].map((partition) => ({ topic: 'orders', partition })));
    await consumer.poll();
    expect(lambda.callsTo(DESCRIBE)).toHaveLength(1);
  });

  it('reads on through a failover without a gap or a duplicate', async () => {
    const { lambda, client, clock, retry } = setup();
    let retries = 0;
    const consumer = new Consumer(client, {
      ...retry,
      maxPollRecords: 3,
      fetchMaxWaitMs: 0,
      // The partition is offline for three attempts, then B is elected with what A committed plus more.
      onRetry: () => {
        retries += 1;
        if (retries === 3) {
          lambda.elect(1, 'B');
          lambda.append(1, '4', '5');
        }
      },
    });
    consumer.assign([{ topic: 'orders', partition: 1 }]);
    const seen: number[] = [];
    lambda.append(1, '0', '1', '2', '3');
    seen.push(...(await consumer.poll()).map((record) => record.offset));
    lambda.elect(1, null);
    for (let polls = 0; polls < 3; polls += 1) seen.push(...(await consumer.poll()).map((record) => record.offset));
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(consumer.position('orders', 1)).toBe(6);
    expect(clock.sleeps).toEqual([100, 200, 400]);
    expect(lambda.consumedPartitions().map((asked) => [asked.offset, asked.leaderEpoch ?? 'none'])).toEqual([
      [0, 0],
      [3, 0], // StaleEpochError: epoch 1 is offline
      [3, 'none'], // offline in the metadata: asked without an epoch, PartitionOfflineError
      [3, 'none'],
      [3, 2], // B at epoch 2: offsets 3-5
      [6, 2],
      [6, 2],
    ]);
  });

  it('fetches again only the partitions refused, at once when their leadership moved, keeping what the others answered', async () => {
    const { lambda, client, clock, retry } = setup(3);
    lambda.append(1, 'a');
    lambda.append(2, 'x');
    lambda.append(3, 'p');
    const consumer = new Consumer(client, retry);
    consumer.assign([1, 2, 3].map((partition) => ({ topic: 'orders', partition })));
    expect(await consumer.poll()).toHaveLength(3);
    lambda.elect(2, 'B');
    lambda.append(1, 'b');
    lambda.append(2, 'y');
    const records = await consumer.poll();
    expect(records.map((record) => [record.partition, record.value])).toEqual([
      [1, 'b'],
      [2, 'y'],
    ]);
    expect(lambda.callsTo(CONSUME).map((call) => (call.payload.partitions as Array<{ partition: number }>).map((asked) => asked.partition))).toEqual([
      [1, 2, 3],
      [1, 2, 3], // partition 2 refused: StaleEpochError
      [2], // described again, and fetched at once under epoch 1
    ]);
    expect(lambda.consumedPartitions().at(-1)).toMatchObject({ partition: 2, offset: 1, leaderEpoch: 1 });
    expect(clock.sleeps).toEqual([]);
    expect([1, 2, 3].map((partition) => consumer.position('orders', partition))).toEqual([2, 2, 1]);
  });

  it("names Kafka's fetch.max.bytes and max.partition.fetch.bytes when set, and leaves the function's defaults otherwise", async () => {
    const { lambda, client, retry } = setup(2);
    const bounded = new Consumer(client, { ...retry, fetchMaxBytes: 4096, maxPartitionFetchBytes: 1024 });
    bounded.assign([1, 2].map((partition) => ({ topic: 'orders', partition })));
    await bounded.poll();
    expect(lambda.callsTo(CONSUME).at(-1)?.payload).toMatchObject({
      maxBytes: 4096,
      partitions: [expect.objectContaining({ partition: 1, maxBytes: 1024 }), expect.objectContaining({ partition: 2, maxBytes: 1024 })],
    });
    const plain = new Consumer(client, retry);
    plain.assign([{ topic: 'orders', partition: 1 }]);
    await plain.poll();
    const payload = lambda.callsTo(CONSUME).at(-1)?.payload as { maxBytes?: number; partitions: Array<{ maxBytes?: number }> };
    expect(payload.maxBytes).toBeUndefined();
    expect(payload.partitions[0].maxBytes).toBeUndefined();
  });

  it('surfaces a partition offline for longer than default.api.timeout.ms as ClientTimeoutError', async () => {
    const { lambda, client, clock, retry } = setup();
    lambda.elect(1, null);
    const consumer = new Consumer(client, { ...retry, defaultApiTimeoutMs: 3000 });
    consumer.assign([{ topic: 'orders', partition: 1 }]);
    const startedAt = clock.now();
    await expect(consumer.poll()).rejects.toThrow(/consume from orders-1 at offset 0: gave up after 3000 ms .*PartitionOfflineError/);
    expect(clock.now() - startedAt).toBeLessThanOrEqual(3000);
  });

  it('refreshes a stale epoch and retries the same offset', async () => {
    const { lambda, client, retry } = setup();
    lambda.append(1, 'a');
    const consumer = new Consumer(client, retry);
    consumer.assign([{ topic: 'orders', partition: 1 }]);
    await consumer.poll();
    lambda.elect(1, 'B');
    lambda.append(1, 'b');
    const records = await consumer.poll();
    expect(records.map((record) => [record.offset, record.value])).toEqual([[1, 'b']]);
    expect(lambda.consumedPartitions().map((asked) => [asked.offset, asked.leaderEpoch])).toEqual([
      [0, 0],
      [1, 0],
      [1, 1],
    ]);
  });

  it('tells onInvoke of every invoke, the refused ones too, with its times and how it ended', async () => {
    const lambda = new FakeLambda('orders', 1);
    const seen: InvokeRecord[] = [];
    const client = new LeadershipClient(fakeOutputs, { transport: lambda.transport, onInvoke: (record) => seen.push(record) });
    const consumer = new Consumer(client, { clock: new FakeClock(), random: () => 0.5, fetchMaxWaitMs: 0 });
    consumer.assign([{ topic: 'orders', partition: 1 }]);
    lambda.append(1, 'a');
    await consumer.poll();
    lambda.elect(1, 'B');
    await consumer.poll();
    // A refused partition is an answer of the fetch, not a failed invoke.
    const outcome = (answer: unknown) => {
      const [partition] = (answer as { partitions?: Array<{ leader?: string; errorType?: string }> }).partitions ?? [];
      return partition ? (partition.leader ?? partition.errorType) : 'described';
    };
    expect(seen.map(({ functionName, error, answer }) => [functionName, error instanceof RemoteFunctionError ? error.errorType : outcome(answer)])).toEqual([
      [DESCRIBE, 'described'],
      [CONSUME, 'A'],
      [CONSUME, 'StaleEpochError'],
      [DESCRIBE, 'described'],
      [CONSUME, 'B'],
    ]);
    for (const record of seen) expect(record.endedAt).toBeGreaterThanOrEqual(record.startedAt);
    expect(seen[1].payload).toMatchObject({ partitions: [{ topic: 'orders', partition: 1, offset: 0, leaderEpoch: 0 }] });
  });

  it('advances no position when a poll fails, so the next poll repeats nothing and skips nothing', async () => {
    const { lambda, client, retry } = setup(2);
    lambda.append(1, 'a');
    lambda.append(2, 'x');
    const consumer = new Consumer(client, retry);
    consumer.assign([
      { topic: 'orders', partition: 1 },
      { topic: 'orders', partition: 2 },
    ]);
    await consumer.poll(); // fills the metadata cache
    lambda.append(1, 'b');
    lambda.failNext(CONSUME, { errorType: 'ReplicationTimeoutError' }, { errorType: 'ValidationError' });
    // The fetch fails retriably, then for good: the poll throws, positions stay.
    await expect(consumer.poll()).rejects.toMatchObject({ errorType: 'ValidationError' });
    expect(consumer.position('orders', 1)).toBe(1);
    // Partition 1 is answered, partition 2 refused for good (past its high watermark): no position moves either.
    consumer.seek('orders', 2, 5);
    await expect(consumer.poll()).rejects.toMatchObject({ errorType: 'OffsetOutOfRangeError' });
    expect(consumer.position('orders', 1)).toBe(1);
    consumer.seek('orders', 2, 1);
    expect((await consumer.poll()).map((record) => record.value)).toEqual(['b']);
  });

  it('refuses an answer with a hole in its offsets', async () => {
    const { lambda, client, retry } = setup();
    lambda.append(1, 'a', 'b');
    const consumer = new Consumer(client, retry);
    consumer.assign([{ topic: 'orders', partition: 1 }]);
    const transport = lambda.transport;
    const holey = new Consumer(
      new LeadershipClient(fakeOutputs, {
        transport: async (fn, payload) => {
          const outcome = await transport(fn, payload);
          if (fn !== CONSUME) return outcome;
          const body = JSON.parse(outcome.payload) as { partitions: Array<{ records: Array<{ offset: number }> }> };
          body.partitions[0].records[1].offset = 5;
          return { payload: JSON.stringify(body) };
        },
      }),
      retry,
    );
    holey.assign([{ topic: 'orders', partition: 1 }]);
    await expect(holey.poll()).rejects.toBeInstanceOf(ClientError);
    expect(holey.position('orders', 1)).toBe(0);
  });

  it('refuses bad assignments and unassigned partitions', () => {
    const { client } = setup();
    const consumer = new Consumer(client);
    expect(() => consumer.assign([{ topic: 'orders', partition: 0 }])).toThrow(ClientError);
    expect(() => consumer.assign([{ topic: 'orders', partition: 1, offset: -1 }])).toThrow(/offset/);
    expect(() => consumer.assign([{ topic: 'orders', partition: 1 }, { topic: 'orders', partition: 1 }])).toThrow(/twice/);
    expect(() => consumer.position('orders', 1)).toThrow(/not assigned/);
    return expect(consumer.poll()).rejects.toThrow(/no partitions assigned/);
  });
});
