import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Item } from './items.js';

const MAX_BATCH_GET_ATTEMPTS = 8;

/** The keys to read per table; at most 100 in all (DynamoDB's limit on one BatchGetItem). */
export type BatchGetKeys = Record<string, Item[]>;

/**
 * One BatchGetItem, strongly consistent, over one table or several, until every key was
 * served: DynamoDB may leave some unprocessed (throughput, 16 MB), which are asked again
 * after a short backoff; a batch that keeps coming back unserved is a fault. Answers the
 * items found, per table (in no particular order).
 */
export function batchGetConsistent(client: DynamoDBDocumentClient, keys: BatchGetKeys): Promise<Record<string, Item[]>> {
  return batchGet(client, keys, true);
}

/** batchGetConsistent, eventually consistent: half the read units, and possibly stale items. */
export function batchGetEventually(client: DynamoDBDocumentClient, keys: BatchGetKeys): Promise<Record<string, Item[]>> {
  return batchGet(client, keys, false);
}

async function batchGet(client: DynamoDBDocumentClient, keys: BatchGetKeys, consistentRead: boolean): Promise<Record<string, Item[]>> {
  const found: Record<string, Item[]> = Object.fromEntries(Object.keys(keys).map((table) => [table, []]));
  let pending: BatchGetKeys = keys;
  for (let attempt = 1; Object.values(pending).some((tableKeys) => tableKeys.length > 0); attempt += 1) {
    if (attempt > MAX_BATCH_GET_ATTEMPTS) {
      const left = Object.entries(pending).map(([table, tableKeys]) => `${table}: ${tableKeys.length} keys`);
      // Named as DynamoDB names its throttling, which is why keys stay unprocessed: a client retries it.
      throw Object.assign(
        new Error(`BatchGetItem on ${left.join(', ')} still unprocessed after ${MAX_BATCH_GET_ATTEMPTS} attempts`),
        { name: 'ProvisionedThroughputExceededException' },
      );
    }
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
    const requestItems = Object.fromEntries(
      Object.entries(pending)
        .filter(([, tableKeys]) => tableKeys.length > 0)
        .map(([table, tableKeys]) => [table, { Keys: tableKeys, ConsistentRead: consistentRead }]),
    );
    const { Responses, UnprocessedKeys } = await client.send(new BatchGetCommand({ RequestItems: requestItems }));
    for (const [table, items] of Object.entries(Responses ?? {})) found[table].push(...(items as Item[]));
    pending = Object.fromEntries(Object.entries(UnprocessedKeys ?? {}).map(([table, unprocessed]) => [table, (unprocessed.Keys ?? []) as Item[]]));
  }
  return found;
}
