/**
 * ObjectStore over S3: one object per write (one PUT), laid out by object-body.ts.
 *
 * Keys are bucketed by the minute the writer's clock read when it wrote them (keys.ts),
 * so the sweep's window of a few minutes is a few List calls of one prefix each, never a
 * scan of the bucket. A read is one ranged GET of the batch's
 * bytes; a manifest, a ranged GET of the object's head (a second one only for a manifest
 * longer than the first guess).
 *
 * The client comes from the wiring: no endpoint here (SDK v3 reads AWS_ENDPOINT_URL), and
 * path-style addressing is the client's configuration (the SDK uses it for an IP endpoint,
 * as the local cloud's is, by itself).
 */
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { StoredObjectMissingError } from '../../domain/errors.js';
import type { LogRecord, StoredBatchRef } from '../../domain/model.js';
import type { Clock, ObjectManifestEntry, ObjectStore, StoredObject } from '../../ports/index.js';
import type { BatchCompression } from '../dynamodb/record-batch-codec.js';
import { OBJECT_PREFIX, minutePrefix, objectKey } from './keys.js';
import { OBJECT_PREFIX_BYTES, decodeBatch, decodeManifest, encodeObject, manifestEnd } from './object-body.js';

export interface S3ObjectStoreOptions {
  bucket: string;
  /** The keys' first path segment. */
  prefix?: string;
  /** A topic's compression.type, as the log items use it (default none). */
  compressionOf?: (topic: string) => Promise<BatchCompression>;
}

const MINUTE_MS = 60_000;

/** A manifest of a produce call's batches (at most a few hundred partitions) fits in the first read of an object's head. */
const HEAD_GUESS_BYTES = 16 * 1024;

/**
 * How far an object's key bucket (the writer's clock before the PUT) may lie from its
 * LastModified (S3's clock when it took the object): a listing of [from, to) by
 * LastModified also lists this many minutes either side.
 */
const KEY_CLOCK_SLACK_MINUTES = 1;

const errorName = (error: unknown): string | undefined => (error as { name?: string } | null)?.name;
const isMissing = (error: unknown): boolean => errorName(error) === 'NoSuchKey' || errorName(error) === 'NotFound';

export class S3ObjectStore implements ObjectStore {
  private readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    private readonly options: S3ObjectStoreOptions,
    private readonly clock: Clock,
  ) {
    this.prefix = options.prefix ?? OBJECT_PREFIX;
  }

  async write(batches: ReadonlyArray<readonly LogRecord[]>): Promise<StoredBatchRef[]> {
    const topics = [...new Set(batches.flatMap((batch) => (batch[0] ? [batch[0].topic] : [])))];
    const compressions = new Map(
      await Promise.all(topics.map(async (topic) => [topic, this.options.compressionOf ? await this.options.compressionOf(topic) : 'none'] as const)),
    );
    const { body, manifest } = encodeObject(batches, (topic) => compressions.get(topic) ?? 'none');
    const now = this.clock.now();
    const key = objectKey(now, randomBytes(8).toString('hex'), this.prefix);
    await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentType: 'application/octet-stream' }));
    return manifest.map(({ start, length }) => ({ object: key, start, length }));
  }

  async read(ref: StoredBatchRef): Promise<LogRecord[]> {
    const bytes = await this.range(ref.object, ref.start, ref.length);
    if (bytes === null) throw new StoredObjectMissingError(`Stored batch ${ref.object} bytes ${ref.start}+${ref.length}: the object is gone.`);
    return decodeBatch(bytes, ref);
  }

  async listWritten(from: number, to: number): Promise<StoredObject[]> {
    if (to <= from) return [];
    const first = Math.floor(from / MINUTE_MS) - KEY_CLOCK_SLACK_MINUTES;
    const last = Math.floor((to - 1) / MINUTE_MS) + KEY_CLOCK_SLACK_MINUTES;
    const found: StoredObject[] = [];
    for (let minute = first; minute <= last; minute++) {
      const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.options.bucket, Prefix: minutePrefix(minute * MINUTE_MS, this.prefix) });
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          const writtenAt = object.LastModified?.getTime();
          if (object.Key === undefined || writtenAt === undefined) continue;
          if (writtenAt >= from && writtenAt < to) found.push({ key: object.Key, writtenAt });
        }
      }
    }
    return found.sort((a, b) => a.writtenAt - b.writtenAt || a.key.localeCompare(b.key));
  }

  async manifest(key: string): Promise<ObjectManifestEntry[] | null> {
    let head = await this.range(key, 0, HEAD_GUESS_BYTES);
    if (head === null) return null;
    const end = manifestEnd(head.subarray(0, OBJECT_PREFIX_BYTES));
    if (head.length < end) {
      head = await this.range(key, 0, end);
      if (head === null) return null;
    }
    return decodeManifest(head).map(({ topic, partition, replica, offset }) => ({ topic, partition, replica, offset }));
  }

  async delete(key: string): Promise<void> {
    // S3 answers a delete of a missing key with success: deleting twice is harmless.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
  }

  /** Up to `length` bytes from `start` (fewer at the object's end), or null when the object is gone. */
  private async range(key: string, start: number, length: number): Promise<Uint8Array | null> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key, Range: `bytes=${start}-${start + length - 1}` }));
      if (!response.Body) throw new Error(`S3 GetObject ${key} returned no body.`);
      return await response.Body.transformToByteArray();
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }
}
