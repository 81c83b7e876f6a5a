/**
 * The leadership data model. Pure types: no AWS, no I/O.
 *
 * Partitions are numbered from 1 (the product's scenario speaks of partitions 1–4).
 * Broker ids are opaque strings ("A", "broker-7").
 */
import type { LeadershipReason, PartitionState } from '../../protocol/leadership.js';
import type { CompressionType, StorageMode } from '../../protocol/messages.js';

export type BrokerId = string;

/** One broker's registration + liveness lease, as stored in the heartbeat table. */
export interface BrokerHeartbeat {
  brokerId: BrokerId;
  /** Changes every time the broker (re)joins after its lease lapsed; fences zombies. */
  incarnation: number;
  /** Epoch milliseconds of the last accepted heartbeat (judge's clock). */
  lastHeartbeatAt: number;
  /** Epoch milliseconds after which the broker counts as dead: lastHeartbeatAt + session timeout. */
  deadlineMs: number;
  /** Epoch seconds, the DynamoDB TTL attribute (ceil(deadlineMs / 1000)). */
  expiresAt: number;
  /**
   * Set (true) by a controlled shutdown before it moves anything: the broker stays
   * alive for its lease but may no longer be elected leader or admitted to an ISR.
   * Absent otherwise; renewals carry it over.
   */
  shuttingDown?: true;
  /**
   * Epoch milliseconds after which the mark is void: a shutdown whose Lambda stopped after
   * the mark must not keep a running broker ineligible for good. Set with the mark; a mark
   * without it (stored before marks had deadlines) is void once the lease it was set on ends.
   */
  shutdownDeadlineMs?: number;
}

/**
 * A broker's registered credential as the metadata table keeps it (Kafka's SCRAM
 * credential): a random salt and SHA-256(salt || credential), both base64, never the
 * credential itself. It has no TTL: it lasts until the admin registers the broker again.
 */
export interface BrokerCredential {
  brokerId: BrokerId;
  salt: string;
  hash: string;
  /** Epoch milliseconds of the registration. */
  registeredAt: number;
}

export interface TopicConfig {
  topic: string;
  partitions: number;
  replicationFactor: number;
  /** Kafka's min.insync.replicas (default 1). */
  minInsyncReplicas: number;
  /** Kafka's unclean.leader.election.enable (default false). */
  uncleanLeaderElection: boolean;
  /** Kafka's compression.type (default `producer`): whether the log stores record batches gzipped. */
  compressionType: CompressionType;
  /** Where the record bytes live (protocol/messages StorageMode; default `replicated`). */
  storage: StorageMode;
  createdAt: number;
}

/** Values, not only types: the stores read these back and must know every one (declared in protocol/, which clients share). */
export { LEADERSHIP_REASONS, PARTITION_STATES } from '../../protocol/leadership.js';
export { COMPRESSION_TYPES, STORAGE_MODES } from '../../protocol/messages.js';
export type { CompressionType, StorageMode } from '../../protocol/messages.js';
export type { LeadershipEvent, LeadershipReason, PartitionState } from '../../protocol/leadership.js';

/** What caused the partition's last leadership/ISR change; lets a retried detector re-publish its event. */
export interface PartitionChange {
  reason: LeadershipReason;
  previousLeader: BrokerId | null;
  /** The broker whose death/return caused the change, with the incarnation that died/returned. */
  causeBrokerId: BrokerId | null;
  causeIncarnation: number | null;
  unclean: boolean;
  at: number;
}

export interface PartitionMetadata {
  topic: string;
  partition: number;
  /** Replicas in assignment (preference) order; replicas[0] is the preferred leader. */
  replicas: BrokerId[];
  /** null when OFFLINE. */
  leader: BrokerId | null;
  /** Raised by one on every leader change; the fencing token every write carries. */
  leaderEpoch: number;
  /** In-sync replicas, in assignment order. Empty only with eligible leader replicas on (all of them left). */
  isr: BrokerId[];
  /**
   * KIP-966 eligible leader replicas, in assignment order: replicas that left the ISR while
   * it was below min.insync.replicas. The HW does not advance below min.insync.replicas, so
   * they hold every committed record and may be elected cleanly when no ISR member is live.
   * Empty when the ISR is at min.insync.replicas or above, and with ELR turned off.
   */
  elr: BrokerId[];
  /**
   * The last known leader (KIP-966 LastKnownElr): the leader the partition had when it lost
   * it, kept while it has none. Nothing can be committed without a leader, so it still holds
   * every committed record. Empty while the partition has a leader.
   */
  lastKnownElr: BrokerId[];
  state: PartitionState;
  /** Consumers read only offsets < highWatermark. */
  highWatermark: number;
  /** Bumped on every leader/ISR/state change (not on HW advances); the optimistic-concurrency token of leadership writes. */
  version: number;
  lastChange: PartitionChange;
}

