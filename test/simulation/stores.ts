/**
 * Store wrappers of the simulation: one that records every leader append
 * against the metadata table at the moment it committed (checker kinds 4/5),
 * and test-only logs without fencing or without batch bounds, to prove the
 * checker notices.
 */
import type { FollowerAppend } from '../../functions/ports/index.js';
import {
  MemoryGroupStore,
  MemoryMetadataStore,
  MemoryPartitionLog,
  type MemoryTables,
} from '../../functions/adapters/memory/index.js';
import { topicAlreadyStored } from '../../functions/domain/errors.js';
import type { CommittedOffset } from '../../functions/domain/group-model.js';
import { OFFSETS_TOPIC, findCoordinator } from '../../functions/domain/index.js';
import type { BrokerId, LogRecord, PartitionMetadata, ReplicaState, TopicConfig } from '../../functions/domain/model.js';
import type { OffsetCommitResponse } from '../../protocol/messages.js';
import type { Deps, GroupDeps, GroupStore, GroupWrite, LeaderAppend, MemberOffsetCommit, MetadataStore, PartitionLog } from '../../functions/ports/index.js';
import type { GroupOffsetWrite } from './history.js';

const key = (topic: string, partition: number) => `${topic}#${partition}`;

export interface ObservedAppend {
  append: LeaderAppend;
  records: LogRecord[];
  tableLeader: BrokerId | null;
  tableEpoch: number;
}

/**
 * The real log behind a proxy: every operation passes through untouched; after
 * each successful leader append the tables are read before anyone else can run.
 * (A proxy, so the wrapper follows the PartitionLog port as it changes.)
 */
export function recordingLog(inner: PartitionLog, tables: MemoryTables, observe: (seen: ObservedAppend) => void): PartitionLog {
  const appendAsLeader = async (append: LeaderAppend): Promise<LogRecord[]> => {
    const records = await inner.appendAsLeader(append);
    // Same microtask run as the store's atomic write: every other task is parked at a gate.
    const stored = tables.partitions.get(key(append.topic, append.partition));
    observe({ append, records, tableLeader: stored?.leader ?? null, tableEpoch: stored?.leaderEpoch ?? -1 });
    return records;
  };
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'appendAsLeader') return appendAsLeader;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * TEST ONLY: a MemoryPartitionLog whose leader appends skip the leader/epoch
 * check (the offset check stays). A deposed leader's writes then succeed, which
 * the checker must report.
 */
export class UnfencedPartitionLog extends MemoryPartitionLog {
  protected override fenceLeaderAppend(): void {}
  protected override fenceByAppendEpoch(): undefined {
    return undefined;
  }
}

/**
 * TEST ONLY: a MemoryPartitionLog whose diskless follower copies commit on the follower's
 * own state alone, as replicated copies do. A copier of a deposed epoch may then commit a
 * reference to an object the sweep judged unreferenced and deleted, which the checker must report.
 */
export class UnfencedDisklessCopyLog extends MemoryPartitionLog {
  protected override disklessCopyFence(): undefined {
    return undefined;
  }
}

/**
 * TEST ONLY: a MemoryPartitionLog whose follower copies of more than one record stop
 * halfway: the first half is committed and the copy dies, as a copy written record by
 * record would. A follower may then end inside a batch, which the checker must report once
 * it leads with it (the real stores write and commit a copy's whole batches at once).
 */
export class TornCopyPartitionLog extends MemoryPartitionLog {
  override async appendAsFollower(append: FollowerAppend): Promise<void> {
    if (append.records.length < 2) return super.appendAsFollower(append);
    await super.appendAsFollower({ ...append, records: append.records.slice(0, Math.ceil(append.records.length / 2)) });
    throw new Error('test-only torn copy: died after committing half of it');
  }
}

/**
 * TEST ONLY: a MemoryMetadataStore that writes a topic as the store once did: the
 * partitions first, in transactions of the same size, the topic item (created) in the
 * last. A creation cut short leaves partitions without a topic, which no retry and no
 * reconciler can finish: the checker must report the topic never there.
 */
