/**
 * A consumer group in the run: members that speak the classic group protocol to the real
 * coordinator (functions/domain/group-coordinator.ts) over the memory GroupStore, consume
 * their assigned partitions of the run's topic from the committed offset, process what they
 * read (recorded in the history) and then commit it, with their generation. Members join
 * late, leave, die, pause past their session and come back (zombies), and static members
 * restart, the old process sometimes still running; the coordinator fails over with the
 * offsets partition's leader, through the run's broker faults. After the heal, a final
 * member drains the topic. Every choice here comes from the groups' own PRNG stream.
 */
import * as domain from '../../functions/domain/index.js';
import {
  CoordinatorNotAvailableError,
  DomainError,
  FencedInstanceIdError,
  GroupIdNotFoundError,
  IllegalGenerationError,
  MemberIdRequiredError,
  NotCoordinatorError,
  OffsetOutOfRangeError,
  RebalanceInProgressError,
  UnknownMemberIdError,
} from '../../functions/domain/errors.js';
import type { GroupDeps } from '../../functions/ports/index.js';
import type { JoinGroupMember } from '../../protocol/messages.js';
import type { GroupCommit } from './history.js';
import { TOPIC } from './params.js';
import { Prng } from './prng.js';
import type { Task } from './scheduler.js';
import { recordingGroupStore, unfencedOffsetCommit } from './stores.js';
import type { World } from './world.js';

export const GROUP_ID = 'sim-group';
/** The group's own stream of draws: with groups on, the other actors' choices draw as before. */
const GROUP_STREAM = 0x6709;
/** The domain settings a run with groups uses: a small offsets topic, short sessions on the virtual clock. */
export const GROUP_SETTINGS = {
  offsetsTopicNumPartitions: 3,
  groupMinSessionTimeoutMs: 1_000,
  groupInitialRebalanceDelayMs: 500,
  groupJoinWaitMs: 1_000,
};
const SESSION_MS = 3_000;
const REBALANCE_TIMEOUT_MS = 5_000;
const HEARTBEAT_MS = 1_000;
const GROUP_SWEEP_MS = 2_000;
/** How long a member takes to process what one consume returned. */
const PROCESS_MS = [50, 500] as const;
/** A group fault is rolled this often (virtual ms). */
const FAULT_ROLL_MS = 2_000;
const FAULT_CHANCE = 0.3;
const MAX_MEMBERS = 4;
/** Chance that a commit is held past the member's session. */
const HELD_COMMIT_CHANCE = 0.08;
/** Retries of an out-of-range position before the member resets to the high watermark (the log was cut below it: unclean elections). */
const OUT_OF_RANGE_PATIENCE = 20;
/** How long (virtual ms) the members go on with their faults after the heal. */
const GROUP_CHURN_MS = 6_000;
/** How long (virtual ms) the group may take to drain the topic after that. */
const DRAIN_BOUND_MS = 120_000;

interface Member {
  /** Its name in the trace and history: g<n>, a static member's restarts g<n>.<incarnation>. */
  name: string;
  instanceId?: string;
  memberId: string;
  generation: number;
  coordinatorEpoch?: number;
  findCoordinator: boolean;
  phase: 'join' | 'sync' | 'offsets' | 'consume';
  leaderOf?: JoinGroupMember[];
  assigned: number[];
  positions: Map<number, number>;
  outOfRange: number;
  next: number;
  lastHeartbeat: number;
  /** Died, left, or fenced: it makes no request again. */
  stopped: boolean;
  busy: boolean;
  /** Between a consume that returned records and the answer to their commit. */
  working: boolean;
  pausedUntil: number;
  task?: Task;
  /** The member that drains the topic after the heal: it runs while clients are off. */
  final: boolean;
}

export interface GroupState {
  rng: Prng;
  deps: GroupDeps;
  members: Member[];
  nextIndex: number;
  /** Members make requests (through the heal, until the drain ends). */
  active: boolean;
  /** Group faults are rolled (through the heal and the churn that follows it). */
  faults: boolean;
}

