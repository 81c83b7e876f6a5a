/**
 * What each deployed function takes and answers, as the JSON on the wire. A request type
 * says what a caller may send (optional fields are defaulted by the function); the domain's
 * parsers read exactly these fields and the handlers answer exactly these responses.
 */
import type { ErrorName } from './errors.js';
import type { LeadershipEvent, PartitionView } from './leadership.js';

/** A function that takes no fields: `{}` (or no payload at all). */
export type EmptyRequest = Record<string, never>;

// ---- brokers

export interface HeartbeatRequest {
  brokerId: string;
  /** The incarnation the broker was given by its last heartbeat; absent on its first. */
  incarnation?: number;
  /** The broker's registered credential (RegisterBroker). */
  credential: string;
}

export interface HeartbeatResponse {
  brokerId: string;
  /** The incarnation to send with the next heartbeat. */
  incarnation: number;
  deadlineMs: number;
  expiresAt: number;
  /** A new incarnation was registered: the broker must catch up before it may lead again. */
  rejoined: boolean;
  /** Other brokers whose lapsed leases this heartbeat deleted. */
  sweptBrokers: string[];
}

/** Kafka's AlterUserScramCredentials for one broker: create or rotate its credential. */
export interface RegisterBrokerRequest {
  brokerId: string;
  /** The credential to register; absent, one is generated (256 random bits). */
  credential?: string;
}

export interface RegisterBrokerResponse {
  brokerId: string;
  /** The credential, answered this once: the table keeps only its salted hash. */
  credential: string;
  /** The broker had a credential, which this one replaced. */
  rotated: boolean;
}

export interface ControlledShutdownRequest {
  brokerId: string;
  /** The incarnation the broker's last heartbeat returned: only that incarnation may shut itself down. */
  incarnation: number;
  /** The broker's registered credential: the incarnation is public (describe), the credential is not. */
  credential: string;
}

export interface ControlledShutdownResponse {
  brokerId: string;
  incarnation: number;
  /** Partitions whose leadership moved to another replica. */
  movedLeaderships: string[];
  /** Partitions whose ISR the broker left. */
  leftIsrs: string[];
  /**
   * Partitions the broker still leads: no other replica was alive and in the ISR.
   * As in Kafka, they stay led by it until it dies, which deleting its lease now means:
   * the failure detector elects for them as for a failed leader (offline, or unclean if allowed).
   */
  remainingLeaderships: string[];
  /** Whether the lease was deleted (false: the incarnation lapsed or was replaced meanwhile). */
  deregistered: boolean;
  /** The leadership changes made, as published on the leadership-events queue. */
  events: LeadershipEvent[];
}

export interface SweptBroker {
  brokerId: string;
  incarnation: number;
}

export interface SweepResponse {
  deleted: SweptBroker[];
}

/**
 * The diskless orphan sweep: objects old enough that no live writer can still be
 * committing them, each either kept (a committed batch in some replica's log points into
 * it) or, once every batch it held is fenced from ever committing, deleted.
 */
export interface SweepObjectsResponse {
  /** Objects looked at this run. */
  examined: number;
  /** Keys of the orphans deleted. */
  deleted: string[];
  /** Objects left for a later run: a leadership moved while they were checked. */
  deferred: number;
}

// ---- topics and the cluster

/**
 * Kafka's topic-level compression.type, as far as this log applies it: `producer` (the
 * default: records stored as the producer sent them, which here is uncompressed),
 * `uncompressed` and `gzip`. Kafka's snappy, lz4 and zstd are refused: the runtime has no
 * codec for them.
 */
export const COMPRESSION_TYPES = ['producer', 'uncompressed', 'gzip'] as const;
export type CompressionType = (typeof COMPRESSION_TYPES)[number];

/**
 * Where a topic's record bytes live. `replicated` (the default): every replica's log items
 * hold the records. `diskless` (Kafka's KIP-1150 direction, WarpStream's design): a
 * produce call's batches are written once, together, as one object in S3; the log items
 * of every replica hold only each batch's coordinates in that object, so followers copy
 * coordinates, not bytes. Leaders, ISR, epochs, fencing and the high watermark are the same.
 */