export class UnresumableMetadataStore extends MemoryMetadataStore {
  constructor(private readonly store: MemoryTables) {
    super(store);
  }

  override async createTopic(config: TopicConfig, partitions: PartitionMetadata[], replicas: ReplicaState[]): Promise<void> {
    const perStep = Math.max(1, Math.floor(this.store.maxTransactionItems / (1 + config.replicationFactor)));
    for (let start = 0; start < partitions.length; start += perStep) {
      await this.store.yieldPoint('metadata.createTopic');
      const step = partitions.slice(start, start + perStep);
      const keys = step.map((p) => key(p.topic, p.partition));
      if (keys.some((k) => this.store.partitions.has(k))) throw topicAlreadyStored(config.topic);
      step.forEach((p, i) => this.store.partitions.set(keys[i], structuredClone(p)));
      for (const r of replicas.filter((state) => step.some((p) => p.partition === state.partition))) {
        this.store.replicaStates.set(`${r.topic}#${r.partition}#${r.brokerId}`, structuredClone(r));
      }
    }
    if (this.store.topics.has(config.topic)) throw topicAlreadyStored(config.topic);
    this.store.topics.set(config.topic, structuredClone(config));
  }
}

/**
 * What the diskless sweep is given: the run's stores, or, TEST ONLY, stores that make it
 * a sweep without its fence (fenceLogEnd writes nothing and reports success) or without
 * its epoch check (each partition reads as it was first read in this run of the sweep),
 * to prove the checker notices an object deleted under a committed record.
 */
export function sweepDepsOf(deps: Deps, variant: 'unfenced' | 'no-epoch-check' | undefined): Deps {
  if (variant === 'unfenced') return { ...deps, log: withMethod(deps.log, 'fenceLogEnd', () => Promise.resolve(true)) };
  if (variant === 'no-epoch-check') {
    const firstRead = new Map<string, Promise<PartitionMetadata | null>>();
    const getPartition = (topic: string, partition: number): Promise<PartitionMetadata | null> => {
      const k = key(topic, partition);
      if (!firstRead.has(k)) firstRead.set(k, deps.metadata.getPartition(topic, partition));
      return firstRead.get(k)!;
    };
    return { ...deps, metadata: withMethod(deps.metadata, 'getPartition', getPartition) };
  }
  return deps;
}

