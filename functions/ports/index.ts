/**
 * The interfaces the domain needs. Implemented by adapters/dynamodb + adapters/sqs
 * (AWS) and adapters/memory (unit tests, chaos). No AWS types here.
 */
import type {
  BrokerCredential,
  BrokerHeartbeat,
  BrokerId,
  LeadershipEvent,
  LogRecord,
  PartitionChange,
  PartitionMetadata,
  PartitionState,
  ProducerStamp,
  ProducerStates,
  ReplicaState,
  StoredBatchRef,
  TopicConfig,
} from '../domain/model.js';
import type { LeadershipSettings } from '../../protocol/settings.js';
import type { CommittedOffset, CoordinatorFence, Group } from '../domain/group-model.js';

export interface Clock {
  now(): number;
}

export interface BrokerRegistry {
  /**
   * Strongly consistent read; expired-but-not-yet-deleted items are returned as they are.
   * An item that cannot be read fails the call: it concerns this broker alone.
   */
  get(brokerId: BrokerId): Promise<BrokerHeartbeat | null>;
  /**
   * Every stored heartbeat, expired or not. An item that cannot be read is left out (and
   * reported by the adapter): its broker is unknown, so no decision counts it as live,
   * and none deletes or fails it over on a row it could not parse.
   */
  list(): Promise<BrokerHeartbeat[]>;
  /**
   * Renew a live lease: succeeds only if the stored item has this incarnation,
   * deadlineMs >= now, and the same `shuttingDown` flag and `shutdownDeadlineMs` as `next`
   * (so a renewal never clears nor shortens a shutdown that started after it read the
   * lease). Returns false (writes
   * nothing) when a condition fails.
   */
  renew(next: BrokerHeartbeat, now: number): Promise<boolean>;
  /**
   * (Re)register with a new incarnation: succeeds only if no item exists, or the stored
   * item is exactly `previous` (same incarnation) and has expired (deadlineMs < now).
   * Returns false when someone else won the race.
   */
  register(next: BrokerHeartbeat, previous: BrokerHeartbeat | null, now: number): Promise<boolean>;
  /** Delete the heartbeat only if it is still this incarnation and expired. Returns whether it deleted. */
  deleteIfExpired(brokerId: BrokerId, incarnation: number, now: number): Promise<boolean>;
  /**
   * Controlled shutdown, first write: sets `shuttingDown`, with `shutdownDeadlineMs` (after
   * which the mark is void), on the stored heartbeat only if it is this incarnation.
   * Returns false (writes nothing) otherwise.
   */
  markShuttingDown(brokerId: BrokerId, incarnation: number, deadlineMs: number): Promise<boolean>;
  /**
   * Controlled shutdown, last write: deletes the heartbeat (live or not) only if it is
   * this incarnation, so the stream shows a REMOVE. Returns whether it deleted.
   */
  deregister(brokerId: BrokerId, incarnation: number): Promise<boolean>;
}

export interface LeadershipUpdate {
  leader: BrokerId | null;
  leaderEpoch: number;
  isr: BrokerId[];
  /**
   * KIP-966 fields, as domain/partition-change isrChange computes them from `isr` (the
   * domain always sets them); absent, the stored ones are left as they are.
   */
  elr?: BrokerId[];
  lastKnownElr?: BrokerId[];
  state: PartitionState;
  lastChange: PartitionChange;
  /**
   * Sets the high watermark, which otherwise only advances. Only an unclean election
   * does this: its leader may lack committed records, and consumers must not be
   * promised offsets its log does not hold.
   */
  highWatermark?: number;
  /**
   * Applies only if the stored high watermark is at most this: an ISR admission is
   * decided against the HW the joining replica reached, and must not land after the HW
   * moved past it.
   */
  highWatermarkAtMost?: number;
}

/** One write of updateLeaderships: `update` decided on `partition` as read (its version is the condition). */
export interface LeadershipWrite {
  partition: PartitionMetadata;
  update: LeadershipUpdate;
}

