/**
 * The stored form of a log item's records: one Binary attribute instead of a list of
 * maps. DynamoDB bills an item by its attribute names and values, and a map per record
 * repeats the names of six fields (about 110 bytes a record); here a record costs a
 * flags byte, its key and value with their lengths, and only the fields that differ
 * from the record before it. Within one leader append the epoch, time and batch bounds
 * are the same for every record and an idempotent producer's sequences run on by one,
 * so those are written once per run; a follower's item that spans several appends
 * still round-trips, because any field may change at any record.
 *
 * Layout: a format version byte, a codec byte (none | gzip: Kafka's compression.type,
 * applied to everything after the two bytes), then the body: the record count and, per
 * record, the flags and the fields they announce. Numbers are unsigned LEB128 varints:
 * every stored number (epochs, times, producer fields, offset deltas) is a
 * non-negative integer. Offsets are not stored: an item holds consecutive records from
 * its key's offset.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { BatchBounds, ProducerStamp } from '../../domain/model.js';

/** What an item stores per record; topic, partition, replica, offset and copy are the item's. */
export interface StoredRecord {
  leaderEpoch: number;
  key: string | null;
  value: string;
  appendedAt: number;
  producer?: ProducerStamp;
  batch?: BatchBounds;
}

/** Kafka's compression.type values this store can apply; the others need codecs Node lacks. */
export type BatchCompression = 'none' | 'gzip';

export const RECORD_BATCH_FORMAT_VERSION = 1;

const CODECS: readonly BatchCompression[] = ['none', 'gzip'];

const HAS_KEY = 0x01;
const HAS_PRODUCER = 0x02;
const HAS_BATCH = 0x04;
const NEW_EPOCH = 0x08;
const NEW_TIME = 0x10;
const NEW_BATCH = 0x20;
const NEW_PRODUCER = 0x40;
const KNOWN_FLAGS = 0x7f;

/** A varint of a safe integer (below 2^53) is at most 8 bytes. */
const MAX_VARINT_BYTES = 8;

/**
 * The most bytes one record adds besides its key's and value's UTF-8 bytes: flags, epoch,
 * time, two batch deltas, three producer fields and two lengths. Lets a writer bound an
 * item's encoded size before encoding it.
 */
export const MAX_RECORD_OVERHEAD_BYTES = 1 + MAX_VARINT_BYTES * 9;

/** Version, codec and a count of at most 8 bytes. */
export const MAX_BATCH_HEADER_BYTES = 2 + MAX_VARINT_BYTES;

/** The bytes do not decode as a stored record batch. */
export class RecordBatchFormatError extends Error {}

class Writer {
  private readonly chunks: Uint8Array[] = [];
  private readonly scratch: number[] = [];

  uint(value: number, field: string): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`Cannot store ${field} ${value}: stored numbers are non-negative integers.`);
    let rest = value;
    while (rest >= 0x80) {
      this.scratch.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.scratch.push(rest);
  }

  byte(value: number): void {
    this.scratch.push(value);
  }

  text(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.uint(bytes.length, 'length');
    this.flush();
    this.chunks.push(bytes);
  }

  bytes(): Buffer {
    this.flush();
    return Buffer.concat(this.chunks);
  }

  private flush(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.scratch.length = 0;
  }
}

class Reader {
  private at = 0;
  constructor(private readonly buffer: Buffer) {}

  uint(field: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.byte(field);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) break;
        return value;
      }
      scale *= 0x80;
    }
    throw new RecordBatchFormatError(`${field} at byte ${this.at} is not a stored number.`);
  }

  byte(field: string): number {
    const byte = this.buffer[this.at];
    if (byte === undefined) throw new RecordBatchFormatError(`ends before ${field} (byte ${this.at}).`);
    this.at++;
    return byte;
  }

  text(field: string): string {
    const length = this.uint(`${field} length`);
    if (this.at + length > this.buffer.length) throw new RecordBatchFormatError(`${field} of ${length} bytes runs past the end.`);
    const value = this.buffer.toString('utf8', this.at, this.at + length);
    this.at += length;
    return value;
  }

  requireEnd(): void {
    if (this.at !== this.buffer.length) throw new RecordBatchFormatError(`${this.buffer.length - this.at} bytes left after the last record.`);
  }
}

const sameBatch = (a: BatchBounds | undefined, b: BatchBounds | undefined): boolean =>
  a !== undefined && b !== undefined && a.baseOffset === b.baseOffset && a.lastOffset === b.lastOffset;

/** The stamp of the producer's next record in the same run: same producer and epoch, next sequence. */
const continues = (previous: ProducerStamp | undefined, stamp: ProducerStamp): boolean =>
  previous !== undefined &&
  previous.producerId === stamp.producerId &&
  previous.producerEpoch === stamp.producerEpoch &&
  previous.sequence + 1 === stamp.sequence;

