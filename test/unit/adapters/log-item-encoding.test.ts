/**
 * The log item's stored record batch: every field of every record round-trips, in
 * either codec; items of the list-of-maps layout that preceded it still read, from the
 * table and from the log stream; and the item is sized as DynamoDB bills it.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue as EventAttributeValue, DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../simulation/prng.js';
import { MalformedItemError, decodeLogInsert } from '../../../functions/adapters/dynamodb/index.js';
import { logBatchItem, logRecordsFromItem, type Item } from '../../../functions/adapters/dynamodb/items.js';
import {
  MAX_BATCH_HEADER_BYTES,
  MAX_RECORD_OVERHEAD_BYTES,
  decodeRecordBatch,
  encodeRecordBatch,
  type BatchCompression,
} from '../../../functions/adapters/dynamodb/record-batch-codec.js';
import type { LogRecord } from '../../../functions/domain/model.js';
import { itemSize, writeUnitsFor } from '../../../localcloud/billing/dynamodb-billing.js';

const CODECS: BatchCompression[] = ['none', 'gzip'];

const base = { topic: 'orders', partition: 3, replica: 'broker-1', copy: 'follower' as const };

/** Deterministic pseudo-random numbers, so a failure names a reproducible case. */
const random = (seed: number): (() => number) => {
  const prng = new Prng(seed);
  return () => prng.next();
};

/** The item as a Lambda event carries it: DynamoDB JSON, binaries in base64. */
function eventImage(item: Item): Record<string, EventAttributeValue> {
  const toEvent = (value: Record<string, unknown>): EventAttributeValue =>
    value.B instanceof Uint8Array ? { B: Buffer.from(value.B).toString('base64') } : (value as EventAttributeValue);
  return Object.fromEntries(Object.entries(marshall(item)).map(([name, value]) => [name, toEvent(value as unknown as Record<string, unknown>)]));
}

const billedSize = (item: Item): number => itemSize(eventImage(item));

/** A follower item spanning leader appends of different epochs, times, producers and batches, and records from before batches. */
function mixedRecords(from: number): LogRecord[] {
  const fields: Array<Omit<LogRecord, 'topic' | 'partition' | 'replica' | 'copy' | 'offset'>> = [
    { leaderEpoch: 0, key: null, value: '', appendedAt: 1_700_000_000_000 },
    { leaderEpoch: 0, key: '', value: 'plain', appendedAt: 1_700_000_000_000, batch: { baseOffset: from + 1, lastOffset: from + 3 } },
    { leaderEpoch: 0, key: 'k', value: 'ünïcødé ✓ 𝄞 日本', appendedAt: 1_700_000_000_000, batch: { baseOffset: from + 1, lastOffset: from + 3 } },
    { leaderEpoch: 0, key: '🔑', value: '{"a":1}', appendedAt: 1_700_000_000_000, batch: { baseOffset: from + 1, lastOffset: from + 3 } },
    {
      leaderEpoch: 2,
      key: null,
      value: 'x'.repeat(300),
      appendedAt: 1_700_000_000_007,
      producer: { producerId: 9, producerEpoch: 0, sequence: 2_147_483_646 },
      batch: { baseOffset: from + 4, lastOffset: from + 7 },
    },
    {
      leaderEpoch: 2,
      key: 'a',
      value: 'b',
      appendedAt: 1_700_000_000_007,
      producer: { producerId: 9, producerEpoch: 0, sequence: 2_147_483_647 },
      batch: { baseOffset: from + 4, lastOffset: from + 7 },
    },
    // The sequence wraps as Kafka's does: the run goes on at 0.
    { leaderEpoch: 2, key: 'a', value: 'c', appendedAt: 1_700_000_000_007, producer: { producerId: 9, producerEpoch: 0, sequence: 0 }, batch: { baseOffset: from + 4, lastOffset: from + 7 } },
    { leaderEpoch: 2, key: 'a', value: 'd', appendedAt: 1_700_000_000_007, producer: { producerId: 10, producerEpoch: 1, sequence: 1 }, batch: { baseOffset: from + 4, lastOffset: from + 7 } },
    // A batch longer than the item: its last offset is past the item's.
    { leaderEpoch: 5, key: null, value: 'tail', appendedAt: 0, producer: { producerId: 10, producerEpoch: 2, sequence: 2 }, batch: { baseOffset: from + 8, lastOffset: from + 40 } },
  ];
  return fields.map((f, i) => ({ ...base, offset: from + i, ...f }));
}

