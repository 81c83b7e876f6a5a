/**
 * One SQS mapping. Messages are received (visibility timeout: the queue's own),
 * delivered as an SQSEvent, and deleted on success; with ReportBatchItemFailures
 * only the successes are deleted; on error none are, so they reappear after the
 * visibility timeout and the queue's redrive policy (moto implements it: verified)
 * moves them to the DLQ after maxReceiveCount receives. Messages a filter rejects
 * are deleted, as Lambda does for SQS. One batch at a time: with FIFO queues, moto
 * withholds a message group while any of its messages is in flight, which keeps
 * group order.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { delay } from '../shared/delay.js';
import type { EventSourceMappingSpec, SqsSource } from '../types.js';
import { classifyBatchResult } from './batch-response.js';
import type { BatchSource } from './batching.js';
import type { RecordPredicate } from './filter.js';
import { invokeFunction, MappingLoop, pollBatches, retryDelayMs, type PollerDeps } from './poller.js';
import { sqsFilterView, toSqsRecord } from './sqs-records.js';

/** ReceiveMessage and DeleteMessageBatch both take at most 10 messages. */
const SQS_MAX_MESSAGES = 10;

export class SqsPoller extends MappingLoop implements BatchSource<SQSRecord> {
  readonly buffer: SQSRecord[] = [];
  readonly exhausted = false;
  private consecutiveErrors = 0;

  constructor(
    private readonly spec: EventSourceMappingSpec,
    private readonly source: SqsSource,
    private readonly deps: PollerDeps,
    private readonly filter: RecordPredicate,
    previousStopped: Promise<void>,
  ) {
    super(spec.uuid, deps.log, previousStopped);
  }

  protected override run(): Promise<void> {
    return pollBatches(this, this.spec, this.deps, this.signal, (batch) => this.deliver(batch));
  }

  async fetch(wanted: number): Promise<number> {
    try {
      const { Messages = [] } = await this.deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.source.queueUrl,
          MaxNumberOfMessages: Math.min(SQS_MAX_MESSAGES, Math.max(wanted, 1)),
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
          WaitTimeSeconds: 0,
        }),
      );
      this.consecutiveErrors = 0;
      const rejected: SQSRecord[] = [];
      for (const message of Messages) {
        const record = toSqsRecord(message, this.source.eventSourceArn, this.deps.region);
        (this.filter(sqsFilterView(record)) ? this.buffer : rejected).push(record);
      }
      await this.delete(rejected);
      return Messages.length;
    } catch (err) {
      this.consecutiveErrors += 1;
      this.deps.log.error(`receiving from ${this.source.queueUrl} failed`, err);
      await delay(retryDelayMs(this.consecutiveErrors, this.deps.pollIntervalMs), this.signal);
      return 0;
    }
  }

  private async deliver(batch: SQSRecord[]): Promise<void> {
    const result = await invokeFunction(this.deps, this.spec.functionName, { Records: batch });
    if (!result) return; // never reached the function: the messages simply become visible again
    const outcome = classifyBatchResult(
      result,
      this.spec.reportBatchItemFailures,
      batch.map((r) => r.messageId),
    );
    if (outcome.kind === 'failed') {
      this.deps.log.debug(`${this.spec.functionName} failed on ${batch.length} messages: ${outcome.reason}`);
      return;
    }
    const failed = new Set(outcome.kind === 'partial' ? outcome.failedIds : []);
    await this.delete(batch.filter((r) => !failed.has(r.messageId)));
  }

  private async delete(records: SQSRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += SQS_MAX_MESSAGES) {
      const chunk = records.slice(i, i + SQS_MAX_MESSAGES);
      try {
        const { Failed = [] } = await this.deps.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.source.queueUrl,
            Entries: chunk.map((r, index) => ({ Id: String(index), ReceiptHandle: r.receiptHandle })),
          }),
        );
        for (const failure of Failed) {
          this.deps.log.warn(`could not delete a message from ${this.source.queueUrl}: ${failure.Code} ${failure.Message}`);
        }
      } catch (err) {
        this.deps.log.error(`deleting ${chunk.length} messages from ${this.source.queueUrl} failed`, err);
      }
    }
  }
}
