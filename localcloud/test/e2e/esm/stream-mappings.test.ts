import { randomUUID } from 'node:crypto';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { EventSourceMappings } from '../../../esm/event-source-mappings.js';
import type { EventSourceMappingSpec } from '../../../types.js';
import { createQueue, createStreamTable, receiveAll, REGION, s } from '../../../testing/aws.js';
import { FakeLambdaRuntime } from '../../support/fake-runtime.js';
import { streamMapping } from '../../../testing/mappings.js';
import { useDataPlane } from '../../../testing/data-plane.js';
import { sleep, waitFor } from '../../../testing/wait-for.js';

const aws = useDataPlane();
let runtime: FakeLambdaRuntime;
let esm: EventSourceMappings;

afterEach(async () => {
  await esm?.stop();
});

/** A fresh table with a stream, a fake function and a started mapping between them. */
async function setup(overrides: Partial<EventSourceMappingSpec> = {}, handler?: (records: DynamoDBRecord[]) => unknown) {
  const tableName = `t-${randomUUID()}`;
  const streamArn = await createStreamTable(aws, tableName);
  const functionName = `fn-${randomUUID()}`;
  runtime = new FakeLambdaRuntime();
  if (handler) runtime.on(functionName, (payload) => handler(recordsOf(payload)));
  esm = new EventSourceMappings(runtime, { awsEndpoint: aws.endpoint, region: REGION, pollIntervalMs: 20 });
  const spec = streamMapping(functionName, streamArn, tableName, overrides);
  esm.upsert(spec);
  esm.start();
  const put = (pk: string, attributes: Record<string, string> = {}) =>
    aws.dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { pk: s(pk), ...Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, s(v)])) },
      }),
    );
  const batches = () => runtime.invocationsOf(functionName).map((i) => recordsOf(i.payload));
  return { tableName, streamArn, functionName, spec, put, batches };
}

function recordsOf(payload: unknown): DynamoDBRecord[] {
  return (payload as { Records: DynamoDBRecord[] }).Records;
}

const keyOf = (record: DynamoDBRecord): string => record.dynamodb?.Keys?.pk?.S ?? '?';
const keys = (records: DynamoDBRecord[]): string[] => records.map(keyOf);

