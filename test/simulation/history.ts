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
  | 'duplicate'
  | 'reordered'
  | 'torn batch';

export const VIOLATION_KINDS: readonly ViolationKind[] = [
  'acknowledged record lost',
  'value changed',
  'non-monotonic consumption',
  'stale-epoch write accepted',
  'two leaders in one epoch',
  'acked below min.insync',
  'not live after heal',
  'duplicate',
  'reordered',
  'torn batch',
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

/** A batch as a producer sent it (acknowledged or not): Kafka writes a batch whole, at consecutive offsets, or not at all. */
export interface SentBatch {
  producer: string;
  partition: string;
  values: string[];
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
}

export interface History {
  /** Which acknowledgements count for loss: acks=all always; acks=1 too in an acks=1 run. */
  lossCheckedAcks: ReadonlyArray<'all' | '1'>;
  /** Whether the producers were idempotent: only then is a record written twice, or out of order, a violation. */
  idempotentProducers: boolean;
  acks: Ack[];
  /** Every batch sent, answered or not (optional: histories without it are not checked for torn batches). */
  batches?: SentBatch[];
  reads: Read[];
  appends: LeaderAppendSeen[];
  final: FinalPartition[];
  /** The step count at the end of the run. */
  endStep: number;
}

export const emptyHistory = (lossCheckedAcks: ReadonlyArray<'all' | '1'> = ['all']): History => ({
  lossCheckedAcks,
  idempotentProducers: true,
  acks: [],
  reads: [],
  appends: [],
  final: [],
  endStep: 0,
});
