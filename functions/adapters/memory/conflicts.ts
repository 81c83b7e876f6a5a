/**
 * What the domain sees when a store write keeps colliding with concurrent transactions on
 * the same item past the DynamoDB adapter's retries (dynamodb/conditional-writes.ts), per
 * memory store operation: a single write fails with WriteConflictError; a transaction is
 * refused with the error its caller names for a lost race. Writes to items no transaction
 * touches (the heartbeat table, the producer-id counter, credentials) cannot conflict.
 * For fault injection (the simulation): the memory stores never conflict on their own.
 */
import { GroupChangedError, StaleEpochError, TopicExistsError, WriteConflictError } from '../../domain/errors.js';

const LOST_RACE = 'no longer true: no concurrent transaction on the same items (TransactionConflict)';

const REFUSALS: Readonly<Record<string, () => Error>> = {
  'metadata.updateLeadership': () => new WriteConflictError('a leadership write kept conflicting with concurrent transactions on the partition item'),
  'metadata.advanceHighWatermark': () => new WriteConflictError('a high watermark advance kept conflicting with concurrent transactions on the partition item'),
  'log.appendAsLeader': () => new StaleEpochError(`a leader append was refused; ${LOST_RACE}`),
  'log.appendAsFollower': () => new StaleEpochError(`a follower copy was refused; ${LOST_RACE}`),
  'log.matchFollower': () => new StaleEpochError(`a follower match was refused; ${LOST_RACE}`),
  'metadata.createTopic': () => new TopicExistsError(`a topic creation step was refused; ${LOST_RACE}`),
  'metadata.finishTopicCreation': () => new TopicExistsError(`a topic creation step was refused; ${LOST_RACE}`),
  'groups.writeGroup': () => new GroupChangedError(`a group write was refused; ${LOST_RACE}`),
  'groups.commitMemberOffsets': () => new GroupChangedError(`an offset commit was refused; ${LOST_RACE}`),
};

/** Whether `operation` is a write that a concurrent transaction can refuse. */
export const canConflict = (operation: string): boolean => operation in REFUSALS;

/** The error the domain gets for `operation` refused by a conflict that outlasted the retries. */
export function conflictRefusal(operation: string): Error {
  const refusal = REFUSALS[operation];
  if (!refusal) throw new Error(`${operation} is not a write that can conflict`);
  return refusal();
}
