import { ASSIGNOR_NAMES, type AssignorName, type TopicPartitions } from '../protocol/consumer-protocol.js';
import { fromKeys, keysOf } from './groups/assignors.js';
import { GroupMembership } from './groups/membership.js';
import { isFunctionError, RemoteFunctionError, type ConsumeRequest, type ConsumeResponse, type LeadershipClient } from './lambda-client.js';
import { MetadataCache } from './metadata.js';
import { ClientError, isRetriable, leadershipMoved, systemClock, withRetries, type RetryOptions } from './retry.js';

/** Kafka's partition.assignment.strategy here: cooperative-sticky first (see client/README.md, "Consumer groups"). */
export const DEFAULT_ASSIGNMENT_STRATEGY: readonly AssignorName[] = ['cooperative-sticky', 'range'];
/** A commit is one transaction of at most this many offsets (functions/domain/limits.ts MAX_OFFSETS_PER_COMMIT). */
export const MAX_OFFSETS_PER_COMMIT = 98;

/** The most partitions the consume function takes in one fetch (functions/domain/limits.ts MAX_PARTITIONS_PER_FETCH). */
export const MAX_PARTITIONS_PER_FETCH = 1000;
/** The longest the consume function holds a fetch (functions/domain/limits.ts MAX_FETCH_WAIT_MS). */
export const MAX_FETCH_WAIT_MS = 5000;

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The first offset to read (default 0). */
  offset?: number;
}

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  key: string | null;
  value: string;
  appendedAt: number;
}

export interface ConsumerOptions extends RetryOptions, ConsumerGroupOptions {
  /** Kafka's default.api.timeout.ms: how long a poll's fetch may keep failing retriably (default 60 000). */
  defaultApiTimeoutMs?: number;
  /** Kafka's max.poll.records, per partition and poll (default 100, at most 1000). */
  maxPollRecords?: number;
  /** Kafka's max.partition.fetch.bytes: keys and values per partition and poll, past the first record (the function's default: 1 MiB; at most 5 MiB). */
  maxPartitionFetchBytes?: number;
  /** Kafka's fetch.max.bytes: all records of one fetch together, as the answer carries them (the function's default and most: 5 MiB). */
  fetchMaxBytes?: number;
  /**
   * Kafka's fetch.max.wait.ms (default 500): how long a poll waits for `fetchMinBytes` of records
   * before it returns with fewer (or none). It returns as soon as a fetch brings them. Where the
   * wait is spent: see `fetchWaitInFunction`.
   */
  fetchMaxWaitMs?: number;
  /** Kafka's fetch.min.bytes (default 1): the records, as the fetch answers carry them, worth returning before the wait is up. */
  fetchMinBytes?: number;
  /**
   * Where a poll waits (default false: here). Here, a fetch with nothing new is answered at
   * once from one cheap read, and the next fetch goes fetchMaxWaitMs after the answer: an idle
   * consumer costs a fetch per fetchMaxWaitMs (and round trip), as Kafka's does, and a record
   * waits up to that long to be fetched.
   * In the function (true, at most MAX_FETCH_WAIT_MS), it looks again every 200 ms and answers
   * as soon as the records are there, as Kafka's broker does, but every millisecond held is
   * billed as Lambda time (docs/functions.md, "Consume").
   */
  fetchWaitInFunction?: boolean;
}

/** Kafka's ConsumerRebalanceListener; under the cooperative protocol revoked and assigned are what changed only. */
export interface RebalanceListener {
  /** Before the partitions go to another member: commit what was processed (auto-commit already did, if on). */
  onPartitionsRevoked?(partitions: TopicPartitions[]): void | Promise<void>;
  onPartitionsAssigned?(partitions: TopicPartitions[]): void | Promise<void>;
  /** The group moved on without this member (a zombie): another member may own them already, so nothing can be committed. */
  onPartitionsLost?(partitions: TopicPartitions[]): void | Promise<void>;
}