export function createGroupState(world: World): GroupState {
  const groups = recordingGroupStore(world.tables, world.options.groupStore, (write) => world.history.groupWrites.push({ ...write, step: world.scheduler.steps }));
  return { rng: new Prng(world.seed ^ GROUP_STREAM), deps: { ...world.deps, groups }, members: [], nextIndex: 0, active: true, faults: true };
}

/** Two to four members, some late, half of them static; the group sweep and the group faults on their schedules. */
export function scheduleGroup(world: World): void {
  const group = world.group;
  if (!group) return;
  const count = group.rng.between(2, MAX_MEMBERS);
  for (let i = 0; i < count; i++) {
    const late = group.rng.chance(0.3);
    if (late) world.faults['member-late']++;
    startMember(world, newMember(group, group.rng.chance(0.5)), late ? group.rng.between(3_000, 12_000) : group.rng.between(0, 1_500));
  }
  scheduleGroupSweep(world, group);
  scheduleGroupFaults(world, group);
}

function newMember(group: GroupState, isStatic: boolean, final = false): Member {
  const index = group.nextIndex++;
  return {
    name: final ? 'gF' : `g${index}`,
    ...(isStatic ? { instanceId: `i${index}` } : {}),
    memberId: '',
    generation: -1,
    findCoordinator: true,
    phase: 'join',
    assigned: [],
    positions: new Map(),
    outOfRange: 0,
    next: 0,
    lastHeartbeat: 0,
    stopped: false,
    busy: false,
    working: false,
    pausedUntil: 0,
    final,
  };
}

function startMember(world: World, member: Member, delayMs: number): void {
  world.group!.members.push(member);
  tick(world, member, delayMs);
}

const running = (world: World, member: Member): boolean => !member.stopped && world.group!.active;

/** The member's loop: one request at a time, each answer scheduling the next turn. */
function tick(world: World, member: Member, delayMs: number): void {
  world.scheduler.after(delayMs, `group-timer:${member.name}`, async () => {
    if (!running(world, member) || member.busy) return;
    if (member.pausedUntil > world.now()) {
      tick(world, member, member.pausedUntil - world.now());
      return;
    }
    await act(world, member);
  });
}

async function act(world: World, member: Member): Promise<void> {
  if (member.findCoordinator) return request(world, member, 'find', (deps) => domain.findCoordinator(deps, { groupId: GROUP_ID }), (answer) => {
    member.coordinatorEpoch = answer.coordinatorEpoch;
    member.findCoordinator = false;
  });
  if (member.phase === 'join') return join(world, member);
  if (member.phase === 'sync') return sync(world, member);
  if (member.phase === 'offsets') return fetchOffsets(world, member);
  if (world.now() - member.lastHeartbeat >= HEARTBEAT_MS || member.assigned.length === 0) return heartbeat(world, member);
  return consume(world, member);
}

const base = (member: Member) => ({
  groupId: GROUP_ID,
  ...(member.coordinatorEpoch === undefined ? {} : { coordinatorEpoch: member.coordinatorEpoch }),
  ...(member.instanceId === undefined ? {} : { groupInstanceId: member.instanceId }),
});

/** An `answered` that returns this takes the next turn itself. */
const LATER = -1;

/** Spawns one request of the member; `answered` handles a success (and may say when the next turn comes), `handleError` the rest. */
async function request<T>(
  world: World,
  member: Member,
  what: string,
  call: (deps: GroupDeps) => Promise<T>,
  answered: (answer: T) => number | void,
  failed?: (error: unknown) => boolean,
): Promise<void> {
  const group = world.group!;
  member.busy = true;
  const task = await world.scheduler.spawn(`${what}:${member.name}`, 'group', () => call(group.deps), (outcome) => {
    member.busy = false;
    member.task = undefined;
    let delay: number | void = group.rng.between(10, 200);
    if (outcome.ok) delay = answered(outcome.value) ?? delay;
    else if (!failed?.(outcome.error)) handleError(world, member, outcome.error);
    if (delay !== LATER) tick(world, member, delay);
  });
  if (!task.settled) member.task = task;
}