export interface MetadataStore {
  /** A created topic; null for one whose creation has not finished (read as absent, as Kafka's metadata would). */
  getTopic(topic: string): Promise<TopicConfig | null>;
  /** Created topics only, sorted by topic name (domain/partitions byTopic). */
  listTopics(): Promise<TopicConfig[]>;
  /** A topic whose creation began and was not finished (adapters/topic-creation-steps.ts), else null. */
  getUnfinishedTopic(topic: string): Promise<TopicConfig | null>;
  /**
   * Create the topic, its partitions and one ReplicaState (logEndOffset 0) per replica, in
   * the transactions of topicCreationSteps: a topic larger than one transaction is CREATING
   * (getUnfinishedTopic) until its last one. Throws TopicExistsError (domain/errors
   * topicAlreadyStored) if the topic exists, created or not; writes nothing then. Cut
   * short, it leaves whole partitions (each with all its replica states) behind.
   */
  createTopic(config: TopicConfig, partitions: PartitionMetadata[], replicas: ReplicaState[]): Promise<void>;
  /**
   * Finishes a creation left CREATING: puts the given partitions (the ones missing, each
   * absent before) with their replica states, then marks the topic created, in the
   * transactions of finishingSteps. Throws TopicExistsError when a write finds its item
   * there (another finisher got there first, or the topic was already created).
   */
  finishTopicCreation(topic: string, partitions: PartitionMetadata[], replicas: ReplicaState[]): Promise<void>;
  /** Strongly consistent. */
  getPartition(topic: string, partition: number): Promise<PartitionMetadata | null>;
  /**
   * Many getPartition reads in one go, answered in the order asked (null where missing).
   * Each is strongly consistent, but together they are no snapshot (DynamoDB: BatchGetItem).
   */
  getPartitions(keys: ReadonlyArray<{ topic: string; partition: number }>): Promise<Array<PartitionMetadata | null>>;
  /**
   * The same partitions, eventually consistent: each as it is or as it was a moment ago (a
   * write may not show yet, and two reads may even see it go back), null where none was
   * seen. Cheap (DynamoDB: half the units, and one Query for a topic's partitions asked
   * together instead of an item each), and only good for deciding that a partition needs no
   * strong read: nothing it answers is fenced.
   */
  peekPartitions(keys: ReadonlyArray<{ topic: string; partition: number }>): Promise<Array<PartitionMetadata | null>>;
  /** All partitions, or those of one topic; sorted by topic, then partition (domain/partitions byTopicAndPartition). */
  listPartitions(topic?: string): Promise<PartitionMetadata[]>;
  /**
   * The partitions whose leader is this broker, in listing order. May lag a just-made
   * election (an index read): callers needing completeness follow with listPartitions.
   */
  listPartitionsLedBy(brokerId: BrokerId): Promise<PartitionMetadata[]>;
  /**
   * Conditional write of a leader/ISR/state change: applies only if the stored
   * partition still has `expectedVersion` (and, when given, a high watermark at most
   * `highWatermarkAtMost`); sets version = expectedVersion + 1. Touches highWatermark
   * only when `update.highWatermark` is given. Throws StaleEpochError (domain/errors
   * partitionVersionMoved) when a condition fails.
   */
  updateLeadership(topic: string, partition: number, expectedVersion: number, update: LeadershipUpdate): Promise<PartitionMetadata>;
  /**
   * Many updateLeadership writes at once, each applied or refused on its own (not a
   * transaction; DynamoDB: several conditional UpdateItems in flight). Each write is
   * conditional on the version of `partition` (as read, when `update` was decided), like
   * updateLeadership. Returns, in the writes' order, the partition as written, or null where
   * the condition failed. When a write failed for another reason, throws BulkWriteError
   * (domain/errors) with every write's outcome, and only once every write has settled.
   */
  updateLeaderships(writes: readonly LeadershipWrite[]): Promise<Array<PartitionMetadata | null>>;
  /**
   * Monotonic: sets highWatermark = hw only if the partition is still at
   * `expectedVersion` (the leader, epoch and ISR the HW was computed from) and the
   * stored highWatermark < hw. Returns whether it wrote.
   */
  advanceHighWatermark(topic: string, partition: number, expectedVersion: number, hw: number): Promise<boolean>;
  getReplicaStates(topic: string, partition: number): Promise<ReplicaState[]>;
  /** Every replica state of a topic (one query), by partition, then broker id. */
  listReplicaStates(topic: string): Promise<ReplicaState[]>;
  /** Kafka's InitProducerId: a producer id never handed out before (atomic counter, from 1). */
  allocateProducerId(): Promise<number>;
  /** Whether allocateProducerId has handed out this id. */
  isProducerIdAllocated(producerId: number): Promise<boolean>;
  /** The broker's registered credential (salted hash), strongly consistent: a rotation counts at once. */
  getBrokerCredential(brokerId: BrokerId): Promise<BrokerCredential | null>;
  /** Registers the broker's credential, replacing any it had. Returns whether it replaced one. */
  putBrokerCredential(credential: BrokerCredential): Promise<boolean>;
}

