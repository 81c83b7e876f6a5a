/**
 * The SQS EventPublisher against a real (moto) FIFO queue created as the stack
 * creates it (explicit .fifo name, content-based deduplication off).
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqsEventPublisher } from '../../../functions/adapters/sqs/index.js';
import type { LeadershipEvent } from '../../../functions/domain/model.js';
import { useDataPlane } from '../../../localcloud/testing/data-plane.js';

const aws = useDataPlane();
let queueUrl: string;

beforeAll(async () => {
  const created = await aws.sqs.send(
    new CreateQueueCommand({
      QueueName: 'it-leadership-events.fifo',
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
    }),
  );
  queueUrl = created.QueueUrl ?? '';
}, 30_000);

const event = (partition: number, leaderEpoch: number): LeadershipEvent => ({
  topic: 'orders',
  partition,
  previousLeader: 'A',
  newLeader: 'B',
  leaderEpoch,
  isr: ['B', 'C'],
  state: 'ONLINE',
  reason: 'LEADER_FAILED',
  unclean: false,
  at: 99,
  version: leaderEpoch,
});

async function drain(): Promise<Message[]> {
  const received: Message[] = [];
  for (;;) {
    const { Messages = [] } = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return received;
    received.push(...Messages);
    await aws.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

describe('SqsEventPublisher on a FIFO queue', () => {
  it('publishes more than one batch, per-partition groups in order, bodies as the events', async () => {
    const publisher = new SqsEventPublisher(aws.sqs, queueUrl);
    const events = [1, 2, 3].flatMap((partition) => [1, 2, 3, 4].map((epoch) => event(partition, epoch)));
    await publisher.publish(events);
    const received = await drain();
    expect(received).toHaveLength(12);
    const bodies = received.map((m) => JSON.parse(m.Body ?? '{}') as LeadershipEvent);
    for (const partition of [1, 2, 3]) {
      const group = received.filter((m) => m.Attributes?.MessageGroupId === `orders-${partition}`);
      expect(group.map((m) => (JSON.parse(m.Body ?? '{}') as LeadershipEvent).leaderEpoch)).toEqual([1, 2, 3, 4]);
    }
    expect(bodies).toContainEqual(event(2, 3));
    expect(received[0]?.Attributes?.MessageDeduplicationId).toMatch(/^orders-\d-\d-LEADER_FAILED-\d$/);
  });

  it('deduplicates a re-published change (same topic, partition, epoch, reason, version)', async () => {
    const publisher = new SqsEventPublisher(aws.sqs, queueUrl);
    await publisher.publish([event(9, 1)]);
    await publisher.publish([event(9, 1), event(9, 2)]);
    const received = await drain();
    expect(received.map((m) => (JSON.parse(m.Body ?? '{}') as LeadershipEvent).leaderEpoch)).toEqual([1, 2]);
  });

  it('delivers two changes of one reason within one epoch (the version tells them apart)', async () => {
    const publisher = new SqsEventPublisher(aws.sqs, queueUrl);
    const shrunk = { ...event(8, 3), reason: 'ISR_SHRUNK' as const };
    await publisher.publish([{ ...shrunk, version: 5 }, { ...shrunk, version: 6 }]);
    const received = await drain();
    expect(received.map((m) => (JSON.parse(m.Body ?? '{}') as LeadershipEvent).version)).toEqual([5, 6]);
  });
});