function randomRecords(seed: number, from: number, count: number): LogRecord[] {
  const next = random(seed);
  const int = (below: number) => Math.floor(next() * below);
  const text = (length: number) => Array.from({ length }, () => String.fromCodePoint([int(128), 0xe9, 0x4e2d, 0x1f600][int(4)])).join('');
  let batchStart = from;
  let batchEnd = from + int(5);
  return Array.from({ length: count }, (_, i) => {
    const offset = from + i;
    if (offset > batchEnd) {
      batchStart = offset;
      batchEnd = offset + int(5);
    }
    return {
      ...base,
      offset,
      leaderEpoch: int(3),
      key: next() < 0.3 ? null : text(int(12)),
      value: text(int(64)),
      appendedAt: Number.MAX_SAFE_INTEGER - int(3),
      ...(next() < 0.7 ? { producer: { producerId: int(3), producerEpoch: int(2), sequence: int(4) } } : {}),
      ...(next() < 0.8 ? { batch: { baseOffset: batchStart, lastOffset: batchEnd } } : {}),
    };
  });
}

/** The list-of-maps layout items had before `data`: what retained tables hold. */
function legacyItem(records: LogRecord[]): Item {
  const { data: _encoded, ...plain } = logBatchItem(records);
  return {
    ...plain,
    records: records.map((r) => ({
      leaderEpoch: r.leaderEpoch,
      key: r.key,
      value: r.value,
      appendedAt: r.appendedAt,
      ...(r.producer ? { producer: r.producer } : {}),
      ...(r.batch ? { batch: r.batch } : {}),
    })),
  };
}

const streamInsert = (image: Record<string, EventAttributeValue>): DynamoDBRecord => ({
  eventID: 'e1',
  eventName: 'INSERT',
  dynamodb: { SequenceNumber: '7', NewImage: image },
});

const oneKiB = (seed: number): string => {
  const next = random(seed);
  // Printable ASCII, one byte each: random enough that gzip cannot shrink it much.
  return Array.from({ length: 1024 }, () => String.fromCharCode(33 + Math.floor(next() * 94))).join('');
};

const leaderBatch = (values: string[], from = 1_000): LogRecord[] =>
  values.map((value, i) => ({
    ...base,
    copy: 'leader',
    offset: from + i,
    leaderEpoch: 4,
    key: `key-${String(i).padStart(6, '0')}`,
    value,
    appendedAt: 1_765_000_000_000,
    producer: { producerId: 1234, producerEpoch: 0, sequence: 500 + i },
    batch: { baseOffset: from, lastOffset: from + values.length - 1 },
  }));