export const STORAGE_MODES = ['replicated', 'diskless'] as const;
export type StorageMode = (typeof STORAGE_MODES)[number];

export interface CreateTopicRequest {
  topic: string;
  partitions: number;
  replicationFactor: number;
  /** Kafka's min.insync.replicas (default 1). */
  minInsyncReplicas?: number;
  /** Kafka's unclean.leader.election.enable (default false). */
  uncleanLeaderElection?: boolean;
  /** Kafka's compression.type (default `producer`). */
  compressionType?: CompressionType;
  /** Where the record bytes live (default `replicated`). */
  storage?: StorageMode;
}

export interface CreateTopicResponse {
  topic: string;
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
  uncleanLeaderElection: boolean;
  compressionType: CompressionType;
  storage: StorageMode;
  assignments: PartitionView[];
  /** Whether the partitions' CREATED leadership events reached the queue; the topic exists either way. */
  eventsPublished: boolean;
  /** Why they did not, when they did not. */
  eventsError?: string;
}

/** describe acts on one topic or, without one, on all. */
export interface DescribeRequest {
  topic?: string;
}

export interface TopicSummary {
  topic: string;
  partitionCount: number;
  replicationFactor: number;
  minInsyncReplicas: number;
  uncleanLeaderElection: boolean;
  compressionType: CompressionType;
  storage: StorageMode;
  partitions: PartitionView[];
}

export interface BrokerSummary {
  brokerId: string;
  incarnation: number;
  lastHeartbeatAt: number;
  deadlineMs: number;
  alive: boolean;
  /** Present (true) while a controlled shutdown runs: alive, but no longer eligible to lead or join an ISR. */
  shuttingDown?: true;
}

export interface DescribeResponse {
  topics: TopicSummary[];
  brokers: BrokerSummary[];
}

/** Preferred-leader election: every partition, one topic's, or some partitions of one topic. */
export interface ElectLeadersRequest {
  topic?: string;
  /** Partition numbers of `topic` (which must then be given). */
  partitions?: number[];
}

/** The leadership changes the election made. */
export type ElectLeadersResponse = LeadershipEvent[];

export interface BrokerImbalance {
  brokerId: string;
  /** Partitions whose preferred replica (replicas[0]) is this broker. */
  preferred: number;
  /** Of those, the ones led by another broker (or by nobody). */
  notLed: number;
  /** notLed / preferred, in percent. */
  percentage: number;
}

export interface AutoRebalanceResponse {
  /** false: auto.leader.rebalance.enable is off, nothing was read or written. */
  enabled: boolean;
  /** The brokers above leader.imbalance.per.broker.percentage. */
  imbalanced: BrokerImbalance[];
  events: LeadershipEvent[];
}

export interface ReconcileResponse {
  partitions: number;
  /** The changes this run made, as published on the leadership-events queue. */
  events: LeadershipEvent[];
}

// ---- producing

export interface ProducedRecord {
  key?: string | null;
  value: string;
}

/**
 * "all" or -1 (the default): acknowledged once every ISR member has the records; 1: once the
 * leader wrote them; 0: as 1 for the function, but the caller invokes asynchronously and
 * never learns the answer.
 */
export type Acks = 'all' | -1 | 1 | 0;

export interface ProduceRequest {
  topic: string;
  partition: number;
  records: ProducedRecord[];
  /** The epoch the caller believes current (KIP-320); a stale one is refused. */
  currentLeaderEpoch?: number;
  /** currentLeaderEpoch's older name; both given must agree. */
  leaderEpoch?: number;
  acks?: Acks;
  /** An idempotent producer gives producerId, producerEpoch and baseSequence together. */
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
}

export interface ProduceResponse {
  topic: string;
  partition: number;
  leader: string;
  leaderEpoch: number;
  baseOffset: number;
  lastOffset: number;
  highWatermark: number;
  /**
   * True when an idempotent producer's batch was in the log already (a retry of a
   * batch whose answer was lost): the offsets are those of the original append,
   * and nothing was written again.
   */
  duplicate?: true;
}

