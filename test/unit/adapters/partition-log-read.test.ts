import type { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoPartitionLog } from '../../../functions/adapters/dynamodb/index.js';
import { logItem } from '../../../functions/adapters/dynamodb/items.js';
import type { LogRecord } from '../../../functions/domain/model.js';

const stored = (offset: number): LogRecord => ({
  topic: 't',
  partition: 1,
  replica: 'A',
  offset,
  leaderEpoch: 0,
  key: null,
  value: `v${offset}`,
  appendedAt: 1,
  copy: 'leader',
});

type Key = { replica: string; offset: number };

/** A BatchGetItem fake that leaves the first `throttled` keys of each first request unprocessed. */
function fakeDynamo(existing: Set<number>, throttled: number) {
  const requests: Key[][] = [];
  const client = {
    send: (command: BatchGetCommand) => {
      const keys = (command.input.RequestItems?.['log']?.Keys ?? []) as Key[];
      requests.push(keys);
      const retry = requests.length === 1 ? keys.slice(0, throttled) : [];
      const served = keys.filter((k) => !retry.includes(k) && existing.has(k.offset));
      return Promise.resolve({
        Responses: { log: served.map((k) => logItem(stored(k.offset))) },
        UnprocessedKeys: retry.length > 0 ? { log: { Keys: retry } } : {},
      });
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, requests };
}

describe('DynamoPartitionLog.read', () => {
  const clock = { now: () => 0 };

  it('asks for exactly the offsets in range, 100 keys per BatchGetItem, and returns them in order', async () => {
    const dynamo = fakeDynamo(new Set(Array.from({ length: 250 }, (_, i) => i)), 0);
    const log = new DynamoPartitionLog(dynamo.client, { logTable: 'log', metadataTable: 'meta' }, clock);
    const records = await log.read('t', 1, 'A', 10, 240);
    expect(records.map((r) => r.offset)).toEqual(Array.from({ length: 230 }, (_, i) => i + 10));
    expect(dynamo.requests.map((keys) => keys.length)).toEqual([100, 100, 30]);
    expect(dynamo.requests[0]?.[0]).toEqual({ replica: 't#1#A', offset: 10 });
  });

  it('re-requests UnprocessedKeys until served', async () => {
    const dynamo = fakeDynamo(new Set([0, 1, 2, 3]), 3);
    const log = new DynamoPartitionLog(dynamo.client, { logTable: 'log', metadataTable: 'meta' }, clock);
    expect((await log.read('t', 1, 'A', 0, 4)).map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    expect(dynamo.requests.map((keys) => keys.map((k) => k.offset))).toEqual([[0, 1, 2, 3], [0, 1, 2]]);
  });

  it('skips missing offsets and asks nothing for an empty range', async () => {
    const dynamo = fakeDynamo(new Set([1, 3]), 0);
    const log = new DynamoPartitionLog(dynamo.client, { logTable: 'log', metadataTable: 'meta' }, clock);
    expect((await log.read('t', 1, 'A', 0, 5)).map((r) => r.offset)).toEqual([1, 3]);
    expect(await log.read('t', 1, 'A', 5, 5)).toEqual([]);
    expect(dynamo.requests).toHaveLength(1);
  });
});