describe('log item encoding', () => {
  it.each(CODECS)('round-trips every field of every record (%s), however the records of an item differ', (codec) => {
    for (const records of [mixedRecords(0), mixedRecords(123_456_789), ...[1, 2, 3, 4, 5, 6, 7, 8].map((seed) => randomRecords(seed, seed * 1000, 98))]) {
      const item = logBatchItem(records, codec);
      expect(item.data).toBeInstanceOf(Uint8Array);
      expect(item).not.toHaveProperty('records');
      expect(logRecordsFromItem(item)).toEqual(records);
      // The log stream carries the binary in base64.
      expect(decodeLogInsert(streamInsert(eventImage(item))).records).toEqual(records);
    }
  });

  it('still reads items in the list-of-maps layout, from the table and from the log stream', () => {
    for (const records of [mixedRecords(40), randomRecords(99, 0, 98)]) {
      const item = legacyItem(records);
      expect(logRecordsFromItem(item)).toEqual(records);
      expect(decodeLogInsert(streamInsert(eventImage(item))).records).toEqual(records);
    }
  });

  it('keeps plain what queries and the stream filter need', () => {
    const item = logBatchItem(mixedRecords(10));
    expect(item).toMatchObject({ replica: 'orders#3#broker-1', offset: 10, topic: 'orders', partition: 3, brokerId: 'broker-1', copy: 'follower', lastOffset: 18 });
  });

  it('bounds a record\'s encoded overhead, so a writer can size an item before encoding it', () => {
    const huge = Number.MAX_SAFE_INTEGER;
    const record = {
      leaderEpoch: huge,
      key: 'k',
      value: 'v',
      appendedAt: huge,
      producer: { producerId: huge, producerEpoch: huge, sequence: huge },
      batch: { baseOffset: 0, lastOffset: huge },
    };
    // At offset 2^53-1 - 0 the batch starts 2^53-1 below: every field at its largest.
    const encoded = encodeRecordBatch([{ ...record, batch: { baseOffset: 0, lastOffset: huge } }], huge);
    expect(encoded.length).toBeLessThanOrEqual(MAX_BATCH_HEADER_BYTES + MAX_RECORD_OVERHEAD_BYTES + 2);
    expect(decodeRecordBatch(encoded, huge)).toEqual([record]);
  });

  it('refuses a number it cannot store exactly, and a batch that does not hold its record', () => {
    const record = { leaderEpoch: 1, key: null, value: 'v', appendedAt: 1 };
    expect(() => encodeRecordBatch([{ ...record, appendedAt: 1.5 }], 0)).toThrow(/appendedAt/);
    expect(() => encodeRecordBatch([{ ...record, leaderEpoch: -1 }], 0)).toThrow(/leaderEpoch/);
    expect(() => encodeRecordBatch([{ ...record, batch: { baseOffset: 3, lastOffset: 4 } }], 0)).toThrow(/do not hold/);
    expect(() => encodeRecordBatch([], 0)).toThrow(/at least one/);
  });

  it('refuses malformed stored bytes, naming the attribute and the fault', () => {
    const item = logBatchItem(mixedRecords(0));
    const data = item.data as Uint8Array;
    const withData = (bytes: Uint8Array) => ({ ...item, data: bytes });
    const cases: Array<[Uint8Array, RegExp]> = [
      [Uint8Array.of(9, ...data.subarray(1)), /format version 9/],
      [Uint8Array.of(1, 7, ...data.subarray(2)), /unknown codec 7/],
      [data.subarray(0, data.length - 1), /runs past the end|ends before/],
      [Uint8Array.of(...data, 0), /left after the last record/],
      [Uint8Array.of(1, 1, 1, 2, 3), /does not gunzip/],
      [Uint8Array.of(1), /shorter than its header/],
    ];
    for (const [bytes, fault] of cases) {
      expect(() => logRecordsFromItem(withData(bytes))).toThrow(MalformedItemError);
      expect(() => logRecordsFromItem(withData(bytes))).toThrow(fault);
      expect(() => logRecordsFromItem(withData(bytes))).toThrow(/"data"/);
    }
    expect(() => logRecordsFromItem({ ...item, data: 'text' })).toThrow(/"data" should be a binary/);
    expect(() => logRecordsFromItem({ ...item, lastOffset: 99 })).toThrow(/lastOffset/);
  });

  it('bills 16 x 1 KiB at 17 write units or fewer, where the list of maps took 19', () => {
    const records = leaderBatch(Array.from({ length: 16 }, (_, i) => oneKiB(i + 1)));
    const item = logBatchItem(records);
    const legacy = billedSize(legacyItem(records));
    const encoded = billedSize(item);
    // Key and value bytes are the floor; what the item adds to them is per item, not per record.
    const payload = records.reduce((sum, r) => sum + Buffer.byteLength(r.value) + Buffer.byteLength(r.key ?? ''), 0);
    expect(encoded - payload).toBeLessThan(200);
    expect(writeUnitsFor(encoded)).toBeLessThanOrEqual(17);
    expect(writeUnitsFor(legacy)).toBe(19);
  });

  it('with gzip stores compressible records smaller, and incompressible ones no larger than without', () => {
    const json = (i: number) =>
      JSON.stringify({ orderId: `ord-${100_000 + i}`, customer: `customer-${i % 7}`, status: 'CONFIRMED', items: [{ sku: 'SKU-1', qty: 2 }] }).padEnd(1024, ' ');
    const compressible = leaderBatch(Array.from({ length: 16 }, (_, i) => json(i)));
    const plainSize = billedSize(logBatchItem(compressible, 'none'));
    const gzipSize = billedSize(logBatchItem(compressible, 'gzip'));
    expect(gzipSize * 4).toBeLessThan(plainSize);
    expect(logRecordsFromItem(logBatchItem(compressible, 'gzip'))).toEqual(compressible);

    const incompressible = leaderBatch(Array.from({ length: 16 }, (_, i) => Buffer.from(oneKiB(i)).toString('base64')));
    const stored = logBatchItem(incompressible, 'gzip');
    expect(billedSize(stored)).toBeLessThanOrEqual(billedSize(logBatchItem(incompressible, 'none')));
    expect(logRecordsFromItem(stored)).toEqual(incompressible);
  });
});
