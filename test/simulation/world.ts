/**
 * The world of one run, passed explicitly to every part of it: the seeded PRNG and
 * scheduler, the memory stores the real domain runs over, the brokers as the run knows
 * them, the history being recorded, and the state each part keeps between its steps.
 */
import { createHash } from 'node:crypto';
import {
  createMemoryDeps,
  type HeartbeatStreamRecord,
  type MemoryDeps,
  type MemoryObjectStore,
  type MemoryPartitionLog,
  type MemoryTables,
} from '../../functions/adapters/memory/index.js';
import { canConflict, conflictRefusal } from '../../functions/adapters/memory/conflicts.js';
import type { BrokerId, LogRecord } from '../../functions/domain/model.js';
import type { Deps, LeadershipSettings } from '../../functions/ports/index.js';
import { emptyHistory, type History, type LivenessSample } from './history.js';
import { FAULT_NAMES, RECONCILE_MS, TRACE_TAIL, type FaultCounts, type SimOptions, type SimParams, type Timing } from './params.js';
import { Prng } from './prng.js';
import { Scheduler, type Task } from './scheduler.js';
import { recordingLog, TornCopyPartitionLog, UnfencedDisklessCopyLog, UnfencedPartitionLog, UnresumableMetadataStore } from './stores.js';
import { describeState } from './trace.js';
import { createGroupState, type GroupState } from './groups.js';

/** Chance per write that a concurrent transaction refuses it past the store's retries (TransactionConflict). */
const CONFLICT_CHANCE = 0.05;
/** Chance per item that an eventually consistent read sees an earlier version of it; drawn from a stream of its own. */
const STALE_READ_CHANCE = 0.3;
const STALE_READ_STREAM = 0x57a1e;
/** Whether a `mixed` run's topic is diskless: drawn from a stream of its own, so a replicated run is unchanged by the choice. */
const STORAGE_STREAM = 0xd15c;

export interface Broker {
  id: BrokerId;
  /** What its heartbeats and its controlled shutdown carry; registered at setup. */
  credential: string;
  running: boolean;
  incarnation?: number;
  /** Bumped on death/return so a stale heartbeat timer chain stops. */
  generation: number;
  heartbeating: boolean;
  /** A controlled shutdown is running: the broker keeps heartbeating until it ends. */
  shuttingDown: boolean;
  /** Lost with others (a rack): not brought back by the random returns before this (virtual ms). */
  downUntil: number;
}

export interface StreamItem<R> {
  record: R;
  attempts: number;
}

export interface Shard<R> {
  key: string;
  queue: Array<StreamItem<R>>;
  busy: boolean;
  blockedUntil: number;
  /** Remaining invocations that fail at their first store operation (an outage of the function). */
  outage: number;
}

/** The two table streams, as the event source mappings' shards (streams.ts). */
export interface Streams {
  heartbeatShards: Map<string, Shard<HeartbeatStreamRecord>>;
  logShards: Map<string, Shard<LogRecord>>;
}

/** Where tasks die at a gate (faults.ts crashPolicy). */
export interface CrashPlan {
  /** Tasks that die at their next store operation (a stream invocation during an outage). */
  once: Set<Task>;
  /** Follower copy writes each task has made: a copy of a lagging follower takes several. */
  copyWrites: WeakMap<Task, number>;
  /** Setup's topic creation dies before this transaction of it (1-based), if set. */
  cutCreationAt: number | undefined;
  creationSteps: number;
  /** Controlled shutdowns that die at their first store operation after the mark (value: whether they marked). */
  abandonAfterMark: Map<Task, boolean>;
  /** Produce tasks that have written a diskless object: they may die or stall before its batches are appended. */
  wroteObject: WeakSet<Task>;
  /** Produce tasks whose next store operation is the first after their object write. */
  justWroteObject: WeakSet<Task>;
  /** Per produce task, the number (1-based, ObjectStore write order) of the last object it wrote. */
  lastObjectOf: WeakMap<Task, number>;
  /** The object whose writer was just released into a stall (faults.ts), until the sweep has judged it. */
  stallOn: number | undefined;
}

/** What the clients (producers.ts, consumers.ts) count across all of them. */
export interface ClientCounters {
  /** Short-lived producers started so far (their ids follow CHURN_PRODUCER_BASE). */
  churned: number;
  /** Late copies not yet sent: the heal waits for them, they may still write. */
  lateOnTheWay: number;
  /** Consumers that found, through OffsetsForLeaderEpoch, their position truncated away. */
  truncations: number;
}

