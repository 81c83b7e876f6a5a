/**
 * TransactionConflict on the DynamoDB store's writes: every append, copy and match
 * transaction includes the partition item, so a plain write of that item can be refused
 * because a transaction held it. The SDK does not retry that; the store does (the write
 * did not happen, and its condition is evaluated afresh), and only a conflict that
 * outlasts its retries reaches the domain, as a named retriable error. The bulk
 * leadership write answers only once every write it started has settled.
 */
import { TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { partitionItem } from '../../../functions/adapters/dynamodb/items.js';
import { DynamoMetadataStore } from '../../../functions/adapters/dynamodb/metadata-store.js';
import { transactWrite, putIf } from '../../../functions/adapters/dynamodb/conditional-writes.js';
import { itemAbsent } from '../../../functions/adapters/dynamodb/conditions.js';
import { StaleEpochError } from '../../../functions/domain/errors.js';
import type { LeadershipUpdate } from '../../../functions/ports/index.js';
import { aPartition } from '../../factories/entities.js';

const conflict = () => new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: {} });
const cancelledByConflict = () =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
  });

interface Sent {
  input: { Key?: Record<string, unknown>; TransactItems?: unknown[] };
}

/** A client that fails the first `failures` sends with `error()`, then answers `answer(command)`. */
function flakyClient(failures: number, error: () => Error, answer: (command: Sent) => unknown = () => ({})) {
  let sends = 0;
  const client = {
    send: (command: Sent) => {
      sends += 1;
      return sends <= failures ? Promise.reject(error()) : Promise.resolve(answer(command));
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, sends: () => sends };
}

const partition = aPartition({ topic: 'orders', partition: 1, version: 4 });
const update: LeadershipUpdate = {
  leader: 'B',
  leaderEpoch: partition.leaderEpoch + 1,
  isr: ['B'],
  state: 'ONLINE',
  lastChange: { ...partition.lastChange, reason: 'LEADER_FAILED' },
};
const written = { ...partition, ...update, version: 5 };

describe('DynamoDB store: TransactionConflict on a single write', () => {
  afterEach(() => vi.useRealTimers());

  it('an HW advance refused by a conflict is retried and applied', async () => {
    const { client, sends } = flakyClient(2, conflict);
    const store = new DynamoMetadataStore(client, 'metadata');
    await expect(store.advanceHighWatermark('orders', 1, 4, 10)).resolves.toBe(true);
    expect(sends()).toBe(3);
  });

  it('an election (leadership write) refused by a conflict is retried and applied', async () => {
    const { client } = flakyClient(1, conflict, () => ({ Attributes: partitionItem(written) }));
    const store = new DynamoMetadataStore(client, 'metadata');
    await expect(store.updateLeadership('orders', 1, 4, update)).resolves.toMatchObject({ leader: 'B', version: 5 });
  });

  it('a conflict that outlasts the retries is a named retriable domain error, not an SDK fault', async () => {
    const { client, sends } = flakyClient(Number.POSITIVE_INFINITY, conflict);
    const store = new DynamoMetadataStore(client, 'metadata');
    vi.useFakeTimers(); // the backoff between attempts
    const refusal = expect(store.advanceHighWatermark('orders', 1, 4, 10)).rejects.toMatchObject({
      name: 'WriteConflictError',
      code: 'CONCURRENT_TRANSACTIONS',
    });
    await vi.runAllTimersAsync();
    await refusal;
    expect(sends()).toBeGreaterThan(1);
  });

  it('a transaction cancelled only by a conflict is retried and goes through', async () => {
    const { client, sends } = flakyClient(2, cancelledByConflict);
    const writes = [putIf('metadata', { pk: 'p', sk: 's' }, itemAbsent('pk', 'item'))];
    await expect(transactWrite(client, writes, () => new StaleEpochError('lost'))).resolves.toBeUndefined();
    expect(sends()).toBe(3);
  });
});

describe('DynamoDB store: the bulk leadership write', () => {
  it('answers only once every write it started has settled, and says what each did', async () => {
    let inFlight = 0;
    let afterAnswer = 0;
    let answered = false;
    const client = {
      send: async (command: Sent) => {
        const p = Number(String(command.input.Key?.sk).split('#')[1]);
        inFlight += 1;
        try {
          // Partition 1 fails at once (not a conflict: an SDK fault); the others take a while.
          if (p === 1) throw Object.assign(new Error('internal'), { name: 'InternalServerError' });
          await new Promise((resolve) => setTimeout(resolve, 5 + (p % 4)));
          if (answered) afterAnswer += 1;
          return { Attributes: partitionItem({ ...written, partition: p }) };
        } finally {
          inFlight -= 1;
        }
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new DynamoMetadataStore(client, 'metadata');
    const writes = Array.from({ length: 40 }, (_, i) => ({ partition: { ...partition, partition: i + 1 }, update }));
    const error: unknown = await store.updateLeaderships(writes).then(
      () => null,
      (failure: unknown) => failure,
    );
    answered = true;
    expect(inFlight).toBe(0);
    expect(error).toMatchObject({ name: 'BulkWriteError' });
    const outcomes = (error as { outcomes: Array<PromiseSettledResult<unknown>> }).outcomes;
    expect(outcomes.map((o) => o.status)).toEqual(writes.map((_, i) => (i === 0 ? 'rejected' : 'fulfilled')));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(afterAnswer).toBe(0);
  });
});