/** What Kafka's consumer does with each refusal: find the coordinator, rejoin, rejoin fresh, or stop (fenced). */
function handleError(world: World, member: Member, error: unknown): void {
  if (error instanceof NotCoordinatorError || error instanceof CoordinatorNotAvailableError) {
    member.findCoordinator = true;
  } else if (error instanceof RebalanceInProgressError) {
    revoke(member);
  } else if (error instanceof IllegalGenerationError || error instanceof UnknownMemberIdError || error instanceof GroupIdNotFoundError) {
    revoke(member);
    member.memberId = '';
    member.generation = -1;
  } else if (error instanceof FencedInstanceIdError) {
    member.stopped = true;
    world.scheduler.record(`group:${member.name}`, `fenced: ${error.message}`);
  } else if (error instanceof MemberIdRequiredError) {
    member.memberId = error.memberId;
  }
  // Anything else (a lost race, a conflict, a crash, a partition without a leader) is retried as it was.
}

function revoke(member: Member): void {
  member.phase = 'join';
  member.assigned = [];
  member.positions.clear();
  member.leaderOf = undefined;
}

function join(world: World, member: Member): Promise<void> {
  const input = {
    ...base(member),
    memberId: member.memberId,
    clientId: member.name,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: TOPIC }],
    sessionTimeoutMs: SESSION_MS,
    rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
  };
  return request(world, member, 'join', (deps) => domain.joinGroup(deps, input), (answer) => {
    member.memberId = answer.memberId;
    if ('pending' in answer) return answer.retryAfterMs;
    member.generation = answer.generationId;
    member.leaderOf = answer.leader === answer.memberId ? answer.members : undefined;
    member.phase = 'sync';
    member.lastHeartbeat = world.now();
  });
}

/** Kafka's range assignor over the members sorted by id: each a contiguous run of the partitions, the first ones one more. */
export function rangeAssignment(memberIds: readonly string[], partitions: readonly number[]): Map<string, number[]> {
  const sorted = [...memberIds].sort();
  const per = Math.floor(partitions.length / sorted.length);
  const extra = partitions.length % sorted.length;
  return new Map(
    sorted.map((id, i) => {
      const start = i * per + Math.min(i, extra);
      return [id, partitions.slice(start, start + per + (i < extra ? 1 : 0))];
    }),
  );
}

function sync(world: World, member: Member): Promise<void> {
  const leaderOf = member.leaderOf;
  const assignments =
    leaderOf === undefined
      ? undefined
      : [...rangeAssignment(leaderOf.map((m) => m.memberId), world.partitions)].map(([memberId, partitions]) => ({ memberId, assignment: JSON.stringify(partitions) }));
  const input = { ...base(member), memberId: member.memberId, generationId: member.generation, ...(assignments ? { assignments } : {}) };
  return request(world, member, 'sync', (deps) => domain.syncGroup(deps, input), (answer) => {
    if ('pending' in answer) return answer.retryAfterMs;
    const partitions = answer.assignment === '' ? [] : (JSON.parse(answer.assignment) as number[]);
    member.assigned = partitions;
    member.phase = partitions.length > 0 ? 'offsets' : 'consume';
    world.history.groupAssignments.push({
      member: member.name,
      owner: member.instanceId ?? answer.memberId,
      // Member ids are clientId-<incarnation>-<n>, and the simulation's client ids have no dash.
      incarnation: answer.memberId.split('-')[1],
      generation: answer.generationId,
      partitions: partitions.map((p) => `${TOPIC}-${p}`),
      step: world.scheduler.steps,
    });
  });
}

