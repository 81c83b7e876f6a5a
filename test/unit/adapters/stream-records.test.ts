import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  MalformedItemError,
  MalformedStreamRecordError,
  brokerIdOf,
  decodeHeartbeatChange,
  decodeLogInsert,
} from '../../../functions/adapters/dynamodb/index.js';

const heartbeatImage = {
  brokerId: { S: 'A' },
  incarnation: { N: '3' },
  lastHeartbeatAt: { N: '1000' },
  deadlineMs: { N: '10000' },
  expiresAt: { N: '10' },
};
const heartbeat = { brokerId: 'A', incarnation: 3, lastHeartbeatAt: 1000, deadlineMs: 10000, expiresAt: 10 };

const record = (eventName: DynamoDBRecord['eventName'], images: Partial<NonNullable<DynamoDBRecord['dynamodb']>>): DynamoDBRecord => ({
  eventID: 'e1',
  eventName,
  dynamodb: { SequenceNumber: '111', Keys: { brokerId: { S: 'A' } }, ...images },
});

describe('decodeHeartbeatChange', () => {
  it('INSERT is a registration, decoded from the new image', () => {
    expect(decodeHeartbeatChange(record('INSERT', { NewImage: heartbeatImage }))).toEqual({
      kind: 'registered',
      sequenceNumber: '111',
      heartbeat,
    });
  });

  it('REMOVE is a broker gone, decoded from the old image (expired or not is the handler\'s call)', () => {
    expect(decodeHeartbeatChange(record('REMOVE', { OldImage: heartbeatImage }))).toEqual({
      kind: 'gone',
      sequenceNumber: '111',
      heartbeat,
    });
  });

  it('MODIFY is a renewal and carries nothing else', () => {
    expect(decodeHeartbeatChange(record('MODIFY', { NewImage: heartbeatImage, OldImage: heartbeatImage }))).toEqual({
      kind: 'renewed',
      sequenceNumber: '111',
    });
  });

  it('refuses a record without the image its event needs, or with a malformed one, naming what is wrong', () => {
    expect(() => decodeHeartbeatChange(record('REMOVE', {}))).toThrow(MalformedStreamRecordError);
    expect(() => decodeHeartbeatChange(record('REMOVE', {}))).toThrow(/OldImage/);
    const { incarnation: _dropped, ...withoutIncarnation } = heartbeatImage;
    expect(() => decodeHeartbeatChange(record('INSERT', { NewImage: withoutIncarnation }))).toThrow(MalformedItemError);
    expect(() => decodeHeartbeatChange(record('INSERT', { NewImage: withoutIncarnation }))).toThrow(/incarnation/);
  });

  it('refuses a record without a sequence number (it could not be reported as a batch item failure)', () => {
    expect(() => decodeHeartbeatChange({ eventName: 'INSERT', dynamodb: { NewImage: heartbeatImage } })).toThrow(/SequenceNumber/);
  });

  it('reads the broker id from Keys even when the image is unusable', () => {
    expect(brokerIdOf(record('REMOVE', {}))).toBe('A');
    expect(brokerIdOf({})).toBeUndefined();
  });
});

describe('decodeLogInsert', () => {
  const logImage = {
    replica: { S: 'orders#2#B' },
    offset: { N: '7' },
    topic: { S: 'orders' },
    partition: { N: '2' },
    brokerId: { S: 'B' },
    leaderEpoch: { N: '4' },
    key: { NULL: true },
    value: { S: 'hello' },
    appendedAt: { N: '1234' },
    copy: { S: 'leader' },
  };

  it('maps the stored item to a LogRecord (the broker id becomes `replica`, NULL key becomes null)', () => {
    expect(decodeLogInsert(record('INSERT', { SequenceNumber: '9', NewImage: logImage }))).toEqual({
      sequenceNumber: '9',
      record: { topic: 'orders', partition: 2, replica: 'B', offset: 7, leaderEpoch: 4, key: null, value: 'hello', appendedAt: 1234, copy: 'leader' },
    });
  });

  it('refuses an unknown copy kind', () => {
    expect(() => decodeLogInsert(record('INSERT', { NewImage: { ...logImage, copy: { S: 'mirror' } } }))).toThrow(/copy/);
  });
});
