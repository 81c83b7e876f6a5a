/**
 * What a fetch with nothing new costs, metered on a cloud that bills as AWS does. The
 * documented rules: a strongly consistent read is one read unit per 4 KB of each item (a
 * BatchGetItem bills each item on its own, one unit at least), a Query is billed on the summed
 * size of the items it returns rounded up to 4 KB, and an eventually consistent read costs half.
 * So a consumer of 100 idle partitions, whose partition items share the topic's partition key,
 * pays for one eventually consistent Query of about 30 KB per look instead of 100 strong items.
 */
import { QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoMetadataStore, DynamoPartitionLog } from '../../../functions/adapters/dynamodb/index.js';
import { fetch } from '../../../functions/domain/consume.js';
import { isFetchPartitionError } from '../../../functions/domain/index.js';
import { FETCH_WAIT_CHECK_MS } from '../../../functions/domain/limits.js';
import type { Deps } from '../../../functions/ports/index.js';
import type { LocalCloud } from '../../../localcloud/cloud.js';
import type { TestAws } from '../../../localcloud/testing/aws.js';
import { startMeteredStores, type MeteredStores } from '../../support/metered-stores.js';
import { itemSize, type Item } from '../../../localcloud/billing/dynamodb-billing.js';
import { aTopicFixture } from '../../factories/entities.js';
import { LEADERSHIP_TABLES as TABLES } from '../../support/leadership-tables.js';

const READ_UNIT_BYTES = 4096;
const TOPIC = 'idle';
const PARTITIONS = 100;
const LEADER = 'A';

describe('read units of a fetch with nothing new (DynamoDB)', () => {
  let cloud: LocalCloud;
  let aws: TestAws;
  let stores: MeteredStores | undefined;
  let metadata: DynamoMetadataStore;
  let log: DynamoPartitionLog;
  let deps: Deps;
  /** The sizes of the topic's partition items, as DynamoDB bills them. */
  let partitionItemBytes: number[];
  /** Eventually consistent looks the fetches made. */
  let looks = 0;
  let onLook: (() => void) | undefined;

  const readUnitsOf = async <T>(call: () => Promise<T>): Promise<{ units: number; result: T }> => {
    const meter = cloud.usage;
    if (!meter) throw new Error('cloud started without meterUsage');
    meter.reset();
    const result = await call();
    return { units: meter.report().dynamodb.total.readUnits, result };
  };
  const atTheEnd = (offsets: Record<number, number> = {}) =>
    Array.from({ length: PARTITIONS }, (_, i) => ({ topic: TOPIC, partition: i + 1, offset: offsets[i + 1] ?? 0, currentLeaderEpoch: 0 }));

  beforeAll(async () => {
    stores = await startMeteredStores({ now: () => Date.now() });
    ({ cloud, aws, metadata, log } = stores);
    const fixture = aTopicFixture(TOPIC, PARTITIONS, [LEADER, 'B', 'C']);
    await metadata.createTopic(fixture.config, fixture.partitions, fixture.replicas);
    const { Items = [] } = await aws.dynamodb.send(
      new QueryCommand({
        TableName: TABLES.metadata,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :partition)',
        ExpressionAttributeValues: { ':pk': { S: `topic#${TOPIC}` }, ':partition': { S: 'partition#' } },
        ConsistentRead: true,
      }),
    );
    partitionItemBytes = Items.map((item: Record<string, AttributeValue>) => itemSize(item as unknown as Item));
    expect(partitionItemBytes).toHaveLength(PARTITIONS);
    const peek = metadata.peekPartitions.bind(metadata);
    metadata.peekPartitions = (keys) => {
      looks += 1;
      onLook?.();
      return peek(keys);
    };
    deps = {
      metadata,
      log,
      clock: { now: () => Date.now() },
      sleep: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)),
    } as unknown as Deps;
    await fetch(deps, { partitions: atTheEnd() }); // warm: the topic's configuration
  }, 120_000);

  afterAll(async () => {
    await stores?.stop();
  });

  /** One eventually consistent Query of the 100 partition items: their summed size in 4 KB units, halved. */
  const unitsPerLook = () => Math.ceil(partitionItemBytes.reduce((sum, bytes) => sum + bytes, 0) / READ_UNIT_BYTES) / 2;

  it('costs one eventually consistent Query of the partition items, where reading each strongly costs a unit per partition', async () => {
    looks = 0;
    const idle = await readUnitsOf(() => fetch(deps, { partitions: atTheEnd() }));
    expect(idle.result.partitions.every((answer) => !isFetchPartitionError(answer) && answer.records.length === 0)).toBe(true);
    expect(looks).toBe(1);
    expect(idle.units).toBe(unitsPerLook());
    // What a fetch paid before: every partition item strongly consistent, one unit each (each is under 4 KB).
    const strong = await readUnitsOf(() => metadata.getPartitions(atTheEnd()));
    expect(strong.units).toBe(partitionItemBytes.reduce((sum, bytes) => sum + Math.ceil(bytes / READ_UNIT_BYTES), 0));
    console.log(`a fetch of ${PARTITIONS} idle partitions: ${idle.units} read units (${strong.units} read strongly, one by one)`);
  });

  it('a fetch held for maxWaitMs pays that per look, and looks every check', async () => {
    looks = 0;
    const maxWaitMs = 1_000;
    const held = await readUnitsOf(() => fetch(deps, { partitions: atTheEnd(), maxWaitMs }));
    expect(held.result.partitions.every((answer) => !isFetchPartitionError(answer) && answer.records.length === 0)).toBe(true);
    expect(looks).toBeGreaterThanOrEqual(2);
    expect(looks).toBeLessThanOrEqual(maxWaitMs / FETCH_WAIT_CHECK_MS + 1);
    expect(held.units).toBe(looks * unitsPerLook());
  });

  it('answers a long poll with a record committed while it waits, within the wait', async () => {
    looks = 0;
    let firstLook: () => void = () => {};
    const looked = new Promise<void>((resolve) => (firstLook = resolve));
    onLook = firstLook;
    const polling = fetch(deps, { partitions: atTheEnd(), maxWaitMs: 5_000 });
    await looked;
    onLook = undefined;
    // The record lands after the fetch's first look found nothing.
    const partition = (await metadata.getPartition(TOPIC, 42))!;
    await log.appendAsLeader({ topic: TOPIC, partition: 42, leader: LEADER, leaderEpoch: 0, startOffset: 0, generation: 0, records: [{ key: null, value: 'late' }], appendedAt: Date.now() });
    expect(await metadata.advanceHighWatermark(TOPIC, 42, partition.version, 1)).toBe(true);
    const answer = await polling;
    const records = answer.partitions.flatMap((p) => (isFetchPartitionError(p) ? [] : p.records.map((r) => [p.partition, r.offset, r.value])));
    expect(records).toEqual([[42, 0, 'late']]);
    expect(looks).toBeGreaterThanOrEqual(2);
    // Past the record, the partition is idle again: one look, no strong read.
    const after = await readUnitsOf(() => fetch(deps, { partitions: atTheEnd({ 42: 1 }) }));
    expect(after.units).toBe(unitsPerLook());
  });
});