/** The store behind a proxy, with one method replaced (a proxy, so it follows the port as it changes). */
function withMethod<T extends PartitionLog | MetadataStore | GroupStore, K extends keyof T>(inner: T, name: K, replacement: T[K]): T {
  return new Proxy(inner, {
    get(target, property) {
      if (property === name) return replacement;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export type GroupStoreVariant = 'kept-generation' | 'unfenced-commits' | 'coordinator-memory';

/**
 * The group store the run's coordinator writes through: the memory one, or, TEST ONLY, one
 * that keeps the generation across a rebalance (`kept-generation`), one that writes a
 * member's commit whatever its generation and membership (`unfenced-commits`, the coordinator
 * fence kept), or one whose coordinator serves the offsets committed under its own epoch
 * only, as a broker that kept them in memory would (`coordinator-memory`); either way every
 * commit written is recorded beside the group as the table holds it.
 */
export function recordingGroupStore(tables: MemoryTables, variant: GroupStoreVariant | undefined, observe: (write: GroupOffsetWrite) => void): GroupStore {
  const inner =
    variant === 'kept-generation'
      ? new KeptGenerationGroupStore(tables)
      : variant === 'unfenced-commits'
        ? new UnfencedCommitGroupStore(tables)
        : variant === 'coordinator-memory'
          ? new CoordinatorMemoryGroupStore(tables)
          : new MemoryGroupStore(tables);
  const commitMemberOffsets = async (commit: MemberOffsetCommit): Promise<void> => {
    await inner.commitMemberOffsets(commit);
    // Same microtask run as the store's atomic write: every other task is parked at a gate.
    const group = tables.groups.get(commit.groupId);
    for (const offset of commit.offsets) {
      observe({
        memberId: commit.memberId,
        generation: commit.generationId,
        partition: `${offset.topic}-${offset.partition}`,
        offset: offset.offset,
        tableIncarnation: group?.incarnation ?? -1,
        tableGeneration: group?.generationId ?? -1,
        tableHasMember: group?.members.some((m) => m.memberId === commit.memberId) ?? false,
        step: -1,
      });
    }
  };
  return withMethod<GroupStore, 'commitMemberOffsets'>(inner, 'commitMemberOffsets', commitMemberOffsets);
}

/** TEST ONLY: a group store under which a completed rebalance keeps the generation it started from. */
class KeptGenerationGroupStore extends MemoryGroupStore {
  constructor(private readonly memoryTables: MemoryTables) {
    super(memoryTables);
  }

  override async writeGroup(write: GroupWrite): Promise<void> {
    const stored = this.memoryTables.groups.get(write.groupId);
    const next = write.next !== null && stored !== undefined && write.next.generationId > stored.generationId ? { ...write.next, generationId: stored.generationId } : write.next;
    return super.writeGroup({ ...write, next });
  }
}

/** TEST ONLY: offsets visible only while the coordinator that took them leads: a failover loses them. */
class CoordinatorMemoryGroupStore extends MemoryGroupStore {
  private readonly takenUnder = new Map<string, { partition: number; epoch: number }>();

  constructor(private readonly memoryTables: MemoryTables) {
    super(memoryTables);
  }

  override async commitMemberOffsets(commit: MemberOffsetCommit): Promise<void> {
    await super.commitMemberOffsets(commit);
    for (const o of commit.offsets) this.takenUnder.set(`${commit.groupId}#${o.topic}#${o.partition}`, { partition: commit.fence.partition, epoch: commit.fence.leaderEpoch });
  }

  override async getOffsets(groupId: string): Promise<CommittedOffset[]> {
    return (await super.getOffsets(groupId)).filter((o) => {
      const taken = this.takenUnder.get(`${groupId}#${o.topic}#${o.partition}`);
      return taken !== undefined && this.memoryTables.partitions.get(key(OFFSETS_TOPIC, taken.partition))?.leaderEpoch === taken.epoch;
    });
  }
}

/** TEST ONLY: a group store that writes a member's commit with no check of its generation or membership (see unfencedOffsetCommit). */
class UnfencedCommitGroupStore extends MemoryGroupStore {
  constructor(private readonly memoryTables: MemoryTables) {
    super(memoryTables);
  }

  override async commitMemberOffsets(commit: MemberOffsetCommit): Promise<void> {
    const group = this.memoryTables.groups.get(commit.groupId);
    if (group === undefined) return super.commitMemberOffsets(commit);
    // The fence on the coordinator stays (a write with an empty offset list checks only it); the group's condition goes.
    await super.writeGroup({ fence: commit.fence, groupId: commit.groupId, expectedVersion: group.version, next: group, putOffsets: commit.offsets }).catch(async (error: unknown) => {
      if (error instanceof Error && error.name === 'GroupChangedError') return this.commitMemberOffsets(commit);
      throw error;
    });
  }
}

/**
 * TEST ONLY: an OffsetCommit that checks only that it reached the coordinator (its fence),
 * not the member's generation or membership, written through a store that does not check
 * them either: a zombie's commit lands.
 */
export async function unfencedOffsetCommit(
  deps: GroupDeps,
  request: { groupId: string; memberId: string; generationId: number; offsets: Array<{ topic: string; partition: number; offset: number; committedLeaderEpoch: number }> },
): Promise<OffsetCommitResponse> {
  const found = await findCoordinator(deps, { groupId: request.groupId });
  const fence = { topic: found.topic, partition: found.partition, leader: found.coordinator, leaderEpoch: found.coordinatorEpoch };
  const committedAt = deps.clock.now();
  const offsets = request.offsets.map((o) => ({ groupId: request.groupId, ...o, metadata: '', committedAt }));
  await deps.groups.commitMemberOffsets({ fence, groupId: request.groupId, generationId: request.generationId, memberId: request.memberId, offsets });
  return { partitions: request.offsets.map(({ topic, partition }) => ({ topic, partition })) };
}
