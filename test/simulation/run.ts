/**
 * One simulation run: the real domain over the memory stores, driven by the
 * seeded scheduler, with faults, a heal phase, final reads and the checker.
 * A pure function of (seed, params, options).
 */
import { createHash } from 'node:crypto';
import { createMemoryDeps, type HeartbeatStreamRecord, type MemoryPartitionLog } from '../../functions/adapters/memory/index.js';
import { canConflict, conflictRefusal } from '../../functions/adapters/memory/conflicts.js';
import * as domain from '../../functions/domain/index.js';
import {
  DuplicateSequenceError,
  InvalidProducerEpochError,
  OffsetOutOfRangeError,
  OutOfOrderSequenceError,
  StaleEpochError,
  UnknownLeaderEpochError,
  UnknownProducerIdError,
} from '../../functions/domain/errors.js';
import { MAX_RECORDS_PER_WRITE } from '../../functions/domain/limits.js';
import type { BrokerId, LogRecord } from '../../functions/domain/model.js';
import { MAX_PRODUCER_EPOCH } from '../../functions/domain/limits.js';
import { consumeThroughFetch } from './fetch.js';
import type { Deps } from '../../functions/ports/index.js';
import { check } from './checker.js';
import { emptyHistory, type FinalPartition, type History, type LivenessSample, type Violation } from './history.js';
import { Prng } from './prng.js';
import { CrashError, Scheduler, type Task } from './scheduler.js';
import { BatchlessPartitionLog, recordingLog, UnfencedPartitionLog, UnresumableMetadataStore } from './stores.js';

export interface SimParams {
  brokers: number;
  rf: number;
  acks: 'all' | '1';
  unclean: boolean;
  minInsync: number;
  steps: number;
}

export const DEFAULT_PARAMS: SimParams = { brokers: 3, rf: 3, acks: 'all', unclean: false, minInsync: 2, steps: 300 };

export interface SimOptions {
  /** false: leader appends skip the leader/epoch check (test-only store), to prove the checker notices. */
  fencing?: boolean;
  /** false: leader appends record no batch bounds (test-only store), so copies may tear batches, to prove the checker notices. */
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
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];
export type FaultCounts = Record<FaultName, number>;

export interface SimResult {
  seed: number;
  params: SimParams;
  violations: Violation[];
  trace: string[];
  faults: FaultCounts;
  stats: {
    steps: number;
    acks: number;
    reads: number;
    virtualMs: number;
    healed: boolean;
    elections: number;
    /** Consumers that found, through OffsetsForLeaderEpoch, their position truncated away (unclean elections only). */
    truncations: number;
  };
}

const TOPIC = 't';
const SWEEP_MS = 3_000;
const RECONCILE_MS = 4_000;
/** The scheduled preferred-leader rebalance (leader.imbalance.check.interval, scaled down like the other timers). */
const REBALANCE_MS = 7_000;
/** Chance per broker fault roll of an operator's on-demand preferred-leader election instead. */
const ELECT_CHANCE = 0.15;
/** Chance that a task dies before a follower copy write after its first (a Lambda timing out in a long copy). */
const MIDCOPY_CRASH_CHANCE = 0.5;
const MAX_RETRIES = 2;
const PRODUCERS = 3;
const CONSUMERS = 3;
const TRACE_TAIL = 40;
const HEAL_LATENCY_MS = 10;
/** Chance per write that a concurrent transaction refuses it past the store's retries (TransactionConflict). */
const CONFLICT_CHANCE = 0.05;
/** Chance that setup's topic creation dies between two of its transactions. */
const CUT_CREATION_CHANCE = 0.3;
/**
 * Kafka's producer.id.expiration.ms, scaled down so that idle producers expire within a
 * run. As in Kafka, every copy of a batch must reach the leader before it: a producer
 * retries a batch only within DELIVERY_TIMEOUT_MS of its first send (delivery.timeout.ms),
 * a late copy of a request it gave up on is sent only when it gave up on time and arrives
 * within LATE_REQUEST_MAX_MS, and a task is paused at most once (12 s), so the last copy
 * lands at most about 27 s after the first (7 s to give up, 5 s late, 3 s on its way; 7 s of retries and a 12 s pause).
 */
const PRODUCER_ID_EXPIRATION_MS = 30_000;
const DELIVERY_TIMEOUT_MS = 5_000;
const LATE_REQUEST_MAX_MS = 5_000;
/** Short-lived producers (ids p100 on): one or two batches each, some answers lost and retried. */
const CHURN_PRODUCER_BASE = 100;
/** A flood of new producers, one record each, landing at once: more than the 200 a replica once remembered. */
const PRODUCER_FLOOD = 230;
const MAX_PAUSE_MS = 12_000;
const MAX_STREAM_DELAY_MS = 5_000;
/** Chance per broker fault roll that several brokers are lost at the same moment (their REMOVEs then race). */
const LOST_TOGETHER_CHANCE = 0.12;
/** Chance that a controlled shutdown's Lambda dies right after marking its broker, which runs on. */
const ABANDON_CHANCE = 0.35;
/** How long brokers lost together stay down at most (unless the heal brings them back): longer than the not-live bound. */
const LOST_FOR_MS = 40_000;


