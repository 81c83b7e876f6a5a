/**
 * Named domain errors. Each one's name is an entry of the error catalogue
 * (protocol/errors.ts), which gives its Kafka code and tells clients whether to retry;
 * the one error mapper answers it as a Lambda error with errorType = that name.
 */
import { ERROR_CATALOGUE, type ErrorName } from '../../protocol/errors.js';

export abstract class DomainError extends Error {
  /** The class's own name, which must be in the catalogue: a class missing there does not compile. */
  abstract override readonly name: ErrorName;

  /** Kafka's code for it, from the catalogue. */
  get code(): string {
    return ERROR_CATALOGUE[this.name].code;
  }
}

/** Bad input: the message names the field and the problem. Nothing was written. */
export class ValidationError extends DomainError {
  override readonly name: ErrorName = 'ValidationError';
}

export class UnknownTopicError extends DomainError {
  override readonly name: ErrorName = 'UnknownTopicError';
}

export class TopicExistsError extends DomainError {
  override readonly name: ErrorName = 'TopicExistsError';
}

/** Kafka's INVALID_REPLICATION_FACTOR: more replicas asked than live brokers. */
export class InvalidReplicationFactorError extends DomainError {
  override readonly name: ErrorName = 'InvalidReplicationFactorError';
}

/** A conditional write lost: the partition's leader epoch (or version) moved on. */
export class StaleEpochError extends DomainError {
  override readonly name: ErrorName = 'StaleEpochError';
}

/**
 * KIP-320: the request named a leader epoch older than the partition's. The
 * client's metadata is stale: it must look the leader up again and retry.
 * A StaleEpochError (the same FENCED_LEADER_EPOCH), so code that handles the one handles both.
 */
export class FencedLeaderEpochError extends StaleEpochError {
  override readonly name: ErrorName = 'FencedLeaderEpochError';
}

/**
 * KIP-320: the request named a leader epoch newer than the partition's (the client
 * saw metadata this store has not reached, or made one up): retry after a refresh.
 */
export class UnknownLeaderEpochError extends DomainError {
  override readonly name: ErrorName = 'UnknownLeaderEpochError';
}

/** The request went to (or named) a broker that is not the partition's leader. */
export class NotLeaderError extends DomainError {
  override readonly name: ErrorName = 'NotLeaderError';
}

export class PartitionOfflineError extends DomainError {
  override readonly name: ErrorName = 'PartitionOfflineError';
}

/** Kafka's NOT_ENOUGH_REPLICAS: ISR smaller than min.insync.replicas. */
export class NotEnoughReplicasError extends DomainError {
  override readonly name: ErrorName = 'NotEnoughReplicasError';
}

/**
 * Kafka's NOT_ENOUGH_REPLICAS_AFTER_APPEND: the records were appended, but the ISR
 * fell below min.insync.replicas before they were committed, so they are not acknowledged.
 */
export class NotEnoughReplicasAfterAppendError extends DomainError {
  override readonly name: ErrorName = 'NotEnoughReplicasAfterAppendError';
}

/** Kafka's CONCURRENT_TRANSACTIONS, retriable: other producers kept winning the race for the partition's log end. */
export class ConcurrentAppendError extends DomainError {
  override readonly name: ErrorName = 'ConcurrentAppendError';
}

/**
 * A store write kept colliding with concurrent transactions on the same item (DynamoDB's
 * TransactionConflict) after the store's own bounded retries, and was not applied: retriable,
 * like Kafka's CONCURRENT_TRANSACTIONS. Whatever the request did before that write stays done:
 * a produce refused with it may have appended its records (as after REQUEST_TIMED_OUT).
 */
export class WriteConflictError extends DomainError {
  override readonly name: ErrorName = 'WriteConflictError';
}

/**
 * Some writes of a bulk write (MetadataStore.updateLeaderships) failed for reasons other than
 * a lost condition. Thrown only once every write of the bulk has settled; `outcomes` says, in
 * the writes' order, what each did: the partition as written, null where its condition was
 * lost, or the write's error.
 */
export class BulkWriteError<T> extends Error {
  override readonly name: ErrorName = 'BulkWriteError';

  constructor(readonly outcomes: ReadonlyArray<PromiseSettledResult<T>>) {
    const failed = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    const first: unknown = failed[0]?.reason;
    super(`${failed.length} of ${outcomes.length} writes failed; the first: ${first instanceof Error ? `${first.name}: ${first.message}` : String(first)}`);
  }
}

/**
 * A diskless record points into an object the object store no longer holds (ObjectStore.read).
 * A fault, not a refusal: the sweep deletes only objects no committed record points into,
 * so this means that rule was broken (or the bucket was changed by hand).
 */
export class StoredObjectMissingError extends Error {
  override readonly name: ErrorName = 'StoredObjectMissingError';
}

/** acks=all timed out waiting for the ISR: the write may or may not be committed later. */
export class ReplicationTimeoutError extends DomainError {
  override readonly name: ErrorName = 'ReplicationTimeoutError';
}

/** The offset is not below the high watermark / beyond the log. */
export class OffsetOutOfRangeError extends DomainError {
  override readonly name: ErrorName = 'OffsetOutOfRangeError';
}

/**
 * A heartbeat named an incarnation other than the broker's still-live lease (or
 * named none): a zombie or a duplicate broker must not take over a live lease.
 * Kafka refuses such a registration (DUPLICATE_BROKER_REGISTRATION) until the
 * old session expires.
 */