function encodeBody(records: readonly StoredRecord[], baseOffset: number): Buffer {
  const out = new Writer();
  out.uint(records.length, 'record count');
  let previous: StoredRecord | undefined;
  records.forEach((record, i) => {
    const offset = baseOffset + i;
    const { batch, producer } = record;
    if (batch && (batch.baseOffset > offset || batch.lastOffset < offset)) {
      throw new Error(`Record at offset ${offset} has batch bounds ${batch.baseOffset}..${batch.lastOffset} that do not hold it.`);
    }
    const newEpoch = previous?.leaderEpoch !== record.leaderEpoch;
    const newTime = previous?.appendedAt !== record.appendedAt;
    const newBatch = batch !== undefined && !sameBatch(previous?.batch, batch);
    const newProducer = producer !== undefined && !continues(previous?.producer, producer);
    out.byte(
      (record.key === null ? 0 : HAS_KEY) |
        (producer ? HAS_PRODUCER : 0) |
        (batch ? HAS_BATCH : 0) |
        (newEpoch ? NEW_EPOCH : 0) |
        (newTime ? NEW_TIME : 0) |
        (newBatch ? NEW_BATCH : 0) |
        (newProducer ? NEW_PRODUCER : 0),
    );
    if (newEpoch) out.uint(record.leaderEpoch, 'leaderEpoch');
    if (newTime) out.uint(record.appendedAt, 'appendedAt');
    if (batch && newBatch) {
      out.uint(offset - batch.baseOffset, 'batch.baseOffset');
      out.uint(batch.lastOffset - offset, 'batch.lastOffset');
    }
    if (producer && newProducer) {
      out.uint(producer.producerId, 'producer.producerId');
      out.uint(producer.producerEpoch, 'producer.producerEpoch');
      out.uint(producer.sequence, 'producer.sequence');
    }
    if (record.key !== null) out.text(record.key);
    out.text(record.value);
    previous = record;
  });
  return out.bytes();
}

function decodeBody(body: Buffer, baseOffset: number): StoredRecord[] {
  const input = new Reader(body);
  const count = input.uint('record count');
  if (count === 0) throw new RecordBatchFormatError('holds no records.');
  const records: StoredRecord[] = [];
  let previous: StoredRecord | undefined;
  for (let i = 0; i < count; i++) {
    const offset = baseOffset + i;
    const where = `record ${i}`;
    const flags = input.byte(`${where} flags`);
    if ((flags & ~KNOWN_FLAGS) !== 0) throw new RecordBatchFormatError(`${where} has unknown flags ${flags}.`);
    if (!previous && (flags & (NEW_EPOCH | NEW_TIME)) !== (NEW_EPOCH | NEW_TIME)) {
      throw new RecordBatchFormatError('the first record lacks its epoch or time.');
    }
    const leaderEpoch = flags & NEW_EPOCH ? input.uint(`${where} leaderEpoch`) : previous!.leaderEpoch;
    const appendedAt = flags & NEW_TIME ? input.uint(`${where} appendedAt`) : previous!.appendedAt;
    let batch: BatchBounds | undefined;
    if (flags & HAS_BATCH) {
      if (flags & NEW_BATCH) {
        const below = input.uint(`${where} batch.baseOffset`);
        if (below > offset) throw new RecordBatchFormatError(`${where} has a batch starting below offset 0.`);
        batch = { baseOffset: offset - below, lastOffset: offset + input.uint(`${where} batch.lastOffset`) };
      } else {
        if (!previous?.batch || previous.batch.lastOffset < offset) throw new RecordBatchFormatError(`${where} continues a batch that does not hold it.`);
        batch = previous.batch;
      }
    }
    let producer: ProducerStamp | undefined;
    if (flags & HAS_PRODUCER) {
      if (flags & NEW_PRODUCER) {
        producer = {
          producerId: input.uint(`${where} producer.producerId`),
          producerEpoch: input.uint(`${where} producer.producerEpoch`),
          sequence: input.uint(`${where} producer.sequence`),
        };
      } else {
        if (!previous?.producer) throw new RecordBatchFormatError(`${where} continues a producer run that is not there.`);
        producer = { ...previous.producer, sequence: previous.producer.sequence + 1 };
      }
    }
    const key = flags & HAS_KEY ? input.text(`${where} key`) : null;
    const record: StoredRecord = {
      leaderEpoch,
      key,
      value: input.text(`${where} value`),
      appendedAt,
      ...(producer ? { producer } : {}),
      ...(batch ? { batch: { ...batch } } : {}),
    };
    records.push(record);
    previous = record;
  }
  input.requireEnd();
  return records;
}

/**
 * The records from `baseOffset` on, encoded. With gzip the body is compressed, unless
 * that would not make it smaller (random values): then it is stored as it is, so the
 * encoded size never exceeds the uncompressed one.
 */
export function encodeRecordBatch(records: readonly StoredRecord[], baseOffset: number, compression: BatchCompression = 'none'): Uint8Array {
  if (records.length === 0) throw new Error('A record batch holds at least one record.');
  const body = encodeBody(records, baseOffset);
  const compressed = compression === 'gzip' ? gzipSync(body) : undefined;
  const [codec, stored] = compressed && compressed.length < body.length ? ['gzip' as const, compressed] : ['none' as const, body];
  return Buffer.concat([Uint8Array.of(RECORD_BATCH_FORMAT_VERSION, CODECS.indexOf(codec)), stored]);
}

export function decodeRecordBatch(encoded: Uint8Array, baseOffset: number): StoredRecord[] {
  const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  if (bytes.length < 2) throw new RecordBatchFormatError(`is ${bytes.length} bytes, shorter than its header.`);
  if (bytes[0] !== RECORD_BATCH_FORMAT_VERSION) {
    throw new RecordBatchFormatError(`has format version ${bytes[0]}; this code reads version ${RECORD_BATCH_FORMAT_VERSION}.`);
  }
  const codec = CODECS[bytes[1]];
  if (!codec) throw new RecordBatchFormatError(`has unknown codec ${bytes[1]}.`);
  const stored = bytes.subarray(2);
  let body: Buffer;
  try {
    body = codec === 'gzip' ? gunzipSync(stored) : stored;
  } catch (error) {
    throw new RecordBatchFormatError(`does not gunzip: ${error instanceof Error ? error.message : String(error)}.`);
  }
  return decodeBody(body, baseOffset);
}
