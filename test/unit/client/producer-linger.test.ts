import { describe, expect, it } from 'vitest';
import { LeadershipClient, type LambdaTransport } from '../../../client/lambda-client.js';
import { MAX_BATCH_SIZE_BYTES, MAX_RECORD_BYTES, MAX_RECORDS_PER_PRODUCE, Producer, ProducerClosedError, type ProducerOptions, type RecordMetadata } from '../../../client/producer.js';
import { ClientTimeoutError } from '../../../client/retry.js';
import * as limits from '../../../functions/domain/limits.js';
import { FakeClock, FakeLambda, fakeOutputs, holdableProduce } from './fake-lambda.js';

const { ProduceFunctionName: PRODUCE } = fakeOutputs;

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fake Lambda whose produce answers can be held back, to keep a batch in flight. */
function setup(options: ProducerOptions = {}, partitions = 1) {
  const lambda = new FakeLambda('orders', partitions);
  const { transport, invoked, hold, release } = holdableProduce(lambda);
  const client = new LeadershipClient(fakeOutputs, { transport });
  const clock = new FakeClock();
  const producer = new Producer(client, { clock, random: () => 0.5, ...options });
  return {
    lambda,
    producer,
    hold,
    release,
    /** Every produce call invoked, as sent. */
    calls: () => invoked,
    /** Every batch sent, in call order: a call of several batches gives each, with the call's acks. */
    produces: () =>
      invoked.flatMap((call) => (Array.isArray(call.batches) ? (call.batches as Array<Record<string, unknown>>).map((batch) => ({ ...batch, acks: call.acks })) : [call])),
    log: (partition = 1) => lambda.partitions.get(partition)!.records.map((record) => record.value),
  };
}

const offsets = (acks: RecordMetadata[]) => acks.map((ack) => [ack.baseOffset, ack.lastOffset]);