export interface LeaderAppend {
  topic: string;
  partition: number;
  leader: BrokerId;
  leaderEpoch: number;
  /** The leader's current log end offset; records get offsets startOffset, startOffset+1, ... */
  startOffset: number;
  /** The leader's current generation (domain/generations.ts), read with `startOffset`. */
  generation: number;
  records: Array<{ key: string | null; value: string; producer?: ProducerStamp }>;
  appendedAt: number;
  /**
   * A diskless topic's batch, already written to the object store (ObjectStore.write, as
   * these records at these offsets): the log items hold this reference instead of the
   * records' bytes, and every record returned carries it.
   */
  stored?: StoredBatchRef;
  /**
   * When given, the leader's producer state after these records, written in the same
   * transaction (it was computed from the state read with `startOffset`).
   */
  producers?: ProducerStates;
  /** The writer copies these records to the followers itself: they carry LogRecord.writerCopies. */
  writerCopies?: true;
}

export interface FollowerAppend {
  topic: string;
  partition: number;
  follower: BrokerId;
  /** The partition's current leader epoch: the copy is fenced if it moved on, or if the follower was not matched in it. */
  leaderEpoch: number;
  /** Leader-appended records, contiguous from the follower's log end offset. */
  records: LogRecord[];
  /** The follower's current generation (domain/generations.ts), read with its log end. */
  generation: number;
  /** When given, the follower's producer state after these records, written in the same transaction. */
  producers?: ProducerStates;
}

/** Cutting a follower's log back to where it agrees with the leader's, which makes it matched in this epoch. */
export interface FollowerMatch {
  topic: string;
  partition: number;
  follower: BrokerId;
  /** The leader the follower was compared with, and its epoch: the write is fenced on both. */
  leader: BrokerId;
  leaderEpoch: number;
  /** The follower's log end as it was when the two logs were compared; the write is refused if it moved. */
  expectedLogEnd: number;
  /** The follower's generation, read with `expectedLogEnd`: the match starts the next one at `truncateTo`. */
  expectedGeneration: number;
  /** The first offset at which the follower's log does not agree with the leader's (its new log end). */
  truncateTo: number;
  /** When given, the follower's producer state clipped to `truncateTo`, written with the match. */
  producers?: ProducerStates;
}

/**
 * Each replica's log is written as generations of batch items (domain/generations.ts):
 * an append or copy writes its batch once, at the log end of the current generation, and
 * then commits it by moving the replica's log end past it. A writer that dies between
 * the two leaves an uncommitted batch that no read returns; the next writer to find it
 * there, older than IN_DOUBT_BATCH_AGE_MS, abandons it by starting a new generation at
 * that offset (so a commit of it can never land), and writes its own batch there.
 */
