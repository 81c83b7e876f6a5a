import type { LeadershipEvent } from '../protocol/leadership.js';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * A leadership-change event as the functions that change leadership (failure detector,
 * reconciler, controlled shutdown, elections, topic creation) publish it on the FIFO queue.
 */
export interface LeadershipEventMessage extends LeadershipEvent {
  /** The SQS message group (topic-partition), from the message's attributes. */
  messageGroupId?: string;
}

/**
 * Receives and deletes everything on the queue until two receives come back empty.
 * Deleting matters on a FIFO queue: an undeleted message holds back the rest of its
 * message group (its partition's later events).
 */
export async function drainLeadershipEvents(sqs: SQSClient, queueUrl: string): Promise<LeadershipEventMessage[]> {
  const events: LeadershipEventMessage[] = [];
  for (let emptyReceives = 0; emptyReceives < 2; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['MessageGroupId'] }),
    );
    if (Messages.length === 0) {
      emptyReceives += 1;
      continue;
    }
    for (const message of Messages) {
      events.push({ ...(JSON.parse(message.Body ?? '{}') as LeadershipEventMessage), messageGroupId: message.Attributes?.MessageGroupId });
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
      }),
    );
  }
  return events;
}