/** A replica's progress, one per (topic, partition, broker). */
/** A generation of a replica's log, holding its records from `from` up to the next generation's start. */
export interface GenerationStart {
  from: number;
  generation: number;
}

export interface ReplicaState {
  topic: string;
  partition: number;
  brokerId: BrokerId;
  /** Log end offset: the next offset this replica will write. */
  logEndOffset: number;
  /**
   * The leader epoch in which this replica's log was last checked against its leader's
   * and cut back to where the two agree (Kafka's diverging-epoch fetch). While that
   * epoch lasts the log is a prefix of the leader's, so only then may it receive copies
   * and count toward the high watermark. The leader's own log is the truth in its epoch.
   */
  matchedEpoch: number;
  /**
   * The leader epoch of the last append or copy committed to this log (absent: none
   * recorded). A copy or append of an older epoch is refused, so once the replica took a
   * record of epoch E no record of an earlier epoch can follow it.
   */
  appendEpoch?: number;
  /**
   * Where this replica's log is stored (domain/generations.ts): the generation the next
   * batch goes to, and from which offset each live generation holds the log. Absent:
   * generation 0 from offset 0 (a log never cut nor abandoned by a crashed writer).
   */
  generation?: number;
  generations?: GenerationStart[];
  updatedAt: number;
  /**
   * The idempotent producers whose records this replica's log holds (Kafka's producer
   * state), folded from its records; absent when none. Entries may describe records
   * above the log end (a match cut the log in several writes): readers clip them to
   * `logEndOffset` (domain/idempotence clipToLogEnd).
   */
  producers?: ProducerStates;
}

/**
 * Consecutive records of one producer in one producer epoch: sequences (wrapping from
 * 2^31-1 to 0, as Kafka's) and offsets both ascending by one.
 */
export interface SequenceRun {
  producerEpoch: number;
  firstSequence: number;
  firstOffset: number;
  count: number;
  /** appendedAt of the run's last record (of a later one, once a truncation cut the run short). */
  lastAppendedAt: number;
}

/**
 * What a replica knows of one idempotent producer: its latest runs of records, of
 * whichever producer epochs they were written in, so that a truncation that removes
 * a newer epoch's records leaves the state of the older epoch the log still holds.
 * `producerEpoch` and `lastAppendedAt` are those of the last run.
 */
export interface ProducerState {
  producerEpoch: number;
  /** Oldest first; the last run ends at the producer's last sequence in this log. */
  runs: SequenceRun[];
  /** appendedAt of its last record: the producer expires producer.id.expiration.ms after it. */
  lastAppendedAt: number;
}

/** By producer id (as a string: it is a map key in DynamoDB). */
export type ProducerStates = Record<string, ProducerState>;

/** Kafka's idempotence fields of a record: who wrote it, in which producer epoch, with which sequence. */
export interface ProducerStamp {
  producerId: number;
  producerEpoch: number;
  sequence: number;
}

/**
 * Kafka's record batch, as each of its records carries it: the offsets of the first and
 * last record of the one leader append the record came in. Replicas copy, truncate and
 * answer a batch as one unit, so a follower never holds part of one.
 */
export interface BatchBounds {
  baseOffset: number;
  lastOffset: number;
}

/**
 * Where a diskless topic's batch lives: a byte range of one object (an S3 key), written
 * once by the leader's append and pointed at by every replica's copy.
 */
export interface StoredBatchRef {
  object: string;
  /** First byte of the batch in the object, and its length. */
  start: number;
  length: number;
}

export interface LogRecord {
  topic: string;
  partition: number;
  /** The broker whose replica (copy of the log) holds this item. */
  replica: BrokerId;
  offset: number;
  /** The leader epoch under which the record was appended by the leader. */
  leaderEpoch: number;
  key: string | null;
  value: string;
  /** Epoch ms at which the leader appended it. */
  appendedAt: number;
  /** 'leader' for the leader's append, 'follower' for a replicated copy. */
  copy: 'leader' | 'follower';
  /** Present when an idempotent producer wrote it; copies carry it, so every replica can rebuild the producer state. */
  producer?: ProducerStamp;
  /**
   * The leader append it came in; copies carry it. Absent on records stored before
   * batches were recorded: such a record counts as a batch of its own (domain/record-batch).
   */
  batch?: BatchBounds;
  /** A diskless topic's record: the object range holding its batch (the same for every record of the batch); copies carry it. */
  stored?: StoredBatchRef;
  /**
   * On a leader's record only: the append's writer copies its batch to the followers itself
   * (an acks=all produce), so the log stream's replication leaves the batch alone.
   */
  writerCopies?: true;
}