export interface PartitionLog {
  /**
   * The batch at startOffset of the leader's current generation, then its commit: the
   * leader's ReplicaState.logEndOffset from startOffset to startOffset + n (and the
   * producer state), only if it is still there in that generation, no later epoch
   * appended to it, and the partition's leader/leaderEpoch are still these (one
   * transaction). Throws StaleEpochError if the epoch/leader moved, or if the offset was
   * taken (a concurrent append won, or its batch is younger than IN_DOUBT_BATCH_AGE_MS).
   */
  appendAsLeader(append: LeaderAppend): Promise<LogRecord[]>;
  /**
   * The copy at the follower's log end in its current generation, then its commit (one
   * conditional write of the follower's state): only if the follower was matched in
   * `leaderEpoch` (so its log is a prefix of that epoch's leader's), no later epoch
   * appended to it, and its logEndOffset and generation are still as read. Throws
   * StaleEpochError when a condition fails.
   */
  appendAsFollower(append: FollowerAppend): Promise<void>;
  /**
   * Committed records of one replica with fromOffset <= offset < toOffset, in offset order
   * (nothing at or above its log end; missing ones skipped).
   */
  read(topic: string, partition: number, replica: BrokerId, fromOffset: number, toOffset: number): Promise<LogRecord[]>;
  /**
   * When the batch item at `offset` of the replica's log in `generation` was written (0 when
   * it does not say), or null when none is there. At the replica's log end such a batch is
   * a write not (yet) committed: a concurrent writer's about to commit, or, older than
   * IN_DOUBT_BATCH_AGE_MS, a dead one's. One strongly consistent read of one item: far
   * cheaper than the refused put of a whole batch that finds the same.
   */
  batchWrittenAt(topic: string, partition: number, replica: BrokerId, generation: number, offset: number): Promise<number | null>;
  /**
   * Cuts the follower's log to `truncateTo` by starting a new generation there, and sets
   * its logEndOffset to `truncateTo` and its matchedEpoch to `leaderEpoch`, in one write
   * fenced on the partition still being led by `leader` at `leaderEpoch`, the follower not
   * yet matched in that epoch and its log end and generation still as compared, and on
   * an ISR member never being cut below the high watermark. Nothing is deleted: the cut
   * records stay in the generation they were written to, which no read goes past the cut
   * in. Throws StaleEpochError when a condition fails.
   */
  matchFollower(match: FollowerMatch): Promise<void>;
  /**
   * Starts a new generation of the replica's log at `offset`, only if its log end is
   * `offset` and its generation is still `generation` (the write that abandons a dead
   * writer's batch). Returns whether it wrote. After it, no batch put at that log end
   * before it can commit: the diskless sweep's fence (domain/object-sweep).
   */
  fenceLogEnd(topic: string, partition: number, replica: BrokerId, offset: number, generation: number): Promise<boolean>;
}

/** Where the writer of a diskless object meant one of its batches to go: the leader's log at that offset. */
export interface ObjectManifestEntry {
  topic: string;
  partition: number;
  /** The leader whose append the batch was written for (the origin of every copy). */
  replica: BrokerId;
  offset: number;
}

export interface StoredObject {
  key: string;
  /** When the object store took it (S3's LastModified), epoch ms. */
  writtenAt: number;
}

/**
 * The object store of diskless topics (S3): each object holds the batches of one produce
 * call, several partitions' at once, and names them in its manifest. Objects are written
 * once and never changed; an object no committed batch points into is an orphan, which
 * only the sweep (domain/object-sweep) deletes, once it has fenced every batch the object
 * held from ever committing.
 */
export interface ObjectStore {
  /**
   * Writes one new object holding these batches, each the records of one partition as its
   * leader is about to append them (from records[0].offset, in that leader's log; the
   * manifest records where). Returns each batch's location, in the order given.
   */
  write(batches: ReadonlyArray<readonly LogRecord[]>): Promise<StoredBatchRef[]>;
  /**
   * The records of one stored batch, as written (replica, copy and offsets as the leader
   * appended them). Throws StoredObjectMissingError (domain/errors) when the object is gone.
   */
  read(ref: StoredBatchRef): Promise<LogRecord[]>;
  /** The objects the store took in [from, to), epoch ms, oldest first. */
  listWritten(from: number, to: number): Promise<StoredObject[]>;
  /** An object's manifest, or null when the object is gone. */
  manifest(key: string): Promise<ObjectManifestEntry[] | null>;
  /** Deletes the object (nothing if already gone). */
  delete(key: string): Promise<void>;
}

