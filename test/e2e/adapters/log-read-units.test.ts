/**
 * What a read of the log costs, metered on a cloud that bills as AWS does: a Query is billed
 * on the items it returns, their sizes summed and rounded up to 4 KB (one read unit per 4 KB,
 * strongly consistent). A read must return only the batches holding its range, so a
 * one-record read of a log written one record per append costs one small item, not the 97
 * batches below it that an item of 98 records could otherwise reach back over.
 */
import { QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoMetadataStore, DynamoPartitionLog, MAX_RECORDS_PER_APPEND } from '../../../functions/adapters/dynamodb/index.js';
import { consume } from '../../../functions/domain/consume.js';
import type { Deps } from '../../../functions/ports/index.js';
import type { LocalCloud } from '../../../localcloud/cloud.js';
import type { TestAws } from '../../../localcloud/testing/aws.js';
import { startMeteredStores, type MeteredStores } from '../../support/metered-stores.js';
import { itemSize } from '../../../localcloud/billing/dynamodb-billing.js';
import { aTopicFixture } from '../../factories/entities.js';
import { eventShape } from '../../support/dynamodb-items.js';
import { LEADERSHIP_TABLES as TABLES } from '../../support/leadership-tables.js';

const READ_UNIT_BYTES = 4096;
/** The cost model's record: 1 KiB of value. */
const RECORD = { key: null, value: 'x'.repeat(1024) };
/** A log written one record per append, and one written in full batches. */
const ONES = { topic: 'ones', batch: 1, records: 200 };
const FULL = { topic: 'full', batch: MAX_RECORDS_PER_APPEND, records: 3 * MAX_RECORDS_PER_APPEND };

const unitsFor = (bytes: number): number => Math.ceil(bytes / READ_UNIT_BYTES);
/** A read first reads the replica's state (its log end and generations): one strongly consistent GetItem of an item under 4 KB. */
const STATE_READ = 1;

describe('read units of the DynamoDB log', () => {
  let cloud: LocalCloud;
  let aws: TestAws;
  let stores: MeteredStores | undefined;
  let log: DynamoPartitionLog;
  let metadata: DynamoMetadataStore;
  /** Every stored item of the leader's log, as DynamoDB sizes it, by first offset. */
  const stored = new Map<string, Array<{ base: number; last: number; bytes: number }>>();

  const meter = () => {
    if (!cloud.usage) throw new Error('cloud started without meterUsage');
    return cloud.usage;
  };
  const readUnitsOf = async (call: () => Promise<unknown>): Promise<number> => {
    meter().reset();
    await call();
    return meter().report().dynamodb.total.readUnits;
  };

  /** The items holding [from, to): the one holding `from` first. */
  const holding = (topic: string, from: number, to: number) =>
    (stored.get(topic) ?? []).filter((item) => item.base < to && item.last >= from);

  beforeAll(async () => {
    stores = await startMeteredStores({ now: () => 1 });
    ({ cloud, aws, metadata, log } = stores);
    for (const { topic, batch, records } of [ONES, FULL]) {
      const fixture = aTopicFixture(topic, 1, ['L'], { at: 1 });
      await metadata.createTopic(fixture.config, fixture.partitions, fixture.replicas);
      for (let offset = 0; offset < records; offset += batch) {
        const count = Math.min(batch, records - offset);
        await log.appendAsLeader({ topic, partition: 1, leader: 'L', leaderEpoch: 0, startOffset: offset, generation: 0, records: Array(count).fill(RECORD), appendedAt: 1 });
      }
      expect(await metadata.advanceHighWatermark(topic, 1, 0, records)).toBe(true);
      const { Items = [] } = await aws.dynamodb.send(
        new QueryCommand({
          TableName: TABLES.log,
          KeyConditionExpression: 'replica = :r',
          ExpressionAttributeValues: { ':r': { S: `${topic}#1#L` } },
          ConsistentRead: true,
        }),
      );
      stored.set(
        topic,
        Items.map((item: Record<string, AttributeValue>) => ({
          base: Number(item.offset?.N),
          last: Number(item.lastOffset?.N),
          bytes: itemSize(eventShape(item)),
        })),
      );
    }
    expect(stored.get(ONES.topic)).toHaveLength(ONES.records);
    expect(stored.get(FULL.topic)).toHaveLength(3);
  }, 120_000);

  afterAll(async () => {
    await stores?.stop();
  });

  // [topic, from, to]: one record, then 100 records (on the full batches, aligned to a batch and not).
  const ranges: Array<[string, number, number]> = [
    [ONES.topic, 150, 151],
    [ONES.topic, 50, 150],
    [FULL.topic, 150, 151],
    [FULL.topic, 98, 198],
    [FULL.topic, 150, 250],
  ];

  it.each(ranges)('bills a read of log %s [%i, %i) for the items holding the range alone', async (topic, from, to) => {
    const items = holding(topic, from, to);
    const [first, ...rest] = items;
    const records = await readUnitsOf(async () => expect(await log.read(topic, 1, 'L', from, to)).toHaveLength(to - from));
    // The replica's state, then one Query for the item holding `from`, one for the rest of the range when it goes past it.
    expect(records).toBe(STATE_READ + unitsFor(first.bytes) + (rest.length > 0 ? unitsFor(rest.reduce((sum, item) => sum + item.bytes, 0)) : 0));
    // Whatever the design: the range's own items, with at most one more rounding up.
    expect(records - STATE_READ).toBeLessThanOrEqual(unitsFor(items.reduce((sum, item) => sum + item.bytes, 0)) + 1);
  });

  it('bills a one-record consume of a log written one record per append three read units: the partition, the leader\'s state and the record', async () => {
    // A warm function: the topic's configuration is cached.
    const deps = { metadata, log } as unknown as Deps;
    await consume(deps, { topic: ONES.topic, partition: 1, offset: 0, maxRecords: 1 });
    const units = await readUnitsOf(async () => {
      const answer = await consume(deps, { topic: ONES.topic, partition: 1, offset: ONES.records - 1, maxRecords: 500 });
      expect(answer.records).toHaveLength(1);
    });
    const [record] = holding(ONES.topic, ONES.records - 1, ONES.records);
    // A strongly consistent GetItem of the partition item (under 4 KB), the leader's state, and the record's item.
    expect(units).toBe(1 + STATE_READ + unitsFor(record.bytes));
  });
});
