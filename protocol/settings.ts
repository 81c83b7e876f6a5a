/**
 * Every tunable of the functions, declared once. The CDK app reads each one from its
 * context key (a malformed value fails the synth), the stack gives it to every function
 * as its environment variable, and each function reads it back at cold start, all by
 * walking this table; tests and the simulation start from its defaults. Adding a setting
 * is one row here (and its use in the domain).
 *
 * Plain data and pure functions only: imported by the Lambda bundles, the CDK app and the
 * tests alike.
 */

/** How a setting's value is written and checked, in the environment and in the CDK context. */
export interface SettingKind<T extends number | boolean> {
  /** Completes "must be ...", in the error that names a malformed variable or context key. */
  readonly expected: string;
  /**
   * The value, or undefined when `raw` is malformed. Environment variables arrive as
   * strings; CDK context as strings (`-c key=value`) or JSON values (cdk.json).
   */
  parse(raw: unknown): T | undefined;
}

/** A number given as a number, or as a non-blank string that reads as one. */
function asNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return raw;
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  return Number(raw);
}

function integerKind(expected: string, accepts: (value: number) => boolean): SettingKind<number> {
  return {
    expected,
    parse: (raw) => {
      const value = asNumber(raw);
      return value !== undefined && Number.isSafeInteger(value) && accepts(value) ? value : undefined;
    },
  };
}

/** Milliseconds, counts. */
export const POSITIVE_INTEGER = integerKind('a positive integer', (value) => value > 0);

export const PERCENTAGE = integerKind('an integer from 0 to 100', (value) => value >= 0 && value <= 100);

/** A period in seconds that an EventBridge rate can express: those are whole minutes. */
export const WHOLE_MINUTES_IN_SECONDS = integerKind(
  'a whole number of minutes in seconds (60, 120, ...)',
  (value) => value >= 60 && value % 60 === 0,
);

export const BOOLEAN: SettingKind<boolean> = {
  expected: '"true" or "false"',
  parse: (raw) => {
    const value = typeof raw === 'string' ? raw.trim() : raw;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    return undefined;
  },
};

export interface SettingSpec<T extends number | boolean> {
  /** The variable the stack sets on every function and config.ts reads at cold start. */
  readonly env: string;
  /** The CDK context key (`-c key=value`, cdk.json) the app reads. */
  readonly context: string;
  readonly kind: SettingKind<T>;
  /** The deployed value when the context does not give one. */
  readonly default: NoInfer<T>;
  /** One line for the deploy guide's table of context settings (after the Kafka configuration, if any). */
  readonly doc: string;
  /** The Kafka configuration this setting mirrors, if any. */
  readonly kafka?: string;
}

/** A row of the table, its value type taken from its kind (so a default of the wrong type does not compile). */
const setting = <T extends number | boolean>(spec: SettingSpec<T>): SettingSpec<T> => spec;