/** Kafka's consumer group settings, under Kafka's names (camelCase). */
export interface ConsumerGroupOptions {
  /** Kafka's group.id: with it, subscribe() joins the group and positions come from its committed offsets. */
  groupId?: string;
  /** Kafka's group.instance.id: a static member (KIP-345), which keeps its place across restarts within a session. */
  groupInstanceId?: string;
  /** Kafka's client.id, the prefix of the member id the group gives (default "consumer"). */
  clientId?: string;
  /** Kafka's session.timeout.ms (default 45 000). */
  sessionTimeoutMs?: number;
  /** Kafka's heartbeat.interval.ms (default 3 000), below a third of the session. */
  heartbeatIntervalMs?: number;
  /** Kafka's max.poll.interval.ms (default 300 000): the rebalance timeout, and the longest time between polls. */
  maxPollIntervalMs?: number;
  /** Kafka's partition.assignment.strategy, in order of preference (default ['cooperative-sticky', 'range']). */
  partitionAssignmentStrategy?: readonly AssignorName[];
  /** Kafka's auto.offset.reset: where a partition with no committed offset starts (default 'latest': its high watermark). */
  autoOffsetReset?: 'earliest' | 'latest' | 'none';
  /** Kafka's enable.auto.commit (default true): poll commits the positions every autoCommitIntervalMs, and before partitions are revoked. */
  enableAutoCommit?: boolean;
  /** Kafka's auto.commit.interval.ms (default 5 000). */
  autoCommitIntervalMs?: number;
  rebalanceListener?: RebalanceListener;
}

/** An offset to commit: the next offset to consume, and the KIP-320 leader epoch of the record before it. */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch?: number;
  metadata?: string;
}

/** Kafka's CommitFailedException: the group rebalanced past this member (a zombie's commit); it rejoins at the next poll. */
export class CommitFailedError extends ClientError {
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'CommitFailedError';
  }
}

interface Assignment {
  topic: string;
  partition: number;
  position: number;
  /** The leader epoch of the record before `position`, when known (what a commit carries, KIP-320). */
  leaderEpoch?: number;
}

/**
 * Reads assigned partitions through the consume function, from a position per partition.
 *
 * The consume function serves only records below the high watermark (committed), so a
 * consumer never has to unsee one; it only must never skip or repeat: the position moves to
 * the last returned offset + 1, and only once the whole poll succeeded. Each fetch names
 * the cached leader epoch (KIP-320); on a retriable error the partition's metadata is
 * dropped, described again, and the fetch retried with backoff until `defaultApiTimeoutMs`.
 */
