/**
 * A metered embedded cloud with the leadership tables and the DynamoDB stores over them, as the
 * functions wire them (a topic's configuration read once per container): what the tests that
 * meter the log's and the fetch's read and write units start from.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoMetadataStore, DynamoPartitionLog } from '../../functions/adapters/dynamodb/index.js';
import type { Clock } from '../../functions/ports/index.js';
import { startLocalCloud, type LocalCloud } from '../../localcloud/cloud.js';
import { testAws, type TestAws } from '../../localcloud/testing/aws.js';
import { LEADERSHIP_TABLES as TABLES, createLeadershipTables } from './leadership-tables.js';

export interface MeteredStores {
  cloud: LocalCloud;
  aws: TestAws;
  metadata: DynamoMetadataStore;
  log: DynamoPartitionLog;
  /** Stops the cloud and its clients. */
  stop(): Promise<void>;
}

export async function startMeteredStores(clock: Clock): Promise<MeteredStores> {
  const cloud = await startLocalCloud({ port: 0, ttlPeriodMs: 0, meterUsage: true });
  const aws = testAws(cloud.endpoint);
  await createLeadershipTables(aws);
  const documents = DynamoDBDocumentClient.from(aws.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return {
    cloud,
    aws,
    metadata: new DynamoMetadataStore(documents, TABLES.metadata, { cacheTopicConfigs: true }),
    log: new DynamoPartitionLog(documents, { logTable: TABLES.log, metadataTable: TABLES.metadata }, clock),
    stop: async () => {
      aws.destroy();
      await cloud.stop();
    },
  };
}