/**
 * Kafka's ProduceRequest: batches for several partitions (of any topics) in one call, as a
 * producer sends each broker what it has for the partitions that broker leads. For a
 * diskless topic the call's batches share one object in S3 (one PUT for all of them).
 * Each batch is appended, fenced and acknowledged on its own, as a ProduceRequest of its
 * own would be; at most one batch per partition.
 */
export interface ProduceBatchesRequest {
  acks?: Acks;
  batches: Array<Omit<ProduceRequest, 'acks'>>;
}

/** A batch the call did not append: the error it would have been refused with on its own. */
export interface ProduceBatchRefusal {
  topic: string;
  partition: number;
  errorType: ErrorName;
  errorMessage: string;
}

export type ProduceBatchOutcome = ProduceResponse | ProduceBatchRefusal;

export interface ProduceBatchesResponse {
  /** One per batch, in the request's order. */
  results: ProduceBatchOutcome[];
}

/** Kafka's InitProducerId takes no fields here (transactional ids are not supported). */
export type InitProducerIdRequest = EmptyRequest;

export interface InitProducerIdResponse {
  producerId: number;
  producerEpoch: number;
}

// ---- consuming: the consume function answers three requests, told apart by their fields

export interface ConsumeRequest {
  topic: string;
  partition: number;
  /** Default 0. */
  offset?: number;
  maxRecords?: number;
  /** Kafka's max.partition.fetch.bytes: key and value bytes, past the first record (default 1 MiB). */
  maxBytes?: number;
  /** KIP-320: the epoch the consumer believes current; a stale or unknown one is refused. */
  currentLeaderEpoch?: number;
  /** currentLeaderEpoch's older name; both given must agree. */
  leaderEpoch?: number;
  /** Its presence makes the request an OffsetsForLeaderEpoch. */
  offsetsForLeaderEpoch?: never;
}

export interface ConsumedRecord {
  offset: number;
  leaderEpoch: number;
  key: string | null;
  value: string;
  appendedAt: number;
}

export interface ConsumeResponse {
  topic: string;
  partition: number;
  leader: string;
  leaderEpoch: number;
  highWatermark: number;
  records: ConsumedRecord[];
  /** Where the next request should start. */
  nextOffset: number;
}

/** Kafka's Fetch: many partitions' consumes in one request. */
export interface FetchRequest {
  /** In the order the answer keeps; each is a consume request of its own (epoch, offset, limits). */
  partitions: ConsumeRequest[];
  /** Kafka's fetch.max.bytes: the records of all partitions together (default and at most 5 MiB). */
  maxBytes?: number;
  /**
   * Kafka's fetch.max.wait.ms: how long the function may hold the fetch for `minBytes` of
   * records to be there (default 0: answer at once; at most 5 000). It answers as soon as
   * they are, or a partition is refused, and otherwise with what it has when the wait is up.
   * The wait is billed as Lambda time: see docs/functions.md for where a consumer waits.
   */
  maxWaitMs?: number;
  /** Kafka's fetch.min.bytes: the records, as the answer carries them, worth answering for before the wait is up (default 1). */
  minBytes?: number;
}

/**
 * A partition of a fetch that was refused, with the error a consume of it alone would have
 * failed with, so the caller treats it alike: e.g. FencedLeaderEpochError naming the current leader.
 */
export interface FetchPartitionError {
  topic: string;
  partition: number;
  errorType: ErrorName;
  errorMessage: string;
}

export interface FetchResponse {
  /** One per partition asked for, in the order asked. */
  partitions: Array<ConsumeResponse | FetchPartitionError>;
}

/** KIP-320's OffsetsForLeaderEpoch for one partition. */
export interface OffsetsForLeaderEpochRequest {
  topic: string;
  partition: number;
  /** The epoch whose end offset on the current leader is asked for. */
  offsetsForLeaderEpoch: number;
  /** The epoch the caller believes current, fenced like a fetch's. */
  currentLeaderEpoch?: number;
}

export interface OffsetsForLeaderEpochResponse {
  topic: string;
  partition: number;
  leader: string;
  /** The partition's current leader epoch. */
  currentLeaderEpoch: number;
  /** The largest epoch at or below the one asked for that has records on the leader (or the one asked for, if none). */
  leaderEpoch: number;
  /** The first offset of the leader's log with a larger epoch than the one asked for, or its log end. */
  endOffset: number;
}

