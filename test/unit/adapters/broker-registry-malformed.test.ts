/**
 * Security probe M3: one malformed item in the brokers table stopped every heartbeat (each
 * sweeps by listing the table), describe and create-topic. The DynamoDB registry now leaves
 * such an item out of its listings and reports it; a get of that item still fails.
 */
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoBrokerRegistry, MalformedItemError } from '../../../functions/adapters/dynamodb/index.js';
import { heartbeatItem } from '../../../functions/adapters/dynamodb/items.js';
import { createMemoryDeps } from '../../../functions/adapters/memory/index.js';
import { createTopic, describe as describeCluster, heartbeat } from '../../../functions/domain/index.js';
import type { MalformedItem } from '../../../functions/logger.js';
import { credentialFor, registerBrokers } from '../../factories/cluster.js';
import { T0, leaseOf } from '../../factories/entities.js';

type Item = Record<string, unknown>;

/**
 * A brokers table behind a document client: Get, Scan (in pages of `pageSize`), Put and Delete.
 * Writes apply unconditionally: the conditions are the store contract's business; here any
 * write at all to the malformed item would show.
 */
function brokersTable(items: Item[], pageSize = 2) {
  const rows = new Map<string, Item>(items.map((item) => [JSON.stringify(item.brokerId), item]));
  const writes: Array<{ command: string; brokerId: unknown }> = [];
  // The SDK's paginator insists on a document client instance.
  const client = Object.assign(Object.create(DynamoDBDocumentClient.prototype) as DynamoDBDocumentClient, {
    send: (command: object) => {
      if (command instanceof GetCommand) return Promise.resolve({ Item: rows.get(JSON.stringify(command.input.Key?.brokerId)) });
      if (command instanceof ScanCommand) {
        const all = [...rows.values()];
        const start = Number(command.input.ExclusiveStartKey?.position ?? 0);
        const end = start + pageSize;
        return Promise.resolve({ Items: all.slice(start, end), ...(end < all.length ? { LastEvaluatedKey: { position: end } } : {}) });
      }
      if (command instanceof PutCommand) {
        writes.push({ command: 'Put', brokerId: command.input.Item?.brokerId });
        rows.set(JSON.stringify(command.input.Item?.brokerId), command.input.Item as Item);
        return Promise.resolve({});
      }
      if (command instanceof DeleteCommand) {
        writes.push({ command: 'Delete', brokerId: command.input.Key?.brokerId });
        rows.delete(JSON.stringify(command.input.Key?.brokerId));
        return Promise.resolve({});
      }
      return Promise.reject(new Error(`the fake brokers table does not serve ${command.constructor.name}`));
    },
  });
  return { client, rows, writes };
}

/** A reporter that keeps what it was told. */
function reports() {
  const seen: Array<{ table: string; items: readonly MalformedItem[] }> = [];
  return { seen, reporter: (table: string, items: readonly MalformedItem[]) => void seen.push({ table, items }) };
}

/** H's row as the probe planted it: no `expiresAt`, a deadline long past. */
const plantedH = (): Item => {
  const { expiresAt: _, ...rest } = heartbeatItem(leaseOf('H', 7, T0 - 60_000));
  return rest;
};

describe('DynamoBrokerRegistry.list with malformed items (M3)', () => {
  it('leaves out the items it cannot read, across pages, and reports them once per listing with their keys and reasons', async () => {
    const table = brokersTable([
      heartbeatItem(leaseOf('A', 1, T0)),
      plantedH(),
      heartbeatItem(leaseOf('B', 2, T0)),
      { brokerId: 42, incarnation: 'x' },
      heartbeatItem(leaseOf('C', 3, T0)),
    ]);
    const { seen, reporter } = reports();
    const registry = new DynamoBrokerRegistry(table.client, 'brokers', reporter);

    const listed = await registry.list();

    expect(listed.map((hb) => hb.brokerId)).toEqual(['A', 'B', 'C']);
    expect(listed[0]).toEqual(leaseOf('A', 1, T0));
    expect(seen).toEqual([
      {
        table: 'brokers',
        items: [
          { key: 'H', reason: 'item field "expiresAt" should be a number, got undefined' },
          { key: 'brokerId 42', reason: 'item field "brokerId" should be a string, got 42' },
        ],
      },
    ]);
  });

  it('reports nothing when every item reads', async () => {
    const { seen, reporter } = reports();
    const registry = new DynamoBrokerRegistry(brokersTable([heartbeatItem(leaseOf('A', 1, T0))]).client, 'brokers', reporter);
    expect(await registry.list()).toHaveLength(1);
    expect(seen).toEqual([]);
  });

  it("still fails a get of the malformed item itself, naming the field: that concerns H's own heartbeat alone", async () => {
    const registry = new DynamoBrokerRegistry(brokersTable([plantedH()]).client, 'brokers', reports().reporter);
    await expect(registry.get('H')).rejects.toThrow(MalformedItemError);
    await expect(registry.get('H')).rejects.toThrow('"expiresAt"');
  });

  it("lets G heartbeat, describe and create a topic beside H's malformed row, which no decision counts as live or touches", async () => {
    const table = brokersTable([plantedH()]);
    const { seen, reporter } = reports();
    const deps = { ...createMemoryDeps({ startAt: T0 }), brokers: new DynamoBrokerRegistry(table.client, 'brokers', reporter) };
    await registerBrokers(deps, 'G');

    const beat = await heartbeat(deps, { brokerId: 'G', credential: credentialFor('G') });
    expect(beat).toMatchObject({ brokerId: 'G', rejoined: true, sweptBrokers: [] });

    const described = await describeCluster(deps, {});
    expect(described.brokers.map((broker) => broker.brokerId)).toEqual(['G']);

    // RF 1 over the live brokers: G alone, never H.
    const created = await createTopic(deps, { topic: 'orders', partitions: 2, replicationFactor: 1 });
    expect(created.assignments.map((view) => view.Replicas)).toEqual([['G'], ['G']]);
    await expect(createTopic(deps, { topic: 'wide', partitions: 1, replicationFactor: 2 })).rejects.toThrow(/replication factor/i);

    // H's lease lapsed a minute ago, yet the sweep never deleted a row it could not read.
    expect(table.rows.get('"H"')).toEqual(plantedH());
    expect(table.writes.filter((write) => write.brokerId !== 'G')).toEqual([]);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.every((report) => report.items.map((item) => item.key).join() === 'H')).toBe(true);
  });
});