describe('Producer batching (linger.ms, batch.size)', () => {
  it('names the limits the produce function checks', () => {
    expect(MAX_RECORDS_PER_PRODUCE).toBe(limits.MAX_RECORDS_PER_PRODUCE);
    expect(MAX_RECORD_BYTES).toBe(limits.MAX_RECORD_BYTES);
  });

  it("gathers the sends made within linger.ms into one produce call and answers each with its own records' offsets", async () => {
    const { producer, produces, log } = setup();
    const sizes = [1, 2, 1, 3, 1, 1, 2, 1, 1, 1];
    const acks = await Promise.all(sizes.map((size, send) => producer.send('orders', 1, Array.from({ length: size }, (_, i) => ({ key: `k${send}`, value: `${send}.${i}` })))));

    expect(produces()).toHaveLength(1);
    expect(produces()[0]).toMatchObject({ baseSequence: 0, acks: 'all' });
    expect(offsets(acks)).toEqual([[0, 0], [1, 2], [3, 3], [4, 6], [7, 7], [8, 8], [9, 10], [11, 11], [12, 12], [13, 13]]);
    expect(log()).toEqual(sizes.flatMap((size, send) => Array.from({ length: size }, (_, i) => `${send}.${i}`)));
  });

  it('waits linger.ms before sending a batch that is not full', async () => {
    const { producer, produces } = setup({ lingerMs: 40 });
    const sent = producer.send('orders', 1, [{ value: 'a' }]);
    await wait(15);
    expect(produces()).toHaveLength(0);
    await sent;
    expect(produces()).toHaveLength(1);
  });

  it('closes a batch at batch.size bytes of key and value (UTF-8) and at the records a produce may carry; the rest goes in the next, in order', async () => {
    const { producer, produces, log } = setup({ batchSizeBytes: 100 });
    // 'é' is two bytes: 29 + 1 key byte = 30 bytes a record, three to a batch.
    const values = Array.from({ length: 10 }, (_, i) => `${String(i).padStart(2, '0')}${'é'.repeat(13)}x`);
    const acks = await Promise.all(values.map((value) => producer.send('orders', 1, [{ key: 'k', value }])));
    expect(produces().map((call) => (call.records as unknown[]).length)).toEqual([3, 3, 3, 1]);
    expect(produces().map((call) => call.baseSequence)).toEqual([0, 3, 6, 9]);
    expect(acks.map((ack) => ack.baseOffset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(log()).toEqual(values);

    const many = setup();
    const records = await Promise.all(Array.from({ length: MAX_RECORDS_PER_PRODUCE + 100 }, (_, i) => many.producer.send('orders', 1, [{ value: String(i) }])));
    expect(many.produces().map((call) => (call.records as unknown[]).length)).toEqual([MAX_RECORDS_PER_PRODUCE, 100]);
    expect(records.map((ack) => ack.baseOffset)).toEqual(records.map((_, i) => i));
  });

  it("never splits a send: one larger than batch.size goes whole, in a call of its own, between its neighbours' batches", async () => {
    const { producer, produces, log } = setup({ batchSizeBytes: 10 });
    const acks = await Promise.all([
      producer.send('orders', 1, [{ value: 'a' }]),
      producer.send('orders', 1, [{ value: 'bbbbbbbb' }, { value: 'cccccccc' }]),
      producer.send('orders', 1, [{ value: 'd' }]),
    ]);
    expect(produces().map((call) => (call.records as Array<{ value: string }>).map((record) => record.value))).toEqual([['a'], ['bbbbbbbb', 'cccccccc'], ['d']]);
    expect(offsets(acks)).toEqual([[0, 0], [1, 2], [3, 3]]);
    expect(log()).toEqual(['a', 'bbbbbbbb', 'cccccccc', 'd']);
  });

  it('keeps one batch in flight per partition: sends made meanwhile gather, past linger.ms, and go next in one call', async () => {
    const { producer, produces, hold, release, log } = setup();
    hold();
    const first = producer.send('orders', 1, [{ value: 'first' }]);
    await wait(20);
    expect(produces()).toHaveLength(1);
    const later = ['b', 'c', 'd', 'e'].map((value) => producer.send('orders', 1, [{ value }]));
    await wait(20);
    expect(produces()).toHaveLength(1);
    release();
    expect(offsets([await first, ...(await Promise.all(later))])).toEqual([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]]);
    expect(produces().map((call) => [(call.records as unknown[]).length, call.baseSequence])).toEqual([[1, 0], [4, 1]]);
    expect(log()).toEqual(['first', 'b', 'c', 'd', 'e']);
  });

  it('batches each partition on its own, and acks=1 sends apart from acks=all ones, keeping their order; a ready batch takes the other partitions\' along', async () => {
    const { producer, produces, log } = setup({}, 2);
    await Promise.all([
      producer.send('orders', 1, [{ value: 'a' }]),
      producer.send('orders', 2, [{ value: 'x' }]),
      producer.send('orders', 1, [{ value: 'b' }], { acks: 1 }),
      producer.send('orders', 1, [{ value: 'c' }], { acks: 1 }),
      producer.send('orders', 1, [{ value: 'd' }]),
      producer.send('orders', 2, [{ value: 'y' }]),
    ]);
    const calls = (partition: number) =>
      produces()
        .filter((call) => call.partition === partition)
        .map((call) => [call.acks, call.baseSequence, (call.records as Array<{ value: string }>).map((r) => r.value).join('')]);
    expect(calls(1)).toEqual([
      ['all', 0, 'a'],
      [1, undefined, 'bc'],
      ['all', 1, 'd'],
    ]);
    // Partition 1's first batch, closed by the acks=1 send behind it, was ready at once, and a
    // ready batch takes every partition's gathered one with it (Kafka's Sender): x went before y came.
    expect(calls(2)).toEqual([
      ['all', 0, 'x'],
      ['all', 1, 'y'],
    ]);
    expect(log(1)).toEqual(['a', 'b', 'c', 'd']);
  });

  it("rejects every caller of a batch with the batch's error, and the next batch goes on", async () => {
    const { lambda, producer, produces, log } = setup();
    lambda.failNext(PRODUCE, { errorType: 'UnknownTopicError' });
    const failed = await Promise.allSettled(['a', 'b', 'c'].map((value) => producer.send('orders', 1, [{ value }])));
    expect(failed.map((outcome) => outcome.status === 'rejected' && (outcome.reason as { errorType: string }).errorType)).toEqual([
      'UnknownTopicError',
      'UnknownTopicError',
      'UnknownTopicError',
    ]);
    expect(await producer.send('orders', 1, [{ value: 'd' }])).toMatchObject({ baseOffset: 0 });
    expect(produces()).toHaveLength(2);
    expect(log()).toEqual(['d']);
  });

  it('sends alone a send the function would refuse (a record too large, a non-string value, no records), so only its caller would get the refusal', async () => {
    const { producer, produces } = setup();
    const outcomes = await Promise.allSettled([
      producer.send('orders', 1, [{ value: 'a' }]),
      producer.send('orders', 1, [{ value: 'x'.repeat(MAX_RECORD_BYTES + 1) }]),
      producer.send('orders', 1, [{ value: 42 as unknown as string }]),
      producer.send('orders', 1, []),
      producer.send('orders', 1, [{ value: 'b' }]),
    ]);
    // The fake function takes them all; the real one refuses these three (functions/domain/requests.ts).
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(produces().map((call) => (call.records as unknown[]).length)).toEqual([1, 1, 1, 0, 1]);
  });

  it('retries a batch whole under its sequence: written once, every caller answered with its original offsets', async () => {
    const { lambda, producer, produces, log } = setup();
    lambda.failNext(PRODUCE, { afterAppend: { errorType: 'ReplicationTimeoutError' } }, { afterAppend: { errorType: 'NotLeaderError' } });
    const acks = await Promise.all(['a', 'b', 'c'].map((value) => producer.send('orders', 1, [{ value }])));
    expect(acks.map((ack) => [ack.baseOffset, ack.lastOffset, ack.duplicate])).toEqual([
      [0, 0, true],
      [1, 1, true],
      [2, 2, true],
    ]);
    expect(log()).toEqual(['a', 'b', 'c']);
    expect(produces().map((call) => [(call.records as unknown[]).length, call.producerEpoch, call.baseSequence])).toEqual([
      [3, 0, 0],
      [3, 0, 0],
      [3, 0, 0],
    ]);
    expect(await producer.send('orders', 1, [{ value: 'd' }])).toMatchObject({ baseOffset: 3 });
    expect(produces().at(-1)).toMatchObject({ baseSequence: 3 });
  });

  it('after a batch of unknown fate, bumps the epoch once and the batches queued behind it start from sequence 0 (KIP-360)', async () => {
    const { lambda, producer, produces, hold, release, log } = setup({ deliveryTimeoutMs: 1_000 });
    await producer.send('orders', 1, [{ value: 'a' }]);
    lambda.failNext(PRODUCE, ...Array.from({ length: 20 }, () => ({ errorType: 'NotLeaderError' })));
    hold();
    const lost = ['maybe-1', 'maybe-2'].map((value) => producer.send('orders', 1, [{ value }]));
    await wait(20);
    const next = ['b', 'c'].map((value) => producer.send('orders', 1, [{ value }]));
    release();
    for (const outcome of await Promise.allSettled(lost)) expect(outcome).toMatchObject({ status: 'rejected', reason: expect.any(ClientTimeoutError) });
    lambda.clearFaults(PRODUCE);
    expect(offsets(await Promise.all(next))).toEqual([[1, 1], [2, 2]]);
    const calls = produces();
    expect(calls.slice(1, -1).every((call) => call.producerEpoch === 0 && call.baseSequence === 1 && (call.records as unknown[]).length === 2)).toBe(true);
    expect(calls.at(-1)).toMatchObject({ producerId: 1, producerEpoch: 1, baseSequence: 0 });
    expect(log()).toEqual(['a', 'b', 'c']);
  });

  it('flush() sends what is gathered at once and resolves when it is answered; close() flushes and refuses later sends', async () => {
    const { producer, calls, produces, log } = setup({ lingerMs: 60_000 }, 2);
    const acks = [producer.send('orders', 1, [{ value: 'a' }]), producer.send('orders', 2, [{ value: 'b' }])];
    await wait(10);
    expect(produces()).toHaveLength(0);
    await producer.flush();
    expect(calls()).toHaveLength(1);
    expect(produces()).toHaveLength(2);
    expect(offsets(await Promise.all(acks))).toEqual([[0, 0], [0, 0]]);

    const last = producer.send('orders', 1, [{ value: 'c' }]);
    await producer.close();
    expect(await last).toMatchObject({ baseOffset: 1 });
    await expect(producer.send('orders', 1, [{ value: 'd' }])).rejects.toBeInstanceOf(ProducerClosedError);
    expect(log()).toEqual(['a', 'c']);
  });

  it('refuses a negative linger.ms and a batch.size outside 1..MAX_BATCH_SIZE_BYTES', () => {
    const client = new LeadershipClient(fakeOutputs, { transport: new FakeLambda('orders', 1).transport });
    expect(() => new Producer(client, { lingerMs: -1 })).toThrow(/lingerMs/);
    expect(() => new Producer(client, { batchSizeBytes: 0 })).toThrow(/batchSizeBytes/);
    expect(() => new Producer(client, { batchSizeBytes: MAX_BATCH_SIZE_BYTES + 1 })).toThrow(/batchSizeBytes/);
    expect(() => new Producer(client, { batchSizeBytes: MAX_BATCH_SIZE_BYTES, lingerMs: 0 })).not.toThrow();
  });

  it('lingerMs 0: one produce call per send, as given', async () => {
    const { producer, produces } = setup({ lingerMs: 0 });
    const acks = await Promise.all(['a', 'b', 'c'].map((value) => producer.send('orders', 1, [{ value }])));
    expect(offsets(acks)).toEqual([[0, 0], [1, 1], [2, 2]]);
    expect(produces().map((call) => call.baseSequence)).toEqual([0, 1, 2]);
  });

  it('1,000 one-record sends over 8 partitions: one produce call of 8 batches when made together, far fewer than 1,000 when paced 1 ms apart against 20 ms calls', async () => {
    const together = setup({}, 8);
    await Promise.all(Array.from({ length: 1000 }, (_, i) => together.producer.send('orders', (i % 8) + 1, [{ key: `k${i}`, value: `v${i}` }])));
    expect(together.calls()).toHaveLength(1);
    expect(together.produces()).toHaveLength(8);

    const lambda = new FakeLambda('orders', 8);
    const slow: LambdaTransport = async (functionName, payload, options) => {
      await wait(20);
      return lambda.transport(functionName, payload, options);
    };
    const producer = new Producer(new LeadershipClient(fakeOutputs, { transport: slow }));
    const sends: Array<Promise<RecordMetadata>> = [];
    for (let i = 0; i < 1000; i += 1) {
      sends.push(producer.send('orders', (i % 8) + 1, [{ key: `k${i}`, value: `v${i}` }]));
      if (i % 8 === 7) await wait(1);
    }
    await Promise.all(sends);
    const calls = lambda.callsTo(PRODUCE).length;
    console.log(`1,000 one-record sends over 8 partitions, paced 8 per ms against 20 ms produce calls: ${calls} produce calls`);
    expect(calls).toBeLessThan(1000 / 4);
    for (let partition = 1; partition <= 8; partition += 1) {
      expect(lambda.partitions.get(partition)!.records.map((record) => record.value)).toEqual(Array.from({ length: 125 }, (_, i) => `v${i * 8 + partition - 1}`));
    }
  });
});