describe('DynamoDB stream mappings', () => {
  it('delivers Lambda-shaped records in order, one batch at a time, at most batchSize each', async () => {
    const { put, batches, streamArn } = await setup({ batchSize: 3 }, async () => {
      await sleep(15); // a slow function: the next batch must still wait for it
      return null;
    });
    const written = Array.from({ length: 8 }, (_, i) => `k${i}`);
    for (const pk of written) await put(pk);

    await waitFor(() => batches().flat().length === written.length, 10_000, 'all records');
    expect(keys(batches().flat())).toEqual(written);
    expect(batches().every((b) => b.length <= 3)).toBe(true);
    expect(runtime.maxConcurrent).toBe(1);
    const sequenceNumbers = batches().flat().map((r) => BigInt(r.dynamodb?.SequenceNumber ?? '0'));
    expect([...sequenceNumbers].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequenceNumbers);

    const [first] = batches()[0];
    expect(first).toMatchObject({
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: REGION,
      eventSourceARN: streamArn,
      dynamodb: {
        Keys: { pk: { S: 'k0' } },
        NewImage: { pk: { S: 'k0' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        SequenceNumber: expect.any(String),
        SizeBytes: expect.any(Number),
      },
    });
    const created = first.dynamodb?.ApproximateCreationDateTime ?? 0;
    expect(Number.isInteger(created) && Math.abs(created - Date.now() / 1000) < 60).toBe(true);
  });

  it('waits up to the batching window to fill a batch', async () => {
    const { put, batches } = await setup({ batchSize: 100, maximumBatchingWindowInSeconds: 1 });
    const started = Date.now();
    for (const pk of ['a', 'b', 'c', 'd', 'e']) await put(pk);

    await waitFor(() => batches().length > 0, 10_000, 'a batch');
    expect(batches()).toHaveLength(1);
    expect(keys(batches()[0])).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(runtime.invocations[0].startedAt - started).toBeGreaterThanOrEqual(900);
  });

  it('drops records that match no filter, and keeps going after them', async () => {
    const keep = JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { kind: { S: ['keep'] } } } });
    const { put, batches } = await setup({ filterPatterns: [keep] });
    await put('1', { kind: 'keep' });
    await put('2', { kind: 'drop' });
    await put('1', { kind: 'keep', again: 'yes' }); // MODIFY: no filter matches it
    await put('3', { kind: 'keep' });
    await put('4', { kind: 'drop' });

    await waitFor(() => keys(batches().flat()).includes('3'), 10_000, 'record 3');
    expect(keys(batches().flat())).toEqual(['1', '3']);
  });

  it('retries a failing batch, bisects it, and sends the poison record to the on-failure queue', async () => {
    const failures = await createQueue(aws, `failures-${randomUUID()}`);
    const { put, batches, streamArn } = await setup(
      {
        batchSize: 4,
        maximumBatchingWindowInSeconds: 1,
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 1,
        onFailureDestinationArn: failures.arn,
      },
      (records) => {
        if (keys(records).includes('bad')) throw new Error('poison');
        return null;
      },
    );
    for (const pk of ['a', 'b', 'bad', 'c']) await put(pk);

    const [message] = await waitFor(async () => {
      const messages = await receiveAll(aws, failures.url);
      return messages.length > 0 && messages;
    }, 15_000, 'an on-failure message');
    await waitFor(() => batches().some((b) => keys(b).join() === 'c'), 10_000, 'record c after the poison one');
    expect(batches().map(keys)).toEqual([['a', 'b', 'bad', 'c'], ['a', 'b'], ['bad', 'c'], ['bad'], ['bad'], ['c']]);

    const poison = batches()[3][0];
    const body: unknown = JSON.parse(message.Body ?? '{}');
    expect(body).toMatchObject({
      requestContext: {
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 2,
        functionArn: expect.any(String),
      },
      version: '1.0',
      DDBStreamBatchInfo: {
        shardId: expect.stringMatching(/^shardId-/),
        startSequenceNumber: poison.dynamodb?.SequenceNumber,
        endSequenceNumber: poison.dynamodb?.SequenceNumber,
        batchSize: 1,
        streamArn,
      },
    });

    await put('d');
    await waitFor(() => keys(batches().flat()).includes('d'), 10_000, 'the shard to move on');
  });

  it('retries from the first failed record of a partial batch response', async () => {
    let failedOnce = false;
    const { put, batches } = await setup(
      { batchSize: 10, maximumBatchingWindowInSeconds: 1, reportBatchItemFailures: true },
      (records) => {
        const bad = records.find((r) => keyOf(r) === 'x');
        if (bad && !failedOnce) {
          failedOnce = true;
          return { batchItemFailures: [{ itemIdentifier: bad.dynamodb?.SequenceNumber }] };
        }
        return { batchItemFailures: [] };
      },
    );
    for (const pk of ['p', 'q', 'x', 'y', 'z']) await put(pk);

    await waitFor(() => batches().length >= 2, 10_000, 'the retry');
    expect(batches().map(keys)).toEqual([
      ['p', 'q', 'x', 'y', 'z'],
      ['x', 'y', 'z'],
    ]);
  });

  it('treats an unknown batch item identifier as a failure of the whole batch', async () => {
    let calls = 0;
    const { put, batches } = await setup(
      { batchSize: 10, maximumBatchingWindowInSeconds: 1, reportBatchItemFailures: true },
      () => (++calls === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] } : null),
    );
    for (const pk of ['u', 'v']) await put(pk);

    await waitFor(() => batches().length >= 2, 10_000, 'the retry');
    expect(batches().map(keys)).toEqual([
      ['u', 'v'],
      ['u', 'v'],
    ]);
  });

  it('gives up on records older than maximumRecordAgeInSeconds', async () => {
    const failures = await createQueue(aws, `failures-${randomUUID()}`);
    const { put, batches } = await setup(
      { maximumRecordAgeInSeconds: 1, onFailureDestinationArn: failures.arn },
      (records) => {
        if (keys(records).includes('old')) throw new Error('always fails');
        return null;
      },
    );
    await put('old');

    const [message] = await waitFor(async () => {
      const messages = await receiveAll(aws, failures.url);
      return messages.length > 0 && messages;
    }, 15_000, 'an on-failure message');
    const body = JSON.parse(message.Body ?? '{}') as { requestContext: { condition: string; approximateInvokeCount: number } };
    expect(body.requestContext.condition).toBe('RecordAgeExceeded');
    expect(body.requestContext.approximateInvokeCount).toBeGreaterThanOrEqual(1);
    expect(batches().length).toBe(body.requestContext.approximateInvokeCount);

    await put('new');
    await waitFor(() => keys(batches().flat()).includes('new'), 10_000, 'the shard to move on');
  });

  it('with LATEST delivers only records written after the mapping took its position, in order', async () => {
    const tableName = `t-${randomUUID()}`;
    const streamArn = await createStreamTable(aws, tableName);
    await aws.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { pk: s('before') } }));
    runtime = new FakeLambdaRuntime();
    esm = new EventSourceMappings(runtime, { awsEndpoint: aws.endpoint, region: REGION, pollIntervalMs: 20 });
    esm.upsert(streamMapping('fn', streamArn, tableName, { startingPosition: 'LATEST' }));
    esm.start();
    // As on AWS, LATEST is the shard's end when the poller takes its iterator, a moment
    // after start(): keep writing until the first record arrives.
    const written: string[] = [];
    await waitFor(async () => {
      const pk = `after-${written.length}`;
      await aws.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { pk: s(pk) } }));
      written.push(pk);
      return runtime.invocations.length > 0;
    }, 10_000, 'an invocation');
    await waitFor(() => keys(runtime.invocations.flatMap((i) => recordsOf(i.payload))).includes(written.at(-1) ?? ''), 10_000, 'the last write');

    const delivered = keys(runtime.invocations.flatMap((i) => recordsOf(i.payload)));
    expect(delivered).not.toContain('before');
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered).toEqual(written.slice(written.length - delivered.length));
  });

  it('resumes from its checkpoint when a redeploy updates the mapping', async () => {
    const { put, batches, spec } = await setup({ batchSize: 1 });
    await put('one');
    await waitFor(() => batches().length === 1, 10_000, 'the first record');

    esm.upsert({ ...spec, batchSize: 10 });
    await put('two');
    await waitFor(() => keys(batches().flat()).includes('two'), 10_000, 'the second record');
    expect(keys(batches().flat())).toEqual(['one', 'two']);
  });
});
