/**
 * On-failure destinations of stream mappings: when a batch is given up (retries
 * exhausted or records too old), Lambda sends an invocation record describing the
 * batch — not the records — to the destination. Only SQS destinations exist here.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../shared/log.js';
import { QueueUrlResolver } from '../shared/queue-urls.js';
import type { PendingStreamRecord } from './stream-records.js';

export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export interface DiscardedStreamBatch {
  destinationArn?: string;
  condition: FailureCondition;
  functionArn: string;
  approximateInvokeCount: number;
  shardId: string;
  streamArn: string;
  records: readonly PendingStreamRecord[];
}

const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The body AWS sends (shape of the documented DynamoDB stream invocation record). */
export function streamInvocationRecord(batch: DiscardedStreamBatch): Record<string, unknown> {
  const first = batch.records[0];
  const last = batch.records[batch.records.length - 1];
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: batch.functionArn,
      condition: batch.condition,
      approximateInvokeCount: batch.approximateInvokeCount,
    },
    ...(batch.approximateInvokeCount > 0
      ? { responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' } }
      : {}),
    version: '1.0',
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId: batch.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: isoSeconds(first.createdAtMs),
      approximateArrivalOfLastRecord: isoSeconds(last.createdAtMs),
      batchSize: batch.records.length,
      streamArn: batch.streamArn,
    },
  };
}

export class OnFailureDestination {
  private readonly queueUrls: QueueUrlResolver;

  constructor(
    private readonly sqs: SQSClient,
    private readonly log: Logger,
  ) {
    this.queueUrls = new QueueUrlResolver(sqs);
  }

  /**
   * Never throws: the shard must move on either way (Lambda also drops the batch
   * when the destination is unreachable), so a failed send is logged loudly.
   */
  async discard(batch: DiscardedStreamBatch): Promise<void> {
    const range = `${batch.records[0].sequenceNumber}..${batch.records[batch.records.length - 1].sequenceNumber}`;
    if (!batch.destinationArn) {
      this.log.warn(`${batch.condition}: dropped ${batch.records.length} stream records ${range} (no on-failure destination)`);
      return;
    }
    try {
      const queueUrl = await this.queueUrls.resolve(batch.destinationArn);
      const body = JSON.stringify(streamInvocationRecord(batch));
      await this.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      this.log.debug(`${batch.condition}: records ${range} sent to ${batch.destinationArn}`);
    } catch (err) {
      this.log.error(`${batch.condition}: records ${range} lost, on-failure destination ${batch.destinationArn} failed`, err);
    }
  }
}
