/**
 * The group store contract on the DynamoDB store, against DynamoDB Local (useDataPlane): the
 * reference the memory store must match (test/unit/adapters/memory-group-store-contract.test.ts).
 * The tables live for the whole file; the contract uses fresh names in every test.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll } from 'vitest';
import { DynamoGroupStore, DynamoMetadataStore } from '../../../functions/adapters/dynamodb/index.js';
import { describeGroupStoreContract, type GroupContractStores } from '../../contract/group-store.contract.js';
import { LEADERSHIP_TABLES as TABLES, createLeadershipTables } from '../../support/leadership-tables.js';
import { useDataPlane } from '../../../localcloud/testing/data-plane.js';

const aws = useDataPlane();
let stores: GroupContractStores;

beforeAll(async () => {
  await createLeadershipTables(aws);
  const documents = DynamoDBDocumentClient.from(aws.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  stores = { metadata: new DynamoMetadataStore(documents, TABLES.metadata), groups: new DynamoGroupStore(documents, TABLES.metadata) };
}, 30_000);

describeGroupStoreContract('DynamoDB', () => Promise.resolve(stores));
