/**
 * EventPublisher over the leadership-events FIFO queue. One message group per
 * partition keeps each partition's events in order while partitions proceed
 * independently; the deduplication id names one metadata change, so a retried
 * detector's re-publish of it is a no-op within SQS's 5-minute window.
 */
import { createHash } from 'node:crypto';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LeadershipEvent } from '../../domain/model.js';
import type { EventPublisher } from '../../ports/index.js';

/** SendMessageBatch's limit on entries per call. */
const MAX_BATCH_ENTRIES = 10;

/** Batches sent at once when their order does not matter. */
const BATCHES_IN_FLIGHT = 4;

/** Whether some message group has events in more than one batch (then the batches must go in order). */
export function groupsSpanBatches(batches: ReadonlyArray<readonly LeadershipEvent[]>): boolean {
  const batchOfGroup = new Map<string, number>();
  return batches.some((batch, index) =>
    batch.some((event) => {
      const group = messageGroupId(event);
      const seen = batchOfGroup.get(group);
      batchOfGroup.set(group, index);
      return seen !== undefined && seen !== index;
    }),
  );
}

/** Some entries of a batch were refused; the caller's retry is safe thanks to the deduplication ids. */
export class EventPublishError extends Error {
  override readonly name = 'EventPublishError';
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

  /**
   * In batches of 10 (SendMessageBatch). Events of one partition keep their order: within a
   * batch SQS keeps the entries' order per message group, and batches are sent one after
   * another unless no partition has events in two of them (a failover's one event per
   * partition), when up to BATCHES_IN_FLIGHT go at once. Every batch is sent before the
   * first failure is reported.
   */
  async publish(events: LeadershipEvent[]): Promise<void> {
    const batches: LeadershipEvent[][] = [];
    for (let start = 0; start < events.length; start += MAX_BATCH_ENTRIES) {
      batches.push(events.slice(start, start + MAX_BATCH_ENTRIES));
    }
    if (!groupsSpanBatches(batches)) {
      let next = 0;
      const failures: unknown[] = [];
      const lane = async (): Promise<void> => {
        while (next < batches.length) await this.sendBatch(batches[next++]).catch((error: unknown) => failures.push(error));
      };
      await Promise.all(Array.from({ length: Math.min(BATCHES_IN_FLIGHT, batches.length) }, lane));
      if (failures.length > 0) throw failures[0];
      return;
    }
    for (const batch of batches) await this.sendBatch(batch);
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
