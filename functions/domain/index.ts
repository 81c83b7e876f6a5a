/**
 * The domain's public API: the use cases the handlers call, the input parsers
 * they may run before any I/O, and the pure rules.
 */
export { heartbeat, sweepExpiredBrokers, type HeartbeatResult, type SweptBroker } from './heartbeat.js';
export { createTopic, type TopicDescription } from './create-topic.js';
export {
  describe,
  type BrokerSummary,
  type ClusterDescription,
  type TopicSummary,
} from './describe.js';
export { onBrokerGone, type BrokerDeparture } from './failover.js';
export { onBrokerRegistered } from './broker-return.js';
export { reconcile, type ReconcileResult } from './reconcile.js';
export { electPreferredLeaders } from './preferred-leader.js';
export { produce, type ProduceResult } from './produce.js';
export { replicate, type PartitionReplication, type ReplicateResult } from './replicate.js';
export { consume, type ConsumedRecord, type ConsumeResult } from './consume.js';

export {
  parseConsumeRequest,
  parseCreateTopicRequest,
  parseDescribeRequest,
  parseHeartbeatRequest,
  parsePreferredLeaderRequest,
  parseProduceRequest,
  parseTopicFilterRequest,
  type Acks,
  type ConsumeRequest,
  type CreateTopicRequest,
  type HeartbeatRequest,
  type ProduceRequest,
  type ProducedRecord,
  type TopicFilterRequest,
} from './requests.js';

export { assignReplicas, compareBrokerIds } from './assignment.js';
export { electLeader, preferredLeaderMove, type LeaderElection } from './election.js';
export { addToIsr, outOfSyncLiveReplicas, removeFromIsr } from './isr.js';
export { highWatermarkOf, logEndOffsetOf } from './high-watermark.js';
export { isLeaseAlive, leaseFor, type Liveness } from './broker-lease.js';
export { toLeadershipEvent, toPartitionView, type PartitionView } from './views.js';
export * from './errors.js';
export type * from './model.js';