/** Each default is Kafka's where the setting mirrors a Kafka configuration. */
export const SETTINGS = {
  /** Kafka's broker.session.timeout.ms: how long a broker's lease lasts after its last heartbeat. */
  sessionTimeoutMs: setting({
    env: 'SESSION_TIMEOUT_MS',
    context: 'sessionTimeoutMs',
    kind: POSITIVE_INTEGER,
    default: 9_000,
    doc: "a lease's length",
    kafka: 'broker.session.timeout.ms',
  }),
  /** How long acks=all waits for the ISR before REQUEST_TIMED_OUT. */
  produceAckTimeoutMs: setting({
    env: 'PRODUCE_ACK_TIMEOUT_MS',
    context: 'produceAckTimeoutMs',
    kind: POSITIVE_INTEGER,
    default: 10_000,
    doc: 'how long an acks=all produce waits before `ReplicationTimeoutError`',
  }),
  /** Poll interval while waiting for the high watermark. */
  produceAckPollMs: setting({
    env: 'PRODUCE_ACK_POLL_MS',
    context: 'produceAckPollMs',
    kind: POSITIVE_INTEGER,
    default: 50,
    doc: 'the high-watermark poll interval during that wait',
  }),
  /**
   * Kafka's replica.lag.time.max.ms: an in-sync follower that has lacked a leader
   * record for longer than this leaves the ISR (the reconciler applies it).
   */
  replicaLagMaxMs: setting({
    env: 'REPLICA_LAG_MAX_MS',
    context: 'replicaLagMaxMs',
    kind: POSITIVE_INTEGER,
    default: 30_000,
    doc: 'a follower lagging longer leaves the ISR',
    kafka: 'replica.lag.time.max.ms',
  }),
  /**
   * Kafka's producer.id.expiration.ms: a replica forgets an idempotent producer this long
   * after its last record (judged at the appendedAt of later idempotent records, and at
   * the leader's clock when it decides on a batch). Only time expires a producer.
   */
  producerIdExpirationMs: setting({
    env: 'PRODUCER_ID_EXPIRATION_MS',
    context: 'producerIdExpirationMs',
    kind: POSITIVE_INTEGER,
    default: 86_400_000,
    doc: "how long an idle idempotent producer's state is kept (never dropped for room)",
    kafka: 'producer.id.expiration.ms',
  }),
  /** Kafka's auto.leader.rebalance.enable: whether the scheduled preferred-leader rebalance acts at all. */
  autoLeaderRebalanceEnable: setting({
    env: 'AUTO_LEADER_REBALANCE_ENABLE',
    context: 'autoLeaderRebalanceEnable',
    kind: BOOLEAN,
    default: true,
    doc: 'the scheduled preferred election',
    kafka: 'auto.leader.rebalance.enable',
  }),
  /**
   * Whether an acks=all produce copies its records to the live in-sync followers and
   * advances the HW itself before answering (a few ms), or leaves that to the
   * log-stream replication (which always runs, as the repair path) and waits for it.
   * Kafka's followers fetch continuously, so acks=all costs a round trip; this is the
   * serverless equivalent. Off, only the stream replicates.
   */
  replicateOnProduce: setting({
    env: 'REPLICATE_ON_PRODUCE',
    context: 'replicateOnProduce',
    kind: BOOLEAN,
    default: true,
    doc: 'acks=all copies to the live ISR inside the produce; false: the log stream alone replicates',
  }),
  /**
   * Kafka's leader.imbalance.per.broker.percentage: a broker's partitions (those it is
   * the preferred replica of) may be led elsewhere up to this share before the
   * scheduled rebalance moves them back.
   */
  leaderImbalancePerBrokerPercentage: setting({
    env: 'LEADER_IMBALANCE_PER_BROKER_PERCENTAGE',
    context: 'leaderImbalancePerBrokerPercentage',
    kind: PERCENTAGE,
    default: 10,
    doc: "the share of a broker's preferred partitions led elsewhere before the rebalance moves them back",
    kafka: 'leader.imbalance.per.broker.percentage',
  }),
  /** Kafka's leader.imbalance.check.interval.seconds: how often the rebalance runs (whole minutes). */
  leaderImbalanceCheckIntervalSeconds: setting({
    env: 'LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS',
    context: 'leaderImbalanceCheckIntervalSeconds',
    kind: WHOLE_MINUTES_IN_SECONDS,
    default: 300,
    doc: 'the rebalance schedule, whole minutes in seconds',
    kafka: 'leader.imbalance.check.interval.seconds',
  }),
  /**
   * KIP-966 eligible leader replicas (Kafka's eligible.leader.replicas.version=1, on by
   * default here, as in Kafka 4.1's new clusters): replicas that leave the ISR while it is
   * below min.insync.replicas stay electable, the HW advances only at min.insync.replicas
   * or above, and a partition without a leader keeps its last known leader electable. Off:
   * Kafka before 3.7 (the last ISR member stays recorded; the HW follows the ISR whatever its size).
   */
  eligibleLeaderReplicasEnabled: setting({
    env: 'ELIGIBLE_LEADER_REPLICAS_ENABLED',
    context: 'eligibleLeaderReplicasEnabled',
    kind: BOOLEAN,
    default: true,
    doc: 'KIP-966 eligible leader replicas (version 1); false: the last ISR member is kept in the ISR, as Kafka before 3.7',
    kafka: 'eligible.leader.replicas.version',
  }),
  /**
   * How old a diskless object must be before the sweep judges it (domain/object-sweep): a
   * writer that has not committed its batches by then is fenced off by the sweep, and its
   * produce is refused. Much longer than any produce call, so live writers are not fenced.
   */
  disklessOrphanAgeMs: setting({
    env: 'DISKLESS_ORPHAN_AGE_MS',
    context: 'disklessOrphanAgeMs',
    kind: POSITIVE_INTEGER,
    default: 900_000,
    doc: 'how old an object of a diskless topic must be before the sweep may delete it as an orphan',
  }),
  /**
   * How often the diskless sweep runs (whole minutes): each run looks at the objects
   * written in a window twice this long, so every object is looked at about twice.
   */
  disklessSweepIntervalSeconds: setting({
    env: 'DISKLESS_SWEEP_INTERVAL_SECONDS',
    context: 'disklessSweepIntervalSeconds',
    kind: WHOLE_MINUTES_IN_SECONDS,
    default: 300,
    doc: 'the diskless orphan sweep schedule, whole minutes in seconds (each run looks back twice as far)',
  }),
  /** Kafka's group.min.session.timeout.ms: the shortest session.timeout.ms a group member may ask for. */
  groupMinSessionTimeoutMs: setting({
    env: 'GROUP_MIN_SESSION_TIMEOUT_MS',
    context: 'groupMinSessionTimeoutMs',
    kind: POSITIVE_INTEGER,
    default: 6_000,
    doc: 'the shortest session a group member may ask for',
    kafka: 'group.min.session.timeout.ms',
  }),
  /** Kafka's group.max.session.timeout.ms: the longest session.timeout.ms a group member may ask for. */
  groupMaxSessionTimeoutMs: setting({
    env: 'GROUP_MAX_SESSION_TIMEOUT_MS',
    context: 'groupMaxSessionTimeoutMs',
    kind: POSITIVE_INTEGER,
    default: 1_800_000,
    doc: 'the longest session a group member may ask for',
    kafka: 'group.max.session.timeout.ms',
  }),
  /**
   * Kafka's group.initial.rebalance.delay.ms: the first rebalance of an empty group does not
   * complete before this, so members starting together land in one generation rather than
   * one rebalance each. Kafka's 3000 kept: here the wait costs no Lambda time (a joining
   * member's call ends after groupJoinWaitMs and the member joins again).
   */
  groupInitialRebalanceDelayMs: setting({
    env: 'GROUP_INITIAL_REBALANCE_DELAY_MS',
    context: 'groupInitialRebalanceDelayMs',
    kind: POSITIVE_INTEGER,
    default: 3_000,
    doc: "how long an empty group's first rebalance waits for more members",
    kafka: 'group.initial.rebalance.delay.ms',
  }),
  /**
   * How long one JoinGroup or SyncGroup call waits for the rebalance barrier before it
   * answers `pending` and the member calls again: the Lambda time a member pays per call,
   * whatever the rebalance timeout.
   */
  groupJoinWaitMs: setting({
    env: 'GROUP_JOIN_WAIT_MS',
    context: 'groupJoinWaitMs',
    kind: POSITIVE_INTEGER,
    default: 3_000,
    doc: 'how long one JoinGroup or SyncGroup call waits for the rebalance before it answers `pending` (the member calls again)',
  }),
  /** Kafka's offsets.retention.minutes: an empty group's committed offsets are kept this long. */
  offsetsRetentionMinutes: setting({
    env: 'OFFSETS_RETENTION_MINUTES',
    context: 'offsetsRetentionMinutes',
    kind: POSITIVE_INTEGER,
    default: 10_080,
    doc: "how long an empty group's committed offsets are kept",
    kafka: 'offsets.retention.minutes',
  }),
  /** Kafka's offsets.topic.num.partitions: fixed once groups exist (it decides each group's coordinator). */
  offsetsTopicNumPartitions: setting({
    env: 'OFFSETS_TOPIC_NUM_PARTITIONS',
    context: 'offsetsTopicNumPartitions',
    kind: POSITIVE_INTEGER,
    default: 50,
    doc: 'partitions of the internal offsets topic (fixed once groups exist: it decides their coordinators)',
    kafka: 'offsets.topic.num.partitions',
  }),
  /** Kafka's offsets.topic.replication.factor. */
  offsetsTopicReplicationFactor: setting({
    env: 'OFFSETS_TOPIC_REPLICATION_FACTOR',
    context: 'offsetsTopicReplicationFactor',
    kind: POSITIVE_INTEGER,
    default: 3,
    doc: 'replicas of each partition of the internal offsets topic',
    kafka: 'offsets.topic.replication.factor',
  }),
} as const;

