import type { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { EventPublishError, SqsEventPublisher, fitSqsId } from '../../../functions/adapters/sqs/index.js';
import type { LeadershipEvent } from '../../../functions/domain/model.js';

const event = (partition: number, leaderEpoch = 1): LeadershipEvent => ({
  topic: 'orders',
  partition,
  previousLeader: 'A',
  newLeader: 'B',
  leaderEpoch,
  isr: ['B'],
  state: 'ONLINE',
  reason: 'LEADER_FAILED',
  unclean: false,
  at: 5,
  version: leaderEpoch + 10,
});

/** Records every batch; refuses the entries whose Id is listed. */
function fakeSqs(refuseIds: string[] = []) {
  const batches: NonNullable<SendMessageBatchCommand['input']['Entries']>[] = [];
  const client = {
    send: (command: SendMessageBatchCommand) => {
      const entries = command.input.Entries ?? [];
      batches.push(entries);
      return Promise.resolve({
        Successful: [],
        Failed: entries.filter((e) => refuseIds.includes(e.Id ?? '')).map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })),
      });
    },
  } as unknown as SQSClient;
  return { client, batches };
}

describe('SqsEventPublisher', () => {
  it('sends batches of at most 10, in order, one message group per partition', async () => {
    const sqs = fakeSqs();
    const events = Array.from({ length: 23 }, (_, i) => event(i + 1));
    await new SqsEventPublisher(sqs.client, 'https://queue').publish(events);
    expect(sqs.batches.map((b) => b.length)).toEqual([10, 10, 3]);
    const first = sqs.batches[0]?.[0];
    expect(first).toMatchObject({
      MessageGroupId: 'orders-1',
      MessageDeduplicationId: 'orders-1-1-LEADER_FAILED-11',
    });
    expect(JSON.parse(first?.MessageBody ?? '')).toEqual(event(1));
    expect(sqs.batches.flat().map((e) => e.MessageGroupId)).toEqual(events.map((e) => `orders-${e.partition}`));
  });

  it('sends nothing for no events', async () => {
    const sqs = fakeSqs();
    await new SqsEventPublisher(sqs.client, 'https://queue').publish([]);
    expect(sqs.batches).toEqual([]);
  });

  it('throws naming the refused entries', async () => {
    const sqs = fakeSqs(['1']);
    const publishing = new SqsEventPublisher(sqs.client, 'https://queue').publish([event(1), event(2, 7)]);
    await expect(publishing).rejects.toThrow(EventPublishError);
    await expect(publishing).rejects.toThrow(/orders-2-7-LEADER_FAILED-17: InternalError/);
  });
});

describe('fitSqsId', () => {
  it('keeps ids of up to 128 characters as they are', () => {
    expect(fitSqsId('a'.repeat(128))).toBe('a'.repeat(128));
  });

  it('shortens a longer id to 128 characters, keeping a prefix and staying distinct', () => {
    const long = 't'.repeat(249);
    const a = fitSqsId(`${long}-1-4-LEADER_FAILED-9`);
    const b = fitSqsId(`${long}-1-4-LEADER_FAILED-10`);
    expect(a).toHaveLength(128);
    expect(a.startsWith('tttt')).toBe(true);
    expect(a).not.toBe(b);
  });
});
