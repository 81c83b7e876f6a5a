/**
 * Running conditional writes: the one place that decides whether an SDK error
 * means "a condition was lost" (a domain outcome), "a concurrent transaction held
 * the item" (retried here, then a named retriable error) or anything else (rethrown).
 */
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type NativeAttributeValue,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { retryWithBackoff, type BackoffPolicy } from '../../concurrency.js';
import { WriteConflictError } from '../../domain/errors.js';
import { guardedBy, guardedUpdate, type Condition } from './conditions.js';

/**
 * How often a write refused with TransactionConflict is tried again. Every append, copy
 * and match transaction includes the partition item, so a plain write of that item (an HW
 * advance, an election, an ISR change) collides with them in the ordinary course; the SDK
 * does not retry a conflict. Retrying is safe: a refused write did not happen, and its
 * condition is evaluated afresh on the next try. Full jitter, so colliders spread out.
 */
export const CONFLICT_RETRY: BackoffPolicy = { attempts: 6, baseDelayMs: 25, maxDelayMs: 400 };

/**
 * A single write refused because a transaction was writing the same item
 * (TransactionConflictException), or a transaction cancelled for that reason and no
 * lost condition (TransactionCanceledException with only TransactionConflict reasons).
 */
export function isTransactionConflict(error: unknown): boolean {
  if (error instanceof TransactionConflictException) return true;
  if (error instanceof Error && error.name === 'TransactionConflictException') return true;
  return cancelledByConflictOnly(error);
}

/** Runs one write, again after a TransactionConflict (CONFLICT_RETRY); other errors pass through at once. */
export const retryingConflicts = <T>(write: () => Promise<T>): Promise<T> =>
  retryWithBackoff(write, isTransactionConflict, CONFLICT_RETRY);

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

/**
 * Runs one conditional write: a lost condition resolves `{ held: false }`; a
 * TransactionConflict is retried (CONFLICT_RETRY) and, once the tries are spent,
 * thrown as WriteConflictError; any other error is rethrown.
 */
export async function conditionally<T>(write: () => Promise<T>): Promise<ConditionalOutcome<T>> {
  try {
    return { held: true, result: await retryingConflicts(write) };
  } catch (error) {
    if (lostConditionIndexes(error) !== null) return { held: false };
    if (isTransactionConflict(error)) throw new WriteConflictError(`a write kept conflicting with concurrent transactions on the same item: ${describeError(error)}`);
    throw error;
  }
}

const describeError = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

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

export const deleteIf = (TableName: string, Key: Item, condition: Condition): TransactWrite => ({
  item: { Delete: { TableName, Key, ...guardedBy(condition) } },
  condition,
});

export const deleteItem = (TableName: string, Key: Item): TransactWrite => ({ item: { Delete: { TableName, Key } } });

/** An unconditional Put: for a member whose transaction is already guarded by its other members' conditions. */
export const put = (TableName: string, Item: Item): TransactWrite => ({ item: { Put: { TableName, Item } } });

/** DynamoDB's limit on the members of one TransactWriteItems call. */
export { MAX_ITEMS_PER_TRANSACTION as MAX_TRANSACT_ITEMS } from '../topic-creation-steps.js';

/**
 * What a transaction cancelled only because another transaction was writing the
 * same items (TransactionConflict), tried again until CONFLICT_RETRY is spent, lost: a
 * race like a failed condition, which every caller already answers by reading again
 * and deciding again.
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
 * One all-or-nothing TransactWriteItems. A cancellation for TransactionConflict alone is
 * tried again (CONFLICT_RETRY). When conditions were lost, or the transaction kept
 * losing the race with others on the same items, throws the error `onLost` builds from
 * what was lost (the caller's named domain error); any other failure (throttling,
 * validation, the network) is rethrown untouched.
 */
export async function transactWrite(
  client: DynamoDBDocumentClient,
  writes: readonly TransactWrite[],
  onLost: (lost: Condition[]) => Error,
): Promise<void> {
  try {
    await retryingConflicts(() => client.send(new TransactWriteCommand({ TransactItems: writes.map((w) => w.item) })));
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
