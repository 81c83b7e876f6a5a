import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BrokerId } from '../../domain/model.js';
import type { BrokerIdentity, BrokerIdentityReader } from '../../ports/index.js';
import { batchGetConsistent } from './batch-get.js';
import { brokerCredentialFromItem, heartbeatFromItem } from './items.js';
import { brokerCredentialKey } from './keys.js';

/**
 * A broker's lease and credential in one BatchGetItem over the brokers and metadata tables:
 * the same read units as two GetItems, one request. On DynamoDB Local, which serves one
 * request at a time, a request saved is latency saved on every heartbeat.
 */
export class DynamoBrokerIdentityReader implements BrokerIdentityReader {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly brokersTable: string,
    private readonly metadataTable: string,
  ) {}

  async read(brokerId: BrokerId): Promise<BrokerIdentity> {
    const found = await batchGetConsistent(this.client, {
      [this.brokersTable]: [{ brokerId }],
      [this.metadataTable]: [brokerCredentialKey(brokerId)],
    });
    const [credentialItem] = found[this.metadataTable];
    const [leaseItem] = found[this.brokersTable];
    return {
      credential: credentialItem ? brokerCredentialFromItem(credentialItem) : null,
      lease: () => (leaseItem ? heartbeatFromItem(leaseItem) : null),
    };
  }
}
