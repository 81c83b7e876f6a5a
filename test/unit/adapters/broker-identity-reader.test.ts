import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoBrokerIdentityReader } from '../../../functions/adapters/dynamodb/broker-identity-reader.js';
import { brokerCredentialItem, heartbeatItem, MalformedItemError } from '../../../functions/adapters/dynamodb/items.js';
import type { BrokerCredential, BrokerHeartbeat } from '../../../functions/domain/model.js';

interface BatchGetInput {
  RequestItems: Record<string, { Keys: Array<Record<string, string>>; ConsistentRead: boolean }>;
}

/** Answers each BatchGetItem from `tables`, leaving the whole first request unprocessed when asked to. */
function tablesClient(tables: Record<string, Array<Record<string, unknown>>>, options: { firstUnprocessed?: boolean } = {}) {
  const requests: BatchGetInput[] = [];
  const client = {
    send: (command: { input: BatchGetInput }) => {
      requests.push(command.input);
      if (options.firstUnprocessed && requests.length === 1) return Promise.resolve({ Responses: {}, UnprocessedKeys: command.input.RequestItems });
      const responses = Object.fromEntries(
        Object.entries(command.input.RequestItems).map(([table, { Keys }]) => [
          table,
          tables[table].filter((item) => Keys.some((key) => Object.entries(key).every(([name, value]) => item[name] === value))),
        ]),
      );
      return Promise.resolve({ Responses: responses, UnprocessedKeys: {} });
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, requests };
}

const lease: BrokerHeartbeat = { brokerId: 'A', incarnation: 3, lastHeartbeatAt: 1000, deadlineMs: 4000, expiresAt: 4 };
const credential: BrokerCredential = { brokerId: 'A', salt: Buffer.alloc(32, 1).toString('base64'), hash: Buffer.alloc(32, 2).toString('base64'), registeredAt: 1 };

describe('DynamoBrokerIdentityReader', () => {
  it('reads the lease and the credential in one strongly consistent BatchGetItem over both tables', async () => {
    const { client, requests } = tablesClient({ brokers: [heartbeatItem(lease)], metadata: [brokerCredentialItem(credential)] });

    const identity = await new DynamoBrokerIdentityReader(client, 'brokers', 'metadata').read('A');

    expect(requests).toHaveLength(1);
    expect(requests[0].RequestItems).toEqual({
      brokers: { Keys: [{ brokerId: 'A' }], ConsistentRead: true },
      metadata: { Keys: [{ pk: 'broker#A', sk: 'credential' }], ConsistentRead: true },
    });
    expect(identity.credential).toEqual(credential);
    expect(identity.lease()).toMatchObject({ brokerId: 'A', incarnation: 3, deadlineMs: 4000 });
  });

  it('asks again for keys left unprocessed, and answers null for what is not stored', async () => {
    const { client, requests } = tablesClient({ brokers: [], metadata: [] }, { firstUnprocessed: true });

    const identity = await new DynamoBrokerIdentityReader(client, 'brokers', 'metadata').read('B');

    expect(requests).toHaveLength(2);
    expect(identity.credential).toBeNull();
    expect(identity.lease()).toBeNull();
  });

  it('answers the credential beside a lease row it cannot read; only lease() fails', async () => {
    const { client } = tablesClient({ brokers: [{ brokerId: 'A', incarnation: 'three' }], metadata: [brokerCredentialItem(credential)] });

    const identity = await new DynamoBrokerIdentityReader(client, 'brokers', 'metadata').read('A');

    expect(identity.credential).toEqual(credential);
    expect(() => identity.lease()).toThrow(MalformedItemError);
  });
});