function fetchOffsets(world: World, member: Member): Promise<void> {
  const partitions = member.assigned.map((partition) => ({ topic: TOPIC, partition }));
  const sentStep = world.scheduler.steps;
  return request(world, member, 'offset-fetch', (deps) => domain.offsetFetch(deps, { ...base(member), partitions }), (answer) => {
    for (const fetched of answer.partitions) {
      // auto.offset.reset=earliest where the group committed nothing.
      member.positions.set(fetched.partition, Math.max(0, fetched.offset));
      world.history.groupFetches.push({ member: member.name, partition: `${TOPIC}-${fetched.partition}`, offset: fetched.offset, sentStep, step: world.scheduler.steps });
    }
    member.phase = 'consume';
  });
}

function heartbeat(world: World, member: Member): Promise<void> {
  const input = { ...base(member), memberId: member.memberId, generationId: member.generation };
  return request(world, member, 'group-heartbeat', (deps) => domain.groupHeartbeat(deps, input), () => {
    member.lastHeartbeat = world.now();
    // A member with nothing to consume only heartbeats.
    return member.assigned.length === 0 ? HEARTBEAT_MS : undefined;
  });
}

function consume(world: World, member: Member): Promise<void> {
  const group = world.group!;
  const partition = member.assigned[member.next++ % member.assigned.length];
  const offset = member.positions.get(partition) ?? 0;
  const generation = member.generation;
  // Small batches while the faults go on (many commits to fence and to lose), large ones to drain.
  const input = { topic: TOPIC, partition, offset, maxRecords: group.faults ? group.rng.between(1, 8) : group.rng.between(1, 100) };
  return request(
    world,
    member,
    `group-consume:${TOPIC}-${partition}@${offset}`,
    (deps) => domain.consume(deps, input),
    (answer) => {
      member.outOfRange = 0;
      if (answer.records.length === 0) return group.rng.between(100, 400);
      const records = answer.records.map((r) => ({ offset: r.offset, value: r.value }));
      const commit = { partition, offset: answer.nextOffset, epoch: answer.records[answer.records.length - 1].leaderEpoch };
      member.busy = true;
      member.working = true;
      if (world.options.groupMember === 'commit-before-process') {
        // The faulty member: commits what it read, then processes it while reading on.
        commitThen(world, member, generation, commit, () => {
          advance(member, generation, partition, commit.offset);
          world.scheduler.after(group.rng.between(...PROCESS_MS), `process:${member.name}`, () => processed(world, member, generation, partition, records));
        });
      } else {
        // Processing takes a while (held while the member is paused); a member that died meanwhile never commits.
        afterPause(world, member, group.rng.between(...PROCESS_MS), () => {
          processed(world, member, generation, partition, records);
          advance(member, generation, partition, commit.offset);
          commitThen(world, member, generation, commit, () => undefined);
        });
      }
      return LATER;
    },
    (error) => {
      if (!(error instanceof OffsetOutOfRangeError)) return false;
      // The high watermark is behind the position: it catches up, unless an unclean election cut the log.
      if (++member.outOfRange > OUT_OF_RANGE_PATIENCE) {
        const hw = world.tables.partitions.get(`${TOPIC}#${partition}`)?.highWatermark ?? 0;
        member.positions.set(partition, hw);
        member.outOfRange = 0;
      }
      return true;
    },
  );
}

/** Runs `then` after `ms`, and after the member's pause if it is paused by then; never if it stopped. */
function afterPause(world: World, member: Member, ms: number, then: () => void): void {
  world.scheduler.after(ms, `process:${member.name}`, () => {
    if (member.stopped) return;
    const wait = member.pausedUntil - world.now();
    if (wait > 0) afterPause(world, member, wait, then);
    else then();
  });
}

