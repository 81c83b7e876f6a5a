/**
 * The bytes of one diskless object: the batches of one produce call, several partitions'
 * at once, each readable on its own with one ranged GET.
 *
 * Layout: a format byte, the manifest (a 4-byte big-endian length, then JSON: one entry
 * per batch with its topic, partition, origin replica, offset and its byte range in the
 * object), then the batches. A batch is a 4-byte big-endian header length, the header
 * (JSON: topic, partition, replica, base offset, CRC-32 of the records) and the records encoded by the log's
 * record-batch codec (adapters/dynamodb/record-batch-codec.ts, so the topic's
 * compression.type applies as it does to log items). A batch's range covers its header,
 * so the range alone says whose records they are and where they start: a reader needs
 * nothing from the manifest, and a range that points at the wrong batch is caught.
 *
 * Pure: no S3 here (object-store.ts moves the bytes).
 */
import type { LogRecord, StoredBatchRef } from '../../domain/model.js';
import type { ObjectManifestEntry } from '../../ports/index.js';
import { RecordBatchFormatError, decodeRecordBatch, encodeRecordBatch, type BatchCompression } from '../dynamodb/record-batch-codec.js';

export const OBJECT_FORMAT_VERSION = 1;

/** The format byte and the manifest's length: what a reader fetches before it knows the manifest's size. */
export const OBJECT_PREFIX_BYTES = 1 + 4;

const LENGTH_BYTES = 4;

/** The bytes are not a diskless object (or not the batch a reference says they are). */
export class ObjectFormatError extends Error {
  override readonly name = 'ObjectFormatError';
}

/** A manifest entry with the batch's place in the object. */
export interface ManifestEntry extends ObjectManifestEntry {
  start: number;
  length: number;
}

export interface EncodedObject {
  body: Buffer;
  manifest: ManifestEntry[];
}

interface BatchHeader {
  topic: string;
  partition: number;
  replica: string;
  baseOffset: number;
  /** CRC-32 of the encoded records, as Kafka's record batches carry one: S3 checks a PUT's bytes, not a range read later. */
  crc: number;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (IEEE), as zlib computes it; Node 20, which the bundles target, has no zlib.crc32. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const lengthPrefixed = (json: unknown): Buffer => {
  const text = Buffer.from(JSON.stringify(json), 'utf8');
  const length = Buffer.alloc(LENGTH_BYTES);
  length.writeUInt32BE(text.length);
  return Buffer.concat([length, text]);
};

/** Consecutive records of one replica of one partition, as one leader append writes them. */
function requireBatch(records: readonly LogRecord[], index: number): LogRecord {
  const first = records[0];
  if (!first) throw new Error(`Batch ${index} of a diskless object holds no records.`);
  records.forEach((r, i) => {
    if (r.topic !== first.topic || r.partition !== first.partition || r.replica !== first.replica || r.offset !== first.offset + i) {
      throw new Error(`Batch ${index} of a diskless object holds consecutive records of one replica; record ${i} (offset ${r.offset}) does not follow.`);
    }
  });
  return first;
}

/** One object holding these batches, in this order; `compressionOf` gives each topic's codec. */
export function encodeObject(batches: ReadonlyArray<readonly LogRecord[]>, compressionOf: (topic: string) => BatchCompression): EncodedObject {
  if (batches.length === 0) throw new Error('A diskless object holds at least one batch.');
  const encoded = batches.map((records, i) => {
    const first = requireBatch(records, i);
    const encodedRecords = encodeRecordBatch(records, first.offset, compressionOf(first.topic));
    const header: BatchHeader = { topic: first.topic, partition: first.partition, replica: first.replica, baseOffset: first.offset, crc: crc32(encodedRecords) };
    return { header, bytes: Buffer.concat([lengthPrefixed(header), encodedRecords]) };
  });
  // The manifest names the batches' starts, which follow it: its own length moves them, so
  // it is laid out until it stops changing (the starts only grow, so this ends quickly).
  let manifestBytes = 0;
  for (;;) {
    let at = 1 + manifestBytes;
    const manifest: ManifestEntry[] = encoded.map(({ header, bytes }) => {
      const entry = { topic: header.topic, partition: header.partition, replica: header.replica, offset: header.baseOffset, start: at, length: bytes.length };
      at += bytes.length;
      return entry;
    });
    const prefixed = lengthPrefixed({ entries: manifest });
    if (prefixed.length === manifestBytes) {
      return { body: Buffer.concat([Uint8Array.of(OBJECT_FORMAT_VERSION), prefixed, ...encoded.map((e) => e.bytes)]), manifest };
    }
    manifestBytes = prefixed.length;
  }
}

const requireVersion = (bytes: Uint8Array): void => {
  if (bytes.length < OBJECT_PREFIX_BYTES) throw new ObjectFormatError(`is ${bytes.length} bytes, shorter than a diskless object's prefix.`);
  if (bytes[0] !== OBJECT_FORMAT_VERSION) {
    throw new ObjectFormatError(`has format byte ${bytes[0]}; this code reads diskless objects of format ${OBJECT_FORMAT_VERSION}.`);
  }
};

/** How many bytes from the object's start hold its format byte and manifest (given at least its first OBJECT_PREFIX_BYTES). */
export function manifestEnd(head: Uint8Array): number {
  requireVersion(head);
  return OBJECT_PREFIX_BYTES + Buffer.from(head.buffer, head.byteOffset, head.byteLength).readUInt32BE(1);
}

const parseJson = (bytes: Buffer, what: string): unknown => {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ObjectFormatError(`${what} is not JSON: ${error instanceof Error ? error.message : String(error)}.`);
  }
};

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isName = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** The manifest of an object, from its first manifestEnd(head) bytes (or more). */
export function decodeManifest(head: Uint8Array): ManifestEntry[] {
  const end = manifestEnd(head);
  if (head.length < end) throw new ObjectFormatError(`ends at byte ${head.length}, inside its manifest of ${end - OBJECT_PREFIX_BYTES} bytes.`);
  const json = parseJson(Buffer.from(head.buffer, head.byteOffset + OBJECT_PREFIX_BYTES, end - OBJECT_PREFIX_BYTES), 'the manifest');
  const entries = (json as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) throw new ObjectFormatError('the manifest has no list of entries.');
  return entries.map((entry: Record<string, unknown>, i): ManifestEntry => {
    const { topic, partition, replica, offset, start, length } = entry ?? {};
    if (!isName(topic) || !isCount(partition) || !isName(replica) || !isCount(offset) || !isCount(start) || !isCount(length) || start < end) {
      throw new ObjectFormatError(`manifest entry ${i} is not a batch's topic, partition, replica, offset and byte range: ${JSON.stringify(entry)}.`);
    }
    return { topic, partition, replica, offset, start, length };
  });
}

