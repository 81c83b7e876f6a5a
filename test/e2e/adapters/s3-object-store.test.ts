/**
 * The S3 ObjectStore against moto behind the edge, as the functions reach it: a client
 * with no endpoint or addressing style of its own beyond what the environment gives.
 */
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { minuteBucket } from '../../../functions/adapters/s3/keys.js';
import { S3ObjectStore } from '../../../functions/adapters/s3/object-store.js';
import { StoredObjectMissingError } from '../../../functions/domain/errors.js';
import type { LogRecord } from '../../../functions/domain/model.js';
import { testClientConfig } from '../../../localcloud/testing/aws.js';
import { useDataPlane } from '../../../localcloud/testing/data-plane.js';

const aws = useDataPlane();
const BUCKET = 'it-diskless-objects';
let s3: S3Client;

const recordsOf = (topic: string, partition: number, replica: string, from: number, count: number): LogRecord[] =>
  Array.from({ length: count }, (_, i) => ({
    topic,
    partition,
    replica,
    offset: from + i,
    leaderEpoch: 2,
    key: `k${i}`,
    value: `${topic}-${partition}-${from + i}:${'v'.repeat(200)}`,
    appendedAt: 1_765_000_000_000,
    copy: 'leader' as const,
    batch: { baseOffset: from, lastOffset: from + count - 1 },
  }));

beforeAll(async () => {
  s3 = new S3Client(testClientConfig(aws.endpoint));
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
}, 30_000);

describe('S3ObjectStore', () => {
  let now = Date.UTC(2026, 11, 7, 17, 23, 30);
  const clock = { now: () => now };
  const store = () => new S3ObjectStore(s3, { bucket: BUCKET, compressionOf: (topic) => Promise.resolve(topic === 'zipped' ? 'gzip' : 'none') }, clock);

  it('writes several partitions\' batches as one object under its minute bucket and reads each back with one ranged GET', async () => {
    const batches = [recordsOf('orders', 0, 'A', 5, 3), recordsOf('orders', 1, 'B', 0, 10), recordsOf('zipped', 0, 'C', 42, 20)];
    const refs = await store().write(batches);
    expect(new Set(refs.map((ref) => ref.object)).size).toBe(1);
    expect(refs[0].object).toMatch(new RegExp(`^objects/202612071723/${now}-[0-9a-f]{16}$`));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'objects/202612071723/' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual([refs[0].object]);
    const reads = await Promise.all(refs.map((ref) => store().read(ref)));
    expect(reads).toEqual(batches.map((batch, i) => batch.map((r) => ({ ...r, stored: refs[i] }))));
    expect(await store().manifest(refs[0].object)).toEqual([
      { topic: 'orders', partition: 0, replica: 'A', offset: 5 },
      { topic: 'orders', partition: 1, replica: 'B', offset: 0 },
      { topic: 'zipped', partition: 0, replica: 'C', offset: 42 },
    ]);
  });

  it('reads a manifest longer than its first guess of the head', async () => {
    const batches = Array.from({ length: 300 }, (_, p) => recordsOf(`a-topic-with-a-rather-long-name-${p}`, p, `broker-${p}`, p * 1000, 1));
    const refs = await store().write(batches);
    const manifest = await store().manifest(refs[0].object);
    expect(manifest).toHaveLength(300);
    expect(manifest![299]).toEqual({ topic: 'a-topic-with-a-rather-long-name-299', partition: 299, replica: 'broker-299', offset: 299_000 });
    expect(await store().read(refs[299])).toEqual(batches[299].map((r) => ({ ...r, stored: refs[299] })));
  });

  it('lists by S3\'s LastModified in [from, to), looking into the neighbouring minute buckets, and deletes', async () => {
    now = Date.now();
    const [ref] = await store().write([recordsOf('orders', 2, 'A', 0, 1)]);
    // A key in the bucket of the minute before (the writer's clock behind S3's) is still listed by its LastModified.
    const skewed = `objects/${minuteBucket(now - 60_000)}/${now - 60_000}-00000000000000aa`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: skewed, Body: Buffer.from('x') }));
    const listed = await store().listWritten(now - 30_000, now + 30_000);
    expect(listed.map((o) => o.key).sort()).toEqual([ref.object, skewed].sort());
    for (const object of listed) expect(Math.abs(object.writtenAt - now)).toBeLessThan(30_000);
    expect(await store().listWritten(now + 30_000, now + 90_000)).toEqual([]);
    expect(await store().listWritten(now, now)).toEqual([]);

    await store().delete(ref.object);
    await store().delete(ref.object);
    expect(await store().manifest(ref.object)).toBeNull();
    await expect(store().read(ref)).rejects.toThrow(StoredObjectMissingError);
    await expect(store().read(ref)).rejects.toThrow(`Stored batch ${ref.object} bytes ${ref.start}+${ref.length}: the object is gone.`);
  });
});
