import { randomUUID } from 'node:crypto';
import { GetItemCommand, PutItemCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventSourceMappings } from '../../../esm/event-source-mappings.js';
import { TtlReaper } from '../../../data-plane/ttl-reaper.js';
import { createStreamTable, n, REGION, s } from '../../../testing/aws.js';
import { FakeLambdaRuntime } from '../../support/fake-runtime.js';
import { streamMapping } from '../../../testing/mappings.js';
import { useDataPlane } from '../../../testing/data-plane.js';
import { waitFor } from '../../../testing/wait-for.js';

const aws = useDataPlane();
const stoppables: Array<{ stop(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(stoppables.splice(0).map((x) => x.stop()));
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * With `ttlEnabled`, as the deployer sets it, DynamoDB Local labels the removal of an expired
 * item oddly on the stream, and the poller must still deliver it as REMOVE. It also runs its
 * own TTL deletion job on such a table, which may delete an expired item before the reaper
 * does; tests that count the reaper's deletes use a table without TTL enabled.
 */
async function tableWithItems(
  items: Record<string, number>,
  { ttlEnabled = false }: { ttlEnabled?: boolean } = {},
): Promise<{ tableName: string; streamArn: string }> {
  const tableName = `ttl-${randomUUID()}`;
  const streamArn = await createStreamTable(aws, tableName);
  if (ttlEnabled) {
    await aws.dynamodb.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } }),
    );
  }
  for (const [pk, expiresAt] of Object.entries(items)) {
    await aws.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { pk: s(pk), expiresAt: n(expiresAt) } }));
  }
  return { tableName, streamArn };
}

const exists = async (tableName: string, pk: string): Promise<boolean> =>
  (await aws.dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { pk: s(pk) }, ConsistentRead: true })))
    .Item !== undefined;

describe('TtlReaper', () => {
  it('deletes expired items and keeps live ones, counting its deletes', async () => {
    const { tableName } = await tableWithItems({ expired: nowSeconds() - 10, live: nowSeconds() + 3600 });
    const reaper = new TtlReaper({ awsEndpoint: aws.endpoint, region: REGION, periodMs: 0 });
    reaper.add({ tableName, attributeName: 'expiresAt' });

    expect(await reaper.sweepOnce()).toBe(1);
    expect(await exists(tableName, 'expired')).toBe(false);
    expect(await exists(tableName, 'live')).toBe(true);
    expect(await reaper.sweepOnce()).toBe(0);
  });

  it('on a table with TTL enabled, the expired item is deleted and reaches the stream as REMOVE with OldImage', async () => {
    const { tableName, streamArn } = await tableWithItems(
      { expired: nowSeconds() - 10, live: nowSeconds() + 3600 },
      { ttlEnabled: true },
    );
    const runtime = new FakeLambdaRuntime();
    const esm = new EventSourceMappings(runtime, { awsEndpoint: aws.endpoint, region: REGION, pollIntervalMs: 20 });
    esm.upsert(streamMapping('on-expiry', streamArn, tableName, { filterPatterns: ['{"eventName":["REMOVE"]}'] }));
    esm.start();
    stoppables.push(esm);
    const reaper = new TtlReaper({ awsEndpoint: aws.endpoint, region: REGION, periodMs: 0 });
    reaper.add({ tableName, attributeName: 'expiresAt' });

    // Whichever deleter wins (the reaper or DynamoDB Local's own job), there is one delete.
    expect(await reaper.sweepOnce()).toBeLessThanOrEqual(1);
    expect(await exists(tableName, 'expired')).toBe(false);
    expect(await exists(tableName, 'live')).toBe(true);

    const [invocation] = await waitFor(() => runtime.invocations.length > 0 && runtime.invocations, 10_000, 'REMOVE');
    const [record] = (invocation.payload as { Records: DynamoDBRecord[] }).Records;
    expect(record.eventName).toBe('REMOVE');
    expect(record.dynamodb?.OldImage).toMatchObject({ pk: { S: 'expired' } });
    expect(runtime.invocations.flatMap((i) => (i.payload as { Records: DynamoDBRecord[] }).Records)).toHaveLength(1);
  });

  it('ignores items without a numeric TTL attribute', async () => {
    const { tableName } = await tableWithItems({});
    await aws.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { pk: s('none') } }));
    await aws.dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { pk: s('text'), expiresAt: s('1') } }));
    const reaper = new TtlReaper({ awsEndpoint: aws.endpoint, region: REGION, periodMs: 0 });
    reaper.add({ tableName, attributeName: 'expiresAt' });
    const errors = vi.spyOn(console, 'error');

    expect(await reaper.sweepOnce()).toBe(0);
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
    expect(await exists(tableName, 'none')).toBe(true);
    expect(await exists(tableName, 'text')).toBe(true);
  });

  it('sweeps on its own every periodMs once started', async () => {
    const { tableName } = await tableWithItems({ soon: nowSeconds() + 1 });
    const reaper = new TtlReaper({ awsEndpoint: aws.endpoint, region: REGION, periodMs: 100 });
    reaper.add({ tableName, attributeName: 'expiresAt' });
    reaper.start();
    stoppables.push(reaper);

    await waitFor(async () => !(await exists(tableName, 'soon')), 10_000, 'the item to expire and be deleted');
  });

  it('keeps going when a registered table is missing', async () => {
    const { tableName } = await tableWithItems({ expired: nowSeconds() - 1 });
    const reaper = new TtlReaper({ awsEndpoint: aws.endpoint, region: REGION, periodMs: 0 });
    reaper.add({ tableName: 'no-such-table', attributeName: 'expiresAt' });
    reaper.add({ tableName, attributeName: 'expiresAt' });

    expect(await reaper.sweepOnce()).toBe(1);
    expect(await exists(tableName, 'expired')).toBe(false);
  });
});