export type SettingName = keyof typeof SETTINGS;

/** The tunables every function is deployed with; the domain reads them from its deps. */
export type LeadershipSettings = {
  -readonly [K in SettingName]: (typeof SETTINGS)[K] extends SettingSpec<infer T> ? T : never;
};

/** The settings that are numbers (durations, counts): what a timeout may be derived from. */
export type NumericSetting = {
  [K in SettingName]: LeadershipSettings[K] extends number ? K : never;
}[SettingName];

/** In the table's order. */
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

/** A setting's value read from `raw` by its kind, or undefined when `raw` is malformed. */
export const parseSetting = <K extends SettingName>(name: K, raw: unknown): LeadershipSettings[K] | undefined =>
  (SETTINGS[name].kind as SettingKind<number | boolean>).parse(raw) as LeadershipSettings[K] | undefined;

/** Settings built one by one, in the table's order, by `valueOf`. */
export function buildSettings(valueOf: <K extends SettingName>(name: K) => LeadershipSettings[K]): LeadershipSettings {
  return Object.fromEntries(SETTING_NAMES.map((name) => [name, valueOf(name)])) as LeadershipSettings;
}

/** The table's defaults, with `overrides` on top (tests, the simulation, the memory stores). */
export const defaultSettings = (overrides: Partial<LeadershipSettings> = {}): LeadershipSettings => ({
  ...buildSettings((name) => SETTINGS[name].default as LeadershipSettings[typeof name]),
  ...overrides,
});

/** Each setting as its environment variable, as a function reads them back at cold start. */
export const settingsEnvironment = (settings: LeadershipSettings): Record<string, string> =>
  Object.fromEntries(SETTING_NAMES.map((name) => [SETTINGS[name].env, String(settings[name])]));