/** The records reach the application: the history's record of what the group processed (a member that stopped processes nothing). */
function processed(world: World, member: Member, generation: number, partition: number, records: ReadonlyArray<{ offset: number; value: string }>): void {
  if (member.stopped) return;
  for (const r of records) {
    world.history.groupProcessed.push({ member: member.name, generation, partition: `${TOPIC}-${partition}`, offset: r.offset, value: r.value, step: world.scheduler.steps });
  }
}

function advance(member: Member, generation: number, partition: number, offset: number): void {
  if (member.generation === generation && member.assigned.includes(partition)) member.positions.set(partition, offset);
}

/** Commits the partition's position with the member's generation, records the attempt, then `then` once it is answered. */
function commitThen(world: World, member: Member, generation: number, commit: { partition: number; offset: number; epoch: number }, then: () => void): void {
  const { scheduler } = world;
  const group = world.group!;
  if (!running(world, member) || member.generation !== generation) {
    member.busy = false;
    member.working = false;
    tick(world, member, group.rng.between(10, 200));
    return;
  }
  const record: GroupCommit = {
    member: member.name,
    memberId: member.memberId,
    generation,
    partition: `${TOPIC}-${commit.partition}`,
    offset: commit.offset,
    sentStep: scheduler.steps,
    outcome: 'pending',
    step: Number.POSITIVE_INFINITY,
  };
  world.history.groupCommits.push(record);
  const input = {
    ...base(member),
    memberId: member.memberId,
    generationId: generation,
    offsets: [{ topic: TOPIC, partition: commit.partition, offset: commit.offset, committedLeaderEpoch: commit.epoch }],
  };
  const commitCall = world.options.groupStore === 'unfenced-commits' ? unfencedOffsetCommit : domain.offsetCommit;
  void scheduler
    .spawn(`offset-commit:${member.name}:${TOPIC}-${commit.partition}@${commit.offset}`, 'group', () => commitCall(group.deps, input), (outcome) => {
      member.busy = false;
      member.working = false;
      member.task = undefined;
      record.step = scheduler.steps;
      const refused = outcome.ok ? outcome.value.partitions.some((p) => 'errorType' in p) : outcome.error instanceof DomainError;
      record.outcome = outcome.ok && !refused ? 'acked' : refused ? 'refused' : 'unknown';
      if (record.outcome === 'acked') then();
      else if (!outcome.ok) handleError(world, member, outcome.error);
      tick(world, member, group.rng.between(10, 200));
    })
    .then((task) => {
      if (task.settled) return;
      member.task = task;
      // A commit held past the member's session (a frozen call): it arrives from a zombie.
      if (group.faults && group.rng.chance(HELD_COMMIT_CHANCE)) {
        world.faults['member-zombie']++;
        member.pausedUntil = world.now() + group.rng.between(SESSION_MS + 500, SESSION_MS * 3);
        scheduler.pause(task, member.pausedUntil);
      }
    });
}

/** sweepGroups on a jittered schedule, one run at a time, as deployed. */
function scheduleGroupSweep(world: World, group: GroupState): void {
  let sweeping = false;
  const schedule = (): void => {
    world.scheduler.after(GROUP_SWEEP_MS + group.rng.between(-500, 500), 'group-sweep-timer', async () => {
      schedule();
      if (sweeping) return;
      sweeping = true;
      await world.scheduler.spawn('group-sweep', 'sweep', () => domain.sweepGroups(group.deps), () => (sweeping = false));
    });
  };
  schedule();
}

