import { describe, expect, it } from 'vitest';
import { streamInvocationRecord } from '../../../esm/on-failure.js';
import { creationTimeMs, eventNameOf, toPendingStreamRecord } from '../../../esm/stream-records.js';

const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2030-01-01T00:00:00.000';

describe('stream records', () => {
  it('converts an SDK record into a Lambda DynamoDB record', () => {
    const record = toPendingStreamRecord(
      {
        eventID: 'e1',
        eventName: 'REMOVE',
        eventVersion: '1.0',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        dynamodb: {
          ApproximateCreationDateTime: new Date('2030-01-01T00:00:05.750Z'),
          Keys: { pk: { S: 'a' } },
          OldImage: {
            pk: { S: 'a' },
            blob: { B: new Uint8Array([1, 2, 3]) },
            nested: { M: { list: { L: [{ N: '1' }, { BS: [new Uint8Array([255])] }] } } },
          },
          SequenceNumber: '100',
          SizeBytes: 42,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
        userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' },
      },
      ARN,
      'us-east-1',
    );
    expect(record?.sequenceNumber).toBe('100');
    expect(record?.createdAtMs).toBe(Date.parse('2030-01-01T00:00:05.750Z'));
    expect(record?.event).toEqual({
      eventID: 'e1',
      eventName: 'REMOVE',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: Date.parse('2030-01-01T00:00:05Z') / 1000,
        Keys: { pk: { S: 'a' } },
        OldImage: {
          pk: { S: 'a' },
          blob: { B: 'AQID' },
          nested: { M: { list: { L: [{ N: '1' }, { BS: ['/w=='] }] } } },
        },
        SequenceNumber: '100',
        SizeBytes: 42,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: ARN,
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    });
  });

  it('describes a discarded batch like the AWS invocation record', () => {
    const at = Date.parse('2030-01-01T00:00:05.750Z');
    const records = ['7', '9'].map((sequenceNumber) => ({ sequenceNumber, createdAtMs: at, event: {} }));
    const body = streamInvocationRecord({
      condition: 'RetryAttemptsExhausted',
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f',
      approximateInvokeCount: 3,
      shardId: 'shardId-1',
      streamArn: ARN,
      records,
    });
    expect(body).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3, functionArn: expect.any(String) },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      DDBStreamBatchInfo: {
        shardId: 'shardId-1',
        startSequenceNumber: '7',
        endSequenceNumber: '9',
        approximateArrivalOfFirstRecord: '2030-01-01T00:00:05Z',
        approximateArrivalOfLastRecord: '2030-01-01T00:00:05Z',
        batchSize: 2,
        streamArn: ARN,
      },
    });
  });

  it('reads an event name DynamoDB Local does not know from the images: a TTL removal is REMOVE', () => {
    const images = (oldImage: boolean, newImage: boolean) => ({
      eventName: 'UNKNOWN_TO_SDK_VERSION' as never,
      dynamodb: { ...(oldImage ? { OldImage: { pk: { S: 'a' } } } : {}), ...(newImage ? { NewImage: { pk: { S: 'a' } } } : {}) },
    });
    expect([eventNameOf(images(true, false)), eventNameOf(images(false, true)), eventNameOf(images(true, true))]).toEqual(['REMOVE', 'INSERT', 'MODIFY']);
    expect(eventNameOf({ eventName: 'MODIFY', dynamodb: {} })).toBe('MODIFY');
  });

  it('bounds a creation time rounded down to the minute (DynamoDB Local) by when the record was read', () => {
    const minute = Date.parse('2030-01-01T00:01:00.000Z');
    expect(creationTimeMs(new Date(minute), minute + 12_345)).toBe(minute + 12_345);
    expect(creationTimeMs(new Date(minute), minute + 600_000)).toBe(minute + 59_999); // read long after: at most the minute's end
    expect(creationTimeMs(new Date(minute + 5_000), minute + 9_000)).toBe(minute + 5_000); // to the second: as given
    expect(creationTimeMs(undefined, minute)).toBe(minute);
  });

  it("gives the mapping's region, not DynamoDB Local's pseudo-region", () => {
    const record = toPendingStreamRecord({ awsRegion: 'ddblocal', eventName: 'INSERT', dynamodb: { SequenceNumber: '1', Keys: { pk: { S: 'a' } } } }, ARN, 'eu-west-1');
    expect(record?.event.awsRegion).toBe('eu-west-1');
  });
});
