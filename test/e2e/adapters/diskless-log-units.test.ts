/**
 * What a diskless topic's append and copies cost, metered on a cloud that bills as AWS
 * does, against DynamoDB's documented rules: a standard put costs a write unit per started
 * KB of the item (attribute names plus values), so a log item that holds a batch's place in
 * an object (object key, start, length) instead of its records costs one unit, whatever
 * the batch's size. Every replica's commit is the transaction a replicated topic's leader
 * commits with (its replica state and a check of the partition's epoch, each under 1 KB: 2 x 2
 * units): a diskless copy, unlike a replicated one, is fenced by the partition's epoch, so that a
 * copier of a deposed epoch cannot commit a reference the object sweep saw nothing point to. The records'
 * bytes go to S3 once (one PUT, first request tier) and every read of them is a ranged GET
 * (second tier), one per stored batch.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoPartitionLog } from '../../../functions/adapters/dynamodb/index.js';
import { S3ObjectStore } from '../../../functions/adapters/s3/object-store.js';
import type { LogRecord, StorageMode } from '../../../functions/domain/model.js';
import type { LeaderAppend } from '../../../functions/ports/index.js';
import { itemSize, writeUnitsFor, type Item } from '../../../localcloud/billing/dynamodb-billing.js';
import { testClientConfig } from '../../../localcloud/testing/aws.js';
import { aTopicFixture } from '../../factories/entities.js';
import { eventShape } from '../../support/dynamodb-items.js';
import { LEADERSHIP_TABLES as TABLES } from '../../support/leadership-tables.js';
import { startMeteredStores, type MeteredStores } from '../../support/metered-stores.js';

const RECORDS = 16;
const REPLICAS = ['L', 'F1', 'F2'];
const BUCKET = 'it-diskless-units';
const AT = 1_765_000_000_000;

const kib = (i: number) => `${String(i).padStart(4, '0')}${'x'.repeat(1020)}`;
const recordsOf = (count: number, from = 0): LeaderAppend['records'] =>
  Array.from({ length: count }, (_, i) => ({ key: `key-${from + i}`, value: kib(from + i), producer: { producerId: 9, producerEpoch: 0, sequence: from + i } }));

describe('write units of a diskless log', () => {
  let stores: MeteredStores;
  let s3: S3Client;
  let objects: S3ObjectStore;
  let log: DynamoPartitionLog;

  const usageOf = async (call: () => Promise<unknown>) => {
    const meter = stores.cloud.usage!;
    meter.reset();
    await call();
    const report = meter.report();
    return {
      log: report.dynamodb.byTable[TABLES.log]?.writeUnits ?? 0,
      metadata: report.dynamodb.byTable[TABLES.metadata]?.writeUnits ?? 0,
      puts: report.s3.tier1.requests,
      gets: report.s3.tier2.requests,
    };
  };

  const storedItem = async (topic: string, replica: string, offset: number): Promise<Item> => {
    const { Item: item } = await stores.aws.dynamodb.send(
      new GetItemCommand({ TableName: TABLES.log, Key: { replica: { S: `${topic}#1#${replica}` }, offset: { N: String(offset) } }, ConsistentRead: true }),
    );
    if (!item) throw new Error(`no item at ${topic}#1#${replica} offset ${offset}`);
    return eventShape(item);
  };

  async function createTopic(topic: string, storage: StorageMode): Promise<void> {
    const fixture = aTopicFixture(topic, 1, REPLICAS, { at: 1 });
    await stores.metadata.createTopic({ ...fixture.config, storage }, fixture.partitions, fixture.replicas);
  }

  /** A leader append as the diskless produce makes it: the object first (one PUT), then the append holding its reference. */
  async function appendDiskless(topic: string, startOffset: number, records: LeaderAppend['records']): Promise<LogRecord[]> {
    const asAppended = records.map((r, i): LogRecord => ({ topic, partition: 1, replica: 'L', offset: startOffset + i, leaderEpoch: 0, key: r.key, value: r.value, appendedAt: AT, copy: 'leader', producer: r.producer, batch: { baseOffset: startOffset, lastOffset: startOffset + records.length - 1 } }));
    const [stored] = await objects.write([asAppended]);
    return log.appendAsLeader({ topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset, generation: 0, records, appendedAt: AT, stored });
  }

  beforeAll(async () => {
    stores = await startMeteredStores({ now: () => AT });
    s3 = new S3Client(testClientConfig(stores.cloud.endpoint));
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    objects = new S3ObjectStore(s3, { bucket: BUCKET }, { now: () => AT });
    const documents = DynamoDBDocumentClient.from(stores.aws.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    log = new DynamoPartitionLog(documents, { logTable: TABLES.log, metadataTable: TABLES.metadata }, { now: () => AT }, objects);
  }, 60_000);

  afterAll(async () => {
    s3?.destroy();
    await stores?.stop();
  });

  it(`bills a leader append of ${RECORDS} x 1 KiB one write unit on the log (the reference item) plus the commit, and each follower copy the same (its commit fenced by the partition's epoch), where a replicated topic pays the records' KBs per replica`, async () => {
    await createTopic('replicated', 'replicated');
    await createTopic('diskless', 'diskless');
    const replicated: Array<{ log: number; metadata: number }> = [];
    let leaderRecords: LogRecord[] = [];
    replicated.push(await usageOf(async () => {
      leaderRecords = await log.appendAsLeader({ topic: 'replicated', partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 0, generation: 0, records: recordsOf(RECORDS), appendedAt: AT });
    }));
    for (const follower of REPLICAS.slice(1)) {
      replicated.push(await usageOf(() => log.appendAsFollower({ topic: 'replicated', partition: 1, follower, leaderEpoch: 0, records: leaderRecords, generation: 0 })));
    }

    let appended: LogRecord[] = [];
    const write = await usageOf(async () => {
      appended = await appendDiskless('diskless', 0, recordsOf(RECORDS));
    });
    expect(appended).toHaveLength(RECORDS);
    for (const record of appended) expect(record.stored).toEqual(appended[0].stored);
    const diskless = [write];
    for (const follower of REPLICAS.slice(1)) {
      diskless.push(await usageOf(() => log.appendAsFollower({ topic: 'diskless', partition: 1, follower, leaderEpoch: 0, records: appended, generation: 0 })));
    }
    // The bytes went to S3 once: one PUT, by the leader's write alone.
    expect(diskless.map((usage) => usage.puts)).toEqual([1, 0, 0]);
    for (const [i, replica] of REPLICAS.entries()) {
      const size = itemSize(await storedItem('diskless', replica, 0));
      expect(size).toBeLessThanOrEqual(1024);
      expect(diskless[i].log, `replica ${replica}`).toBe(writeUnitsFor(size));
      expect(diskless[i].log).toBe(1);
      // Every replica commits as a replicated topic's leader does: its state and the partition check in one transaction.
      expect(diskless[i].metadata, `replica ${replica}`).toBe(replicated[0].metadata);
      expect(diskless[i].metadata).toBe(2 * 2);
      expect(replicated[i].log).toBe(writeUnitsFor(itemSize(await storedItem('replicated', replica, 0))));
      expect(replicated[i].log).toBeGreaterThanOrEqual(RECORDS);
    }
    const total = (usages: Array<{ log: number; metadata: number }>) => usages.reduce((sum, u) => sum + u.log + u.metadata, 0);
    console.log(
      `${RECORDS} x 1 KiB at RF 3: write units replicated ${total(replicated)} (log ${replicated.map((u) => u.log).join('+')}), ` +
        `diskless ${total(diskless)} (log ${diskless.map((u) => u.log).join('+')}) and 1 S3 PUT`,
    );

    // Every replica reads the records back as the leader appended them, through one ranged GET.
    for (const replica of REPLICAS) {
      let read: LogRecord[] = [];
      const usage = await usageOf(async () => {
        read = await log.read('diskless', 1, replica, 0, RECORDS);
      });
      expect(usage.gets).toBe(1);
      expect(read).toEqual(appended.map((r) => (replica === 'L' ? r : { ...r, replica, copy: 'follower' })));
    }
  }, 60_000);

  it('writes a follower copy that spans several leader batches, or starts inside one, as one reference item per batch, and reads it with one GET per batch, in parallel', async () => {
    await createTopic('spans', 'diskless');
    const batches = [await appendDiskless('spans', 0, recordsOf(4)), await appendDiskless('spans', 4, recordsOf(3, 4)), await appendDiskless('spans', 7, recordsOf(5, 7))];
    const all = batches.flat();
    const copy = await usageOf(() => log.appendAsFollower({ topic: 'spans', partition: 1, follower: 'F1', leaderEpoch: 0, records: all, generation: 0 }));
    expect(copy.log).toBe(3);
    expect(copy.puts).toBe(0);
    // F2 copies in two steps, the first ending inside the second batch.
    await log.appendAsFollower({ topic: 'spans', partition: 1, follower: 'F2', leaderEpoch: 0, records: all.slice(0, 5), generation: 0 });
    const rest = await usageOf(() => log.appendAsFollower({ topic: 'spans', partition: 1, follower: 'F2', leaderEpoch: 0, records: all.slice(5), generation: 0 }));
    expect(rest.log).toBe(2);
    expect((await storedItem('spans', 'F2', 5)).stored).toEqual((await storedItem('spans', 'F2', 4)).stored);

    for (const replica of ['F1', 'F2']) {
      let read: LogRecord[] = [];
      const usage = await usageOf(async () => {
        read = await log.read('spans', 1, replica, 2, 12);
      });
      // Three stored batches hold offsets 2..11: three GETs, however many items point into them.
      expect(usage.gets).toBe(3);
      expect(read).toEqual(all.slice(2).map((r) => ({ ...r, replica, copy: 'follower' })));
    }
    // A read inside one batch fetches that batch alone.
    const one = await usageOf(() => log.read('spans', 1, 'F2', 5, 6));
    expect(one.gets).toBe(1);
  }, 60_000);
});
