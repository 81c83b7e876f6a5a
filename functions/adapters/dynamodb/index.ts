export { DynamoBrokerRegistry } from './broker-registry.js';
export { DynamoMetadataStore } from './metadata-store.js';
export { DynamoGroupStore } from './group-store.js';
export { DynamoPartitionLog, MAX_RECORDS_PER_APPEND, type PartitionLogTables } from './partition-log.js';
export { MalformedItemError } from './items.js';
export {
  MalformedStreamRecordError,
  brokerIdOf,
  decodeHeartbeatChange,
  decodeLogInsert,
  readLogInsert,
  sequenceNumberOf,
  type HeartbeatChange,
  type LogStreamRecord,
} from './stream-records.js';
export { DynamoBrokerIdentityReader } from './broker-identity-reader.js';