export class Consumer {
  readonly metadata: MetadataCache;
  private readonly assignments: Assignment[] = [];
  private readonly maxWaitMs: number;
  private readonly minBytes: number;
  /**
   * When the last fetch that brought fewer than fetchMinBytes was answered: the next goes
   * fetchMaxWaitMs after it, as a Kafka consumer's next fetch goes when its broker answered one
   * held for fetch.max.wait.ms.
   */
  private thinAnswerAt: number | undefined;
  /** With a groupId: the membership subscribe() runs. */
  readonly group: GroupMembership | undefined;
  private subscription: string[] | null = null;
  /** Per partition ("topic#partition"), the offset last committed by this member. */
  private readonly committedPositions = new Map<string, number>();
  private lastAutoCommitAt: number | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly client: LeadershipClient,
    private readonly options: ConsumerOptions = {},
  ) {
    this.metadata = new MetadataCache(client);
    this.group = groupOptionsChecked(client, options);
    const { fetchMaxWaitMs = 500, fetchMinBytes = 1, fetchWaitInFunction = false } = options;
    const mostWait = fetchWaitInFunction ? MAX_FETCH_WAIT_MS : Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(fetchMaxWaitMs) || fetchMaxWaitMs < 0 || fetchMaxWaitMs > mostWait) {
      throw new ClientError(`fetchMaxWaitMs must be an integer from 0${fetchWaitInFunction ? ` to ${MAX_FETCH_WAIT_MS} when the function waits` : ''}, got ${fetchMaxWaitMs}`);
    }
    if (!Number.isSafeInteger(fetchMinBytes) || fetchMinBytes < 1) throw new ClientError(`fetchMinBytes must be an integer >= 1, got ${fetchMinBytes}`);
    this.maxWaitMs = fetchMaxWaitMs;
    this.minBytes = fetchMinBytes;
  }

  /**
   * Kafka's subscribe (needs a groupId): the group shares the topics' partitions among its
   * members; poll joins it and keeps the membership. Replaces an earlier subscription.
   */
  subscribe(topics: readonly string[]): void {
    if (!this.group) throw new ClientError('subscribe needs a groupId (Kafka\'s group.id): without one, assign() the partitions');
    if (!Array.isArray(topics) || topics.length === 0 || !topics.every((topic) => typeof topic === 'string' && topic !== '')) {
      throw new ClientError('subscribe: topics must be a non-empty array of topic names');
    }
    if (this.subscription === null && this.assignments.length > 0) throw new ClientError('subscribe: this consumer has partitions assign()ed; a consumer either assigns or subscribes');
    const next = [...new Set(topics)].sort();
    if (this.subscription !== null && next.join('\u0000') === this.subscription.join('\u0000')) return;
    this.subscription = next;
    this.group.requestRejoin();
  }

  /** The subscribed topics ([] when none). */
  subscribed(): string[] {
    return [...(this.subscription ?? [])];
  }

  /** Replaces the assignment (Kafka's assign + seek). */
  assign(partitions: TopicPartitionOffset[]): void {
    if (this.subscription !== null) throw new ClientError('assign: this consumer subscribed to topics; a consumer either assigns or subscribes');
    const seen = new Set<string>();
    for (const { topic, partition, offset = 0 } of partitions) {
      if (!Number.isInteger(partition) || partition < 1) throw new ClientError(`partition must be an integer >= 1, got ${partition}`);
      if (!Number.isInteger(offset) || offset < 0) throw new ClientError(`offset must be an integer >= 0, got ${offset}`);
      if (seen.has(`${topic}#${partition}`)) throw new ClientError(`${topic}-${partition} is assigned twice`);
      seen.add(`${topic}#${partition}`);
    }
    this.assignments.length = 0;
    for (const { topic, partition, offset = 0 } of partitions) this.assignments.push({ topic, partition, position: offset });
  }

  assignment(): TopicPartitionOffset[] {
    return this.assignments.map(({ topic, partition, position }) => ({ topic, partition, offset: position }));
  }

  /** The offset of the next record poll returns for the partition. */
  position(topic: string, partition: number): number {
    return this.find(topic, partition).position;
  }

  seek(topic: string, partition: number, offset: number): void {
    if (!Number.isInteger(offset) || offset < 0) throw new ClientError(`offset must be an integer >= 0, got ${offset}`);
    this.find(topic, partition).position = offset;
  }

  /**
   * Fetches every assigned partition (Kafka's Fetch, one consume call per 1000 partitions),
   * returns the committed records each has from its position (each partition's in offset
   * order) and advances the positions past them. A long poll: it returns once the records
   * come to fetchMinBytes, else after about fetchMaxWaitMs with what it has (empty when none
   * are new), waiting where `fetchWaitInFunction` says.
   */
  async poll(): Promise<ConsumerRecord[]> {
    if (this.closed || this.closing) throw new ClientError('poll: the consumer is closed');
    if (this.subscription !== null) return this.pollGroup();
    if (this.assignments.length === 0) throw new ClientError('poll: no partitions assigned');
    return this.pollAssigned();
  }

  private async pollAssigned(): Promise<ConsumerRecord[]> {
    const clock = this.options.clock ?? systemClock;
    if (this.options.fetchWaitInFunction) return this.fetchAll();
    const started = clock.now();
    const polled: ConsumerRecord[] = [];
    for (;;) {
      if (this.thinAnswerAt !== undefined) {
        const pause = this.thinAnswerAt + this.maxWaitMs - clock.now();
        if (pause > 0) await clock.sleep(pause);
      }
      try {
        polled.push(...(await this.fetchAll()));
      } catch (error) {
        // Their positions have moved past the records already fetched: they are this poll's to return.
        if (polled.length > 0) return polled;
        throw error;
      }
      const enough = polled.length > 0 && (this.minBytes === 1 || bytesOf(polled) >= this.minBytes);
      this.thinAnswerAt = enough ? undefined : clock.now();
      if (enough || clock.now() - started >= this.maxWaitMs) return polled;
    }
  }

  /** One fetch of every assigned partition: their records (in assignment order), positions advanced past them. */
  private async fetchAll(): Promise<ConsumerRecord[]> {
    const fetched = new Map<Assignment, ConsumerRecord[]>();
    for (let start = 0; start < this.assignments.length; start += MAX_PARTITIONS_PER_FETCH) {
      await this.fetch(this.assignments.slice(start, start + MAX_PARTITIONS_PER_FETCH), fetched);
    }
    for (const [assignment, records] of fetched) {
      if (records.length === 0) continue;
      const last = records[records.length - 1];
      assignment.position = last.offset + 1;
      assignment.leaderEpoch = last.leaderEpoch;
    }
    return this.assignments.flatMap((assignment) => fetched.get(assignment) ?? []);
  }

  /**
   * Fetches the partitions until each is answered, into `fetched`. A partition refused
   * retriably is fetched again (with its metadata refreshed, or taken from the refusal's
   * leader hint) with the others still pending; a final refusal of any fails the poll.
   */
  private fetch(assignments: Assignment[], fetched: Map<Assignment, ConsumerRecord[]>): Promise<void> {
    let pending = assignments;
    const refusals = new Set<unknown>();
    return withRetries(
      `consume from ${describePositions(assignments)}`,
      this.options.defaultApiTimeoutMs ?? 60_000,
      this.options,
      async () => {
        const asked = await Promise.all(pending.map((assignment) => this.request(assignment)));
        const answer = await this.client.fetch({
          partitions: asked,
          ...(this.options.fetchMaxBytes === undefined ? {} : { maxBytes: this.options.fetchMaxBytes }),
          ...(this.options.fetchWaitInFunction ? { maxWaitMs: this.maxWaitMs, minBytes: this.minBytes } : {}),
        });
        if (!Array.isArray(answer?.partitions) || answer.partitions.length !== pending.length) {
          throw new ClientError(`a fetch of ${pending.length} partitions was answered with ${answer?.partitions?.length ?? 'no'} partitions`);
        }
        const refused: Array<{ assignment: Assignment; error: RemoteFunctionError }> = [];
        pending.forEach((assignment, index) => {
          const result = answer.partitions[index];
          if (result.topic !== assignment.topic || result.partition !== assignment.partition) {
            throw new ClientError(`a fetch answered ${result.topic}-${result.partition} where ${assignment.topic}-${assignment.partition} was asked`);
          }
          if ('errorType' in result) {
            refused.push({ assignment, error: new RemoteFunctionError(this.client.functionName('consume'), result.errorType, result.errorMessage) });
          } else {
            fetched.set(assignment, this.records(assignment, result));
          }
        });
        const final = refused.find(({ error }) => !isRetriable(error));
        if (final) throw final.error;
        for (const { assignment, error } of refused) this.metadata.afterFailure(assignment.topic, assignment.partition, error);
        pending = refused.map(({ assignment }) => assignment);
        if (refused.length === 0) return;
        // Only a move of leadership goes again at once (withRetries): any other refusal backs off for all.
        const error = (refused.find(({ error }) => !leadershipMoved(error)) ?? refused[0]).error;
        refusals.add(error);
        throw error;
      },
      (error) => {
        // The invocation itself failed: every partition's leadership is in doubt only if it says so.
        if (!refusals.has(error)) for (const { topic, partition } of pending) this.metadata.afterFailure(topic, partition, error);
      },
    );
  }

  private async request({ topic, partition, position }: Assignment): Promise<ConsumeRequest> {
    const leadership = await this.metadata.leadership(topic, partition);
    return {
      topic,
      partition,
      offset: position,
      maxRecords: this.options.maxPollRecords ?? 100,
      ...(this.options.maxPartitionFetchBytes === undefined ? {} : { maxBytes: this.options.maxPartitionFetchBytes }),
      // Offline in the cache: ask without an epoch, so the function says whether a leader is back.
      ...(leadership.leader === null ? {} : { leaderEpoch: leadership.leaderEpoch }),
    };
  }

  /** A partition's answer as records, once its leadership is noted and its offsets checked for holes. */
  private records({ topic, partition, position }: Assignment, answer: ConsumeResponse): ConsumerRecord[] {
    this.metadata.observe(topic, partition, answer.leader, answer.leaderEpoch);
    answer.records.forEach((record, index) => {
      if (record.offset !== position + index) {
        throw new ClientError(`${topic}-${partition}: expected offset ${position + index} at index ${index} of a fetch from ${position}, got ${record.offset}`);
      }
    });
    return answer.records.map((record) => ({ topic, partition, ...record }));
  }

  // ---- consumer groups

  /**
   * A group poll, as Kafka's: auto-commit when due, keep the membership (join, sync, the
   * rebalance callbacks), then fetch the partitions this member owns. With none it waits
   * fetchMaxWaitMs and returns nothing.
   */
  private async pollGroup(): Promise<ConsumerRecord[]> {
    const group = this.group as GroupMembership;
    group.throwIfFatal();
    group.polled();
    const clock = this.options.clock ?? systemClock;
    // Kafka commits before it rejoins (onJoinPrepare), so the partitions that move are handed over at their positions.
    await this.maybeAutoCommit(group.rejoining);
    for (let assigned = await group.ensureActive(this.hooks()); assigned !== undefined; assigned = await group.ensureActive(this.hooks())) {
      try {
        await this.takeAssignment(assigned);
      } catch (error) {
        // Partitions the group gave and this member never took would sit unread: join again, and take them then.
        group.requestRejoin();
        throw error;
      }
    }
    if (this.assignments.length === 0) {
      await clock.sleep(this.maxWaitMs);
      return [];
    }
    const records = await this.pollAssigned();
    // Lost while fetching (the heartbeat found the member gone): those records may be another member's now.
    return group.generationId >= 0 ? records : [];
  }

  private hooks() {
    return {
      topics: () => this.subscribed(),
      owned: () => this.ownedPartitions(),
      lost: async () => {
        const lost = this.ownedPartitions();
        this.assignments.length = 0;
        this.committedPositions.clear();
        if (lost.length > 0) await this.options.rebalanceListener?.onPartitionsLost?.(lost);
      },
      partitionCounts: async (topics: readonly string[]) => {
        const counts = new Map<string, number>();
        for (const topic of topics) {
          try {
            counts.set(topic, (await this.client.describe(topic)).topics.find((t) => t.topic === topic)?.partitionCount ?? 0);
          } catch (error) {
            // Kafka's assignors leave out a subscribed topic that does not exist (yet).
            if (!isFunctionError(error, 'UnknownTopicError')) throw error;
            counts.set(topic, 0);
          }
        }
        return counts;
      },
    };
  }

  /** The partitions this member owns now, per topic. */
  ownedPartitions(): TopicPartitions[] {
    return fromKeys(keysOf(this.assignments.map(({ topic, partition }) => ({ topic, partitions: [partition] }))));
  }

  /**
   * A generation's assignment against what the member owns (cooperative): revoked partitions
   * go (after the listener), which needs another rebalance to hand them over; added ones
   * start from the group's committed offset, else from autoOffsetReset.
   */
  private async takeAssignment(assigned: TopicPartitions[]): Promise<void> {
    const group = this.group as GroupMembership;
    const now = new Set(keysOf(assigned));
    const owned = new Set(keysOf(this.ownedPartitions()));
    const revoked = [...owned].filter((key) => !now.has(key));
    const added = [...now].filter((key) => !owned.has(key));
    if (revoked.length > 0) {
      await this.options.rebalanceListener?.onPartitionsRevoked?.(fromKeys(revoked));
      const gone = new Set(revoked);
      const kept = this.assignments.filter(({ topic, partition }) => !gone.has(keysOf([{ topic, partitions: [partition] }])[0]));
      this.assignments.length = 0;
      this.assignments.push(...kept);
      group.requestRejoin();
    }
    const positions = await this.startingPositions(fromKeys(added));
    this.assignments.push(...positions);
    for (const { topic, partition, position } of positions) this.committedPositions.set(`${topic}#${partition}`, position);
    this.lastAutoCommitAt ??= (this.options.clock ?? systemClock).now();
    await this.options.rebalanceListener?.onPartitionsAssigned?.(fromKeys(added));
  }

  /** Where newly assigned partitions start: the committed offset (OffsetFetch), else auto.offset.reset. */
  private async startingPositions(partitions: TopicPartitions[]): Promise<Assignment[]> {
    const asked = partitions.flatMap(({ topic, partitions: numbers }) => numbers.map((partition) => ({ topic, partition })));
    if (asked.length === 0) return [];
    const group = this.group as GroupMembership;
    const committed = await group.call('OffsetFetch', { partitions: asked });
    const reset = this.options.autoOffsetReset ?? 'latest';
    const highWatermarks = new Map<string, Map<number, number>>();
    const positions: Assignment[] = [];
    for (const { topic, partition } of asked) {
      const found = committed.partitions.find((p) => p.topic === topic && p.partition === partition);
      if (found && found.offset >= 0) {
        positions.push({ topic, partition, position: found.offset, ...(found.committedLeaderEpoch >= 0 ? { leaderEpoch: found.committedLeaderEpoch } : {}) });
        continue;
      }
      if (reset === 'none') throw new ClientError(`${topic}-${partition}: group "${group.options.groupId}" has no committed offset and autoOffsetReset is 'none'`);
      if (reset === 'earliest') {
        positions.push({ topic, partition, position: 0 });
        continue;
      }
      if (!highWatermarks.has(topic)) {
        const described = (await this.client.describe(topic)).topics.find((t) => t.topic === topic);
        highWatermarks.set(topic, new Map((described?.partitions ?? []).map((view) => [view.Partition, view.HighWatermark])));
      }
      positions.push({ topic, partition, position: highWatermarks.get(topic)?.get(partition) ?? 0 });
    }
    return positions;
  }

  /**
   * Kafka's commitSync: commits `offsets` (default: the position of every partition this
   * member owns, with the leader epoch of the last record polled) for the member's
   * generation. A zombie's commit (the group moved on: ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID)
   * throws CommitFailedError and the next poll rejoins; a commit while the group rebalances
   * throws the coordinator's RebalanceInProgressError.
   */
  async commitSync(offsets?: readonly OffsetToCommit[]): Promise<void> {
    const group = this.group;
    if (!group) throw new ClientError('commitSync needs a groupId (Kafka\'s group.id)');
    group.throwIfFatal();
    if (this.closed) throw new ClientError('commitSync: the consumer is closed');
    const chosen: readonly OffsetToCommit[] = offsets ?? this.assignments.map(({ topic, partition, position, leaderEpoch }) => ({ topic, partition, offset: position, ...(leaderEpoch === undefined ? {} : { leaderEpoch }) }));
    for (const [index, { topic, partition, offset, leaderEpoch }] of chosen.entries()) {
      if (typeof topic !== 'string' || topic === '' || !Number.isInteger(partition) || partition < 1) throw new ClientError(`commitSync: offsets[${index}] must name a topic and a partition >= 1`);
      if (!Number.isInteger(offset) || offset < 0) throw new ClientError(`commitSync: offsets[${index}].offset must be an integer >= 0, got ${offset}`);
      if (leaderEpoch !== undefined && (!Number.isInteger(leaderEpoch) || leaderEpoch < 0)) throw new ClientError(`commitSync: offsets[${index}].leaderEpoch must be an integer >= 0, got ${leaderEpoch}`);
    }
    if (chosen.length === 0) return;
    const member = this.subscription === null ? { generationId: -1 } : { generationId: group.generationId, memberId: group.memberId };
    if (this.subscription !== null && group.generationId < 0) {
      throw new CommitFailedError(`group "${group.options.groupId}": this member is not in a generation of the group (it rejoins at the next poll)`, undefined);
    }
    for (let start = 0; start < chosen.length; start += MAX_OFFSETS_PER_COMMIT) {
      const part = chosen.slice(start, start + MAX_OFFSETS_PER_COMMIT);
      let answer;
      try {
        answer = await group.call('OffsetCommit', {
          ...member,
          ...(group.options.groupInstanceId === undefined || this.subscription === null ? {} : { groupInstanceId: group.options.groupInstanceId }),
          offsets: part.map(({ topic, partition, offset, leaderEpoch, metadata }) => ({
            topic,
            partition,
            offset,
            committedLeaderEpoch: leaderEpoch ?? -1,
            ...(metadata === undefined ? {} : { metadata }),
          })),
        });
      } catch (error) {
        group.noteRefusal(error);
        if (isFunctionError(error, 'IllegalGenerationError') || isFunctionError(error, 'UnknownMemberIdError')) {
          throw new CommitFailedError(`group "${group.options.groupId}" rebalanced past this member: its commit was refused (${error.errorType}); it rejoins at the next poll`, error);
        }
        throw error;
      }
      const refused = answer.partitions.find((p) => 'errorType' in p);
      if (refused && 'errorType' in refused) {
        throw new RemoteFunctionError(this.client.functionName('groups'), refused.errorType, `${refused.topic}-${refused.partition}: ${refused.errorMessage}`);
      }
      for (const { topic, partition, offset } of part) this.committedPositions.set(`${topic}#${partition}`, offset);
    }
  }

  /** Auto-commit (enableAutoCommit) of the positions that moved: when the interval is up, or `now` (before a revocation, at close). */
  private async maybeAutoCommit(now: boolean): Promise<void> {
    const group = this.group;
    if (!group || this.subscription === null || this.options.enableAutoCommit === false || !group.inGeneration) return;
    const clock = this.options.clock ?? systemClock;
    if (!now && this.lastAutoCommitAt !== undefined && clock.now() - this.lastAutoCommitAt < (this.options.autoCommitIntervalMs ?? 5000)) return;
    this.lastAutoCommitAt = clock.now();
    const moved = this.assignments.filter(({ topic, partition, position }) => this.committedPositions.get(`${topic}#${partition}`) !== position);
    if (moved.length === 0) return;
    try {
      await this.commitSync(moved.map(({ topic, partition, position, leaderEpoch }) => ({ topic, partition, offset: position, ...(leaderEpoch === undefined ? {} : { leaderEpoch }) })));
    } catch (error) {
      // As Kafka's auto-commit: a refused commit is not the poll's failure; the membership noted what it means.
      if (!(error instanceof CommitFailedError) && !isFunctionError(error, 'RebalanceInProgressError')) throw error;
    }
  }

  /**
   * Kafka's close: with a group, auto-commits (if on), tells the listener the partitions are
   * revoked, stops the heartbeats and leaves the group (a static member stays for its session).
   */
  close(): Promise<void> {
    this.closing ??= this.leave();
    return this.closing;
  }

  private async leave(): Promise<void> {
    const group = this.group;
    try {
      if (group && this.subscription !== null && group.inGeneration) {
        await this.maybeAutoCommit(true);
        const owned = this.ownedPartitions();
        // The listener may still commit what it processed.
        if (owned.length > 0) await this.options.rebalanceListener?.onPartitionsRevoked?.(owned);
      }
    } finally {
      this.closed = true;
      this.assignments.length = 0;
      await group?.close();
    }
  }

  private find(topic: string, partition: number): Assignment {
    const found = this.assignments.find((candidate) => candidate.topic === topic && candidate.partition === partition);
    if (!found) throw new ClientError(`${topic}-${partition} is not assigned`);
    return found;
  }
}

