/**
 * The store contract on the DynamoDB adapters, against the local DynamoDB that
 * test/support provides (useDataPlane: DynamoDB Local): the reference behaviour the memory stores must
 * match (test/unit/adapters/memory-store-contract.test.ts runs the same contract).
 *
 * The tables live for the whole file; the contract uses fresh names in every test.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { beforeAll } from 'vitest';
import {
  DynamoBrokerIdentityReader,
  DynamoBrokerRegistry,
  DynamoMetadataStore,
  DynamoPartitionLog,
  decodeHeartbeatChange,
  decodeLogInsert,
} from '../../../functions/adapters/dynamodb/index.js';
import { describeStoreContract, type ContractHeartbeatChange, type ContractStores } from '../../contract/stores.contract.js';
import { LEADERSHIP_TABLES as TABLES, createLeadershipTables, streamRecords } from '../../support/leadership-tables.js';
import { useDataPlane } from '../../../localcloud/testing/data-plane.js';

const aws = useDataPlane();
let stores: ContractStores;

/** The records of `table`'s stream not handed out before: what a poller would deliver next. */
function unseenStreamRecords(table: string): () => Promise<DynamoDBRecord[]> {
  const seen = new Set<string>();
  return async () => {
    const fresh = (await streamRecords(aws, table)).filter((r) => !seen.has(r.dynamodb?.SequenceNumber ?? ''));
    for (const r of fresh) seen.add(r.dynamodb?.SequenceNumber ?? '');
    return fresh;
  };
}

/** decodeHeartbeatChange without the sequence number, which only the stream has. */
const withoutSequenceNumber = (record: DynamoDBRecord): ContractHeartbeatChange => {
  const change = decodeHeartbeatChange(record);
  return change.kind === 'renewed' ? { kind: 'renewed' } : { kind: change.kind, heartbeat: change.heartbeat };
};

beforeAll(async () => {
  await createLeadershipTables(aws);
  const documents = DynamoDBDocumentClient.from(aws.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  let now = 0;
  const heartbeatRecords = unseenStreamRecords(TABLES.brokers);
  const logRecords = unseenStreamRecords(TABLES.log);
  stores = {
    brokers: new DynamoBrokerRegistry(documents, TABLES.brokers),
    metadata: new DynamoMetadataStore(documents, TABLES.metadata),
    identity: new DynamoBrokerIdentityReader(documents, TABLES.brokers, TABLES.metadata),
    log: new DynamoPartitionLog(documents, { logTable: TABLES.log, metadataTable: TABLES.metadata }, { now: () => now }),
    clock: { set: (ms) => void (now = ms) },
    streams: {
      heartbeatChanges: async () => (await heartbeatRecords()).map(withoutSequenceNumber),
      // As the replicate mapping's filter does: only INSERTs of leader copies reach the handler,
      // judged on the new image before anything is decoded.
      leaderAppends: async () =>
        (await logRecords())
          .filter((r) => r.eventName === 'INSERT' && r.dynamodb?.NewImage?.copy?.S === 'leader')
          .flatMap((r) => decodeLogInsert(r).records),
    },
  };
}, 30_000);

describeStoreContract('DynamoDB', () => Promise.resolve(stores));
