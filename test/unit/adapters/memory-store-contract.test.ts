/**
 * The store contract on the memory adapters: the stores the domain tests and the
 * deterministic simulation run on must refuse what DynamoDB refuses (the same
 * contract runs on DynamoDB in test/e2e/adapters/dynamodb-store-contract.test.ts).
 */
import { createMemoryDeps } from '../../../functions/adapters/memory/index.js';
import type { HeartbeatStreamRecord } from '../../../functions/adapters/memory/index.js';
import { describeStoreContract, type ContractHeartbeatChange } from '../../contract/stores.contract.js';

/** The memory stream's records read the way decodeHeartbeatChange reads DynamoDB's. */
const asChange = (record: HeartbeatStreamRecord): ContractHeartbeatChange => {
  switch (record.eventName) {
    case 'INSERT':
      return { kind: 'registered', heartbeat: record.newImage };
    case 'MODIFY':
      return { kind: 'renewed' };
    case 'REMOVE':
      return { kind: 'gone', heartbeat: record.oldImage };
  }
};

// Fresh stores per test: nothing carries over, as nothing may in the DynamoDB run either.
describeStoreContract('memory', () => {
  const deps = createMemoryDeps();
  return Promise.resolve({
    brokers: deps.brokers,
    metadata: deps.metadata,
    identity: deps.identity,
    log: deps.log,
    clock: { set: (ms) => deps.clock.advance(ms - deps.clock.now()) },
    streams: {
      heartbeatChanges: () => Promise.resolve(deps.brokers.drainStream().map(asChange)),
      leaderAppends: () => Promise.resolve(deps.log.drainLeaderAppends()),
    },
  });
});
