import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  checkThat,
  conditionally,
  describeLost,
  lostConditionIndexes,
  putIf,
  transactWrite,
} from '../../../functions/adapters/dynamodb/conditional-writes.js';
import { itemAbsent, leaderEpochIs, logEndOffsetIs } from '../../../functions/adapters/dynamodb/conditions.js';
import { StaleEpochError } from '../../../functions/domain/errors.js';

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

/** A document client whose every send fails with `error`. */
const failingClient = (error: Error) => ({ send: async () => Promise.reject(error) }) as unknown as DynamoDBDocumentClient;

describe('lostConditionIndexes', () => {
  it('a single conditional write that failed is index 0', () => {
    expect(lostConditionIndexes(conditionFailed())).toEqual([0]);
  });

  it('a cancelled transaction names the members whose condition failed', () => {
    expect(lostConditionIndexes(cancelled('None', 'ConditionalCheckFailed', 'None', 'ConditionalCheckFailed'))).toEqual([1, 3]);
  });

  it('a transaction cancelled only for conflicts or throttling is not a lost condition', () => {
    expect(lostConditionIndexes(cancelled('None', 'TransactionConflict'))).toBeNull();
    expect(lostConditionIndexes(cancelled('ThrottlingError'))).toBeNull();
  });

  it('any other error is not a lost condition', () => {
    expect(lostConditionIndexes(new Error('network'))).toBeNull();
    expect(lostConditionIndexes('weird')).toBeNull();
  });
});

describe('conditionally', () => {
  it('returns the result when the condition held', async () => {
    expect(await conditionally(() => Promise.resolve(5))).toEqual({ held: true, result: 5 });
  });

  it('returns held: false when the condition was lost', async () => {
    expect(await conditionally(() => Promise.reject(conditionFailed()))).toEqual({ held: false });
  });

  it('rethrows anything else untouched', async () => {
    const fault = new Error('ProvisionedThroughputExceeded');
    await expect(conditionally(() => Promise.reject(fault))).rejects.toBe(fault);
  });
});

describe('transactWrite', () => {
  const writes = [
    putIf('log', { replica: 'r', offset: 0 }, itemAbsent('replica', 'offset 0')),
    putIf('meta', { pk: 'p', sk: 's' }, logEndOffsetIs(0)),
    checkThat('meta', { pk: 'p', sk: 'q' }, leaderEpochIs(2)),
  ];

  it('turns lost conditions into the caller-named error, listing what was lost', async () => {
    const attempt = transactWrite(failingClient(cancelled('None', 'ConditionalCheckFailed', 'ConditionalCheckFailed')), writes, (lost) =>
      new StaleEpochError(`fenced: ${describeLost(lost)}`),
    );
    await expect(attempt).rejects.toThrow(StaleEpochError);
    await expect(attempt).rejects.toThrow('fenced: log end offset is 0; leader epoch is 2');
  });

  it('turns a transaction that lost a race with another one into the caller-named error', async () => {
    const conflict = cancelled('TransactionConflict', 'None', 'None');
    const attempt = transactWrite(failingClient(conflict), writes, (lost) => new StaleEpochError(`raced: ${describeLost(lost)}`));
    await expect(attempt).rejects.toThrow(StaleEpochError);
    await expect(attempt).rejects.toThrow('raced: no concurrent transaction on the same items (TransactionConflict)');
  });

  it('rethrows a transaction cancelled for throttling as it is', async () => {
    const throttled = cancelled('ThrottlingError', 'None', 'None');
    await expect(transactWrite(failingClient(throttled), writes, () => new StaleEpochError('no'))).rejects.toBe(throttled);
  });

  it('sends the members in order, each with its condition', async () => {
    const sent: unknown[] = [];
    const client = {
      send: (command: { input: unknown }) => Promise.resolve(void sent.push(command.input)),
    } as unknown as DynamoDBDocumentClient;
    await transactWrite(client, writes, () => new StaleEpochError('no'));
    expect(sent).toEqual([{ TransactItems: writes.map((w) => w.item) }]);
    expect(writes[2]?.item.ConditionCheck?.ConditionExpression).toBe('#leaderEpoch = :expectedLeaderEpoch');
  });
});
