/**
 * What a record batch costs to write, metered on a cloud that bills as AWS does: a write
 * unit per started KB of the item, a standard put (no batch is in a transaction; its commit
 * is a small write of the metadata table). The
 * item's size follows DynamoDB's rules (attribute names plus values; a binary by its bytes),
 * so the units are computed from the stored item, not taken from an observation. A batch of
 * 16 x 1 KiB records must cost the log table at most 17 units per replica's item: its records'
 * bytes, and about one KB of everything else. The list-of-maps layout that came before paid
 * for six attribute names per record: it is measured alongside, by writing the same records
 * in it, for the before and after figures.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { Prng } from '../../simulation/prng.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoPartitionLog } from '../../../functions/adapters/dynamodb/index.js';
import type { CompressionType, LogRecord } from '../../../functions/domain/model.js';
import type { LeaderAppend } from '../../../functions/ports/index.js';
import type { LocalCloud } from '../../../localcloud/cloud.js';
import type { TestAws } from '../../../localcloud/testing/aws.js';
import { startMeteredStores, type MeteredStores } from '../../support/metered-stores.js';
import { itemSize, writeUnitsFor, type Item } from '../../../localcloud/billing/dynamodb-billing.js';
import { aTopicFixture } from '../../factories/entities.js';
import { eventShape } from '../../support/dynamodb-items.js';
import { LEADERSHIP_TABLES as TABLES } from '../../support/leadership-tables.js';

const RECORDS = 16;
const REPLICAS = ['L', 'F1', 'F2'];
/** A batch item is a standard write, billed once (its commit is on the metadata table). */
const WRITE_FACTOR = 1;

/** Deterministic pseudo-random numbers, so a failure names a reproducible case. */
const random = (seed: number): (() => number) => {
  const prng = new Prng(seed);
  return () => prng.next();
};

/** 1 KiB of random printable ASCII: one byte a character, which gzip cannot shrink to much less. */
const randomKiB = (next: () => number): string => Array.from({ length: 1024 }, () => String.fromCharCode(33 + Math.floor(next() * 94))).join('');

/** 1 KiB of an order event, as JSON-like records are: names repeat, values vary. */
const jsonKiB = (i: number): string => {
  const events = [];
  for (let n = 0; JSON.stringify(events).length < 1024; n++) {
    events.push({ orderId: `ord-${100_000 + i * 10 + n}`, customerId: `cust-${(i * 7 + n) % 97}`, status: ['PLACED', 'PAID', 'SHIPPED'][n % 3], amountCents: 1999 + n * 250, currency: 'EUR' });
  }
  return JSON.stringify(events).slice(0, 1024);
};

/** As the idempotent producer sends them: a 10-byte key and one producer's consecutive sequences. */
const batchOf = (values: string[]): LeaderAppend['records'] =>
  values.map((value, i) => ({ key: `key-${String(i).padStart(6, '0')}`, value, producer: { producerId: 4711, producerEpoch: 0, sequence: i } }));

