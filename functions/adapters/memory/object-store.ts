/**
 * ObjectStore in memory (S3's part in tests and the simulation): objects written once,
 * listed by when they were written, read by range, deleted. A range here counts records,
 * not bytes: `start` is the batch's first record in the object, `length` its records.
 * Every operation first passes the yield point, as S3 requests are separate calls between
 * which other invocations run (and a simulated one may die).
 */
import { StoredObjectMissingError, ValidationError } from '../../domain/errors.js';
import type { LogRecord, StoredBatchRef } from '../../domain/model.js';
import type { Clock, ObjectManifestEntry, ObjectStore, StoredObject } from '../../ports/index.js';
import { copyOf, yieldToOtherCallers, type YieldPoint } from './tables.js';

interface MemoryObject {
  key: string;
  writtenAt: number;
  manifest: ObjectManifestEntry[];
  records: LogRecord[];
}

const MINUTE_MS = 60_000;

export class MemoryObjectStore implements ObjectStore {
  private readonly objects = new Map<string, MemoryObject>();
  private written = 0;
  /** Keys of every object deleted, in order (the simulation counts orphans by them). */
  readonly deletedKeys: string[] = [];
  /** Keys of every object written, in order (deleted ones too): the n-th write's key is writtenKeys[n - 1]. */
  readonly writtenKeys: string[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly yieldPoint: YieldPoint = yieldToOtherCallers,
    private readonly prefix = 'objects',
  ) {}

  async write(batches: ReadonlyArray<readonly LogRecord[]>): Promise<StoredBatchRef[]> {
    await this.yieldPoint('objects.write');
    if (batches.length === 0 || batches.some((batch) => batch.length === 0)) {
      throw new ValidationError('batches: an object holds at least one batch, each of at least one record; nothing was written.');
    }
    const writtenAt = this.clock.now();
    // Time-bucketed keys as on S3, so that a window of them is listed without a scan of the store.
    const key = `${this.prefix}/${Math.floor(writtenAt / MINUTE_MS)}/${writtenAt}-${(++this.written).toString(16).padStart(8, '0')}`;
    const records: LogRecord[] = [];
    const refs = batches.map((batch): StoredBatchRef => {
      const ref = { object: key, start: records.length, length: batch.length };
      records.push(...batch.map(copyOf));
      return ref;
    });
    const manifest = batches.map(([first]): ObjectManifestEntry => ({
      topic: first.topic,
      partition: first.partition,
      replica: first.replica,
      offset: first.offset,
    }));
    this.objects.set(key, { key, writtenAt, manifest, records });
    this.writtenKeys.push(key);
    return refs;
  }

  async read(ref: StoredBatchRef): Promise<LogRecord[]> {
    await this.yieldPoint('objects.read');
    return this.peek(ref);
  }

  async listWritten(from: number, to: number): Promise<StoredObject[]> {
    await this.yieldPoint('objects.list');
    return [...this.objects.values()]
      .filter((object) => object.writtenAt >= from && object.writtenAt < to)
      .sort((a, b) => a.writtenAt - b.writtenAt || a.key.localeCompare(b.key))
      .map(({ key, writtenAt }) => ({ key, writtenAt }));
  }

  async manifest(key: string): Promise<ObjectManifestEntry[] | null> {
    await this.yieldPoint('objects.manifest');
    const object = this.objects.get(key);
    return object ? copyOf(object.manifest) : null;
  }

  async delete(key: string): Promise<void> {
    await this.yieldPoint('objects.delete');
    if (this.objects.delete(key)) this.deletedKeys.push(key);
  }

  /** read without the yield point: for checks that must see the store between two operations. */
  peek(ref: StoredBatchRef): LogRecord[] {
    const object = this.objects.get(ref.object);
    if (!object) throw new StoredObjectMissingError(`Object ${ref.object} is gone: the batch at its range ${ref.start}+${ref.length} cannot be read.`);
    if (ref.start < 0 || ref.length < 1 || ref.start + ref.length > object.records.length) {
      throw new ValidationError(`Range ${ref.start}+${ref.length} is outside object ${ref.object} (${object.records.length} records).`);
    }
    return object.records.slice(ref.start, ref.start + ref.length).map(copyOf);
  }

  has(key: string): boolean {
    return this.objects.has(key);
  }

  /** How many objects were ever written, and the keys there now. */
  get writtenCount(): number {
    return this.written;
  }

  keys(): string[] {
    return [...this.objects.keys()];
  }
}