/** The liveness sampling's memory between two samples (recording.ts). */
export interface LivenessTracker {
  /**
   * Per partition: the records below the HW as its leaders showed them, each as its value and
   * leader epoch (committed records never change).
   */
  committed: Map<number, { epoch: number; values: string[] }>;
  lastSample: Map<number, LivenessSample>;
}

export interface World {
  readonly seed: number;
  readonly params: SimParams;
  readonly options: SimOptions;
  readonly timing: Timing;
  /** The not-live rule's bound (see createWorld). */
  readonly livenessBoundMs: number;
  readonly rng: Prng;
  readonly scheduler: Scheduler;
  readonly memory: MemoryDeps;
  readonly tables: MemoryTables;
  /** The log beneath the recording wrapper: its leader appends feed the log stream, its replicas the final reads. */
  readonly memLog: MemoryPartitionLog;
  /** The topic keeps its record bytes in objects (SimParams.storage). */
  readonly diskless: boolean;
  readonly objects: MemoryObjectStore;
  /** What the domain is given. */
  readonly deps: Deps;
  readonly brokers: Broker[];
  readonly partitions: number[];
  readonly history: History;
  readonly faults: FaultCounts;
  readonly idempotence: boolean;
  /** Faults are drawn (off during setup and the heal). */
  faultsOn: boolean;
  /** The cluster's history is closed (closeHistory): what happens while the group drains the topic is not recorded. */
  historyClosed: boolean;
  /** Clients start new requests (off during the heal). */
  clientsOn: boolean;
  readonly streams: Streams;
  readonly crashes: CrashPlan;
  readonly clients: ClientCounters;
  readonly liveness: LivenessTracker;
  /**
   * Per partition, each high watermark its item showed after a step, with the leader epoch
   * and ISR beside it: when a batch of a several-partition produce was committed (its call
   * answers only once every batch is done), so its acknowledgement is judged as of then.
   */
  readonly commits: Map<number, Array<{ hw: number; leaderEpoch: number; isr: BrokerId[]; step: number }>>;
  /** When each diskless sweep run that has ended (or died) started. */
  readonly objectSweepStarts: number[];
  /** The consumer group's members and their stream of draws (groups.ts), when the run has a group. */
  group?: GroupState;
  readonly now: () => number;
}