export interface EventPublisher {
  /**
   * FIFO: message group = `${topic}-${partition}`, dedup id =
   * `${topic}-${partition}-${leaderEpoch}-${reason}-${version}` (the version tells
   * apart two ISR changes of one reason within one epoch; hash the id if it
   * would exceed SQS's 128 characters, topic names may be 249 long).
   */
  publish(events: LeadershipEvent[]): Promise<void>;
}

/** Tunables, declared in protocol/settings.ts: from config (env) in Lambda, its defaults with overrides in tests. */
export type { LeadershipSettings, NumericSetting } from '../../protocol/settings.js';

/** What a broker's heartbeat and controlled shutdown read first: its lease and its registered credential. */
export interface BrokerIdentity {
  /** The registered credential (salted hash), or null: none is registered. */
  credential: BrokerCredential | null;
  /**
   * The stored lease, parsed on demand: only once the caller proved to be the broker does
   * its row concern the request (a row that cannot be read then fails it, as get does).
   */
  lease(): BrokerHeartbeat | null;
}

export interface BrokerIdentityReader {
  /**
   * The broker's lease (brokers table) and credential (metadata table), both strongly
   * consistent, read together (DynamoDB: one BatchGetItem over both tables, so a
   * heartbeat's authentication costs a read unit but no request of its own).
   */
  read(brokerId: BrokerId): Promise<BrokerIdentity>;
}

export interface Deps {
  clock: Clock;
  brokers: BrokerRegistry;
  /** Wired where both the brokers and the metadata table are. */
  identity: BrokerIdentityReader;
  metadata: MetadataStore;
  log: PartitionLog;
  events: EventPublisher;
  /** Where diskless topics keep their record bytes (S3). */
  objects: ObjectStore;
  settings: LeadershipSettings;
  /** Sleep used by acks=all polling; injectable so unit tests need not wait. */
  sleep(ms: number): Promise<void>;
}

/** A write of a group item, in one transaction with the offsets it puts or deletes. */
export interface GroupWrite {
  fence: CoordinatorFence;
  groupId: string;
  /** The version the decision read; null: the group had no item. */
  expectedVersion: number | null;
  /** The item as decided (its version is written as expectedVersion + 1), or null to delete it. */
  next: Group | null;
  putOffsets?: CommittedOffset[];
  deleteOffsets?: Array<{ topic: string; partition: number }>;
}

/** A commit of a group member: written only while the member is in this generation and the group not completing a rebalance. */
export interface MemberOffsetCommit {
  fence: CoordinatorFence;
  groupId: string;
  generationId: number;
  memberId: string;
  offsets: CommittedOffset[];
}

/**
 * Consumer groups' durable state, in the metadata table (DynamoDB: a group item and an item
 * per committed partition, one transaction per write). Every write is fenced on the
 * coordinator: it applies only if the offsets partition `fence` names still has that leader
 * and leader epoch (a ConditionCheck on the partition item, as a leader append checks its
 * partition), else it throws NotCoordinatorError; a lost group condition throws
 * GroupChangedError. Either way nothing is written.
 */
export interface GroupStore {
  /** Strongly consistent. */
  getGroup(groupId: string): Promise<Group | null>;
  /** Every group item (the sweep's listing). */
  listGroups(): Promise<Group[]>;
  /** The group's committed offsets, strongly consistent, by topic then partition. */
  getOffsets(groupId: string): Promise<CommittedOffset[]>;
  /** The group item only if its version is `expectedVersion` (absent for null), with the offsets it puts or deletes. */
  writeGroup(write: GroupWrite): Promise<void>;
  /**
   * The offsets (the group item unchanged) only if the group is at `generationId`, holds
   * `memberId`, and is Stable or PreparingRebalance (a member of the ending generation may
   * still commit what it processed before it rejoins, as Kafka allows). DynamoDB: a
   * ConditionCheck on the group item (`generationId = :g AND contains(memberIds, :m) AND
   * #state IN (:stable, :preparing)`, with the member ids kept as a list beside the members:
   * a string set could not be empty), one on the coordinator partition, and at most 98 offset puts.
   */
  commitMemberOffsets(commit: MemberOffsetCommit): Promise<void>;
}

/** The ports the group coordinator needs besides the cluster's. */
export interface GroupDeps extends Deps {
  groups: GroupStore;
}