// ---- consumer groups: Kafka's classic group protocol, coordinated by the leader of the group's offsets partition

/** Kafka's FindCoordinator for one group (key type GROUP). */
export interface FindCoordinatorRequest {
  groupId: string;
}

export interface FindCoordinatorResponse {
  groupId: string;
  /** The group's partition of the internal offsets topic, and its leader and epoch: the coordinator. */
  topic: string;
  partition: number;
  coordinator: string;
  coordinatorEpoch: number;
}

/**
 * What every request to a group's coordinator carries. `coordinatorEpoch`, when given, is the
 * one FindCoordinator answered: an older one (the coordinator moved since) is NOT_COORDINATOR.
 */
export interface GroupRequest {
  groupId: string;
  coordinatorEpoch?: number;
}

/**
 * A static member's (KIP-345) requests carry its group.instance.id: a restarted instance
 * joins without a member id and takes its old place, and the member id it replaced is
 * answered FENCED_INSTANCE_ID from then on.
 */
export interface MemberRequest extends GroupRequest {
  groupInstanceId?: string;
}

/** One assignment strategy a member offers, with its subscription as the strategy encodes it. */
export interface GroupProtocol {
  name: string;
  metadata: string;
}

export interface JoinGroupRequest extends MemberRequest {
  /** Absent or "" for a new member: it is given one with MEMBER_ID_REQUIRED (KIP-394) and joins again with it. */
  memberId?: string;
  /** Kafka's client.id, the prefix of a member id the group gives (default "consumer"). */
  clientId?: string;
  /** "consumer" for consumers; every member of a group must give the same. */
  protocolType: string;
  /** In the member's order of preference. */
  protocols: GroupProtocol[];
  /** Kafka's session.timeout.ms (default 45 000). */
  sessionTimeoutMs?: number;
  /** Kafka's rebalance timeout, max.poll.interval.ms for consumers (default 300 000). */
  rebalanceTimeoutMs?: number;
}

export interface JoinGroupMember {
  memberId: string;
  metadata: string;
}

/** The rebalance completed: the member is in this generation. */
export interface JoinedGroup {
  memberId: string;
  generationId: number;
  protocolType: string;
  protocolName: string;
  leader: string;
  /** Every member's subscription (for the chosen protocol), to the leader only; [] to the others. */
  members: JoinGroupMember[];
}

/**
 * The rebalance phase had not completed when this call's wait was up (groupJoinWaitMs, and
 * only in the phase's first groupJoinWaitMs): the member is counted as joined and sends the
 * same request again after `retryAfterMs`.
 */
export interface GroupCallPending {
  memberId: string;
  pending: true;
  retryAfterMs: number;
}

export type JoinGroupResponse = JoinedGroup | GroupCallPending;

export interface GroupAssignment {
  memberId: string;
  assignment: string;
}

export interface SyncGroupRequest extends MemberRequest {
  memberId: string;
  generationId: number;
  protocolType?: string;
  protocolName?: string;
  /** The leader's: each member's assignment for this generation. Followers send none. */
  assignments?: GroupAssignment[];
}

export interface SyncedGroup {
  memberId: string;
  generationId: number;
  protocolType: string;
  protocolName: string;
  /** This member's assignment ("" when the leader gave it none). */
  assignment: string;
}

export type SyncGroupResponse = SyncedGroup | GroupCallPending;

/** Kafka's Heartbeat of a group member (the broker heartbeat is HeartbeatRequest). */
export interface GroupHeartbeatRequest extends MemberRequest {
  memberId: string;
  generationId: number;
}

export interface GroupHeartbeatResponse {
  memberId: string;
  generationId: number;
}

export interface LeaveGroupRequest extends MemberRequest {
  memberId: string;
}

export interface LeaveGroupResponse {
  memberId: string;
}

export interface OffsetCommitPartition {
  topic: string;
  partition: number;
  /** The next offset to consume. */
  offset: number;
  /** KIP-320: the leader epoch of the last record consumed (default -1: unknown). */
  committedLeaderEpoch?: number;
  metadata?: string;
}

