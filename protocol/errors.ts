/**
 * Every named error a function can answer with, as its errorType (the error's `name`, which
 * the Lambda runtime reports): what a caller may do about it. The domain's error classes
 * are typed against this catalogue and the client classifies by it, so renaming an error
 * or adding one is a compile error until both sides agree.
 */

export interface ErrorEntry {
  /** Kafka's error code name for it (UNKNOWN_SERVER_ERROR for a fault rather than a refusal). */
  readonly code: string;
  /** A retry may succeed (Kafka's RetriableException): the cluster was in transition, or the caller's metadata stale. */
  readonly retriable: boolean;
  /**
   * Only the leadership the caller named has moved on: look the leader up again (or take the
   * one the refusal names, KIP-951) and retry at once; the cluster itself is fine.
   */
  readonly leadershipMoved: boolean;
}

const refusal = (code: string): ErrorEntry => ({ code, retriable: false, leadershipMoved: false });
const transient = (code: string): ErrorEntry => ({ code, retriable: true, leadershipMoved: false });
const leadershipMoved = (code: string): ErrorEntry => ({ code, retriable: true, leadershipMoved: true });
/** Not a refusal of the request: something failed inside the function; a retry is not expected to help. */
const fault: ErrorEntry = { code: 'UNKNOWN_SERVER_ERROR', retriable: false, leadershipMoved: false };

export const ERROR_CATALOGUE = {
  /** Bad input: the message names the field and the problem. Nothing was written. */
  ValidationError: refusal('VALIDATION'),
  UnknownTopicError: refusal('UNKNOWN_TOPIC_OR_PARTITION'),
  TopicExistsError: refusal('TOPIC_ALREADY_EXISTS'),
  InvalidReplicationFactorError: refusal('INVALID_REPLICATION_FACTOR'),
  NotLeaderError: leadershipMoved('NOT_LEADER_OR_FOLLOWER'),
  StaleEpochError: leadershipMoved('FENCED_LEADER_EPOCH'),
  FencedLeaderEpochError: leadershipMoved('FENCED_LEADER_EPOCH'),
  /** The caller is ahead of the leader's metadata: a retry after a refresh. */
  UnknownLeaderEpochError: transient('UNKNOWN_LEADER_EPOCH'),
  PartitionOfflineError: transient('LEADER_NOT_AVAILABLE'),
  NotEnoughReplicasError: transient('NOT_ENOUGH_REPLICAS'),
  NotEnoughReplicasAfterAppendError: transient('NOT_ENOUGH_REPLICAS_AFTER_APPEND'),
  ConcurrentAppendError: transient('CONCURRENT_TRANSACTIONS'),
  /** A store write kept conflicting; a produce refused with it may have appended (as after REQUEST_TIMED_OUT). */
  WriteConflictError: transient('CONCURRENT_TRANSACTIONS'),
  /** acks=all timed out: the records may be committed anyway. */
  ReplicationTimeoutError: transient('REQUEST_TIMED_OUT'),
  OffsetOutOfRangeError: refusal('OFFSET_OUT_OF_RANGE'),
  FencedBrokerError: refusal('FENCED_BROKER'),
  BrokerNotRegisteredError: refusal('BROKER_NOT_AVAILABLE'),
  BrokerAuthenticationError: refusal('SASL_AUTHENTICATION_FAILED'),
  OutOfOrderSequenceError: refusal('OUT_OF_ORDER_SEQUENCE_NUMBER'),
  DuplicateSequenceError: refusal('DUPLICATE_SEQUENCE_NUMBER'),
  InvalidProducerEpochError: refusal('INVALID_PRODUCER_EPOCH'),
  /** Nothing was written: the same batch may go again once the leader can remember it. */
  ProducerStateFullError: transient('PRODUCER_STATE_FULL'),
  UnknownProducerIdError: refusal('UNKNOWN_PRODUCER_ID'),
  /** The group's coordinator moved (its offsets partition has another leader or epoch): FindCoordinator again and retry. */
  NotCoordinatorError: transient('NOT_COORDINATOR'),
  /** The group's offsets partition has no leader (or the offsets topic cannot be created yet). */
  CoordinatorNotAvailableError: transient('COORDINATOR_NOT_AVAILABLE'),
  /** A group write lost its race to a concurrent one more often than the coordinator re-decides: retry. */
  GroupChangedError: transient('CONCURRENT_TRANSACTIONS'),
  /** The member's generation is not the group's: rejoin. */
  IllegalGenerationError: refusal('ILLEGAL_GENERATION'),
  /** The group does not know the member (it left, expired, or never joined): rejoin with no member id. */
  UnknownMemberIdError: refusal('UNKNOWN_MEMBER_ID'),
  /** KIP-394: a new member was given its member id (in the message), and joins again with it. */
  MemberIdRequiredError: refusal('MEMBER_ID_REQUIRED'),
  /** The group is rebalancing: the member joins again. */
  RebalanceInProgressError: refusal('REBALANCE_IN_PROGRESS'),
  FencedInstanceIdError: refusal('FENCED_INSTANCE_ID'),
  /** The member's protocol type, or every protocol it offers, differs from the group's. */
  InconsistentGroupProtocolError: refusal('INCONSISTENT_GROUP_PROTOCOL'),
  GroupIdNotFoundError: refusal('GROUP_ID_NOT_FOUND'),
  /** session.timeout.ms outside group.min.session.timeout.ms .. group.max.session.timeout.ms. */
  InvalidSessionTimeoutError: refusal('INVALID_SESSION_TIMEOUT'),
  /** Some writes of a bulk leadership write failed for reasons other than a lost condition. */
  BulkWriteError: fault,
  /** A stored item does not have the shape the functions write. */
  MalformedItemError: fault,
  /** Some leadership events were refused by the queue. */
  EventPublishError: fault,
  /** The function was deployed without a variable it needs, or with a malformed one. */
  ConfigError: fault,
  /**
   * A diskless record's object is gone from the object store. Never expected: only the
   * sweep deletes objects, and only objects no committed record points into.
   */
  StoredObjectMissingError: fault,
} as const satisfies Record<string, ErrorEntry>;

export type ErrorName = keyof typeof ERROR_CATALOGUE;

export const ERROR_NAMES = Object.keys(ERROR_CATALOGUE) as ErrorName[];

/** The catalogue's name for an errorType, or undefined for one it does not hold (a Lambda fault, say). */
export const catalogued = (errorType: string): ErrorName | undefined =>
  Object.hasOwn(ERROR_CATALOGUE, errorType) ? (errorType as ErrorName) : undefined;

/** A catalogued error a retry may clear. */
export const isRetriableError = (errorType: string): boolean => {
  const name = catalogued(errorType);
  return name !== undefined && ERROR_CATALOGUE[name].retriable;
};

/** A catalogued error that says only that the leadership the caller named has moved on. */
export const isLeadershipMovedError = (errorType: string): boolean => {
  const name = catalogued(errorType);
  return name !== undefined && ERROR_CATALOGUE[name].leadershipMoved;
};
