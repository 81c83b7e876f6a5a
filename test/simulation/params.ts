/** What a simulation run is given (parameters, options, timing) and the constants its parts share. */
export interface SimParams {
  brokers: number;
  rf: number;
  acks: 'all' | '1';
  unclean: boolean;
  minInsync: number;
  steps: number;
  /**
   * The topic's storage mode: `mixed` (the default) makes it diskless in about half the
   * seeds (drawn from a stream of its own, so a replicated run is the run it always was).
   */
  storage: 'replicated' | 'diskless' | 'mixed';
  /** A consumer group of two to four members consumes the topic (groups.ts); its choices draw from a stream of their own. */
  groups: boolean;
}

export const STORAGE_CHOICES: ReadonlyArray<SimParams['storage']> = ['replicated', 'diskless', 'mixed'];

export const DEFAULT_PARAMS: SimParams = { brokers: 3, rf: 3, acks: 'all', unclean: false, minInsync: 2, steps: 300, storage: 'mixed', groups: true };

export interface SimOptions {
  /** false: leader appends skip the leader/epoch check (test-only store), to prove the checker notices. */
  fencing?: boolean;
  /** false: follower copies may stop inside a batch (test-only store), to prove the checker notices torn batches. */
  batches?: boolean;
  /** false: topics are written by a test-only store that cannot resume a creation cut short, to prove the checker notices. */
  resumableCreation?: boolean;
  /**
   * Producers are idempotent (Kafka's default since 3.0) unless this is false; either
   * way they retry a failed batch, so without idempotence retries may duplicate.
   */
  idempotence?: boolean;
  /** Whether duplicates and reorders count as violations; by default exactly when the producers are idempotent. */
  judgeDuplicates?: boolean;
  /** Keep the whole trace (determinism tests); otherwise only its tail. */
  fullTrace?: boolean;
  /** Timing knobs (tuning experiments); the defaults are what the tests and the CLI use. */
  timing?: Partial<Timing>;
  /** KIP-966 eligible leader replicas (the deployed default: on). */
  eligibleLeaderReplicas?: boolean;
  /**
   * A test-only diskless sweep, to prove the checker notices a deleted object that a
   * committed record points into: `unfenced` fences nothing, `no-epoch-check` does not
   * look at the leader epoch around its check.
   */
  objectSweep?: 'unfenced' | 'no-epoch-check';
  /** false: diskless follower copies commit without the partition's epoch check (test-only store), to prove the checker notices. */
  disklessCopyFence?: boolean;
  /**
   * A test-only group coordinator, to prove the group rules can fail: `kept-generation` keeps
   * the generation across a rebalance; `unfenced-commits` writes a member's commit whatever
   * its generation and membership; `coordinator-memory` serves only the offsets committed
   * under the current coordinator epoch (stores.ts).
   */
  groupStore?: 'kept-generation' | 'unfenced-commits' | 'coordinator-memory';
  /** A test-only member that commits what it read before it processes it. */
  groupMember?: 'commit-before-process';
}

export interface Timing {
  /** The not-live rule's bound; by default a session timeout and two reconciler periods. */
  livenessBoundMs?: number;
  sessionTimeoutMs: number;
  heartbeatMs: number;
  maxLatencyMs: number;
  brokerFaultChance: number;
}

export const DEFAULT_TIMING: Timing = { sessionTimeoutMs: 6_000, heartbeatMs: 1_500, maxLatencyMs: 300, brokerFaultChance: 0.03 };

export const FAULT_NAMES = [
  'kill',
  'shutdown',
  'deregister',
  'elect',
  'rebalance',
  'fenced',
  'return',
  'pause',
  'crash',
  'duplicate',
  'delay',
  'redeliver',
  'outage',
  'drop',
  'race',
  'conflict',
  'cut-creation',
  'flood',
  'lost',
  'abandon',
  'midcopy',
  'uncommitted',
  'orphan',
  'stall',
  'sweep-crash',
  'member-late',
  'member-die',
  'member-leave',
  'member-zombie',
  'static-restart',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];
export type FaultCounts = Record<FaultName, number>;

/** The one topic every run creates and its clients use. */
export const TOPIC = 't';
export const SWEEP_MS = 3_000;
/** The diskless orphan sweep's period, and the orphan age it runs with: small, so that it races live and stalled writers. */
export const OBJECT_SWEEP_MS = 1_000;
export const ORPHAN_AGE_MS = 300;
export const RECONCILE_MS = 4_000;
export const TRACE_TAIL = 40;
/**
 * Kafka's producer.id.expiration.ms, scaled down so that idle producers expire within a
 * run. As in Kafka, every copy of a batch must reach the leader before it: a producer
 * retries a batch only within DELIVERY_TIMEOUT_MS of its first send (delivery.timeout.ms),
 * a late copy of a request it gave up on is sent only when it gave up on time and arrives
 * within LATE_REQUEST_MAX_MS (producers.ts), and a task is paused at most once (12 s, faults.ts), so the last copy
 * lands at most about 27 s after the first (7 s to give up, 5 s late, 3 s on its way; 7 s of retries and a 12 s pause).
 */
export const PRODUCER_ID_EXPIRATION_MS = 30_000;