/** The records as a fetch answer carries them (what fetch.min.bytes counts in the function too). */
function bytesOf(records: readonly ConsumerRecord[]): number {
  const encoder = new TextEncoder();
  return records.reduce((sum, { offset, leaderEpoch, key, value, appendedAt }) => sum + encoder.encode(JSON.stringify({ offset, leaderEpoch, key, value, appendedAt })).length, 0);
}

function describePositions(assignments: readonly Assignment[]): string {
  const named = assignments.slice(0, 3).map(({ topic, partition, position }) => `${topic}-${partition} at offset ${position}`);
  return assignments.length > 3 ? `${assignments.length} partitions (${named.join(', ')}, ...)` : named.join(', ');
}

const POSITIVE = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) > 0;

/** The membership for a consumer with a groupId, its options checked; group options without a groupId are refused. */
function groupOptionsChecked(client: LeadershipClient, options: ConsumerOptions): GroupMembership | undefined {
  const { groupId, groupInstanceId, clientId = 'consumer', sessionTimeoutMs = 45_000, heartbeatIntervalMs = 3_000, maxPollIntervalMs = 300_000 } = options;
  const strategy = options.partitionAssignmentStrategy ?? DEFAULT_ASSIGNMENT_STRATEGY;
  const groupOnly = ['groupInstanceId', 'sessionTimeoutMs', 'heartbeatIntervalMs', 'maxPollIntervalMs', 'partitionAssignmentStrategy', 'autoOffsetReset', 'enableAutoCommit', 'autoCommitIntervalMs', 'rebalanceListener'] as const;
  if (groupId === undefined) {
    const given = groupOnly.find((name) => options[name] !== undefined);
    if (given) throw new ClientError(`${given} is a consumer group option: it needs a groupId`);
    return undefined;
  }
  const NAME = /^[a-zA-Z0-9._-]{1,249}$/;
  if (typeof groupId !== 'string' || !NAME.test(groupId)) throw new ClientError(`groupId must be 1 to 249 characters of a-z, A-Z, 0-9, '.', '_' or '-', got ${JSON.stringify(groupId)}`);
  if (groupInstanceId !== undefined && (typeof groupInstanceId !== 'string' || !NAME.test(groupInstanceId))) {
    throw new ClientError(`groupInstanceId must be 1 to 249 characters of a-z, A-Z, 0-9, '.', '_' or '-', got ${JSON.stringify(groupInstanceId)}`);
  }
  if (typeof clientId !== 'string' || !/^[a-zA-Z0-9._-]{1,64}$/.test(clientId)) throw new ClientError(`clientId must be 1 to 64 characters of a-z, A-Z, 0-9, '.', '_' or '-', got ${JSON.stringify(clientId)}`);
  for (const [name, value] of [['sessionTimeoutMs', sessionTimeoutMs], ['heartbeatIntervalMs', heartbeatIntervalMs], ['maxPollIntervalMs', maxPollIntervalMs], ['autoCommitIntervalMs', options.autoCommitIntervalMs ?? 5000]] as const) {
    if (!POSITIVE(value) || value > 2 ** 31 - 1) throw new ClientError(`${name} must be a positive integer of milliseconds (at most 2^31-1), got ${String(value)}`);
  }
  if (heartbeatIntervalMs >= sessionTimeoutMs) throw new ClientError(`heartbeatIntervalMs (${heartbeatIntervalMs}) must be lower than sessionTimeoutMs (${sessionTimeoutMs})`);
  if (!Array.isArray(strategy) || strategy.length === 0 || !(strategy as readonly unknown[]).every((name) => (ASSIGNOR_NAMES as readonly unknown[]).includes(name)) || new Set(strategy).size !== strategy.length) {
    throw new ClientError(`partitionAssignmentStrategy must be a list of distinct assignors among ${ASSIGNOR_NAMES.join(', ')}, got ${JSON.stringify(strategy)}`);
  }
  if (options.autoOffsetReset !== undefined && !['earliest', 'latest', 'none'].includes(options.autoOffsetReset)) {
    throw new ClientError(`autoOffsetReset must be 'earliest', 'latest' or 'none', got ${JSON.stringify(options.autoOffsetReset)}`);
  }
  if (options.enableAutoCommit !== undefined && typeof options.enableAutoCommit !== 'boolean') throw new ClientError(`enableAutoCommit must be true or false, got ${JSON.stringify(options.enableAutoCommit)}`);
  return new GroupMembership(client, {
    ...options,
    groupId,
    ...(groupInstanceId === undefined ? {} : { groupInstanceId }),
    clientId,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs: maxPollIntervalMs,
    assignors: strategy,
    apiTimeoutMs: options.defaultApiTimeoutMs ?? 60_000,
  });
}
