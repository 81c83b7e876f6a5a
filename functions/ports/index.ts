/**
 * The interfaces the domain needs. Implemented by adapters/dynamodb + adapters/sqs
 * (AWS) and adapters/memory (unit tests, chaos). No AWS types here.
 */
import type {
  BrokerHeartbeat,
  BrokerId,
  LeadershipEvent,
  LogRecord,
  PartitionChange,
  PartitionMetadata,
  PartitionState,
  ReplicaState,
  TopicConfig,
} from '../domain/model.js';

export interface Clock {
  now(): number;
}

export interface BrokerRegistry {
  /** Strongly consistent read; expired-but-not-yet-deleted items are returned as they are. */
  get(brokerId: BrokerId): Promise<BrokerHeartbeat | null>;
  /** Every stored heartbeat, expired or not. */
  list(): Promise<BrokerHeartbeat[]>;
  /**
   * Renew a live lease: succeeds only if the stored item has this incarnation and
   * deadlineMs >= now. Returns false (writes nothing) when that condition fails.
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
}

export interface LeadershipUpdate {
  leader: BrokerId | null;
  leaderEpoch: number;
  isr: BrokerId[];
  state: PartitionState;
  lastChange: PartitionChange;
}

export interface MetadataStore {
  getTopic(topic: string): Promise<TopicConfig | null>;
  /** Sorted by topic name (domain/partitions byTopic). */
  listTopics(): Promise<TopicConfig[]>;
  /**
   * Create the topic, its partitions and one ReplicaState (logEndOffset 0) per replica.
   * Throws TopicExistsError (domain/errors topicAlreadyStored) if the topic exists; writes nothing then.
   */
  createTopic(config: TopicConfig, partitions: PartitionMetadata[], replicas: ReplicaState[]): Promise<void>;
  /** Strongly consistent. */
  getPartition(topic: string, partition: number): Promise<PartitionMetadata | null>;
  /** All partitions, or those of one topic; sorted by topic, then partition (domain/partitions byTopicAndPartition). */
  listPartitions(topic?: string): Promise<PartitionMetadata[]>;
  /**
   * The partitions whose leader is this broker, in listing order. May lag a just-made
   * election (an index read): callers needing completeness follow with listPartitions.
   */
  listPartitionsLedBy(brokerId: BrokerId): Promise<PartitionMetadata[]>;
  /**
   * Conditional write of a leader/ISR/state change: applies only if the stored
   * partition still has `expectedVersion`; sets version = expectedVersion + 1.
   * Never touches highWatermark. Throws StaleEpochError (domain/errors partitionVersionMoved)
   * when the condition fails.
   */
  updateLeadership(topic: string, partition: number, expectedVersion: number, update: LeadershipUpdate): Promise<PartitionMetadata>;
  /**
   * Monotonic: sets highWatermark = hw only if leaderEpoch is still `leaderEpoch` and
   * the stored highWatermark < hw. Returns whether it wrote.
   */
  advanceHighWatermark(topic: string, partition: number, leaderEpoch: number, hw: number): Promise<boolean>;
  getReplicaStates(topic: string, partition: number): Promise<ReplicaState[]>;
}

export interface LeaderAppend {
  topic: string;
  partition: number;
  leader: BrokerId;
  leaderEpoch: number;
  /** The leader's current log end offset; records get offsets startOffset, startOffset+1, ... */
  startOffset: number;
  records: Array<{ key: string | null; value: string }>;
  appendedAt: number;
}

export interface FollowerAppend {
  topic: string;
  partition: number;
  follower: BrokerId;
  /** The partition's current leader epoch: the copy is fenced if it moved on. */
  leaderEpoch: number;
  /** Leader-appended records, contiguous from the follower's log end offset. */
  records: LogRecord[];
}

export interface PartitionLog {
  /**
   * One atomic write: the records at startOffset.. (each offset must be free), the
   * leader's ReplicaState.logEndOffset from startOffset to startOffset + n, and a
   * check that the partition's leader/leaderEpoch are still these. Throws
   * StaleEpochError if the epoch/leader moved, NotLeaderError never (caller checks),
   * and a StaleEpochError too if the offset was taken (a concurrent append won).
   */
  appendAsLeader(append: LeaderAppend): Promise<LogRecord[]>;
  /**
   * One atomic write per call: copies into the follower's replica, advances its
   * logEndOffset (conditional on it equalling records[0].offset) and checks the
   * partition's leaderEpoch. Throws StaleEpochError when either condition fails.
   */
  appendAsFollower(append: FollowerAppend): Promise<void>;
  /** Records of one replica with fromOffset <= offset < toOffset, in offset order (missing ones skipped). */
  read(topic: string, partition: number, replica: BrokerId, fromOffset: number, toOffset: number): Promise<LogRecord[]>;
  /** Delete the replica's records with offset >= fromOffset and set its logEndOffset to fromOffset. */
  truncate(topic: string, partition: number, replica: BrokerId, fromOffset: number): Promise<void>;
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

/** Tunables, from config (env) in Lambda, literal in tests. */
export interface LeadershipSettings {
  sessionTimeoutMs: number;
  /** How long acks=all waits for the ISR before REQUEST_TIMED_OUT. */
  produceAckTimeoutMs: number;
  /** Poll interval while waiting for the high watermark. */
  produceAckPollMs: number;
}

export interface Deps {
  clock: Clock;
  brokers: BrokerRegistry;
  metadata: MetadataStore;
  log: PartitionLog;
  events: EventPublisher;
  settings: LeadershipSettings;
  /** Sleep used by acks=all polling; injectable so unit tests need not wait. */
  sleep(ms: number): Promise<void>;
}
