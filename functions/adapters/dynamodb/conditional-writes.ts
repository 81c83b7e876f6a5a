/**
 * Running conditional writes: the one place that decides whether an SDK error
 * means "a condition was lost" (a domain outcome) or anything else (rethrown).
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type NativeAttributeValue,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { guardedBy, guardedUpdate, type Condition } from './conditions.js';

/**
 * Indexes of the writes whose condition failed: `[0]` for a single conditional
 * write, the positions in `TransactItems` for a cancelled transaction. `null`
 * when the error is anything else, including a transaction cancelled only for
 * conflicts or throttling (those are retryable faults, not lost conditions).
 */
export function lostConditionIndexes(error: unknown): number[] | null {
  if (error instanceof ConditionalCheckFailedException) return [0];
  if (error instanceof TransactionCanceledException) {
    const lost = (error.CancellationReasons ?? []).flatMap((reason, index) =>
      reason.Code === 'ConditionalCheckFailed' ? [index] : [],
    );
    return lost.length > 0 ? lost : null;
  }
  return null;
}

export type ConditionalOutcome<T> = { held: true; result: T } | { held: false };

/** Runs one conditional write: a lost condition resolves `{ held: false }`, any other error is rethrown. */
export async function conditionally<T>(write: Promise<T>): Promise<ConditionalOutcome<T>> {
  try {
    return { held: true, result: await write };
  } catch (error) {
    if (lostConditionIndexes(error) !== null) return { held: false };
    throw error;
  }
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type Item = Record<string, NativeAttributeValue>;

/** One member of a transaction, with the named condition it is guarded by (if any). */
export interface TransactWrite {
  readonly item: TransactItem;
  readonly condition?: Condition;
}

export const putIf = (TableName: string, Item: Item, condition: Condition): TransactWrite => ({
  item: { Put: { TableName, Item, ...guardedBy(condition) } },
  condition,
});

export const updateIf = (TableName: string, Key: Item, attributes: Item, condition: Condition): TransactWrite => ({
  item: { Update: { TableName, Key, ...guardedUpdate(attributes, condition) } },
  condition,
});

export const checkThat = (TableName: string, Key: Item, condition: Condition): TransactWrite => ({
  item: { ConditionCheck: { TableName, Key, ...guardedBy(condition) } },
  condition,
});

export const deleteItem = (TableName: string, Key: Item): TransactWrite => ({ item: { Delete: { TableName, Key } } });

/** An unconditional Put: for a member whose transaction is already guarded by its other members' conditions. */
export const put = (TableName: string, Item: Item): TransactWrite => ({ item: { Put: { TableName, Item } } });

/** DynamoDB's limit on the members of one TransactWriteItems call. */
export const MAX_TRANSACT_ITEMS = 100;

/**
 * What a transaction cancelled only because another transaction was writing the
 * same items (TransactionConflict) lost: a race like a failed condition, which every
 * caller already answers by reading again and deciding again.
 */
const NO_CONCURRENT_TRANSACTION: Condition = {
  description: 'no concurrent transaction on the same items (TransactionConflict)',
  expr: '',
  names: {},
  values: {},
};

function cancelledByConflictOnly(error: unknown): boolean {
  if (!(error instanceof TransactionCanceledException)) return false;
  const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None').filter((code) => code !== 'None');
  return codes.length > 0 && codes.every((code) => code === 'TransactionConflict');
}

/**
 * One all-or-nothing TransactWriteItems. When conditions were lost, or the
 * transaction lost a race with another one on the same items, throws the error
 * `onLost` builds from what was lost (the caller's named domain error); any other
 * failure (throttling, validation, the network) is rethrown untouched.
 */
export async function transactWrite(
  client: DynamoDBDocumentClient,
  writes: readonly TransactWrite[],
  onLost: (lost: Condition[]) => Error,
): Promise<void> {
  try {
    await client.send(new TransactWriteCommand({ TransactItems: writes.map((w) => w.item) }));
  } catch (error) {
    if (cancelledByConflictOnly(error)) throw onLost([NO_CONCURRENT_TRANSACTION]);
    const lost = lostConditionIndexes(error);
    if (lost === null) throw error;
    throw onLost(lost.flatMap((index) => writes[index]?.condition ?? []));
  }
}

/** The lost conditions' descriptions for an error message, each once. */
export const describeLost = (lost: readonly Condition[]): string =>
  lost.length > 0 ? [...new Set(lost.map((c) => c.description))].join('; ') : 'an unnamed condition';
