import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../functions/domain/model.js';
import { ObjectFormatError, crc32, decodeBatch, decodeManifest, encodeObject, manifestEnd } from '../../../functions/adapters/s3/object-body.js';

const recordsOf = (topic: string, partition: number, replica: string, from: number, count: number, value = (i: number) => `value-${i}`): LogRecord[] =>
  Array.from({ length: count }, (_, i) => ({
    topic,
    partition,
    replica,
    offset: from + i,
    leaderEpoch: 3,
    key: i % 2 === 0 ? `k${i}` : null,
    value: value(i),
    appendedAt: 1_765_000_000_000,
    copy: 'leader' as const,
    producer: { producerId: 7, producerEpoch: 0, sequence: 40 + i },
    batch: { baseOffset: from, lastOffset: from + count - 1 },
  }));

const slice = (body: Buffer, start: number, length: number) => body.subarray(start, start + length);

describe('diskless object body', () => {
  const batches = [recordsOf('orders', 0, 'A', 10, 5), recordsOf('orders', 3, 'B', 0, 1), recordsOf('audit', 1, 'C', 99, 40, (i) => `{"n":${i},"pad":"${'x'.repeat(100)}"}`)];
  const compressionOf = (topic: string) => (topic === 'audit' ? ('gzip' as const) : ('none' as const));

  it('round-trips every batch from its range alone, and the manifest from the head', () => {
    const { body, manifest } = encodeObject(batches, compressionOf);
    expect(manifest.map(({ topic, partition, replica, offset }) => ({ topic, partition, replica, offset }))).toEqual([
      { topic: 'orders', partition: 0, replica: 'A', offset: 10 },
      { topic: 'orders', partition: 3, replica: 'B', offset: 0 },
      { topic: 'audit', partition: 1, replica: 'C', offset: 99 },
    ]);
    const end = manifestEnd(body.subarray(0, 5));
    expect(decodeManifest(body.subarray(0, end))).toEqual(manifest);
    // The ranges tile the object after the manifest.
    expect(manifest[0].start).toBe(end);
    expect(manifest.at(-1)!.start + manifest.at(-1)!.length).toBe(body.length);
    for (const [i, entry] of manifest.entries()) {
      const ref = { object: 'o/1', start: entry.start, length: entry.length };
      expect(decodeBatch(slice(body, entry.start, entry.length), ref)).toEqual(batches[i].map((r) => ({ ...r, stored: ref })));
    }
  });

  it('applies the topic compression: a gzip batch of repetitive records is smaller than the same batch uncompressed', () => {
    const gzip = encodeObject([batches[2]], () => 'gzip').manifest[0].length;
    const none = encodeObject([batches[2]], () => 'none').manifest[0].length;
    expect(gzip).toBeLessThan(none / 2);
  });

  it('refuses corrupt bytes with a clear error', () => {
    const { body, manifest } = encodeObject(batches, compressionOf);
    const entry = manifest[0];
    const ref = { object: 'o/1', start: entry.start, length: entry.length };
    const flipped = Buffer.from(body);
    flipped[0] = 9;
    expect(() => manifestEnd(flipped)).toThrow(new ObjectFormatError('has format byte 9; this code reads diskless objects of format 1.'));
    expect(() => decodeManifest(body.subarray(0, 10))).toThrow(/inside its manifest/);
    const garbled = Buffer.from(body.subarray(0, manifestEnd(body)));
    garbled[6] = 0x7b; // breaks the JSON
    expect(() => decodeManifest(garbled)).toThrow(ObjectFormatError);
    // A range one byte off, or one that is not a batch at all.
    expect(() => decodeBatch(slice(body, entry.start + 1, entry.length), ref)).toThrow(ObjectFormatError);
    expect(() => decodeBatch(slice(body, entry.start, entry.length - 1), ref)).toThrow(/got \d+ bytes/);
    const tail = Buffer.from(slice(body, entry.start, entry.length));
    tail[tail.length - 1] ^= 0xff;
    expect(() => decodeBatch(tail, ref)).toThrow(/batch at o\/1 bytes \d+\+\d+: the records. CRC-32 is \d+, the header says \d+: the bytes are corrupt/);
  });

  it('refuses to write an empty object or a batch that is not consecutive records of one replica', () => {
    expect(() => encodeObject([], compressionOf)).toThrow(/at least one batch/);
    expect(() => encodeObject([[]], compressionOf)).toThrow(/holds no records/);
    const gap = recordsOf('orders', 0, 'A', 0, 3);
    gap[2] = { ...gap[2], offset: 5 };
    expect(() => encodeObject([gap], compressionOf)).toThrow(/record 2 \(offset 5\) does not follow/);
  });
});

describe('crc32', () => {
  it('is the IEEE CRC-32 zlib computes', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array())).toBe(0);
  });
});
