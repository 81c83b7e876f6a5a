/**
 * EventPublisher over the leadership-events FIFO queue. One message group per
 * partition keeps each partition's events in order while partitions proceed
 * independently; the deduplication id names one metadata change, so a retried
 * detector's re-publish of it is a no-op within SQS's 5-minute window.
 */
import { createHash } from 'node:crypto';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LeadershipEvent } from '../../domain/model.js';
import type { ErrorName } from '../../../protocol/errors.js';
import type { EventPublisher } from '../../ports/index.js';

/** SendMessageBatch's limit on entries per call. */
const MAX_BATCH_ENTRIES = 10;

/** Some entries of a batch were refused; the caller's retry is safe thanks to the deduplication ids. */
export class EventPublishError extends Error {
  override readonly name: ErrorName = 'EventPublishError';
}

/** SQS's limit on MessageGroupId and MessageDeduplicationId. */
const MAX_SQS_ID_LENGTH = 128;

/**
 * Keeps an id within SQS's 128 characters: short ids stay readable as they are;
 * a longer one (topic names may be 249 long) keeps a readable prefix and ends
 * in the SHA-256 of the whole id, so distinct ids stay distinct.
 */
export const fitSqsId = (id: string): string => {
  if (id.length <= MAX_SQS_ID_LENGTH) return id;
  const digest = createHash('sha256').update(id).digest('hex');
  return `${id.slice(0, MAX_SQS_ID_LENGTH - digest.length - 1)}~${digest}`;
};

export const messageGroupId = (event: LeadershipEvent): string => fitSqsId(`${event.topic}-${event.partition}`);

/** The version tells apart two changes of one reason within one epoch (e.g. two ISR_SHRUNK). */
export const deduplicationId = (event: LeadershipEvent): string =>
  fitSqsId(`${event.topic}-${event.partition}-${event.leaderEpoch}-${event.reason}-${event.version}`);

export class SqsEventPublisher implements EventPublisher {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /** Batches are sent one after another, so events of one partition keep their order across batches. */
  async publish(events: LeadershipEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += MAX_BATCH_ENTRIES) {
      await this.sendBatch(events.slice(start, start + MAX_BATCH_ENTRIES));
    }
  }

  private async sendBatch(events: LeadershipEvent[]): Promise<void> {
    const { Failed = [] } = await this.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: events.map((event, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify(event),
          MessageGroupId: messageGroupId(event),
          MessageDeduplicationId: deduplicationId(event),
        })),
      }),
    );
    if (Failed.length > 0) {
      const details = Failed.map((f) => {
        const event = events[Number(f.Id)];
        return `${event ? deduplicationId(event) : `entry ${f.Id}`}: ${f.Code ?? 'error'} ${f.Message ?? ''}`.trim();
      });
      throw new EventPublishError(`${Failed.length} leadership event(s) not published: ${details.join('; ')}`);
    }
  }
}
