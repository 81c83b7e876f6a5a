/**
 * DynamoDB Streams GetRecords records (as the SDK parses them) → the records of a
 * Lambda DynamoDBStreamEvent, byte for byte what Lambda sends: epoch-second
 * timestamps, base64 binaries, eventVersion "1.1", eventSourceARN, lower-case
 * userIdentity.
 */
import { Buffer } from 'node:buffer';
import type { AttributeValue, _Record as SdkStreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue as EventAttributeValue, DynamoDBRecord } from 'aws-lambda';

/** A record waiting for delivery, with what the poller needs besides the event itself. */
export interface PendingStreamRecord {
  sequenceNumber: string;
  /** ApproximateCreationDateTime in epoch ms (record age for MaximumRecordAgeInSeconds). */
  createdAtMs: number;
  event: DynamoDBRecord;
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

function toEventValue(value: AttributeValue): EventAttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toEventValue) };
  if (value.M !== undefined) return { M: toEventImage(value.M) };
  throw new Error(`Unknown DynamoDB attribute value ${JSON.stringify(value)}`);
}

function toEventImage(image: Record<string, AttributeValue>): Record<string, EventAttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toEventValue(value)]));
}

export function toPendingStreamRecord(
  record: SdkStreamRecord,
  streamArn: string,
  region: string,
  /** When the poller read the record: bounds a coarse creation time (see creationTimeMs). */
  readAtMs = Date.now(),
): PendingStreamRecord | undefined {
  const data = record.dynamodb;
  if (!data?.SequenceNumber) return undefined;
  const createdAtMs = creationTimeMs(data.ApproximateCreationDateTime, readAtMs);
  const event: DynamoDBRecord = {
    eventID: record.eventID,
    eventName: eventNameOf(record),
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    // The mapping's region: DynamoDB Local names its own pseudo-region ("ddblocal") here.
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(createdAtMs / 1000),
      ...(data.Keys ? { Keys: toEventImage(data.Keys) } : {}),
      ...(data.NewImage ? { NewImage: toEventImage(data.NewImage) } : {}),
      ...(data.OldImage ? { OldImage: toEventImage(data.OldImage) } : {}),
      SequenceNumber: data.SequenceNumber,
      SizeBytes: data.SizeBytes,
      StreamViewType: data.StreamViewType,
    },
    eventSourceARN: streamArn,
    ...(record.userIdentity
      ? { userIdentity: { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId } }
      : {}),
  };
  return { sequenceNumber: data.SequenceNumber, createdAtMs, event };
}

/**
 * A record's creation time in ms. AWS and moto give it to the second; DynamoDB Local
 * rounds it down to the minute, which would make every record look up to 60 s old
 * (maximumRecordAgeInSeconds). A whole-minute time is therefore taken as "some time in
 * that minute, no later than when the poller read it".
 */
export function creationTimeMs(approximate: Date | undefined, readAtMs: number): number {
  if (!approximate) return readAtMs;
  const ms = approximate.getTime();
  return ms % 60_000 === 0 ? Math.max(ms, Math.min(readAtMs, ms + 59_999)) : ms;
}

/**
 * INSERT, MODIFY or REMOVE. DynamoDB Local 3.3 names the removal of an item whose TTL
 * attribute has passed (on a table with TTL enabled) "UNKNOWN_TO_SDK_VERSION", its Java
 * SDK's name for an enum value it lacks; AWS sends REMOVE. An unknown name is read from
 * the images: no new image is a removal.
 */
export function eventNameOf(record: SdkStreamRecord): DynamoDBRecord['eventName'] {
  const name = record.eventName;
  if (name === 'INSERT' || name === 'MODIFY' || name === 'REMOVE') return name;
  const data = record.dynamodb;
  if (!data?.NewImage) return 'REMOVE';
  return data.OldImage ? 'MODIFY' : 'INSERT';
}