/**
 * The records of one batch from exactly its range's bytes, as the leader appended them
 * (copy `leader`), each carrying `ref`.
 */
export function decodeBatch(bytes: Uint8Array, ref: StoredBatchRef): LogRecord[] {
  const where = `batch at ${ref.object} bytes ${ref.start}+${ref.length}`;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length !== ref.length) throw new ObjectFormatError(`${where}: got ${buffer.length} bytes.`);
  if (buffer.length < LENGTH_BYTES) throw new ObjectFormatError(`${where}: shorter than a batch header.`);
  const headerEnd = LENGTH_BYTES + buffer.readUInt32BE(0);
  if (headerEnd > buffer.length) throw new ObjectFormatError(`${where}: its header runs past the range.`);
  const header = parseJson(buffer.subarray(LENGTH_BYTES, headerEnd), `${where}: the header`) as Partial<BatchHeader> | null;
  const { topic, partition, replica, baseOffset, crc } = header ?? {};
  if (!isName(topic) || !isCount(partition) || !isName(replica) || !isCount(baseOffset) || !isCount(crc)) {
    throw new ObjectFormatError(`${where}: the header is not a batch's topic, partition, replica, base offset and CRC: ${JSON.stringify(header)}.`);
  }
  const encodedRecords = buffer.subarray(headerEnd);
  const actual = crc32(encodedRecords);
  if (actual !== crc) throw new ObjectFormatError(`${where}: the records' CRC-32 is ${actual}, the header says ${crc}: the bytes are corrupt.`);
  let records;
  try {
    records = decodeRecordBatch(encodedRecords, baseOffset);
  } catch (error) {
    if (!(error instanceof RecordBatchFormatError)) throw error;
    throw new ObjectFormatError(`${where}: the records ${error.message}`);
  }
  return records.map((record, i): LogRecord => ({ topic, partition, replica, offset: baseOffset + i, copy: 'leader', ...record, stored: { ...ref } }));
}
