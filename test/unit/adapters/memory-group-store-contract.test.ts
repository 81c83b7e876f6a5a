/**
 * The group store contract on the memory store the coordinator's tests and the simulation run
 * on (the same contract runs on DynamoDB in test/e2e/adapters/dynamodb-group-store-contract.test.ts).
 */
import { createMemoryDeps } from '../../../functions/adapters/memory/index.js';
import { describeGroupStoreContract } from '../../contract/group-store.contract.js';

describeGroupStoreContract('memory', () => {
  const deps = createMemoryDeps();
  return Promise.resolve({ metadata: deps.metadata, groups: deps.groups });
});
