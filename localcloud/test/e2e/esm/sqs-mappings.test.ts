import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { EventSourceMappings } from '../../../esm/event-source-mappings.js';
import type { EventSourceMappingSpec } from '../../../types.js';
import { createQueue, queueAttribute, receiveAll, REGION } from '../../../testing/aws.js';
import { FakeLambdaRuntime } from '../../support/fake-runtime.js';
import { sqsMapping } from '../../../testing/mappings.js';
import { useDataPlane } from '../../../testing/data-plane.js';
import { waitFor } from '../../../testing/wait-for.js';

const aws = useDataPlane();
let runtime: FakeLambdaRuntime;
let esm: EventSourceMappings;

afterEach(async () => {
  await esm?.stop();
});

const recordsOf = (payload: unknown): SQSRecord[] => (payload as { Records: SQSRecord[] }).Records;

function setup(
  queue: { url: string; arn: string },
  overrides: Partial<EventSourceMappingSpec> = {},
  handler?: (records: SQSRecord[]) => unknown,
) {
  const functionName = `fn-${randomUUID()}`;
  runtime = new FakeLambdaRuntime();
  if (handler) runtime.on(functionName, (payload) => handler(recordsOf(payload)));
  esm = new EventSourceMappings(runtime, { awsEndpoint: aws.endpoint, region: REGION, pollIntervalMs: 20 });
  esm.upsert(sqsMapping(functionName, queue, overrides));
  esm.start();
  const records = () => runtime.invocationsOf(functionName).flatMap((i) => recordsOf(i.payload));
  return { functionName, records };
}

const send = (queueUrl: string, body: string, extra: Partial<{ MessageGroupId: string }> = {}) =>
  aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, ...extra }));

/** Visible + in flight: zero once every message is deleted. */
async function messagesLeft(queueUrl: string): Promise<number> {
  const visible = Number(await queueAttribute(aws, queueUrl, 'ApproximateNumberOfMessages'));
  const inFlight = Number(await queueAttribute(aws, queueUrl, 'ApproximateNumberOfMessagesNotVisible'));
  return visible + inFlight;
}

describe('SQS mappings', () => {
  it('invokes with Lambda-shaped records and deletes the batch on success', async () => {
    const queue = await createQueue(aws, `q-${randomUUID()}`);
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: 'hello',
        MessageAttributes: { color: { DataType: 'String', StringValue: 'blue' } },
      }),
    );
    await send(queue.url, 'world');
    const { records } = setup(queue);

    await waitFor(() => records().length === 2, 10_000, 'two records');
    await waitFor(async () => (await messagesLeft(queue.url)) === 0, 10_000, 'the deletes');
    expect(records().map((r) => r.body).sort()).toEqual(['hello', 'world']);
    expect(records().find((r) => r.body === 'hello')).toMatchObject({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      md5OfBody: expect.any(String),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: REGION,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: expect.any(String) },
      messageAttributes: {
        color: { dataType: 'String', stringValue: 'blue', stringListValues: [], binaryListValues: [] },
      },
    });
  });

  it('deletes only the successes of a partial batch response; the failure comes back', async () => {
    const queue = await createQueue(aws, `q-${randomUUID()}`, { VisibilityTimeout: '1' });
    for (const body of ['m1', 'm2', 'm3']) await send(queue.url, body);
    const { records } = setup(queue, { reportBatchItemFailures: true }, (batch) => ({
      batchItemFailures: batch.filter((r) => r.body === 'm2').map((r) => ({ itemIdentifier: r.messageId })),
    }));

    await waitFor(() => records().filter((r) => r.body === 'm2').length >= 2, 15_000, 'm2 to be redelivered');
    expect(records().filter((r) => r.body !== 'm2').map((r) => r.body).sort()).toEqual(['m1', 'm3']);
    const redelivered = records().filter((r) => r.body === 'm2')[1];
    expect(redelivered.attributes.ApproximateReceiveCount).toBe('2');
  });

  it("leaves failed messages to the queue's redrive policy, which moves them to the DLQ", async () => {
    const dlq = await createQueue(aws, `dlq-${randomUUID()}`);
    const queue = await createQueue(aws, `q-${randomUUID()}`, {
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
    });
    await send(queue.url, 'doomed');
    const { records } = setup(queue, {}, () => {
      throw new Error('always fails');
    });

    const [dead] = await waitFor(async () => {
      const messages = await receiveAll(aws, dlq.url);
      return messages.length > 0 && messages;
    }, 20_000, 'the message in the DLQ');
    expect(dead.Body).toBe('doomed');
    expect(records().map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(await messagesLeft(queue.url)).toBe(0);
  });

  it('keeps message-group order on a FIFO queue', async () => {
    const queue = await createQueue(aws, `q-${randomUUID()}.fifo`, {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
    });
    for (let i = 1; i <= 6; i++) {
      await send(queue.url, `a${i}`, { MessageGroupId: 'a' });
      await send(queue.url, `b${i}`, { MessageGroupId: 'b' });
    }
    const { records } = setup(queue, { batchSize: 4 });

    await waitFor(() => records().length === 12, 15_000, 'all 12 messages');
    const group = (g: string) => records().filter((r) => r.attributes.MessageGroupId === g).map((r) => r.body);
    expect(group('a')).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    expect(group('b')).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6']);
  });

  it('deletes messages that match no filter without invoking', async () => {
    const queue = await createQueue(aws, `q-${randomUUID()}`);
    await send(queue.url, JSON.stringify({ type: 'skip' }));
    await send(queue.url, 'not json');
    await send(queue.url, JSON.stringify({ type: 'keep' }));
    const { records } = setup(queue, { filterPatterns: [JSON.stringify({ body: { type: ['keep'] } })] });

    await waitFor(() => records().length === 1, 10_000, 'the kept message');
    await waitFor(async () => (await messagesLeft(queue.url)) === 0, 10_000, 'the filtered ones deleted');
    expect(records().map((r) => r.body)).toEqual([JSON.stringify({ type: 'keep' })]);
  });
});