export interface OffsetCommitRequest extends MemberRequest {
  /** -1 (the default) with no member id: a commit outside the group protocol, for an empty group only. */
  generationId?: number;
  memberId?: string;
  offsets: OffsetCommitPartition[];
}

export interface CommittedPartition {
  topic: string;
  partition: number;
}

/** A partition of a commit that was not written, with its error (e.g. UnknownTopicError for a missing partition). */
export interface OffsetCommitPartitionError extends CommittedPartition {
  errorType: ErrorName;
  errorMessage: string;
}

export interface OffsetCommitResponse {
  /** One per partition, in the request's order. */
  partitions: Array<CommittedPartition | OffsetCommitPartitionError>;
}

export interface OffsetFetchRequest extends GroupRequest {
  /** Absent: every partition the group committed. */
  partitions?: CommittedPartition[];
}

export interface FetchedOffset extends CommittedPartition {
  /** -1 where the group committed none. */
  offset: number;
  committedLeaderEpoch: number;
  metadata: string;
}

export interface OffsetFetchResponse {
  partitions: FetchedOffset[];
}

/** A group's state, as Kafka's coordinator names it (ListGroups, DescribeGroups). */
export const GROUP_STATES = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable'] as const;
export type GroupStateName = (typeof GROUP_STATES)[number];

/** Kafka's ListGroups: every group the cluster's coordinators hold. */
export interface ListGroupsRequest {
  /** Only groups in these states (Kafka's states filter); absent: all. */
  states?: GroupStateName[];
}

export interface ListedGroup {
  groupId: string;
  /** "" while no member has joined (a group made by an admin's offset commit). */
  protocolType: string;
  state: GroupStateName;
}

export interface ListGroupsResponse {
  groups: ListedGroup[];
}

/** Kafka's DescribeGroups. */
export interface DescribeGroupsRequest {
  groupIds: string[];
}

export interface DescribedMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  /** The member's assignment in the current generation, as its leader encoded it ("" before SyncGroup). */
  assignment: string;
}

export interface DescribedGroup {
  groupId: string;
  /** Absent for a group that does not exist: Kafka answers it state Dead, with no members. */
  state: GroupStateName | 'Dead';
  protocolType: string;
  protocolName: string;
  generationId: number;
  /** The leader member, null when there is none. */
  leader: string | null;
  members: DescribedMember[];
  /** The coordinator that answered: the leader of the group's offsets partition, and its epoch. */
  coordinator: string | null;
  coordinatorEpoch: number;
}

export interface DescribeGroupsResponse {
  groups: DescribedGroup[];
}

/**
 * Every request to the groups function names its API, as a Kafka request header does; the
 * function answers each with that API's response.
 */
export type GroupsRequest =
  | ({ api: 'FindCoordinator' } & FindCoordinatorRequest)
  | ({ api: 'JoinGroup' } & JoinGroupRequest)
  | ({ api: 'SyncGroup' } & SyncGroupRequest)
  | ({ api: 'Heartbeat' } & GroupHeartbeatRequest)
  | ({ api: 'LeaveGroup' } & LeaveGroupRequest)
  | ({ api: 'OffsetCommit' } & OffsetCommitRequest)
  | ({ api: 'OffsetFetch' } & OffsetFetchRequest)
  | ({ api: 'ListGroups' } & ListGroupsRequest)
  | ({ api: 'DescribeGroups' } & DescribeGroupsRequest);

export type GroupsApi = GroupsRequest['api'];

/** The response to each API of the groups function. */
export interface GroupsResponses {
  FindCoordinator: FindCoordinatorResponse;
  JoinGroup: JoinGroupResponse;
  SyncGroup: SyncGroupResponse;
  Heartbeat: GroupHeartbeatResponse;
  LeaveGroup: LeaveGroupResponse;
  OffsetCommit: OffsetCommitResponse;
  OffsetFetch: OffsetFetchResponse;
  ListGroups: ListGroupsResponse;
  DescribeGroups: DescribeGroupsResponse;
}

export interface SweepGroupsResponse {
  /** Members removed for a lapsed session, and rebalances ended by their timeout. */
  expiredMembers: Array<{ groupId: string; memberId: string }>;
  expiredOffsets: number;
  /** Empty groups with no offsets left, deleted. */
  deletedGroups: string[];
}
