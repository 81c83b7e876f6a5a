import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  MalformedItemError,
  MalformedStreamRecordError,
  brokerIdOf,
  decodeHeartbeatChange,
  decodeLogInsert,
  readLogInsert,
} from '../../../functions/adapters/dynamodb/index.js';
import { StoredObjectMissingError } from '../../../functions/domain/errors.js';
import type { LogRecord, StoredBatchRef } from '../../../functions/domain/model.js';

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
  type StreamImage = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['NewImage']>;
  const storedRecord = (value: string, producer?: StreamImage) => ({
    M: {
      leaderEpoch: { N: '4' },
      key: { NULL: true },
      value: { S: value },
      appendedAt: { N: '1234' },
      ...(producer ? { producer: { M: producer } } : {}),
    },
  });
  const logImage: StreamImage = {
    replica: { S: 'orders#2#B' },
    offset: { N: '7' },
    topic: { S: 'orders' },
    partition: { N: '2' },
    brokerId: { S: 'B' },
    copy: { S: 'leader' },
    lastOffset: { N: '8' },
    records: {
      L: [storedRecord('hello'), storedRecord('again', { producerId: { N: '3' }, producerEpoch: { N: '0' }, sequence: { N: '5' } })],
    },
  };

  it('maps the stored batch to LogRecords from its first offset on (the broker id becomes `replica`, NULL key becomes null)', () => {
    const common = { topic: 'orders', partition: 2, replica: 'B', leaderEpoch: 4, key: null, appendedAt: 1234, copy: 'leader' };
    expect(decodeLogInsert(record('INSERT', { SequenceNumber: '9', NewImage: logImage }))).toEqual({
      sequenceNumber: '9',
      records: [
        { ...common, offset: 7, value: 'hello' },
        { ...common, offset: 8, value: 'again', producer: { producerId: 3, producerEpoch: 0, sequence: 5 } },
      ],
    });
  });

  it('maps each record\'s batch bounds, and refuses bounds that do not hold the record', () => {
    const bounded = (value: string, baseOffset: string, lastOffset: string) => {
      const stored = storedRecord(value);
      return { M: { ...stored.M, batch: { M: { baseOffset: { N: baseOffset }, lastOffset: { N: lastOffset } } } } };
    };
    const image = { ...logImage, records: { L: [bounded('hello', '5', '7'), bounded('again', '8', '8')] } };
    expect(decodeLogInsert(record('INSERT', { NewImage: image })).records.map((r) => r.batch)).toEqual([
      { baseOffset: 5, lastOffset: 7 },
      { baseOffset: 8, lastOffset: 8 },
    ]);
    const outside = { ...logImage, records: { L: [bounded('hello', '5', '7'), bounded('again', '5', '7')] } };
    expect(() => decodeLogInsert(record('INSERT', { NewImage: outside }))).toThrow(/records\[1\]\.batch/);
  });

  it('refuses an unknown copy kind', () => {
    expect(() => decodeLogInsert(record('INSERT', { NewImage: { ...logImage, copy: { S: 'mirror' } } }))).toThrow(/copy/);
  });

  it('refuses a batch whose last offset disagrees with its records, or that holds none', () => {
    expect(() => decodeLogInsert(record('INSERT', { NewImage: { ...logImage, lastOffset: { N: '9' } } }))).toThrow(/lastOffset/);
    expect(() => decodeLogInsert(record('INSERT', { NewImage: { ...logImage, records: { L: [] } } }))).toThrow(/records/);
    expect(() => decodeLogInsert(record('INSERT', { NewImage: { ...logImage, lastOffset: { N: '7' }, records: { L: [{ M: {} }] } } }))).toThrow(/leaderEpoch/);
  });
});

describe('readLogInsert', () => {
  const ref: StoredBatchRef = { object: 'objects/202612071723/1-ab', start: 40, length: 300 };
  const refImage = {
    replica: { S: 'orders#2#B' },
    offset: { N: '7' },
    topic: { S: 'orders' },
    partition: { N: '2' },
    brokerId: { S: 'B' },
    copy: { S: 'leader' },
    lastOffset: { N: '8' },
    stored: { M: { object: { S: ref.object }, start: { N: '40' }, length: { N: '300' } } },
  };
  const stored: LogRecord[] = [7, 8].map((offset) => ({ topic: 'orders', partition: 2, replica: 'B', offset, leaderEpoch: 4, key: null, value: `v${offset}`, appendedAt: 1, copy: 'leader' }));

  it("reads a diskless item's records from its stored batch, one read, each record carrying the reference", async () => {
    const reads: StoredBatchRef[] = [];
    const objects = { read: (at: StoredBatchRef) => (reads.push(at), Promise.resolve(stored)) };
    expect(await readLogInsert(record('INSERT', { SequenceNumber: '9', NewImage: refImage }), objects)).toEqual({
      sequenceNumber: '9',
      records: stored.map((r) => ({ ...r, stored: ref })),
    });
    expect(reads).toEqual([ref]);
    expect(() => decodeLogInsert(record('INSERT', { NewImage: refImage }))).toThrow(/read through the object store/);
  });

  it('passes on a missing object as StoredObjectMissingError (the handler passes over such an uncommitted batch)', async () => {
    const objects = { read: () => Promise.reject(new StoredObjectMissingError('gone')) };
    await expect(readLogInsert(record('INSERT', { NewImage: refImage }), objects)).rejects.toThrow(StoredObjectMissingError);
  });
});
