/**
 * The domain's public API: the use cases the handlers call, the input parsers
 * they may run before any I/O, and the pure rules.
 */
export { heartbeat, sweepExpiredBrokers } from './heartbeat.js';
export { registerBroker } from './broker-credentials.js';
export { createTopic } from './create-topic.js';
export { describe } from './describe.js';
export { onBrokerGone, type BrokerDeparture, type BrokerGoneOptions } from './failover.js';
export { onBrokerRegistered } from './broker-return.js';
export { reconcile } from './reconcile.js';
export { autoRebalance, electPreferredLeaders, leaderImbalance } from './preferred-leader.js';
export { controlledShutdown } from './controlled-shutdown.js';
export { produce } from './produce.js';
export { produceBatches } from './produce-batches.js';
export { sweepObjects } from './object-sweep.js';
export { initProducerId, parseInitProducerIdRequest } from './init-producer-id.js';
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
  findCoordinator,
  groupHeartbeat,
  joinGroup,
  leaveGroup,
  offsetCommit,
  offsetFetch,
  sweepGroups,
  syncGroup,
} from './group-coordinator.js';
export { describeGroups, listGroups, serveGroups } from './groups-api.js';
export { OFFSETS_TOPIC, coordinatorPartitionOf, javaStringHashCode } from './group-rules.js';
export type * from './group-model.js';
export { consume, fetch, isFetchPartitionError, offsetsForLeaderEpoch, serveConsumer } from './consume.js';

/** What the use cases answer: the functions' responses, declared once in the protocol. */
export type {
  AutoRebalanceResponse,
  BrokerImbalance,
  BrokerSummary,
  ConsumedRecord,
  ConsumeResponse,
  ControlledShutdownResponse,
  CreateTopicResponse,
  DescribeResponse,
  ElectLeadersResponse,
  FindCoordinatorResponse,
  GroupHeartbeatResponse,
  JoinGroupResponse,
  JoinedGroup,
  SyncedGroup,
  GroupCallPending,
  LeaveGroupResponse,
  OffsetCommitResponse,
  OffsetFetchResponse,
  SweepGroupsResponse,
  SyncGroupResponse,
  FetchPartitionError,
  FetchResponse,
  HeartbeatResponse,
  InitProducerIdResponse,
  OffsetsForLeaderEpochResponse,
  ProduceBatchesResponse,
  ProduceResponse,
  ReconcileResponse,
  RegisterBrokerResponse,
  SweepObjectsResponse,
  SweepResponse,
  SweptBroker,
  TopicSummary,
} from '../../protocol/messages.js';

export {
  isFetchRequest,
  isOffsetsForLeaderEpochRequest,
  parseConsumeRequest,
  parseFindCoordinatorRequest,
  parseGroupHeartbeatRequest,
  parseJoinGroupRequest,
  parseLeaveGroupRequest,
  parseOffsetCommitRequest,
  parseOffsetFetchRequest,
  parseSyncGroupRequest,
  parseFetchRequest,
  parseControlledShutdownRequest,
  parseCreateTopicRequest,
  parseOffsetsForLeaderEpochRequest,
  parseDescribeRequest,
  parseHeartbeatRequest,
  parsePreferredLeaderRequest,
  isProduceBatchesRequest,
  parseProduceBatchesRequest,
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
  type ProduceBatchesRequest,
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
