/**
 * Decoders for the DynamoDB stream records the handlers receive, so handlers see
 * domain types and hold no SDK code. Images are unmarshalled and then validated
 * by the same codecs the adapters use for reads.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue as EventAttributeValue, DynamoDBRecord, StreamRecord } from 'aws-lambda';
import type { BrokerHeartbeat, LogRecord } from '../../domain/model.js';
import type { ObjectStore } from '../../ports/index.js';
import { heartbeatFromItem, logRecordsFromItem, logRecordsFromRefItem, storedRefOfItem } from './items.js';

/** The stream record lacks what its table's stream view type promises. */
export class MalformedStreamRecordError extends Error {
  override readonly name = 'MalformedStreamRecordError';
}

/** A heartbeat-table change, by what it means for the broker. */
export type HeartbeatChange =
  | { kind: 'registered'; sequenceNumber: string; heartbeat: BrokerHeartbeat }
  | { kind: 'gone'; sequenceNumber: string; heartbeat: BrokerHeartbeat }
  /** A renewal of a live lease (MODIFY): carries no leadership information. */
  | { kind: 'renewed'; sequenceNumber: string };

export interface LogStreamRecord {
  sequenceNumber: string;
  /** The inserted record batch (one log item), in offset order. */
  records: LogRecord[];
}

/** Sequence numbers are what a partial batch response names; every stream record has one. */
export const sequenceNumberOf = (record: DynamoDBRecord): string => {
  const sequenceNumber = record.dynamodb?.SequenceNumber;
  if (!sequenceNumber) throw new MalformedStreamRecordError(`Stream record ${record.eventID ?? '?'} has no SequenceNumber.`);
  return sequenceNumber;
};

/** The heartbeat record's key, readable even when its image is malformed (every stream record carries Keys). */
export const brokerIdOf = (record: DynamoDBRecord): string | undefined => record.dynamodb?.Keys?.['brokerId']?.S;

const image = (record: DynamoDBRecord, which: 'NewImage' | 'OldImage'): Record<string, unknown> => {
  const attributes: StreamRecord['NewImage'] = record.dynamodb?.[which];
  if (!attributes) {
    throw new MalformedStreamRecordError(`${record.eventName ?? 'Stream'} record ${record.eventID ?? '?'} has no ${which}.`);
  }
  return unmarshall(Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, sdkValue(value)])));
};

/**
 * aws-lambda's and the SDK's AttributeValue describe the same shape under two type names,
 * except binaries: a Lambda event carries them in base64, the SDK as bytes.
 */
const bytesOf = (binary: string | Uint8Array): Uint8Array => (typeof binary === 'string' ? Buffer.from(binary, 'base64') : binary);

function sdkValue(value: EventAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: bytesOf(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(bytesOf) };
  if (value.L !== undefined) return { L: value.L.map(sdkValue) };
  if (value.M !== undefined) return { M: Object.fromEntries(Object.entries(value.M).map(([name, v]) => [name, sdkValue(v)])) };
  return value;
}

/** Heartbeat table stream (NEW_AND_OLD_IMAGES): INSERT = registered, REMOVE = gone, MODIFY = renewed. */
export function decodeHeartbeatChange(record: DynamoDBRecord): HeartbeatChange {
  const sequenceNumber = sequenceNumberOf(record);
  switch (record.eventName) {
    case 'INSERT':
      return { kind: 'registered', sequenceNumber, heartbeat: heartbeatFromItem(image(record, 'NewImage')) };
    case 'REMOVE':
      return { kind: 'gone', sequenceNumber, heartbeat: heartbeatFromItem(image(record, 'OldImage')) };
    case 'MODIFY':
      return { kind: 'renewed', sequenceNumber };
    default:
      throw new MalformedStreamRecordError(`Stream record ${sequenceNumber} has unknown eventName ${String(record.eventName)}.`);
  }
}

/** Log table stream (NEW_IMAGE): an inserted record batch that holds its records (see readLogInsert for either kind). */
export function decodeLogInsert(record: DynamoDBRecord): LogStreamRecord {
  return { sequenceNumber: sequenceNumberOf(record), records: logRecordsFromItem(image(record, 'NewImage')) };
}

/**
 * Log table stream (NEW_IMAGE): an inserted item of either kind. A diskless topic's item
 * holds only its batch's place in an object: its records are read from `objects` (one
 * ranged read; StoredObjectMissingError when the object is gone).
 */
export async function readLogInsert(record: DynamoDBRecord, objects: Pick<ObjectStore, 'read'>): Promise<LogStreamRecord> {
  const item = image(record, 'NewImage');
  const ref = storedRefOfItem(item);
  const records = ref ? logRecordsFromRefItem(item, await objects.read(ref)) : logRecordsFromItem(item);
  return { sequenceNumber: sequenceNumberOf(record), records };
}
