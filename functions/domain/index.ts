/**
 * The domain's public API: the use cases the handlers call, the input parsers
 * they may run before any I/O, and the pure rules.
 */
export { heartbeat, sweepExpiredBrokers, type HeartbeatResult, type SweptBroker } from './heartbeat.js';
export { registerBroker, type RegisterBrokerResult } from './broker-credentials.js';
export { createTopic, type TopicDescription } from './create-topic.js';
export {
  describe,
  type BrokerSummary,
  type ClusterDescription,
  type TopicSummary,
} from './describe.js';
export { onBrokerGone, type BrokerDeparture, type BrokerGoneOptions } from './failover.js';
export { onBrokerRegistered } from './broker-return.js';
export { reconcile, type ReconcileResult } from './reconcile.js';
export {
  autoRebalance,
  electPreferredLeaders,
  leaderImbalance,
  type AutoRebalanceResult,
  type BrokerImbalance,
} from './preferred-leader.js';
export { controlledShutdown, type ControlledShutdownResult } from './controlled-shutdown.js';
export { produce, type ProduceResult } from './produce.js';
export { initProducerId, parseInitProducerIdRequest, type InitProducerIdResult } from './init-producer-id.js';
export {
  clipToLogEnd,
  decideSequence,
  incrementSequence,
  unexpired,
  withRecords,
  type IdempotentBatch,
  type SequenceDecision,
} from './idempotence.js';
export { replicate, type PartitionReplication, type ReplicateResult } from './replicate.js';
export {
  consume,
  fetch,
  isFetchPartitionError,
  offsetsForLeaderEpoch,
  serveConsumer,
  type ConsumedRecord,
  type ConsumeResult,
  type FetchPartitionError,
  type FetchResult,
  type OffsetsForLeaderEpochResult,
} from './consume.js';

export {
  isFetchRequest,
  isOffsetsForLeaderEpochRequest,
  parseConsumeRequest,
  parseFetchRequest,
  parseControlledShutdownRequest,
  parseCreateTopicRequest,
  parseOffsetsForLeaderEpochRequest,
  parseDescribeRequest,
  parseHeartbeatRequest,
  parsePreferredLeaderRequest,
  parseProduceRequest,
  parseRegisterBrokerRequest,
  parseTopicFilterRequest,
  type Acks,
  type ConsumeRequest,
  type ControlledShutdownRequest,
  type FetchRequest,
  type OffsetsForLeaderEpochRequest,
  type PreferredLeaderRequest,
  type CreateTopicRequest,
  type HeartbeatRequest,
  type ProduceRequest,
  type ProducedRecord,
  type RegisterBrokerRequest,
  type TopicFilterRequest,
} from './requests.js';

export { assignReplicas, compareBrokerIds } from './assignment.js';
export { electLeader, preferredLeaderMove, type LeaderElection } from './election.js';
export { addToIsr, outOfSyncLiveReplicas, removeFromIsr } from './isr.js';
export { highWatermarkOf, logEndOffsetOf } from './high-watermark.js';
export { eligibilityAt, isLeaseAlive, isLeaseEligible, leaseFor, livenessAt, type Liveness } from './broker-lease.js';
export { toLeadershipEvent, toPartitionView, type PartitionView } from './views.js';
export * from './errors.js';
export type * from './model.js';