/** The world before anything ran; `settings` are the domain's for this run (run.ts chooses them). */
export function createWorld(seed: number, params: SimParams, options: SimOptions, timing: Timing, settings: Partial<LeadershipSettings>): World {
  const rng = new Prng(seed);
  const faults = Object.fromEntries(FAULT_NAMES.map((name) => [name, 0])) as FaultCounts;
  const idempotence = options.idempotence ?? true;
  const history: History = { ...emptyHistory(params.acks === '1' ? ['all', '1'] : ['all']), idempotentProducers: options.judgeDuplicates ?? idempotence };
  const memory = createMemoryDeps({
    settings,
    yieldPoint: async (operation) => {
      await scheduler.yieldPoint(operation);
      // A writer stalled between its object write and this operation (faults.ts), as a Lambda frozen mid-call.
      if (world.crashes.stallOn !== undefined) {
        const number = world.crashes.stallOn;
        world.crashes.stallOn = undefined;
        await stallUntilJudged(world, number, operation);
      }
      // Drawn as the write is released, inside its task's turn: a refusal the write's own retries did not outlast.
      if (world.faultsOn && canConflict(operation) && rng.chance(CONFLICT_CHANCE)) {
        faults.conflict++;
        const refusal = conflictRefusal(operation);
        scheduler.record(`conflict`, `${operation} refused: ${refusal.name}`);
        throw refusal;
      }
    },
    // The simulation's topic stands for a large one: one partition (with its replica states) per
    // transaction, so its creation takes several, as a topic of over 100 items does on DynamoDB.
    maxTransactionItems: 2 + params.rf,
  });
  const scheduler: Scheduler = new Scheduler(memory.clock, rng, {
    maxLatencyMs: timing.maxLatencyMs,
    timerBias: 0.3,
    describeState: () => describeState(world),
    keepFullTrace: true,
    traceTail: TRACE_TAIL,
  });
  const tables = memory.tables;
  // Eventually consistent reads (a fetch's looks) see a partition item a write or a few behind, now and then.
  const staleness = new Prng(seed ^ STALE_READ_STREAM);
  tables.staleness = () => (staleness.chance(STALE_READ_CHANCE) ? staleness.between(1, 3) : 0);
  const memLog: MemoryPartitionLog =
    options.fencing === false
      ? new UnfencedPartitionLog(tables, memory.clock, memory.objects)
      : options.batches === false
        ? new TornCopyPartitionLog(tables, memory.clock, memory.objects)
        : options.disklessCopyFence === false
          ? new UnfencedDisklessCopyLog(tables, memory.clock, memory.objects)
          : memory.log;
  const deps: Deps = {
    ...memory,
    ...(options.resumableCreation === false ? { metadata: new UnresumableMetadataStore(tables) } : {}),
    log: recordingLog(memLog, tables, (seen) => {
      if (world.historyClosed) return;
      history.appends.push({
        partition: `${seen.append.topic}-${seen.append.partition}`,
        replica: seen.append.leader,
        leaderEpoch: seen.append.leaderEpoch,
        offsets: seen.records.map((r) => r.offset),
        tableLeader: seen.tableLeader,
        tableEpoch: seen.tableEpoch,
        step: scheduler.steps,
      });
    }),
    sleep: (ms) => scheduler.sleep(ms),
  };

  const brokers: Broker[] = Array.from({ length: params.brokers }, (_, i) => ({
    id: String.fromCharCode(65 + i),
    // Chosen by the admin, derived from the seed without drawing from the PRNG: the same run, whatever the credentials.
    credential: createHash('sha256').update(`simulated broker ${String.fromCharCode(65 + i)} of seed ${seed}`).digest('base64url'),
    running: true,
    generation: 0,
    heartbeating: false,
    shuttingDown: false,
    downUntil: 0,
  }));
  const partitionCount = rng.between(1, 3);
  const world: World = {
    seed,
    params,
    options,
    timing,
    /**
     * A session timeout and two reconciler periods (with their jitter): a lapsed lease
     * to be seen as such, then the schedule's own repair, run twice.
     */
    livenessBoundMs: timing.livenessBoundMs ?? timing.sessionTimeoutMs + 2 * (RECONCILE_MS + 1_000),
    rng,
    scheduler,
    memory,
    tables,
    memLog,
    diskless: params.storage === 'diskless' || (params.storage === 'mixed' && new Prng(seed ^ STORAGE_STREAM).chance(0.5)),
    objects: memory.objects,
    deps,
    brokers,
    partitions: Array.from({ length: partitionCount }, (_, i) => i + 1),
    history,
    faults,
    idempotence,
    faultsOn: true,
    historyClosed: false,
    clientsOn: true,
    streams: { heartbeatShards: new Map(), logShards: new Map() },
    crashes: { once: new Set(), copyWrites: new WeakMap(), cutCreationAt: undefined, creationSteps: 0, abandonAfterMark: new Map(), wroteObject: new WeakSet(), justWroteObject: new WeakSet(), lastObjectOf: new WeakMap(), stallOn: undefined },
    clients: { churned: 0, lateOnTheWay: 0, truncations: 0 },
    liveness: { committed: new Map(), lastSample: new Map() },
    commits: new Map(),
    objectSweepStarts: [],
    now: () => memory.clock.now(),
  };
  history.group = params.groups;
  if (params.groups) world.group = createGroupState(world);
  return world;
}

/** Longest a stalled writer waits for the sweep to judge its object. */
const MAX_STALL_MS = 8_000;
const STALL_POLL_MS = 250;

/**
 * Holds the current task (a writer between its object write and an append step) until a
 * sweep run that began once the object was old enough has ended, or the object is gone:
 * the writer then goes on as if it had stalled just past the orphan age.
 */
async function stallUntilJudged(world: World, number: number, operation: string): Promise<void> {
  const key = world.objects.writtenKeys[number - 1];
  const writtenAt = Number(key.slice(key.lastIndexOf('/') + 1).split('-')[0]);
  const oldEnough = writtenAt + world.deps.settings.disklessOrphanAgeMs;
  const started = world.now();
  while (world.now() - started < MAX_STALL_MS) {
    if (!world.objects.has(key) || world.objectSweepStarts.some((at) => at >= oldEnough)) break;
    await world.scheduler.sleep(STALL_POLL_MS);
  }
  world.scheduler.record('stall', `${operation} held for ${world.now() - started} ms (object ${number}${world.objects.has(key) ? '' : ' deleted'})`);
}

/** Whether a broker's lease is live now, as the run sees the table. */
export const leaseLive = (world: World, id: BrokerId): boolean => (world.tables.heartbeats.get(id)?.deadlineMs ?? -1) >= world.now();
