/**
 * What a simulation run records for the checker: acknowledgements, consumer
 * reads, leader appends as observed against the tables, and the final state.
 */
export type ViolationKind =
  | 'acknowledged record lost'
  | 'value changed'
  | 'non-monotonic consumption'
  | 'stale-epoch write accepted'
  | 'two leaders in one epoch'
  | 'acked below min.insync'
  | 'not live after heal'
  | 'not-live'
  | 'duplicate'
  | 'reordered'
  | 'torn batch'
  | 'stored object missing'
  | 'partition owned twice'
  | 'acknowledged commit lost'
  | 'commit went backwards'
  | 'zombie commit accepted'
  | 'record skipped by group';

export const VIOLATION_KINDS: readonly ViolationKind[] = [
  'acknowledged record lost',
  'value changed',
  'non-monotonic consumption',
  'stale-epoch write accepted',
  'two leaders in one epoch',
  'acked below min.insync',
  'not live after heal',
  'not-live',
  'duplicate',
  'reordered',
  'torn batch',
  'stored object missing',
  'partition owned twice',
  'acknowledged commit lost',
  'commit went backwards',
  'zombie commit accepted',
  'record skipped by group',
];

export interface Violation {
  kind: ViolationKind;
  /** topic-partition, e.g. "t-1". */
  partition: string;
  detail: string;
  /** Scheduler step at which the offending event was recorded (the end of the run for final checks). */
  step: number;
}

export interface Ack {
  producer: string;
  partition: string;
  acks: 'all' | '1';
  leader: string;
  leaderEpoch: number;
  baseOffset: number;
  values: string[];
  /** The partition's ISR in the metadata table at the moment produce returned. */
  isrAtReturn: string[];
  minInsync: number;
  step: number;
}

export interface Read {
  consumer: string;
  /** A consumer that had to reset its position starts a new session. */
  session: number;
  partition: string;
  offset: number;
  records: Array<{ offset: number; value: string }>;
  step: number;
}

export interface LeaderAppendSeen {
  partition: string;
  replica: string;
  leaderEpoch: number;
  offsets: number[];
  /** The partition's leader and epoch in the metadata table right after the append committed. */
  tableLeader: string | null;
  tableEpoch: number;
  step: number;
}

/** A batch as a producer first sent it (its retries resend the same values): one leader append, so one unit in every log. */
export interface ProducerBatch {
  producer: string;
  partition: string;
  values: string[];
  step: number;
}

export interface FinalPartition {
  partition: string;
  state: 'ONLINE' | 'OFFLINE';
  leader: string | null;
  highWatermark: number;
  /** The leader's log end offset (0 without a leader). */
  leaderLogEnd: number;
  /** The leader's records below the high watermark. */
  log: Array<{ offset: number; value: string }>;
  /** A live replica that the election rules would accept (ISR member, or any replica with unclean election). */
  liveEligibleReplica: string | null;
  /** Why the partition is not there at all (its topic's creation never finished), when it is not. */
  absent?: string;
}

/**
 * A partition's liveness as the run saw it, recorded when it changes (and at the end): whether
 * it had no leader, and, if so, a replica that could have led it with every committed record
 * (its broker running, its lease live, no shutdown mark in force, and its log holding every
 * record below the HW as the run saw them committed), or null.
 */
export interface LivenessSample {
  partition: string;
  /** Virtual ms. */
  at: number;
  step: number;
  leaderless: boolean;
  holder: string | null;
}

/** A committed record seen pointing into an object the object store no longer holds. */
export interface MissingObject {
  partition: string;
  replica: string;
  offset: number;
  object: string;
  step: number;
}

/** A SyncGroup answer a member received: its partitions in that generation. */
export interface GroupAssignment {
  member: string;
  /** Who owns them: a static member's instance id (its restarts are the same owner), else the member id. */
  owner: string;
  /** The group's incarnation, from the member id it gave: a group deleted and created again counts its generations from 0. */
  incarnation: string;
  generation: number;
  partitions: string[];
  step: number;
}

/** An OffsetCommit a member sent, and how it was answered. */
export interface GroupCommit {
  member: string;
  memberId: string;
  generation: number;
  partition: string;
  offset: number;
  sentStep: number;
  /** acked: written; refused: a domain refusal, nothing written; unknown: the call died (it may have written); pending: never answered. */
  outcome: 'pending' | 'acked' | 'refused' | 'unknown';
  /** When it was answered (Infinity while pending). */
  step: number;
}

/** One partition of an OffsetFetch answer (-1: nothing committed). */
export interface GroupFetch {
  member: string;
  partition: string;
  offset: number;
  sentStep: number;
  step: number;
}

/** A member's commit as the store wrote it, beside the group as the table held it right after. */
export interface GroupOffsetWrite {
  memberId: string;
  generation: number;
  partition: string;
  offset: number;
  /** The group's incarnation and generation in the table right after the write. */
  tableIncarnation: number;
  tableGeneration: number;
  tableHasMember: boolean;
  step: number;
}

/** A record the group's application processed. */
export interface GroupProcessed {
  member: string;
  generation: number;
  partition: string;
  offset: number;
  value: string;
  step: number;
}

export interface History {
  /** Which acknowledgements count for loss: acks=all always; acks=1 too in an acks=1 run. */
  lossCheckedAcks: ReadonlyArray<'all' | '1'>;
  /** Whether the producers were idempotent: only then is a record written twice, or out of order, a violation. */
  idempotentProducers: boolean;
  acks: Ack[];
  reads: Read[];
  appends: LeaderAppendSeen[];
  /** Every batch the producers sent, once each. */
  sent: ProducerBatch[];
  final: FinalPartition[];
  /** The step count at the end of the run. */
  endStep: number;
  liveness: LivenessSample[];
  /** How long (virtual ms) a partition may stay leaderless while a holder exists: the not-live rule's bound. */
  livenessBoundMs: number;
  /** Diskless topics: committed records whose object was gone, as seen after a step. */
  missingObjects: MissingObject[];
  /** Whether the run had a consumer group (the group rules judge only then). */
  group: boolean;
  groupAssignments: GroupAssignment[];
  groupCommits: GroupCommit[];
  groupFetches: GroupFetch[];
  groupWrites: GroupOffsetWrite[];
  groupProcessed: GroupProcessed[];
  /** After the drain: each partition's committed offset as the store holds it (-1: none). */
  groupFinal: Array<{ partition: string; offset: number; step: number }>;
  /** Where the drain left each partition's committed offset, against its high watermark. */
  groupDrain: Array<{ partition: string; committed: number; highWatermark: number }>;
}

export const emptyHistory = (lossCheckedAcks: ReadonlyArray<'all' | '1'> = ['all']): History => ({
  lossCheckedAcks,
  idempotentProducers: true,
  acks: [],
  reads: [],
  appends: [],
  sent: [],
  final: [],
  endStep: 0,
  liveness: [],
  livenessBoundMs: Number.POSITIVE_INFINITY,
  missingObjects: [],
  group: false,
  groupAssignments: [],
  groupCommits: [],
  groupFetches: [],
  groupWrites: [],
  groupProcessed: [],
  groupFinal: [],
  groupDrain: [],
});
