import net from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { startMoto } from '../../../localcloud/moto.js';
import { testClientConfig } from '../../support/aws.js';

describe('startMoto', () => {
  it('serves AWS APIs on a free port of 127.0.0.1 until stopped, then frees it', async () => {
    const moto = await startMoto();
    const dynamodb = new DynamoDBClient(testClientConfig(moto.endpoint));
    try {
      expect(moto.endpoint).toBe(`http://127.0.0.1:${moto.port}`);
      expect(await dynamodb.send(new ListTablesCommand({}))).toMatchObject({ TableNames: [] });
    } finally {
      dynamodb.destroy();
      await moto.stop();
    }

    await moto.stop(); // idempotent
    expect(() => process.kill(moto.pid, 0)).toThrow();
    await expect(connect(moto.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe("moto's SQS with the embedded cloud's patch (localcloud/moto-patches)", () => {
  it('keeps FIFO semantics: deduplication by id and by content, a refused message without either, every attribute listed', async () => {
    const moto = await startMoto();
    const sqs = new SQSClient(testClientConfig(moto.endpoint));
    try {
      const { QueueUrl: byId } = await sqs.send(new CreateQueueCommand({ QueueName: 'events.fifo', Attributes: { FifoQueue: 'true' } }));
      // Many message groups, as the failure detector publishes: one per partition.
      for (let base = 0; base < 300; base += 10) {
        await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: byId,
            Entries: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: `m${base + i}`, MessageGroupId: `g${base + i}`, MessageDeduplicationId: `d${base + i}` })),
          }),
        );
      }
      await sqs.send(new SendMessageCommand({ QueueUrl: byId, MessageBody: 'repeat of d7', MessageGroupId: 'g7', MessageDeduplicationId: 'd7' }));
      await expect(sqs.send(new SendMessageCommand({ QueueUrl: byId, MessageBody: 'no id', MessageGroupId: 'g1' }))).rejects.toMatchObject({
        name: 'InvalidParameterValue',
      });
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: byId, AttributeNames: ['All'] }));
      expect(Attributes).toMatchObject({ ApproximateNumberOfMessages: '300', FifoQueue: 'true', ContentBasedDeduplication: 'false', DeduplicationScope: 'queue' });
      // Attributes asked for by name (as moto's ReceiveMessage asks for MessageRetentionPeriod) are the full listing's.
      const named: QueueAttributeName[] = ['MessageRetentionPeriod', 'VisibilityTimeout', 'DelaySeconds', 'ApproximateNumberOfMessages', 'FifoQueue', 'DeduplicationScope'];
      const { Attributes: byName } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: byId, AttributeNames: named }));
      expect(byName).toEqual(Object.fromEntries(named.map((name) => [name, Attributes?.[name]])));
      // Receiving hands out one message per group, and a delete takes them off the count.
      const { Messages: received = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: byId, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['MessageGroupId'] }));
      expect(new Set(received.map((message) => message.Attributes?.MessageGroupId)).size).toBe(10);
      await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: byId, Entries: received.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })) }),
      );
      const { Attributes: afterDelete } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: byId, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      expect(afterDelete).toEqual({ ApproximateNumberOfMessages: '290', ApproximateNumberOfMessagesNotVisible: '0' });

      const { QueueUrl: byContent } = await sqs.send(
        new CreateQueueCommand({ QueueName: 'content.fifo', Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' } }),
      );
      await sqs.send(new SendMessageCommand({ QueueUrl: byContent, MessageBody: 'same', MessageGroupId: 'g' }));
      await sqs.send(new SendMessageCommand({ QueueUrl: byContent, MessageBody: 'same', MessageGroupId: 'g' }));
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: byContent, MaxNumberOfMessages: 10 }));
      expect(Messages?.map((message) => message.Body)).toEqual(['same']);

      const { QueueUrl: standard } = await sqs.send(new CreateQueueCommand({ QueueName: 'plain' }));
      const { Attributes: plain } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: standard, AttributeNames: ['All'] }));
      expect(plain).not.toHaveProperty('FifoQueue');
      expect(plain).not.toHaveProperty('ContentBasedDeduplication');
      const { Attributes: plainByName } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: standard, AttributeNames: ['FifoQueue', 'MessageRetentionPeriod'] }));
      expect(plainByName).toEqual({ MessageRetentionPeriod: plain?.MessageRetentionPeriod });
    } finally {
      sqs.destroy();
      await moto.stop();
    }
  });
});

function connect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