export class FencedBrokerError extends DomainError {
  override readonly name: ErrorName = 'FencedBrokerError';
}

export class BrokerNotRegisteredError extends DomainError {
  override readonly name: ErrorName = 'BrokerNotRegisteredError';
}

/**
 * Kafka's SASL_AUTHENTICATION_FAILED: a broker's heartbeat or controlled shutdown carried
 * no credential, or not the one registered for that broker id (RegisterBroker), or none is
 * registered. Nothing was read for the caller or written. Not retriable as it is: the
 * broker needs its current credential.
 */
export class BrokerAuthenticationError extends DomainError {
  override readonly name: ErrorName = 'BrokerAuthenticationError';
}

/**
 * Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER: an idempotent producer's batch does not
 * continue its last sequence in the leader's log (a gap, or a new epoch not starting
 * at 0). Nothing was written; not retriable as it is.
 */
export class OutOfOrderSequenceError extends DomainError {
  override readonly name: ErrorName = 'OutOfOrderSequenceError';
}

/**
 * Kafka's DUPLICATE_SEQUENCE_NUMBER: the batch was written before, but so long ago
 * that its offsets are no longer remembered. Nothing was written again.
 */
export class DuplicateSequenceError extends DomainError {
  override readonly name: ErrorName = 'DuplicateSequenceError';
}

/** Kafka's INVALID_PRODUCER_EPOCH / PRODUCER_FENCED: a newer epoch of this producer id has written. */
export class InvalidProducerEpochError extends DomainError {
  override readonly name: ErrorName = 'InvalidProducerEpochError';
}

/**
 * Retriable: the leader cannot remember this batch yet without forgetting something a
 * retry or a truncation may still need. Either the partition's replicas already remember
 * MAX_PRODUCERS_PER_REPLICA producers that wrote within producer.id.expiration.ms (a new
 * producer waits until one expires; no known producer is dropped for room), or the batch
 * would push out the producer's oldest remembered run while the run after it is not yet
 * committed (it waits for the high watermark, as a Kafka client waits with more than
 * max.in.flight batches). Nothing was written.
 */
export class ProducerStateFullError extends DomainError {
  override readonly name: ErrorName = 'ProducerStateFullError';
}

/** Kafka's UNKNOWN_PRODUCER_ID: no InitProducerId ever handed this id out. */
export class UnknownProducerIdError extends DomainError {
  override readonly name: ErrorName = 'UnknownProducerIdError';
}

// ---- consumer groups (Kafka's classic group protocol)

/** The coordinator partition's leader or epoch is not the one the request was served under (or named). Nothing was written. */
export class NotCoordinatorError extends DomainError {
  override readonly name: ErrorName = 'NotCoordinatorError';
}

/** The group's offsets partition has no leader, or the offsets topic cannot be created yet. */
export class CoordinatorNotAvailableError extends DomainError {
  override readonly name: ErrorName = 'CoordinatorNotAvailableError';
}

/** A GroupStore write whose group condition (version, or generation and member) no longer held. Nothing was written. */
export class GroupChangedError extends DomainError {
  override readonly name: ErrorName = 'GroupChangedError';
}

export class IllegalGenerationError extends DomainError {
  override readonly name: ErrorName = 'IllegalGenerationError';
}

export class UnknownMemberIdError extends DomainError {
  override readonly name: ErrorName = 'UnknownMemberIdError';
}

/**
 * KIP-394: a member joined without a member id and was given one, which it must send in its
 * next JoinGroup. One fixed wording carries it, which a client parses: "[member id M]".
 */
export class MemberIdRequiredError extends DomainError {
  override readonly name: ErrorName = 'MemberIdRequiredError';

  constructor(readonly memberId: string) {
    super(`join again with the member id the group gave you [member id ${memberId}]`);
  }
}

export class RebalanceInProgressError extends DomainError {
  override readonly name: ErrorName = 'RebalanceInProgressError';
}

export class FencedInstanceIdError extends DomainError {
  override readonly name: ErrorName = 'FencedInstanceIdError';
}

export class InconsistentGroupProtocolError extends DomainError {
  override readonly name: ErrorName = 'InconsistentGroupProtocolError';
}

export class GroupIdNotFoundError extends DomainError {
  override readonly name: ErrorName = 'GroupIdNotFoundError';
}

export class InvalidSessionTimeoutError extends DomainError {
  override readonly name: ErrorName = 'InvalidSessionTimeoutError';
}

/**
 * KIP-951: a refusal because leadership moved names the current leader, so the client
 * can retry there at once instead of looking it up first. One fixed wording, which the
 * client parses (client/metadata.ts leaderHintOf): "[current leader B epoch 3]".
 */
export const currentLeaderHint = (leader: string | null, leaderEpoch: number): string =>
  leader === null ? '' : ` [current leader ${leader} epoch ${leaderEpoch}]`;

// ---- refusals of a MetadataStore, worded alike by every adapter (DynamoDB, memory)

/** MetadataStore.createTopic: the topic exists already. */
export const topicAlreadyStored = (topic: string): TopicExistsError =>
  new TopicExistsError(`Topic '${topic}' already exists.`);

/** MetadataStore.updateLeadership: the partition is no longer at the expected version. */
export const partitionVersionMoved = (topic: string, partition: number, expectedVersion: number): StaleEpochError =>
  new StaleEpochError(`Partition ${topic}-${partition} changed concurrently: its version is no longer ${expectedVersion}.`);
