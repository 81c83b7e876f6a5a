/**
 * Every Lambda function of the system, declared once: the stack deploys each
 * entry (function, grants, variables, trigger, output) and each handler wires
 * the dependencies its entry uses, so what a function may touch and what it is
 * built with cannot drift apart. Adding a function is an entry here plus its
 * handler, its domain code and its entry in protocol/functions.ts, which gives its
 * output name, its audience and its requests and responses (the table must cover exactly
 * the protocol's keys).
 *
 * Plain data only: this module is bundled into every Lambda, so it imports no
 * aws-cdk-lib (infra/ translates it into constructs; a lint rule in eslint.config.js
 * holds it to that).
 */
import { FUNCTION_PROTOCOL, type Audience, type FunctionKey } from '../protocol/functions.js';
import { ENV } from './config.js';
import type { LeadershipSettings, NumericSetting } from './ports/index.js';

export type TableAccess = 'read' | 'readWrite';

/**
 * The diskless topics' bucket: `read` gets byte ranges of objects (every function that
 * reads a log: a diskless log item points into an object); `write` also puts new objects
 * (produce); `sweep` lists and deletes them (the orphan sweep, the only deleter).
 */
export type ObjectAccess = 'read' | 'write' | 'sweep';

/** The AWS resources behind the ports, with the access a function is granted; the settings are always given. */
export interface Uses {
  readonly brokers?: TableAccess;
  readonly metadata?: TableAccess;
  readonly log?: TableAccess;
  /** Send-only: the functions publish; whoever consumes the events gets its own grant. */
  readonly events?: 'send';
  readonly objects?: ObjectAccess;
}

export type Dependency = keyof Uses;

/** In this order, so grants and variables come out the same however an entry lists them. */
export const DEPENDENCIES: readonly Dependency[] = ['brokers', 'metadata', 'log', 'events', 'objects'];

/** The variable through which a dependency's resource reaches the function's wiring (see config.ts). */
export const DEPENDENCY_ENV: Readonly<Record<Dependency, string>> = {
  brokers: ENV.brokersTable,
  metadata: ENV.metadataTable,
  log: ENV.logTable,
  events: ENV.leadershipEventsQueueUrl,
  objects: ENV.objectsBucket,
};

/** The tables that have a stream. */
export type StreamTable = 'brokers' | 'log';

export type StreamEventName = 'INSERT' | 'MODIFY' | 'REMOVE';

/** One Lambda event filter over stream records; a record must match every field given. */
export interface StreamFilter {
  readonly eventNames: readonly StreamEventName[];
  /** String attributes the record's new image must hold with exactly these values. */
  readonly newImageEquals?: Readonly<Record<string, string>>;
  /** Boolean attributes the record's new image must not hold at all. */
  readonly newImageWithout?: readonly string[];
}

export type Trigger =
  | { readonly kind: 'invoke' }
  | {
      readonly kind: 'schedule';
      /** The rate; with `rateSetting`, its default (the setting decides). */
      readonly rateMinutes: number;
      /** A setting in seconds (whole minutes) that gives the rate, resolved by the stack from its settings. */
      readonly rateSetting?: 'leaderImbalanceCheckIntervalSeconds' | 'disklessSweepIntervalSeconds';
      /** A boolean setting that switches the schedule (the rule) off; the function also does nothing then. */
      readonly enabledSetting?: 'autoLeaderRebalanceEnable';
      readonly ruleDescription: string;
    }
  | {
      readonly kind: 'stream';
      readonly table: StreamTable;
      /** Records that match none are never delivered (nor billed). */
      readonly filters: readonly StreamFilter[];
      readonly batchSize: number;
      /** Older records go to the DLQ unprocessed; absent: bounded by retryAttempts alone. */
      readonly maxRecordAgeSeconds?: number;
      readonly retryAttempts: number;
      /** The CloudFormation output giving the DLQ's URL. */
      readonly dlqOutput: string;
    };

export type Timeout =
  | { readonly seconds: number }
  /** A setting in milliseconds, rounded up to seconds, plus a margin: resolved by the stack from its settings. */
  | { readonly outlives: NumericSetting; readonly bySeconds: number };

