/**
 * A diskless topic's log item: the place of its records' batch in an object, read back
 * through the object store. The units it costs and the reads it makes are metered in
 * test/e2e/adapters/diskless-log-units.test.ts; here, its shape and its refusals.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { MalformedItemError, logRecordsFromItem, logRecordsFromRefItem, logRefItem } from '../../../functions/adapters/dynamodb/items.js';
import { DynamoPartitionLog } from '../../../functions/adapters/dynamodb/partition-log.js';
import type { LogRecord } from '../../../functions/domain/model.js';
import { aLogRecord } from '../../factories/entities.js';

const ref = { object: 'objects/202612071723/1-ab', start: 120, length: 900 };
const batch = (from: number, count: number, stored = ref): LogRecord[] =>
  Array.from({ length: count }, (_, i) => aLogRecord({ offset: from + i, value: `v${from + i}`, stored, batch: { baseOffset: from, lastOffset: from + count - 1 } }));

describe('reference log items', () => {
  it('hold the reference and the offsets, not the records, and give back the item\'s part of the batch as its replica\'s records', () => {
    const leader = batch(10, 5);
    const copies = leader.slice(2).map((r) => ({ ...r, replica: 'B', copy: 'follower' as const }));
    const item = logRefItem(copies, 1, 77);
    expect(item).toEqual({
      replica: 'orders#1#B#g1',
      offset: 12,
      writtenAt: 77,
      topic: 'orders',
      partition: 1,
      brokerId: 'B',
      copy: 'follower',
      lastOffset: 14,
      stored: ref,
    });
    expect(logRecordsFromRefItem(item, leader)).toEqual(copies);
  });

  it('refuses records from two stored batches in one item, and a batch that does not hold the item\'s offsets', () => {
    const mixed = [...batch(0, 2), ...batch(2, 2, { ...ref, start: 1020 })];
    expect(() => logRefItem(mixed)).toThrow(/record 2 \(offset 2\) does not follow/);
    expect(() => logRefItem([aLogRecord()])).toThrow(/stored in an object/);
    const item = logRefItem(batch(10, 5));
    expect(() => logRecordsFromRefItem(item, batch(11, 4))).toThrow(MalformedItemError);
    expect(() => logRecordsFromRefItem(item, batch(10, 5).map((r) => ({ ...r, topic: 'other' })))).toThrow(/which holds other-1 offsets 10..14/);
    expect(() => logRecordsFromItem(item)).toThrow(/read through the object store/);
  });

  it('cannot be read by a log built without an object store, and says so', async () => {
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    const item = logRefItem(batch(0, 3));
    vi.spyOn(client, 'send').mockImplementation(((command: { input: { Key?: unknown } }) =>
      Promise.resolve(
        'Key' in command.input && command.input.Key
          ? { Item: { topic: 'orders', partition: 1, brokerId: 'A', logEndOffset: 3, matchedEpoch: 0, updatedAt: 0 } }
          : { Items: [item] },
      )) as never);
    const log = new DynamoPartitionLog(client, { logTable: 'log', metadataTable: 'metadata' }, { now: () => 0 });
    await expect(log.read('orders', 1, 'A', 0, 3)).rejects.toThrow(/points into objects\/202612071723\/1-ab, and this partition log was built without an object store/);
  });
});
