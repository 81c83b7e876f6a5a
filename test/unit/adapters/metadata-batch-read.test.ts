import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { partitionItem } from '../../../functions/adapters/dynamodb/items.js';
import { partitionKey } from '../../../functions/adapters/dynamodb/keys.js';
import { DynamoMetadataStore } from '../../../functions/adapters/dynamodb/metadata-store.js';
import { aPartition } from '../../factories/entities.js';

interface BatchGetInput {
  RequestItems: Record<string, { Keys: Array<Record<string, string>>; ConsistentRead: boolean }>;
}

/** A document client answering BatchGetItem from `items`, leaving the first `unprocessedRounds` requests' last key unprocessed. */
function batchGetClient(items: Array<Record<string, unknown>>, unprocessedRounds: number) {
  const requests: BatchGetInput[] = [];
  const client = {
    send: (command: { input: BatchGetInput }) => {
      requests.push(command.input);
      const { Keys } = command.input.RequestItems.metadata;
      const served = requests.length <= unprocessedRounds ? Keys.slice(0, -1) : Keys;
      const unprocessed = Keys.slice(served.length);
      return Promise.resolve({
        Responses: { metadata: items.filter((item) => served.some((key) => key.pk === item.pk && key.sk === item.sk)) },
        UnprocessedKeys: unprocessed.length > 0 ? { metadata: { Keys: unprocessed } } : {},
      });
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, requests };
}

describe('DynamoMetadataStore.getPartitions (BatchGetItem)', () => {
  const stored = [1, 2, 3].map((partition) => aPartition({ topic: 'orders', partition }));
  afterEach(() => vi.useRealTimers());

  it('asks again, strongly consistent, for the keys DynamoDB left unprocessed, and answers in the order asked', async () => {
    const { client, requests } = batchGetClient(stored.map(partitionItem), 1);
    const store = new DynamoMetadataStore(client, 'metadata');
    const read = await store.getPartitions([
      { topic: 'orders', partition: 9 },
      { topic: 'orders', partition: 3 },
      { topic: 'orders', partition: 1 },
    ]);
    // Partition 1 was left unprocessed by the first request and served by the second.
    expect(read).toEqual([null, stored[2], stored[0]]);
    expect(requests.map((r) => r.RequestItems.metadata.Keys.length)).toEqual([3, 1]);
    expect(requests.every((r) => r.RequestItems.metadata.ConsistentRead)).toBe(true);
    expect(requests[1].RequestItems.metadata.Keys).toEqual([partitionKey('orders', 1)]);
  });

  it('gives up on keys that stay unprocessed with an error a client retries (throttling)', async () => {
    const { client } = batchGetClient(stored.map(partitionItem), Number.POSITIVE_INFINITY);
    const store = new DynamoMetadataStore(client, 'metadata');
    vi.useFakeTimers(); // the backoff between attempts
    const refusal = expect(store.getPartitions([{ topic: 'orders', partition: 1 }, { topic: 'orders', partition: 2 }])).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      message: expect.stringMatching(/metadata: 1 keys still unprocessed after 8 attempts/),
    });
    await vi.runAllTimersAsync();
    await refusal;
  });
});