export type { Audience, FunctionKey } from '../protocol/functions.js';

/** The audiences a caller can be given an invoke policy for, in output order. */
export const INVOKING_AUDIENCES = ['client', 'broker', 'admin'] as const satisfies readonly Audience[];

export interface FunctionSpec {
  /**
   * The construct id in the stack. Logical ids, and with them the names the
   * local cloud and the e2e tests find, derive from it: renaming it replaces the function.
   */
  readonly id: string;
  /** Under functions/handlers/, without extension; it exports `handler`. */
  readonly handlerFile: string;
  /** Shown in the console; says which trigger drives the function. */
  readonly description: string;
  /**
   * Who may invoke it (from the protocol): 'client' (producers, consumers), 'broker' (a broker
   * about its own lease), 'admin' (operators changing the cluster), 'internal' (its trigger
   * only: every stream or schedule function, and no invoke function).
   */
  readonly audience: Audience;
  readonly uses: Uses;
  readonly trigger: Trigger;
  readonly timeout: Timeout;
  /** The CloudFormation output giving the function's name (from the protocol). */
  readonly output: string;
}

const invoke: Trigger = { kind: 'invoke' };


export const FUNCTIONS = {
  heartbeat: {
    ...FUNCTION_PROTOCOL.heartbeat,
    id: 'Heartbeat',
    handlerFile: 'heartbeat',
    description: "Broker heartbeat: authenticates the broker, registers it or renews its lease (invoke).",
    // The metadata table holds the brokers' credentials, checked on every heartbeat.
    uses: { brokers: 'readWrite', metadata: 'read' },
    trigger: invoke,
    timeout: { seconds: 10 },
  },
  registerBroker: {
    ...FUNCTION_PROTOCOL.registerBroker,
    id: 'RegisterBroker',
    handlerFile: 'register-broker',
    description:
      "Registers or rotates a broker's credential, which its heartbeats and controlled shutdown must carry; stores only a salted hash (invoke, admin).",
    uses: { metadata: 'readWrite' },
    trigger: invoke,
    timeout: { seconds: 10 },
  },
  createTopic: {
    ...FUNCTION_PROTOCOL.createTopic,
    id: 'CreateTopic',
    handlerFile: 'create-topic',
    description: 'Creates a topic and assigns its partitions to live brokers (invoke).',
    uses: { brokers: 'read', metadata: 'readWrite', events: 'send' },
    trigger: invoke,
    timeout: { seconds: 30 },
  },
  describe: {
    ...FUNCTION_PROTOCOL.describe,
    id: 'Describe',
    handlerFile: 'describe',
    description: 'Describes topics, partitions (leader, ISR, epoch, HW) and brokers (invoke).',
    uses: { brokers: 'read', metadata: 'read' },
    trigger: invoke,
    timeout: { seconds: 10 },
  },
  produce: {
    ...FUNCTION_PROTOCOL.produce,
    id: 'Produce',
    handlerFile: 'produce',
    description:
      'Appends records on the partition leader (idempotent producers deduplicated) and, for acks=all, replicates to the ISR before answering; several partitions at once, a diskless topic\'s batches written to S3 as one object (invoke).',
    // The heartbeats are read because acks=all copies only to live followers (a dead one cannot fetch).
    uses: { brokers: 'read', metadata: 'readWrite', log: 'readWrite', objects: 'write' },
    trigger: invoke,
    // Must outlive the acks=all wait, so a timeout is reported as REQUEST_TIMED_OUT, not as a Lambda timeout.
    timeout: { outlives: 'produceAckTimeoutMs', bySeconds: 10 },
  },
  initProducerId: {
    ...FUNCTION_PROTOCOL.initProducerId,
    id: 'InitProducerId',
    handlerFile: 'init-producer-id',
    description: "Hands an idempotent producer its producer id and epoch (Kafka's InitProducerId) (invoke).",
    uses: { metadata: 'readWrite' },
    trigger: invoke,
    timeout: { seconds: 10 },
  },
  consume: {
    ...FUNCTION_PROTOCOL.consume,
    id: 'Consume',
    handlerFile: 'consume',
    description: 'Reads a partition from its leader below the high watermark (invoke).',
    uses: { metadata: 'read', log: 'read', objects: 'read' },
    trigger: invoke,
    timeout: { seconds: 10 },
  },
  sweep: {
    ...FUNCTION_PROTOCOL.sweep,
    id: 'Sweep',
    handlerFile: 'sweep',
    description: 'Deletes expired heartbeats every minute; TTL deletion alone can take days (schedule).',
    uses: { brokers: 'readWrite' },
    trigger: { kind: 'schedule', rateMinutes: 1, ruleDescription: 'Runs the expired-heartbeat sweep.' },
    timeout: { seconds: 50 },
  },
  reconcile: {
    ...FUNCTION_PROTOCOL.reconcile,
    id: 'Reconcile',
    handlerFile: 'reconcile',
    description:
      'Repairs what no stream record may be left to do: elects for dead leaders, shrinks and expands ISRs, finishes replication (schedule).',
    uses: { brokers: 'read', metadata: 'readWrite', log: 'readWrite', events: 'send', objects: 'read' },
    trigger: { kind: 'schedule', rateMinutes: 1, ruleDescription: 'Runs the partition reconciler.' },
    timeout: { seconds: 50 },
  },
  sweepObjects: {
    ...FUNCTION_PROTOCOL.sweepObjects,
    id: 'SweepObjects',
    handlerFile: 'sweep-objects',
    description:
      "Deletes diskless topics' orphan objects (written to S3 by a produce that never committed), after fencing their batches from ever committing (schedule).",
    // The log is written because fencing a batch from committing starts a new generation of its origin replica's log.
    uses: { metadata: 'read', log: 'readWrite', objects: 'sweep' },
    // Each run looks at the objects written in a window of two intervals, ending the orphan age ago.
    trigger: { kind: 'schedule', rateMinutes: 5, rateSetting: 'disklessSweepIntervalSeconds', ruleDescription: 'Runs the diskless orphan-object sweep.' },
    timeout: { seconds: 120 },
  },
  controlledShutdown: {
    ...FUNCTION_PROTOCOL.controlledShutdown,
    id: 'ControlledShutdown',
    handlerFile: 'controlled-shutdown',
    description:
      "A broker's controlled shutdown: moves its leaderships, leaves its ISRs, deletes its lease (invoke).",
    // The log is written because a new leader's followers are levelled with it (truncate + copy), as after any election.
    uses: { brokers: 'readWrite', metadata: 'readWrite', log: 'readWrite', events: 'send', objects: 'read' },
    trigger: invoke,
    timeout: { seconds: 60 },
  },
  electLeaders: {
    ...FUNCTION_PROTOCOL.electLeaders,
    id: 'ElectLeaders',
    handlerFile: 'elect-leaders',
    description: 'Preferred-leader election for every partition, a topic, or some of its partitions (invoke).',
    uses: { brokers: 'read', metadata: 'readWrite', log: 'readWrite', events: 'send', objects: 'read' },
    trigger: invoke,
    timeout: { seconds: 60 },
  },
  autoRebalance: {
    ...FUNCTION_PROTOCOL.autoRebalance,
    id: 'AutoRebalance',
    handlerFile: 'auto-rebalance',
    description:
      'Moves leadership back to preferred replicas where a broker is imbalanced beyond leader.imbalance.per.broker.percentage (schedule).',
    uses: { brokers: 'read', metadata: 'readWrite', log: 'readWrite', events: 'send', objects: 'read' },
    trigger: {
      kind: 'schedule',
      rateMinutes: 5,
      rateSetting: 'leaderImbalanceCheckIntervalSeconds',
      enabledSetting: 'autoLeaderRebalanceEnable',
      ruleDescription: 'Runs the automatic preferred-leader rebalance.',
    },
    timeout: { seconds: 60 },
  },
  groups: {
    ...FUNCTION_PROTOCOL.groups,
    id: 'Groups',
    handlerFile: 'groups',
    description:
      "Kafka's group coordinator: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ListGroups, DescribeGroups, fenced on the leader of the group's offsets partition (invoke).",
    // The brokers are read (and the events sent) when FindCoordinator creates the offsets topic on first use.
    uses: { brokers: 'read', metadata: 'readWrite', events: 'send' },
    trigger: invoke,
    // Must outlive a JoinGroup or SyncGroup held for the rebalance, so the member is answered `pending`, not a timeout.
    timeout: { outlives: 'groupJoinWaitMs', bySeconds: 10 },
  },
  sweepGroups: {
    ...FUNCTION_PROTOCOL.sweepGroups,
    id: 'SweepGroups',
    handlerFile: 'sweep-groups',
    description:
      "Removes group members whose session lapsed and ends rebalances past their timeout in groups no member calls, and expires empty groups' offsets after offsets.retention.minutes (schedule).",
    uses: { metadata: 'readWrite' },
    trigger: { kind: 'schedule', rateMinutes: 1, ruleDescription: 'Runs the consumer-group sweep.' },
    timeout: { seconds: 50 },
  },
  failureDetector: {
    ...FUNCTION_PROTOCOL.failureDetector,
    id: 'FailureDetector',
    handlerFile: 'failure-detector',
    description: 'Elects new leaders when a broker is gone, restores it when it returns (heartbeat stream).',
    // The log is written because after an election the followers are levelled with the new leader (truncate + copy), as in Kafka.
    uses: { brokers: 'read', metadata: 'readWrite', log: 'readWrite', events: 'send', objects: 'read' },
    trigger: {
      kind: 'stream',
      table: 'brokers',
      // Renewals (MODIFY) carry no leadership information: filtered out before they cost an invocation.
      filters: [{ eventNames: ['INSERT', 'REMOVE'] }],
      batchSize: 100,
      // A heartbeat change older than this has been overtaken by newer ones (and by the sweep).
      maxRecordAgeSeconds: 60,
      retryAttempts: 5,
      dlqOutput: 'FailureDetectorDlqUrl',
    },
    timeout: { seconds: 60 },
  },
  replicate: {
    ...FUNCTION_PROTOCOL.replicate,
    id: 'Replicate',
    handlerFile: 'replicate',
    description: 'Copies leader appends to the followers and advances the high watermark (log stream).',
    uses: { brokers: 'read', metadata: 'readWrite', log: 'readWrite', objects: 'read' },
    trigger: {
      kind: 'stream',
      table: 'log',
      // Only the leader's appends (the followers' copies are themselves INSERTs on this stream),
      // and of those only the ones their writer does not copy itself (acks=all: LogRecord.writerCopies).
      filters: [{ eventNames: ['INSERT'], newImageEquals: { copy: 'leader' }, newImageWithout: ['writerCopies'] }],
      batchSize: 100,
      retryAttempts: 5,
      dlqOutput: 'ReplicateDlqUrl',
    },
    timeout: { seconds: 60 },
  },
} as const satisfies { readonly [K in FunctionKey]: FunctionSpec & Pick<(typeof FUNCTION_PROTOCOL)[K], 'output' | 'audience'> };

export type FunctionName = FunctionKey;

/** The entries in declaration order, typed as the general spec (for code that treats every function alike). */
export const FUNCTION_SPECS: readonly FunctionSpec[] = Object.values(FUNCTIONS);

/** The dependencies an entry uses, in the canonical order. */
export const dependenciesOf = (spec: Pick<FunctionSpec, 'uses'>): Dependency[] =>
  DEPENDENCIES.filter((dependency) => spec.uses[dependency] !== undefined);

type ScheduleTrigger = Extract<Trigger, { kind: 'schedule' }>;

/** A schedule's rate in minutes under these settings. */
export const scheduleRateMinutes = (trigger: ScheduleTrigger, settings: LeadershipSettings): number =>
  trigger.rateSetting === undefined ? trigger.rateMinutes : Math.max(1, Math.round(settings[trigger.rateSetting] / 60));

/** Whether a schedule's rule is enabled under these settings. */
export const scheduleEnabled = (trigger: ScheduleTrigger, settings: LeadershipSettings): boolean =>
  trigger.enabledSetting === undefined ? true : settings[trigger.enabledSetting];