/** While faults are on: members die, leave, pause past their session, static ones restart, and new ones join. */
function scheduleGroupFaults(world: World, group: GroupState): void {
  world.scheduler.after(FAULT_ROLL_MS + group.rng.between(-500, 500), 'group-fault-timer', () => {
    if (!group.faults) return;
    scheduleGroupFaults(world, group);
    if (!group.rng.chance(FAULT_CHANCE)) return;
    const live = group.members.filter((m) => !m.stopped);
    const roll = group.rng.next();
    if (live.length < MAX_MEMBERS && (live.length === 0 || roll < 0.15)) {
      world.faults['member-late']++;
      startMember(world, newMember(group, group.rng.chance(0.5)), group.rng.between(0, 2_000));
      return;
    }
    // A pause hurts most in the middle of processing or committing: it is aimed at such a member when there is one.
    const working = live.filter((m) => m.working);
    const member = group.rng.pick(roll >= 0.4 && roll < 0.8 && working.length > 0 ? working : live);
    if (roll < 0.3) {
      world.faults['member-die']++;
      member.stopped = true;
      world.scheduler.record(`group:${member.name}`, 'DIES');
    } else if (roll < 0.4) {
      world.faults['member-leave']++;
      member.stopped = true;
      const input = { ...base(member), memberId: member.memberId };
      world.scheduler.after(0, `leave-timer:${member.name}`, async () => {
        await world.scheduler.spawn(`leave:${member.name}`, 'group', () => domain.leaveGroup(group.deps, input));
      });
    } else if (roll < 0.8 || member.instanceId === undefined) {
      // Paused past its session (a long GC, a frozen Lambda): it comes back a zombie, its next commit refused.
      world.faults['member-zombie']++;
      member.pausedUntil = world.now() + group.rng.between(SESSION_MS + 500, SESSION_MS * 3);
      if (member.task && !member.task.settled && member.task.pausedUntil === 0) world.scheduler.pause(member.task, member.pausedUntil);
      world.scheduler.record(`group:${member.name}`, `PAUSED past its session until +${member.pausedUntil - world.now()} ms`);
    } else {
      // A static member restarts under its instance id; the old process runs on, half the time, until it is fenced.
      world.faults['static-restart']++;
      if (group.rng.chance(0.5)) member.stopped = true;
      const restarted = { ...newMember(group, false), instanceId: member.instanceId, name: `${member.name}'` };
      startMember(world, restarted, group.rng.between(0, 1_000));
      world.scheduler.record(`group:${member.name}`, `RESTARTS as ${restarted.name}`);
    }
  });
}

/**
 * After the heal (through which the members went on, the group faults too): the members go
 * on for GROUP_CHURN_MS more with their faults, then the faults stop and a fresh member
 * joins, so that someone is left, and the group consumes every partition to its high
 * watermark, processing and committing. The run then records the committed offsets as the
 * store holds them.
 */
export async function drainGroup(world: World): Promise<void> {
  const group = world.group;
  if (!group) return;
  const { scheduler, tables } = world;
  const churnEnd = world.now() + GROUP_CHURN_MS;
  while (world.now() < churnEnd && (await scheduler.step()));
  group.faults = false;
  const final = newMember(group, false, true);
  startMember(world, final, 0);
  const hw = (p: number) => tables.partitions.get(`${TOPIC}#${p}`)?.highWatermark ?? 0;
  // A paused member comes back before the end: its commit is judged too.
  const drained = () =>
    world.partitions.every((p) => hw(p) === 0 || committedOffset(world, p) >= hw(p)) && group.members.every((m) => m.stopped || m.pausedUntil <= world.now());
  const end = world.now() + DRAIN_BOUND_MS;
  while (world.now() < end && !drained()) {
    if (!(await scheduler.step())) break;
  }
  group.active = false;
  scheduler.record('group', drained() ? 'drained' : 'drain bound reached');
  world.history.groupDrain = world.partitions.map((p) => ({ partition: `${TOPIC}-${p}`, committed: committedOffset(world, p), highWatermark: hw(p) }));
  world.history.groupFinal = world.partitions.map((p) => ({ partition: `${TOPIC}-${p}`, offset: committedOffset(world, p), step: scheduler.steps }));
}

export const committedOffset = (world: World, partition: number): number =>
  world.tables.groupOffsets.get(GROUP_ID)?.get(`${TOPIC}#${partition}`)?.offset ?? -1;