interface Broker {
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

interface ConsumerState {
  offset: number;
  session: number;
  busy: boolean;
  /** The leader epoch the consumer believes current (sent as currentLeaderEpoch). */
  epoch?: number;
  /** The epoch of the last record it read in this session. */
  lastRecordEpoch?: number;
  /** After a leader change: the epoch whose end on the new leader must be checked before fetching on. */
  validate?: number;
}

interface ProducerState {
  sent: number;
  busy: boolean;
  /** The leader epoch last seen per partition (sent as currentLeaderEpoch). */
  epochs: Map<number, number>;
  /** From InitProducerId, when idempotent. */
  producerId?: number;
  /** Raised (at sequence 0) when the producer starts over on its id instead of taking a new one (KIP-360). */
  producerEpoch: number;
  /** Per partition: the sequence of the next new batch. */
  nextSequence: Map<number, number>;
  /** The batch that failed and is retried before any new one, and when it was first sent. */
  pending?: { partition: number; values: string[]; baseSequence: number; firstSentAt: number };
}

/** An idempotent produce request as sent (a late copy of it may arrive after the producer gave it up). */
interface SentBatch {
  partition: number;
  values: string[];
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/** Answers after which an idempotent producer cannot continue its sequence. */
const PRODUCER_FATAL = [OutOfOrderSequenceError, InvalidProducerEpochError, UnknownProducerIdError, DuplicateSequenceError];

interface StreamItem<R> {
  record: R;
  attempts: number;
}

interface Shard<R> {
  key: string;
  queue: Array<StreamItem<R>>;
  busy: boolean;
  blockedUntil: number;
  /** Remaining invocations that fail at their first store operation (an outage of the function). */
  outage: number;
}

const ROUTINE = / (hb:\w+ (start|brokers\.(get|renew|list)|metadata\.getBrokerCredential)|sweep (start|brokers\.list)|[^ ]+ wake) \|/;
/** A batch in the trace: its values, or its first and last and how many when it is long. */
const labelOf = (values: readonly string[]): string =>
  values.length <= 3 ? values.join(',') : `${values[0]}..${values[values.length - 1]}(${values.length})`;
const stepOf = (line: string): number => Number(/^#(\d+)/.exec(line)?.[1] ?? 0);

/** The last TRACE_TAIL lines up to the first violation, without routine lease renewals (they would fill the tail). */
function traceBefore(trace: readonly string[], violations: readonly Violation[]): string[] {
  const until = violations.length > 0 ? Math.min(...violations.map((v) => v.step)) : Infinity;
  return trace.filter((line) => stepOf(line) <= until && !ROUTINE.test(line)).slice(-TRACE_TAIL);
}

export async function runSimulation(seed: number, params: SimParams, options: SimOptions = {}): Promise<SimResult> {
  const rng = new Prng(seed);
  const timing: Timing = { ...DEFAULT_TIMING, ...options.timing };
  const SESSION_TIMEOUT_MS = timing.sessionTimeoutMs;
  /**
   * The not-live rule's bound: a session timeout and two reconciler periods (with their
   * jitter): a lapsed lease to be seen as such, then the schedule's own repair, run twice.
   */
  const LIVENESS_BOUND_MS = timing.livenessBoundMs ?? SESSION_TIMEOUT_MS + 2 * (RECONCILE_MS + 1_000);
  const HEARTBEAT_MS = timing.heartbeatMs;
  const faults = Object.fromEntries(FAULT_NAMES.map((name) => [name, 0])) as FaultCounts;
  const idempotence = options.idempotence ?? true;
  const history: History = { ...emptyHistory(params.acks === '1' ? ['all', '1'] : ['all']), idempotentProducers: options.judgeDuplicates ?? idempotence };
  let faultsOn = true;
  let truncations = 0;
  let describe = (): string => '';
  const memory = createMemoryDeps({
    // Over the memory stores' defaults (the settings table's): the simulation's own timings.
    settings: {
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      produceAckTimeoutMs: 4_000,
      produceAckPollMs: 100,
      replicaLagMaxMs: SESSION_TIMEOUT_MS * 3,
      producerIdExpirationMs: PRODUCER_ID_EXPIRATION_MS,
      // Mostly the deployed default; every fourth seed leaves replication to the log stream alone, so both paths stay judged.
      replicateOnProduce: seed % 4 !== 0,
      eligibleLeaderReplicasEnabled: options.eligibleLeaderReplicas ?? true,
    },
    yieldPoint: async (operation) => {
      await scheduler.yieldPoint(operation);
      // Drawn as the write is released, inside its task's turn: a refusal the write's own retries did not outlast.
      if (faultsOn && canConflict(operation) && rng.chance(CONFLICT_CHANCE)) {
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
    describeState: () => describe(),
    keepFullTrace: true,
    traceTail: TRACE_TAIL,
  });
  const tables = memory.tables;
  const memLog: MemoryPartitionLog =
    options.fencing === false
      ? new UnfencedPartitionLog(tables, memory.clock)
      : options.batches === false
        ? new BatchlessPartitionLog(tables, memory.clock)
        : memory.log;
  const deps: Deps = {
    ...memory,
    ...(options.resumableCreation === false ? { metadata: new UnresumableMetadataStore(tables) } : {}),
    log: recordingLog(memLog, tables, (seen) => {
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
  const partitions = Array.from({ length: partitionCount }, (_, i) => i + 1);
  const now = () => memory.clock.now();

  describe = () => {
    const parts = partitions.map((p) => {
      const m = tables.partitions.get(`${TOPIC}#${p}`);
      if (!m) return `p${p}:-`;
      const leo = (b: BrokerId) => tables.replicaStates.get(`${TOPIC}#${p}#${b}`)?.logEndOffset ?? 0;
      return `p${p}:${m.leader ?? '∅'}@${m.leaderEpoch}[${m.isr.join('')}]hw${m.highWatermark}/${m.replicas.map(leo).join(',')}`;
    });
    const alive = brokers.map((b) => {
      const hb = tables.heartbeats.get(b.id);
      const lease = hb ? (hb.deadlineMs >= now() ? '+' : '~') : '-';
      return `${b.id}${lease}${b.running ? '' : '!'}`;
    });
    return `${parts.join(' ')} ${alive.join('')}`;
  };

  // ---- liveness samples (the not-live rule): what was committed, and who could lead with all of it
  /**
   * Per partition: the records below the HW as its leaders showed them, each as its value and
   * leader epoch (committed records never change). A replica holds them if its log starts with
   * exactly these records: the same values written in another epoch (a retried batch) are another log.
   */
  const committed = new Map<number, { epoch: number; values: string[] }>();
  const recordId = (record: LogRecord | undefined): string => (record ? `${record.leaderEpoch}/${record.value}` : '');
  const lastSample = new Map<number, LivenessSample>();
  const holderOf = (p: number, replicas: readonly BrokerId[], values: readonly string[]): BrokerId | null => {
    for (const id of replicas) {
      // Judged by what the run knows, not by the domain's own view: a broker whose shutdown died is not shutting down.
      const broker = brokers.find((b) => b.id === id);
      const leaseLive = (tables.heartbeats.get(id)?.deadlineMs ?? -1) >= now();
      if (!broker?.running || broker.shuttingDown || !leaseLive) continue;
      const log = tables.logs.get(`${TOPIC}#${p}#${id}`) ?? new Map<number, LogRecord>();
      if (values.every((value, offset) => recordId(log.get(offset)) === value)) return id;
    }
    return null;
  };
  const sampleLiveness = (): void => {
    for (const p of partitions) {
      const m = tables.partitions.get(`${TOPIC}#${p}`);
      // A topic not yet created (its creation cut short) is not there for clients: nothing to keep live.
      if (!m || !tables.topics.has(TOPIC) || tables.unfinishedTopics.has(TOPIC)) continue;
      const leaderless = m.leader === null || m.state !== 'ONLINE';
      let seen = committed.get(p) ?? { epoch: m.leaderEpoch, values: [] };
      if (!leaderless && m.leader !== null) {
        // An unclean election may replace what was committed (and lower the HW): its leader's log is the truth.
        if (seen.epoch !== m.leaderEpoch && params.unclean) seen = { epoch: m.leaderEpoch, values: [] };
        if (m.highWatermark !== seen.values.length) {
          const log = tables.logs.get(`${TOPIC}#${p}#${m.leader}`) ?? new Map<number, LogRecord>();
          seen = { epoch: m.leaderEpoch, values: Array.from({ length: m.highWatermark }, (_, offset) => recordId(log.get(offset))) };
        }
        seen.epoch = m.leaderEpoch;
        committed.set(p, seen);
      }
      const holder = leaderless ? holderOf(p, m.replicas, seen.values) : null;
      const previous = lastSample.get(p);
      if (previous && previous.leaderless === leaderless && previous.holder === holder) continue;
      const sample = { partition: `${TOPIC}-${p}`, at: now(), step: scheduler.steps, leaderless, holder };
      lastSample.set(p, sample);
      history.liveness.push(sample);
    }
  };

  // ---- crashes at gates
  const crashOnce = new Set<Task>();
  /** Follower copy writes each task has made: a copy of a lagging follower takes several. */
  const copyWrites = new WeakMap<Task, number>();
  /** Setup's topic creation dies before this transaction of it (1-based), if set. */
  let cutCreationAt: number | undefined;
  let creationSteps = 0;
  /** Controlled shutdowns that die at their first store operation after the mark (value: whether they marked). */
  const abandonAfterMark = new Map<Task, boolean>();
  scheduler.crashPolicy = (task, operation) => {
    if (cutCreationAt !== undefined && task.name === 'create-topic' && operation === 'metadata.createTopic' && ++creationSteps === cutCreationAt) {
      faults['cut-creation']++;
      return true;
    }
    if (crashOnce.has(task)) {
      crashOnce.delete(task);
      return true;
    }
    const marked = abandonAfterMark.get(task);
    if (marked !== undefined) {
      if (marked) {
        abandonAfterMark.delete(task);
        return true;
      }
      if (operation === 'brokers.markShuttingDown') abandonAfterMark.set(task, true);
      return false;
    }
    if (!faultsOn || task.kind === 'setup' || task.kind === 'heartbeat') return false;
    if (operation === 'log.appendAsFollower') {
      const earlier = copyWrites.get(task) ?? 0;
      copyWrites.set(task, earlier + 1);
      // A Lambda that times out in the middle of a long copy: the writes made so far stay.
      if (earlier > 0 && rng.chance(MIDCOPY_CRASH_CHANCE)) {
        faults.midcopy++;
        return true;
      }
    }
    if (rng.chance(0.006)) {
      faults.crash++;
      return true;
    }
    return false;
  };

  // ---- brokers
  const startHeartbeat = async (broker: Broker): Promise<void> => {
    if (!broker.running || broker.heartbeating) return;
    broker.heartbeating = true;
    await scheduler.spawn(
      `hb:${broker.id}`,
      'heartbeat',
      () => domain.heartbeat(deps, { brokerId: broker.id, credential: broker.credential, incarnation: broker.incarnation }),
      (outcome) => {
        broker.heartbeating = false;
        if (outcome.ok) broker.incarnation = outcome.value.incarnation;
      },
    );
  };
  const scheduleHeartbeats = (broker: Broker, delay: number): void => {
    const generation = broker.generation;
    scheduler.after(delay, `hb-timer:${broker.id}`, async () => {
      if (!broker.running || broker.generation !== generation) return;
      scheduleHeartbeats(broker, HEARTBEAT_MS + rng.between(-HEARTBEAT_MS / 5, HEARTBEAT_MS / 5));
      await startHeartbeat(broker);
    });
  };

  // ---- streams
  const heartbeatShards = new Map<string, Shard<HeartbeatStreamRecord>>();
  const logShards = new Map<string, Shard<LogRecord>>();
  const shardOf = <R>(shards: Map<string, Shard<R>>, key: string): Shard<R> => {
    let shard = shards.get(key);
    if (!shard) {
      shard = { key, queue: [], busy: false, blockedUntil: 0, outage: 0 };
      shards.set(key, shard);
    }
    return shard;
  };
  const drainStores = (): void => {
    for (const record of memory.brokers.drainStream()) {
      const image = record.eventName === 'INSERT' ? record.newImage : record.oldImage;
      if (record.eventName === 'MODIFY') continue; // the event source mapping filters MODIFY out
      shardOf(heartbeatShards, image.brokerId).queue.push({ record, attempts: 0 });
    }
    for (const record of memLog.drainLeaderAppends()) {
      shardOf(logShards, `${record.topic}-${record.partition}`).queue.push({ record, attempts: 0 });
    }
  };

  const applyHeartbeatChange = async (record: HeartbeatStreamRecord): Promise<void> => {
    if (record.eventName === 'INSERT') await domain.onBrokerRegistered(deps, record.newImage);
    else if (record.eventName === 'REMOVE') {
      const gone = record.oldImage;
      await domain.onBrokerGone(deps, gone, gone.deadlineMs < now() ? 'EXPIRED' : 'DEREGISTERED');
    }
  };

  /** Lambda's stream retry: a failed batch comes back (whole, or from the reported record); after MAX_RETRIES it goes to the DLQ. */
  const dispatch = async <R>(
    kind: 'detector' | 'replicate',
    shard: Shard<R>,
    maxBatch: number,
    describeRecord: (record: R) => string,
    work: (records: R[], progress: { index: number }) => Promise<unknown>,
  ): Promise<void> => {
    if (shard.busy || shard.queue.length === 0 || shard.blockedUntil > now()) return;
    if (faultsOn && rng.chance(0.02)) {
      faults.delay++;
      shard.blockedUntil = now() + rng.between(500, MAX_STREAM_DELAY_MS);
      scheduler.record(`${kind}:${shard.key}`, `DELAYED until +${shard.blockedUntil - now()}ms`);
      return;
    }
    const items = shard.queue.splice(0, maxBatch);
    const records = items.map((item) => item.record);
    if (faultsOn && rng.chance(0.03)) {
      faults.duplicate++;
      const i = rng.int(records.length);
      records.splice(i, 0, records[i]);
    }
    if (faultsOn && shard.outage === 0 && rng.chance(0.01)) {
      faults.outage++;
      shard.outage = rng.between(1, 4);
    }
    const failing = shard.outage > 0;
    if (failing) shard.outage--;
    shard.busy = true;
    const progress = { index: 0 };
    const name = `${kind}:${shard.key}[${records.map(describeRecord).join(' ')}]`;
    const task = await scheduler.spawn(name, kind, () => work(records, progress), (outcome) => {
      shard.busy = false;
      if (outcome.ok) {
        if (faultsOn && rng.chance(0.03)) {
          faults.redeliver++;
          shard.queue.unshift(...items.map((item) => ({ ...item })));
        }
        return;
      }
      // A crashed invocation reports nothing: the whole batch comes back. A handled failure reports
      // its record (the detector) or its partition's first record (replicate): from there on.
      const whole = outcome.error instanceof CrashError || kind === 'replicate';
      const back = whole ? items : items.slice(Math.min(progress.index, items.length - 1));
      const attempts = Math.max(...back.map((item) => item.attempts)) + 1;
      if (attempts > MAX_RETRIES) {
        faults.drop++;
        scheduler.record(name, `DROPPED to the DLQ after ${attempts} attempts`);
        return;
      }
      shard.queue.unshift(...back.map((item) => ({ ...item, attempts })));
      shard.blockedUntil = now() + rng.between(100, 1_000);
    });
    if (failing) crashOnce.add(task);
    if (kind === 'detector' && faultsOn && rng.chance(0.04)) {
      faults.race++;
      await scheduler.spawn(`${name}#twin`, kind, () => work(records, { index: 0 }));
    }
  };

  const pollStreams = async (): Promise<void> => {
    drainStores();
    // Brokers' REMOVEs come on different shards: no order between them is promised, so none is kept.
    const shards = [...heartbeatShards.values()];
    for (let i = shards.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [shards[i], shards[j]] = [shards[j], shards[i]];
    }
    for (const shard of shards) {
      await dispatch(
        'detector',
        shard,
        4,
        (r) => `${r.eventName === 'INSERT' ? '+' : '-'}${'newImage' in r ? r.newImage.incarnation % 1000 : r.oldImage.incarnation % 1000}`,
        async (records, progress) => {
          for (const [i, record] of records.entries()) {
            progress.index = i;
            await applyHeartbeatChange(record);
          }
        },
      );
    }
    for (const shard of logShards.values()) {
      await dispatch('replicate', shard, 20, (r) => `${r.replica}${r.offset}e${r.leaderEpoch}`, (records) => domain.replicate(deps, records));
    }
  };
  const schedulePolls = (): void => {
    scheduler.after(rng.between(100, 500), 'poll', async () => {
      schedulePolls();
      await pollStreams();
    });
  };

  // ---- sweep, reconciler and auto-rebalance: schedules with jitter, one run of each at a time
  const scheduleRepeating = (
    name: string,
    periodMs: number,
    jitterMs: number,
    kind: Parameters<typeof scheduler.spawn>[1],
    work: () => Promise<unknown>,
    onStart: () => void = () => undefined,
  ): (() => void) => {
    let running = false;
    const schedule = (): void => {
      scheduler.after(periodMs + rng.between(-jitterMs, jitterMs), `${name}-timer`, async () => {
        schedule();
        if (running) return;
        running = true;
        onStart();
        await scheduler.spawn(name, kind, work, () => (running = false));
      });
    };
    return schedule;
  };
  const scheduleSweep = scheduleRepeating('sweep', SWEEP_MS, 500, 'sweep', () => domain.sweepExpiredBrokers(deps));
  const scheduleReconcile = scheduleRepeating('reconcile', RECONCILE_MS, 1_000, 'reconcile', () => domain.reconcile(deps));
  const scheduleRebalance = scheduleRepeating('rebalance', REBALANCE_MS, 1_000, 'elect', () => domain.autoRebalance(deps), () => {
    faults.rebalance++;
  });

  // ---- clients
  let clientsOn = true;
  const schedulePartitionState = (p: number) => tables.partitions.get(`${TOPIC}#${p}`);
  /**
   * Mostly a few records, sometimes a batch large enough that a follower lagging behind
   * it and the next ones needs several copies that end inside some batch (a copy holds at
   * most one leader append's worth), up to one leader append: larger requests are split
   * into several batches, which are not one unit.
   */
  const batchSize = (): number => {
    const roll = rng.next();
    if (roll < 0.4) return rng.between(1, 3);
    return roll < 0.6 ? rng.between(4, 30) : rng.between(31, MAX_RECORDS_PER_WRITE);
  };
  const newBatch = (index: number, state: ProducerState, partition: number): string[] => {
    const values = Array.from({ length: batchSize() }, () => `p${index}-${state.sent++}`);
    history.sent.push({ producer: `p${index}`, partition: `${TOPIC}-${partition}`, values, step: scheduler.steps });
    return values;
  };
  const scheduleProducer = (index: number, state: ProducerState): void => {
    scheduler.after(rng.between(200, 2_000), `producer-timer:p${index}`, async () => {
      if (!clientsOn) return;
      scheduleProducer(index, state);
      if (state.busy) return;
      state.busy = true;
      if (idempotence && state.producerId === undefined) {
        await scheduler.spawn(`init-producer:p${index}`, 'produce', () => domain.initProducerId(deps, {}), (outcome) => {
          state.busy = false;
          if (outcome.ok) state.producerId = outcome.value.producerId;
        });
        return;
      }
      if (idempotence && state.pending && now() - state.pending.firstSentAt > DELIVERY_TIMEOUT_MS) {
        // delivery.timeout.ms: the batch is given up, its fate unknown, and the producer starts over.
        state.busy = false;
        startOver(index, state, 'delivery timeout');
        return;
      }
      // Like Kafka's producer, a batch that failed is retried as it was (same records, same sequence) before any new one.
      const partition = state.pending?.partition ?? rng.pick(partitions);
      const values = state.pending?.values ?? newBatch(index, state, partition);
      const baseSequence = state.pending?.baseSequence ?? state.nextSequence.get(partition) ?? 0;
      state.pending = { partition, values, baseSequence, firstSentAt: state.pending?.firstSentAt ?? now() };
      const idempotenceFields =
        idempotence && state.producerId !== undefined
          ? { producerId: state.producerId, producerEpoch: state.producerEpoch, baseSequence }
          : {};
      await scheduler.spawn(
        `produce:p${index}:${TOPIC}-${partition}:${labelOf(values)}${idempotence ? `#${baseSequence}` : ''}`,
        'produce',
        () =>
          domain.produce(deps, {
            topic: TOPIC,
            partition,
            records: values.map((value) => ({ value })),
            acks: params.acks === 'all' ? 'all' : 1,
            currentLeaderEpoch: state.epochs.get(partition),
            ...idempotenceFields,
          }),
        (outcome) => {
          state.busy = false;
          if (!outcome.ok) {
            if (outcome.error instanceof StaleEpochError || outcome.error instanceof UnknownLeaderEpochError) {
              state.epochs.delete(partition);
            }
            if (PRODUCER_FATAL.some((fatal) => outcome.error instanceof fatal)) {
              // Kafka's idempotent producer cannot go on from a broken sequence: it starts over.
              startOver(index, state, `FATAL ${(outcome.error as Error).name}`);
            }
            return;
          }
          if (idempotence && rng.chance(0.08)) {
            // The answer is lost and the producer gives the batch up at once (its own timeout), while a copy is still on its way.
            startOver(index, state, 'answer lost', 1);
            return;
          }
          const result = outcome.value;
          state.pending = undefined;
          state.nextSequence.set(partition, domain.incrementSequence(baseSequence, values.length));
          state.epochs.set(partition, result.leaderEpoch);
          history.acks.push({
            producer: `p${index}`,
            partition: `${TOPIC}-${partition}`,
            acks: params.acks,
            leader: result.leader,
            leaderEpoch: result.leaderEpoch,
            baseOffset: result.baseOffset,
            values,
            isrAtReturn: [...(schedulePartitionState(partition)?.isr ?? [])],
            minInsync: params.minInsync,
            step: scheduler.steps,
          });
          scheduler.record(
            `produce:p${index}`,
            `ACK ${labelOf(values)} @${result.baseOffset} e${result.leaderEpoch}${result.duplicate ? ' (duplicate)' : ''}`,
          );
        },
      );
    });
  };
  /**
   * An idempotent producer that cannot continue its sequence, or gave a batch up, starts
   * over as the client does: on its id with the next producer epoch from sequence 0
   * (KIP-360's epoch bump), or under a new producer id once the epoch is spent. The batch
   * it gave up may still be on its way: sometimes a copy of that request arrives late,
   * after the restart, and must then land before the new epoch's batches or not at all.
   */
  function startOver(index: number, state: ProducerState, why: string, lateChance = 0.5): void {
    const abandoned = state.pending;
    const previous = state.producerId === undefined ? undefined : { producerId: state.producerId, producerEpoch: state.producerEpoch };
    if (previous && previous.producerEpoch < MAX_PRODUCER_EPOCH) {
      state.producerEpoch++;
      scheduler.record(`produce:p${index}`, `${why}: producer ${previous.producerId} bumps to epoch ${state.producerEpoch}`);
    } else {
      state.producerId = undefined;
      state.producerEpoch = 0;
      scheduler.record(`produce:p${index}`, `${why}: new producer id`);
    }
    state.nextSequence.clear();
    state.pending = undefined;
    if (abandoned && previous && now() - abandoned.firstSentAt <= DELIVERY_TIMEOUT_MS + 2_000 && rng.chance(lateChance)) {
      sendLate(`p${index}`, { ...abandoned, ...previous });
    }
  }

  /**
   * A copy of a request that the producer no longer waits for (a network retry, a queued
   * invocation) reaching the leader late. Its answer goes nowhere; if it writes its batch
   * a second time, the checker sees the duplicate.
   */
  function sendLate(who: string, batch: SentBatch): void {
    lateOnTheWay++;
    scheduler.after(rng.between(0, LATE_REQUEST_MAX_MS), `late-timer:${who}`, async () => {
      lateOnTheWay--;
      await scheduler.spawn(
        `late:${who}:${TOPIC}-${batch.partition}:${batch.values.join(',')}#${batch.producerEpoch}.${batch.baseSequence}`,
        'produce',
        () =>
          domain.produce(deps, {
            topic: TOPIC,
            partition: batch.partition,
            records: batch.values.map((value) => ({ value })),
            acks: 1,
            producerId: batch.producerId,
            producerEpoch: batch.producerEpoch,
            baseSequence: batch.baseSequence,
          }),
      );
    });
  }

  /**
   * Short-lived idempotent producers: InitProducerId, one or two batches to one
   * partition, then gone. Some answers are lost (the batch is retried as it was), some
   * producers idle past the expiration before their second batch (which the leader then
   * refuses: the producer was forgotten), and now and then a lost answer is followed by a
   * flood of new producers to the same partition before the retry.
   */
  let churned = 0;
  /** Late copies not yet sent: the heal waits for them, they may still write. */
  let lateOnTheWay = 0;
  const scheduleChurn = (): void => {
    scheduler.after(rng.between(500, 3_000), 'churn-timer', async () => {
      if (!clientsOn) return;
      scheduleChurn();
      const index = CHURN_PRODUCER_BASE + churned++;
      await scheduler.spawn(`init-producer:p${index}`, 'produce', () => domain.initProducerId(deps, {}), (outcome) => {
        if (!outcome.ok) return;
        const producer = { producerId: outcome.value.producerId, producerEpoch: 0, partition: rng.pick(partitions) };
        const batches = rng.between(1, 2);
        scheduler.after(0, `churn-first:p${index}`, () => churnBatch(index, producer, 0, batches, 0));
      });
    });
  };
  function churnBatch(
    index: number,
    producer: { producerId: number; producerEpoch: number; partition: number },
    sequence: number,
    batchesLeft: number,
    n: number,
  ): Promise<void> {
    const values = Array.from({ length: rng.between(1, 2) }, (_, i) => `p${index}-${n + i}`);
    const batch: SentBatch = { ...producer, values, baseSequence: sequence };
    history.sent.push({ producer: `p${index}`, partition: `${TOPIC}-${producer.partition}`, values, step: scheduler.steps });
    const firstSentAt = now();
    const attempt = async (): Promise<void> => {
      const answerLost = rng.chance(0.3);
      await scheduler.spawn(
        `produce:p${index}:${TOPIC}-${producer.partition}:${values.join(',')}#${sequence}`,
        'produce',
        () =>
          domain.produce(deps, {
            topic: TOPIC,
            partition: producer.partition,
            records: values.map((value) => ({ value })),
            acks: params.acks === 'all' ? 'all' : 1,
            producerId: batch.producerId,
            producerEpoch: batch.producerEpoch,
            baseSequence: batch.baseSequence,
          }),
        (outcome) => {
          const fatal = !outcome.ok && PRODUCER_FATAL.some((kind) => outcome.error instanceof kind);
          if (fatal || now() - firstSentAt > DELIVERY_TIMEOUT_MS) {
            scheduler.record(`produce:p${index}`, fatal ? `FATAL ${(outcome as { error: Error }).error.name}: gone` : 'delivery timeout: gone');
            return;
          }
          if (!outcome.ok || answerLost) {
            if (outcome.ok && rng.chance(0.05)) flood(producer.partition);
            scheduler.after(rng.between(100, 1_500), `churn-retry:p${index}`, attempt);
            return;
          }
          history.acks.push({
            producer: `p${index}`,
            partition: `${TOPIC}-${producer.partition}`,
            acks: params.acks,
            leader: outcome.value.leader,
            leaderEpoch: outcome.value.leaderEpoch,
            baseOffset: outcome.value.baseOffset,
            values,
            isrAtReturn: [...(schedulePartitionState(producer.partition)?.isr ?? [])],
            minInsync: params.minInsync,
            step: scheduler.steps,
          });
          if (batchesLeft > 1) {
            // Some idle past the expiration: their next batch finds them forgotten.
            scheduler.after(rng.between(1_000, PRODUCER_ID_EXPIRATION_MS * 1.5), `churn-next:p${index}`, () =>
              churnBatch(index, producer, domain.incrementSequence(sequence, values.length), batchesLeft - 1, n + values.length),
            );
          }
        },
      );
    };
    return attempt();
  }
  /** PRODUCER_FLOOD new producers write one record each to the partition, all between two steps of everyone else. */
  function flood(partition: number): void {
    faults.flood++;
    const first = CHURN_PRODUCER_BASE + churned;
    churned += PRODUCER_FLOOD;
    scheduler.after(0, 'flood-timer', async () => {
      await scheduler.spawn(
        `flood:${TOPIC}-${partition}:p${first}..p${first + PRODUCER_FLOOD - 1}`,
        'produce',
        async () => {
          let written = 0;
          for (let i = 0; i < PRODUCER_FLOOD; i++) {
            const { producerId } = await domain.initProducerId(deps, {});
            try {
              await domain.produce(deps, {
                topic: TOPIC,
                partition,
                records: [{ value: `p${first + i}-0` }],
                acks: 1,
                producerId,
                producerEpoch: 0,
                baseSequence: 0,
              });
              written++;
            } catch {
              // No leader, a lost race: that producer is gone.
            }
          }
          return written;
        },
        (outcome) => scheduler.record('flood', outcome.ok ? `${outcome.value} producers wrote` : 'failed'),
        { atomic: true },
      );
    });
  }

  const scheduleConsumer = (
    index: number,
    state: ConsumerState,
    partition: number,
  ): void => {
    scheduler.after(rng.between(300, 1_500), `consumer-timer:c${index}`, async () => {
      if (!clientsOn) return;
      scheduleConsumer(index, state, partition);
      if (state.busy) return;
      state.busy = true;
      if (state.validate !== undefined) {
        await validatePosition(index, state, partition, state.validate);
        return;
      }
      const offset = state.offset;
      const session = state.session;
      // KIP-320: the consumer sends the epoch it last saw; without one (first fetch, after a refresh) it learns it.
      const currentLeaderEpoch = state.epoch;
      await scheduler.spawn(
        `consume:c${index}:${TOPIC}-${partition}@${offset}${currentLeaderEpoch === undefined ? '' : `e${currentLeaderEpoch}`}`,
        'consume',
        () => {
          const request = { topic: TOPIC, partition, offset, maxRecords: rng.between(1, 8), currentLeaderEpoch };
          // Odd consumers read through a fetch (many partitions' consume in one call), so it is judged too.
          return index % 2 === 1 ? consumeThroughFetch(deps, request) : domain.consume(deps, request);
        },
        (outcome) => {
          state.busy = false;
          if (!outcome.ok) {
            // FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH: refresh the metadata (here: forget the epoch) and retry.
            if (outcome.error instanceof StaleEpochError || outcome.error instanceof UnknownLeaderEpochError) {
              faults.fenced++;
              state.epoch = undefined;
              // Kafka's consumer validates its position after a leader change (KIP-320).
              state.validate = state.lastRecordEpoch;
              return;
            }
            // auto.offset.reset=earliest: a position past the HW (it went back) starts a new session from 0.
            if (outcome.error instanceof OffsetOutOfRangeError && state.session === session) {
              state.offset = 0;
              state.session++;
            }
            return;
          }
          const result = outcome.value;
          history.reads.push({
            consumer: `c${index}`,
            session,
            partition: `${TOPIC}-${partition}`,
            offset,
            records: result.records.map((r) => ({ offset: r.offset, value: r.value })),
            step: scheduler.steps,
          });
          if (state.session === session) state.offset = result.nextOffset;
          if (state.epoch !== undefined && result.leaderEpoch !== state.epoch) state.validate = state.lastRecordEpoch;
          state.epoch = result.leaderEpoch;
          const last = result.records[result.records.length - 1];
          if (last && state.session === session) state.lastRecordEpoch = last.leaderEpoch;
        },
      );
    });
  };

  /**
   * KIP-320 position validation: where did the epoch of the last record read end on the
   * current leader? Below the position means the log was truncated under the consumer
   * (only an unclean election may do that): it resets there, in a new session.
   */
  const validatePosition = async (index: number, state: ConsumerState, partition: number, epoch: number | undefined): Promise<void> => {
    if (epoch === undefined) {
      state.validate = undefined;
      state.busy = false;
      return;
    }
    const session = state.session;
    await scheduler.spawn(
      `validate:c${index}:${TOPIC}-${partition}e${epoch}`,
      'consume',
      () => domain.offsetsForLeaderEpoch(deps, { topic: TOPIC, partition, offsetsForLeaderEpoch: epoch, currentLeaderEpoch: state.epoch }),
      (outcome) => {
        state.busy = false;
        if (!outcome.ok) {
          if (outcome.error instanceof StaleEpochError || outcome.error instanceof UnknownLeaderEpochError) state.epoch = undefined;
          return;
        }
        state.validate = undefined;
        if (state.session !== session || outcome.value.endOffset >= state.offset) return;
        truncations++;
        scheduler.record(`consume:c${index}`, `TRUNCATION detected: epoch ${epoch} ends at ${outcome.value.endOffset} < position ${state.offset}`);
        state.offset = outcome.value.endOffset;
        state.session++;
        state.lastRecordEpoch = undefined;
      },
    );
  };

  // ---- setup: an admin registers the brokers' credentials, they register their leases, the topic is created (no faults yet)
  faultsOn = false;
  const registered = new Set<BrokerId>();
  for (const broker of brokers) {
    await scheduler.spawn(
      `register:${broker.id}`,
      'setup',
      () => domain.registerBroker(deps, { brokerId: broker.id, credential: broker.credential }),
      (outcome) => outcome.ok && registered.add(broker.id),
    );
  }
  while (!scheduler.idle()) await scheduler.step();
  if (registered.size !== brokers.length) throw new Error(`setup: only ${[...registered].join(', ')} of the brokers were registered`);
  for (const broker of brokers) await startHeartbeat(broker);
  while (!scheduler.idle()) await scheduler.step();
  const createTopicRequest = {
    topic: TOPIC,
    partitions: partitionCount,
    replicationFactor: params.rf,
    minInsyncReplicas: params.minInsync,
    uncleanLeaderElection: params.unclean,
  };
  // A topic of several transactions (more than one partition) may be cut short between two of
  // them; then either the admin retries at once or the creation is left to the reconciler,
  // and producers find the topic unknown until it is finished.
  if (partitionCount > 1 && rng.chance(CUT_CREATION_CHANCE)) cutCreationAt = rng.between(2, partitionCount);
  let created = false;
  await scheduler.spawn('create-topic', 'setup', () => domain.createTopic(deps, createTopicRequest), (outcome) => (created = outcome.ok));
  while (!scheduler.idle()) await scheduler.step();
  cutCreationAt = undefined;
  if (!created && rng.chance(0.5)) {
    await scheduler.spawn('create-topic-retry', 'setup', () => domain.createTopic(deps, createTopicRequest));
    while (!scheduler.idle()) await scheduler.step();
  }
  faultsOn = true;

  for (const broker of brokers) scheduleHeartbeats(broker, rng.between(0, HEARTBEAT_MS));
  schedulePolls();
  scheduleSweep();
  scheduleReconcile();
  scheduleRebalance();
  for (let i = 0; i < PRODUCERS; i++) {
    scheduleProducer(i, { sent: 0, busy: false, epochs: new Map(), producerEpoch: 0, nextSequence: new Map() });
  }
  if (idempotence) scheduleChurn();
  for (let i = 0; i < CONSUMERS; i++) {
    scheduleConsumer(i, { offset: 0, session: 0, busy: false }, partitions[i % partitions.length]);
  }

  // ---- activity with faults
  const stepsAtStart = scheduler.steps;
  while (scheduler.steps - stepsAtStart < params.steps) {
    if (rng.chance(timing.brokerFaultChance)) injectBrokerFault();
    if (!(await scheduler.step())) break;
    sampleLiveness();
  }

  function injectBrokerFault(): void {
    if (rng.chance(ELECT_CHANCE)) {
      electOnDemand();
      return;
    }
    const roll = rng.next();
    const choice = roll < 0.4 ? 0 : roll < 0.7 ? 1 : 2;
    const running = brokers.filter((b) => b.running && !b.shuttingDown);
    const stopped = brokers.filter((b) => !b.running && b.downUntil <= now());
    if (choice === 0 && running.length > 1 && rng.chance(LOST_TOGETHER_CHANCE)) {
      // Several brokers lost at the same moment (a rack, a zone): their REMOVEs reach the detector in any order.
      const lost = running.filter(() => rng.chance(0.6));
      if (lost.length < 2) return;
      faults.lost++;
      const downUntil = now() + rng.between(LOST_FOR_MS / 2, LOST_FOR_MS);
      for (const broker of lost) {
        broker.running = false;
        broker.generation++;
        broker.downUntil = downUntil;
      }
      scheduler.record('brokers', `LOST TOGETHER: ${lost.map((b) => b.id).join(', ')}`);
      // Meanwhile a survivor may be restarted by an operator, its controlled shutdown abandoned after the mark.
      const survivors = brokers.filter((b) => b.running && !b.shuttingDown && b.incarnation !== undefined);
      if (survivors.length > 0 && rng.chance(0.4)) {
        const survivor = rng.pick(survivors);
        const incarnation = survivor.incarnation!;
        scheduler.after(rng.between(0, 1_000), `abandon-timer:${survivor.id}`, () => {
          const leaseLive = (tables.heartbeats.get(survivor.id)?.deadlineMs ?? -1) >= now();
          if (survivor.running && !survivor.shuttingDown && survivor.incarnation === incarnation && leaseLive) {
            abandonedShutdownOf(survivor, incarnation);
          }
        });
      }
      // Often one of them alone comes back once all their leases lapsed, whichever REMOVE went first.
      if (rng.chance(0.5)) {
        const first = rng.pick(lost);
        const generation = first.generation;
        scheduler.after(SESSION_TIMEOUT_MS + rng.between(0, 2 * SWEEP_MS), `return-timer:${first.id}`, () => {
          if (!first.running && first.generation === generation) {
            faults.return++;
            reviveBroker(first);
          }
        });
      }
    } else if (choice === 0 && running.length > 1) {
      // Half the time a partition's current leader: leader failures are where the protocol is tested hardest.
      const leader = tables.partitions.get(`${TOPIC}#${rng.pick(partitions)}`)?.leader;
      const leading = running.find((b) => b.id === leader);
      const broker = leading && rng.chance(0.5) ? leading : rng.pick(running);
      const shutdownRoll = rng.next();
      const leaseLive = (tables.heartbeats.get(broker.id)?.deadlineMs ?? -1) >= now();
      if (shutdownRoll < 0.3 && broker.incarnation !== undefined && leaseLive) {
        if (rng.chance(ABANDON_CHANCE)) abandonedShutdownOf(broker, broker.incarnation);
        else controlledShutdownOf(broker, broker.incarnation);
        return;
      }
      broker.running = false;
      broker.generation++;
      if (shutdownRoll < 0.4) {
        // A broker deleting its own live lease without the controlled shutdown (a REMOVE with a future deadline).
        faults.deregister++;
        const incarnation = broker.incarnation ?? -1;
        scheduler.record(`broker:${broker.id}`, 'SHUT DOWN (deregisters its live lease)');
        scheduler.after(0, `deregister-timer:${broker.id}`, async () => {
          await scheduler.spawn(`deregister:${broker.id}`, 'shutdown', () => memory.brokers.deregister(broker.id, incarnation));
        });
      } else {
        faults.kill++;
        scheduler.record(`broker:${broker.id}`, 'KILLED (stops heartbeating)');
      }
    } else if (choice === 1 && stopped.length > 0) {
      reviveBroker(rng.pick(stopped));
      faults.return++;
    } else {
      // A task is paused once at most, and a late request not at all: no copy of a batch outlives the producer's expiration.
      const candidates = scheduler
        .liveTasks()
        .filter((t) => !t.crashed && t.pausedUntil === 0 && !t.name.startsWith('late:'));
      if (candidates.length === 0) return;
      scheduler.pause(rng.pick(candidates), now() + rng.between(1_000, MAX_PAUSE_MS));
      faults.pause++;
    }
  }
  /**
   * Kafka's controlled shutdown: the broker keeps heartbeating while the controller moves its
   * leaderships and ISR places away, then stops; if the shutdown fails (a crash), it stops anyway.
   */
  function controlledShutdownOf(broker: Broker, incarnation: number): void {
    faults.shutdown++;
    broker.shuttingDown = true;
    scheduler.record(`broker:${broker.id}`, `CONTROLLED SHUTDOWN begins (incarnation ${incarnation % 1000})`);
    scheduler.after(0, `shutdown-timer:${broker.id}`, async () => {
      await scheduler.spawn(
        `shutdown:${broker.id}`,
        'shutdown',
        () => domain.controlledShutdown(deps, { brokerId: broker.id, incarnation, credential: broker.credential }),
        (outcome) => {
          broker.shuttingDown = false;
          broker.running = false;
          broker.generation++;
          const detail = outcome.ok
            ? `moved [${outcome.value.movedLeaderships.join(' ')}] left [${outcome.value.leftIsrs.join(' ')}] ` +
              `kept [${outcome.value.remainingLeaderships.join(' ')}]`
            : `failed (${outcome.error instanceof Error ? outcome.error.name : 'error'})`;
          scheduler.record(`broker:${broker.id}`, `SHUT DOWN ${detail}`);
          // A shutdown that ends during the heal: the broker comes back like every other.
          if (!faultsOn) reviveBroker(broker);
        },
      );
    });
  }

  /**
   * A controlled shutdown whose Lambda dies right after marking the broker, which does not
   * stop: it goes on leading what it led and heartbeating (its renewals carry the mark).
   */
  function abandonedShutdownOf(broker: Broker, incarnation: number): void {
    faults.abandon++;
    scheduler.record(`broker:${broker.id}`, `CONTROLLED SHUTDOWN begins, to be abandoned after the mark (incarnation ${incarnation % 1000})`);
    scheduler.after(0, `shutdown-timer:${broker.id}`, async () => {
      const task = await scheduler.spawn(`shutdown:${broker.id}`, 'shutdown', () =>
        domain.controlledShutdown(deps, { brokerId: broker.id, incarnation, credential: broker.credential }),
      );
      abandonAfterMark.set(task, false);
    });
  }

  /** An operator's kafka-leader-election: every partition, or some. */
  function electOnDemand(): void {
    faults.elect++;
    const some = partitions.filter(() => rng.chance(0.5));
    const request = some.length > 0 && rng.chance(0.5) ? { topic: TOPIC, partitions: some } : rng.chance(0.5) ? { topic: TOPIC } : {};
    scheduler.after(0, 'elect-timer', async () => {
      await scheduler.spawn(`elect:${JSON.stringify(request)}`, 'elect', () => domain.electPreferredLeaders(deps, request));
    });
  }

  function reviveBroker(broker: Broker): void {
    broker.running = true;
    broker.generation++;
    scheduler.record(`broker:${broker.id}`, `RETURNS (heartbeats with old incarnation ${broker.incarnation ?? '-'})`);
    scheduleHeartbeats(broker, 0);
  }

  // ---- heal: everyone alive, no faults, no new clients; run until quiescent or the bound passes
  faultsOn = false;
  clientsOn = false;
  crashOnce.clear();
  scheduler.unpauseAll();
  scheduler.setMaxLatency(HEAL_LATENCY_MS);
  for (const shard of [...heartbeatShards.values(), ...logShards.values()]) {
    shard.outage = 0;
  }
  for (const broker of brokers) {
    if (broker.running) continue;
    // Brokers lost together come back when they would have (a rack's repair does not wait for the heal).
    const generation = broker.generation;
    if (broker.downUntil <= now()) reviveBroker(broker);
    else scheduler.at(broker.downUntil, `return-timer:${broker.id}`, () => void (!broker.running && broker.generation === generation && reviveBroker(broker)));
  }
  scheduler.record('heal', 'HEAL begins');
  const healEnd = now() + SESSION_TIMEOUT_MS * 4 + 30_000;
  let healed = false;
  while (now() < healEnd) {
    if (scheduler.steps % 16 === 0 && quiescent()) {
      healed = true;
      break;
    }
    if (!(await scheduler.step())) break;
    sampleLiveness();
  }
  if (!healed) healed = quiescent();
  scheduler.record('heal', healed ? 'quiescent' : 'heal bound reached');

  function quiescent(): boolean {
    drainStores();
    const streamsIdle = [...heartbeatShards.values(), ...logShards.values()].every((s) => s.queue.length === 0 && !s.busy);
    const busy = scheduler.liveTasks().some((t) => t.kind !== 'heartbeat' && t.kind !== 'sweep');
    if (!streamsIdle || busy || lateOnTheWay > 0) return false;
    const allAlive = brokers.every((b) => (tables.heartbeats.get(b.id)?.deadlineMs ?? -1) >= now());
    return allAlive && finalState().every((p) => p.state === 'ONLINE' && p.highWatermark >= p.leaderLogEnd);
  }

  function finalState(): FinalPartition[] {
    const topicCreated = tables.topics.has(TOPIC) && !tables.unfinishedTopics.has(TOPIC);
    return partitions.map((p) => {
      const m = tables.partitions.get(`${TOPIC}#${p}`);
      if (!topicCreated || !m) {
        return {
          partition: `${TOPIC}-${p}`,
          state: 'OFFLINE' as const,
          leader: null,
          highWatermark: 0,
          leaderLogEnd: 0,
          log: [],
          liveEligibleReplica: null,
          absent: topicCreated ? 'the partition does not exist' : `topic ${TOPIC} was never created (its creation was cut short and not finished)`,
        };
      }
      const leo = (b: BrokerId) => tables.replicaStates.get(`${TOPIC}#${p}#${b}`)?.logEndOffset ?? 0;
      const alive = (b: BrokerId) => (tables.heartbeats.get(b)?.deadlineMs ?? -1) >= now();
      const eligible = (params.unclean ? m.replicas : m.isr).filter(alive);
      const log = m.leader
        ? memLog
            .replicaRecords(TOPIC, p, m.leader)
            .filter((r) => r.offset < m.highWatermark)
            .map((r) => ({ offset: r.offset, value: r.value }))
        : [];
      return {
        partition: `${TOPIC}-${p}`,
        state: m.state,
        leader: m.leader,
        highWatermark: m.highWatermark,
        leaderLogEnd: m.leader ? leo(m.leader) : 0,
        log,
        liveEligibleReplica: eligible[0] ?? null,
      };
    });
  }

  history.final = finalState();
  history.endStep = scheduler.steps;
  // The end closes every open episode.
  for (const sample of lastSample.values()) history.liveness.push({ ...sample, at: now(), step: scheduler.steps });
  history.livenessBoundMs = LIVENESS_BOUND_MS;
  const violations = check(history);
  return {
    seed,
    params,
    violations,
    trace: options.fullTrace ? scheduler.trace : traceBefore(scheduler.trace, violations),
    faults,
    stats: {
      steps: scheduler.steps,
      acks: history.acks.length,
      reads: history.reads.length,
      virtualMs: now() - Date.UTC(2026, 0, 1),
      healed,
      elections: partitions.reduce((sum, p) => sum + (tables.partitions.get(`${TOPIC}#${p}`)?.leaderEpoch ?? 0), 0),
      truncations,
    },
  };
}