describe('write units of the DynamoDB log', () => {
  let cloud: LocalCloud;
  let aws: TestAws;
  let stores: MeteredStores | undefined;
  let log: DynamoPartitionLog;

  const meter = () => cloud.usage!;
  /** The log table's write units of one call: its record items alone (the transaction's other items are on the metadata table). */
  const logWriteUnitsOf = async (call: () => Promise<unknown>): Promise<number> => {
    meter().reset();
    await call();
    return meter().report().dynamodb.byTable[TABLES.log]?.writeUnits ?? 0;
  };

  const storedItem = async (topic: string, replica: string, offset: number): Promise<Item> => {
    const { Item: item } = await aws.dynamodb.send(
      new GetItemCommand({ TableName: TABLES.log, Key: { replica: { S: `${topic}#1#${replica}` }, offset: { N: String(offset) } }, ConsistentRead: true }),
    );
    if (!item) throw new Error(`no item at ${topic}#1#${replica} offset ${offset}`);
    return eventShape(item);
  };

  async function createTopic(topic: string, compressionType: CompressionType): Promise<void> {
    const fixture = aTopicFixture(topic, 1, REPLICAS, { at: 1 });
    await stores!.metadata.createTopic({ ...fixture.config, compressionType }, fixture.partitions, fixture.replicas);
  }

  /** Leader append then both follower copies; the log table's units of each, and the items' billed sizes. */
  async function replicate(topic: string, records: LeaderAppend['records']) {
    let appended: LogRecord[] = [];
    const units = [await logWriteUnitsOf(async () => {
      appended = await log.appendAsLeader({ topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: 0, generation: 0, records, appendedAt: 1_765_000_000_000 });
    })];
    for (const follower of REPLICAS.slice(1)) {
      units.push(await logWriteUnitsOf(() => log.appendAsFollower({ topic, partition: 1, follower, leaderEpoch: 0, records: appended, generation: 0 })));
    }
    const sizes = await Promise.all(REPLICAS.map(async (replica) => itemSize(await storedItem(topic, replica, 0))));
    expect(await log.read(topic, 1, 'F2', 0, RECORDS)).toEqual(appended.map((r) => ({ ...r, replica: 'F2', copy: 'follower' })));
    return { units, sizes, appended };
  }

  /** The same records in the list-of-maps layout, as the previous version wrote them, metered as one PutItem (1 unit per started KB). */
  async function legacyUnits(appended: LogRecord[]): Promise<{ units: number; bytes: number }> {
    const first = appended[0];
    const item = marshall({
      replica: `legacy#1#L`,
      offset: 0,
      topic: 'legacy',
      partition: 1,
      brokerId: 'L',
      copy: 'leader',
      lastOffset: appended.length - 1,
      records: appended.map((r) => ({ leaderEpoch: r.leaderEpoch, key: r.key, value: r.value, appendedAt: r.appendedAt, producer: r.producer, batch: r.batch })),
    }, { removeUndefinedValues: true });
    expect(first.producer).toBeDefined();
    const units = await logWriteUnitsOf(() => aws.dynamodb.send(new PutItemCommand({ TableName: TABLES.log, Item: item })));
    return { units, bytes: itemSize(eventShape(item)) };
  }

  beforeAll(async () => {
    stores = await startMeteredStores({ now: () => 1 });
    ({ cloud, aws, log } = stores);
  }, 60_000);

  afterAll(async () => {
    await stores?.stop();
  });

  it(`bills a replica's append of ${RECORDS} x 1 KiB random records the item's size in write units, at most 17 a replica where the list of maps took more`, async () => {
    await createTopic('random', 'producer');
    const next = random(21);
    const records = batchOf(Array.from({ length: RECORDS }, () => randomKiB(next)));
    const { units, sizes, appended } = await replicate('random', records);
    for (const [i, size] of sizes.entries()) {
      expect(units[i], `replica ${REPLICAS[i]}`).toBe(WRITE_FACTOR * writeUnitsFor(size));
      expect(writeUnitsFor(size)).toBeLessThanOrEqual(17);
    }
    const legacy = await legacyUnits(appended);
    expect(legacy.units).toBe(writeUnitsFor(legacy.bytes));
    expect(legacy.units).toBeGreaterThan(writeUnitsFor(sizes[0]));
    const rf = REPLICAS.length;
    const perRecord = (itemUnits: number) => ((rf * WRITE_FACTOR * itemUnits) / RECORDS).toFixed(3);
    console.log(
      `${RECORDS} x 1 KiB at RF ${rf}: log item ${legacy.bytes} B (${legacy.units} units) in the list of maps, ${sizes[0]} B (${writeUnitsFor(sizes[0])} units) encoded; ` +
        `log-table write units per record ${perRecord(legacy.units)} before, ${perRecord(writeUnitsFor(sizes[0]))} after (floor ${(rf * WRITE_FACTOR).toFixed(3)})`,
    );
  }, 60_000);

  it('with compression.type gzip stores JSON-like records smaller by the ratio it reports, billed by the compressed size', async () => {
    const values = Array.from({ length: RECORDS }, (_, i) => jsonKiB(i));
    await createTopic('json-plain', 'uncompressed');
    await createTopic('json-gzip', 'gzip');
    const plain = await replicate('json-plain', batchOf(values));
    const gzipped = await replicate('json-gzip', batchOf(values));
    for (const [i, size] of gzipped.sizes.entries()) expect(gzipped.units[i]).toBe(WRITE_FACTOR * writeUnitsFor(size));
    const ratio = plain.sizes[0] / gzipped.sizes[0];
    console.log(
      `${RECORDS} x 1 KiB JSON-like: ${plain.sizes[0]} B (${writeUnitsFor(plain.sizes[0])} units) uncompressed, ${gzipped.sizes[0]} B ` +
        `(${writeUnitsFor(gzipped.sizes[0])} units) gzip: ${ratio.toFixed(2)}x smaller`,
    );
    expect(ratio).toBeGreaterThan(2);
    expect(gzipped.appended.map((r) => r.value)).toEqual(values);
  }, 60_000);
});

