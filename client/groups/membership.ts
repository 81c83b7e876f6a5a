/**
 * A consumer's membership of a group, by Kafka's classic protocol through the groups
 * function: FindCoordinator (its epoch named on every later request, so a deposed
 * coordinator refuses it), JoinGroup with KIP-394's MEMBER_ID_REQUIRED round and the
 * coordinator's `pending` answers, the leader's assignment in SyncGroup, heartbeats on a
 * timer, LeaveGroup. The Consumer drives it from poll; the heartbeat loop only records what
 * it learns (a rebalance to join, partitions lost, a fatal fencing) for the next poll to act on.
 */
import { ERROR_CATALOGUE, type ErrorName } from '../../protocol/errors.js';
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type AssignorName,
  type TopicPartitions,
} from '../../protocol/consumer-protocol.js';
import type { GroupsRequest, GroupsResponses } from '../../protocol/messages.js';
import { isFunctionError, RemoteFunctionError, type LeadershipClient } from '../lambda-client.js';
import { ClientError, systemClock, withRetries, type Clock, type RetryOptions } from '../retry.js';
import { assignPartitions, type MemberSubscription, type PartitionCounts } from './assignors.js';

export interface MembershipOptions extends RetryOptions {
  groupId: string;
  groupInstanceId?: string;
  clientId: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** max.poll.interval.ms: the rebalance timeout, and how long the member stays without a poll. */
  rebalanceTimeoutMs: number;
  assignors: readonly AssignorName[];
  /** How long a group call may keep failing retriably (default.api.timeout.ms). */
  apiTimeoutMs: number;
}

/** What the member does with its partitions around a rebalance (the Consumer's side). */
export interface MembershipHooks {
  topics(): string[];
  owned(): TopicPartitions[];
  /** The member lost its partitions (another member may own them now): forget them, commit nothing. */
  lost(): Promise<void>;
  /** The leader's input: partitions of each subscribed topic (0 for a topic that does not exist). */
  partitionCounts(topics: readonly string[]): Promise<PartitionCounts>;
}

/** The group fenced this member for good (FENCED_INSTANCE_ID: another instance took its group.instance.id). */
export class FatalGroupError extends ClientError {
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'FatalGroupError';
  }
}

type Api = GroupsRequest['api'];
type RequestFor<A extends Api> = Omit<Extract<GroupsRequest, { api: A }>, 'api' | 'groupId' | 'coordinatorEpoch'>;

const MEMBER_ID_HINT = /\[member id ([^\]]+)\]/;

/** Errors after which the coordinator must be found again (it moved, or has none now). */
const COORDINATOR_MOVED: ReadonlySet<string> = new Set<ErrorName>(['NotCoordinatorError', 'CoordinatorNotAvailableError']);

export class GroupMembership {
  memberId = '';
  generationId = -1;
  protocolName: string | null = null;
  /** Whether this member is the generation's leader. */
  leader = false;
  private coordinator: GroupsResponses['FindCoordinator'] | null = null;
  private finding: Promise<GroupsResponses['FindCoordinator']> | null = null;
  private active = false;
  /** Between JoinGroup's answer and SyncGroup's: heartbeats go on, as Kafka's client sends them in CompletingRebalance. */
  private syncing = false;
  private rejoinNeeded = true;
  private lostPending = false;
  private fatal: FatalGroupError | undefined;
  private lastHeartbeatOkAt = 0;
  private lastPollAt = 0;
  private heartbeating = false;
  private stopHeartbeats: () => void = () => undefined;
  /** Calls made, per api: what the unit tests and benchmarks count. */
  readonly calls = new Map<Api, number>();

  constructor(
    private readonly client: LeadershipClient,
    readonly options: MembershipOptions,
  ) {}

  private get clock(): Clock {
    return this.options.clock ?? systemClock;
  }

  get isActive(): boolean {
    return this.active && !this.rejoinNeeded && !this.lostPending;
  }

  /** Still a member of its generation (commits count), though maybe about to rejoin. */
  get inGeneration(): boolean {
    return this.active && !this.lostPending;
  }

  /** Whether the next poll joins the group again. */
  get rejoining(): boolean {
    return this.rejoinNeeded || !this.active;
  }

  get isStatic(): boolean {
    return this.options.groupInstanceId !== undefined;
  }

  throwIfFatal(): void {
    if (this.fatal) throw this.fatal;
  }

  /** The consumer's poll: the member is alive (max.poll.interval.ms counts from here). */
  polled(): void {
    this.lastPollAt = this.clock.now();
  }

  /** A rebalance is wanted (subscription changed, partitions revoked, the coordinator said so). */
  requestRejoin(): void {
    this.rejoinNeeded = true;
  }

  /**
   * The group no longer counts this member in its generation: its partitions are lost.
   * UNKNOWN_MEMBER_ID, a lapsed session or a left group also forget the member id (a static
   * member's instance id stays, and takes its place back).
   */
  markLost(forgetMemberId: boolean): void {
    this.lostPending = true;
    this.active = false;
    this.rejoinNeeded = true;
    this.generationId = -1;
    if (forgetMemberId) this.memberId = '';
  }

  /** After a refused group call: what the refusal means for the membership (fatal ones are kept and rethrown). */
  noteRefusal(error: unknown): void {
    if (isFunctionError(error, 'RebalanceInProgressError')) this.requestRejoin();
    else if (isFunctionError(error, 'IllegalGenerationError')) this.markLost(false);
    else if (isFunctionError(error, 'UnknownMemberIdError')) this.markLost(true);
    else if (isFunctionError(error, 'FencedInstanceIdError')) {
      this.fatal = new FatalGroupError(`group "${this.options.groupId}": instance ${this.options.groupInstanceId ?? ''} was fenced by another member with its group.instance.id`, error);
      this.active = false;
      this.stopHeartbeats();
    }
  }

  /** One group API call, with the group and coordinator epoch added; the coordinator found first when unknown. */
  private async callOnce<A extends Api>(api: A, request: RequestFor<A>): Promise<GroupsResponses[A]> {
    const coordinator = this.coordinator ?? (await this.findCoordinator());
    this.calls.set(api, (this.calls.get(api) ?? 0) + 1);
    try {
      const payload = { api, groupId: this.options.groupId, coordinatorEpoch: coordinator.coordinatorEpoch, ...request } as unknown as Extract<GroupsRequest, { api: A }>;
      return (await this.client.invoke('groups', payload)) as GroupsResponses[A];
    } catch (error) {
      if (error instanceof RemoteFunctionError && COORDINATOR_MOVED.has(error.errorType) && this.coordinator === coordinator) this.coordinator = null;
      throw error;
    }
  }

  /** A group call retried while retriable (the coordinator moved, a lost race, a Lambda fault) until apiTimeoutMs. */
  call<A extends Api>(api: A, request: RequestFor<A>): Promise<GroupsResponses[A]> {
    return withRetries(`${api} of group "${this.options.groupId}"`, this.options.apiTimeoutMs, this.options, () => this.callOnce(api, request));
  }

  private findCoordinator(): Promise<GroupsResponses['FindCoordinator']> {
    this.finding ??= (async () => {
      try {
        this.calls.set('FindCoordinator', (this.calls.get('FindCoordinator') ?? 0) + 1);
        const found = await this.client.invoke('groups', { api: 'FindCoordinator', groupId: this.options.groupId });
        this.coordinator = found;
        return found;
      } finally {
        this.finding = null;
      }
    })();
    return this.finding;
  }

  /**
   * Makes the member part of a stable generation with the subscription the hooks give, and
   * answers its assignment when it had to join (undefined when it already was). Partitions
   * lost on the way are handed to `hooks.lost` before the member joins again.
   */
  async ensureActive(hooks: MembershipHooks): Promise<TopicPartitions[] | undefined> {
    this.throwIfFatal();
    if (this.lostPending) {
      this.lostPending = false;
      await hooks.lost();
    }
    if (!this.rejoinNeeded && this.active) return undefined;
    return this.joinAndSync(hooks);
  }

  private async joinAndSync(hooks: MembershipHooks): Promise<TopicPartitions[]> {
    this.active = false;
    this.rejoinNeeded = false;
    for (;;) {
      this.throwIfFatal();
      if (this.lostPending) {
        this.lostPending = false;
        await hooks.lost();
      }
      const joined = await this.join(hooks);
      if (joined === null) continue;
      const assignment = await this.sync(joined, hooks);
      if (assignment === null) continue;
      this.active = true;
      this.lastHeartbeatOkAt = this.clock.now();
      this.startHeartbeats();
      return assignment;
    }
  }

  /** One JoinGroup round to its answer; null: join again (a member id given, or the membership lost). */
  private async join(hooks: MembershipHooks): Promise<GroupsResponses['JoinGroup'] & { pending?: never } | null> {
    const subscription = encodeSubscription({ topics: hooks.topics(), ownedPartitions: hooks.owned(), userData: String(this.generationId) });
    try {
      const answer = await this.call('JoinGroup', {
        memberId: this.memberId,
        clientId: this.options.clientId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocols: this.options.assignors.map((name) => ({ name, metadata: subscription })),
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
        ...(this.options.groupInstanceId === undefined ? {} : { groupInstanceId: this.options.groupInstanceId }),
      });
      this.memberId = answer.memberId;
      if ('pending' in answer) {
        await this.clock.sleep(answer.retryAfterMs);
        return null;
      }
      return answer;
    } catch (error) {
      if (isFunctionError(error, 'MemberIdRequiredError')) {
        const given = MEMBER_ID_HINT.exec(error.message)?.[1];
        if (given === undefined) throw new ClientError(`JoinGroup answered MEMBER_ID_REQUIRED without a member id: ${error.message}`);
        this.memberId = given;
        return null;
      }
      this.noteRefusal(error);
      this.throwIfFatal();
      if (isFunctionError(error, 'UnknownMemberIdError') || isFunctionError(error, 'IllegalGenerationError')) return null;
      throw error;
    }
  }

  /** SyncGroup until this generation's assignment comes; null: the generation ended first, join again. */
  private async sync(joined: Exclude<GroupsResponses['JoinGroup'], { pending: true }>, hooks: MembershipHooks): Promise<TopicPartitions[] | null> {
    this.generationId = joined.generationId;
    this.protocolName = joined.protocolName;
    this.leader = joined.leader === joined.memberId;
    // A slow leader's assignment must not cost the others their sessions while they wait for it.
    this.syncing = true;
    this.lastHeartbeatOkAt = this.clock.now();
    this.startHeartbeats();
    try {
      return await this.syncUntilAssigned(joined, hooks);
    } finally {
      this.syncing = false;
    }
  }

  private async syncUntilAssigned(joined: Exclude<GroupsResponses['JoinGroup'], { pending: true }>, hooks: MembershipHooks): Promise<TopicPartitions[] | null> {
    const assignments = this.leader ? await this.assign(joined, hooks) : undefined;
    for (;;) {
      try {
        const answer = await this.call('SyncGroup', {
          memberId: this.memberId,
          generationId: joined.generationId,
          protocolType: CONSUMER_PROTOCOL_TYPE,
          protocolName: joined.protocolName,
          ...(assignments ? { assignments } : {}),
          ...(this.options.groupInstanceId === undefined ? {} : { groupInstanceId: this.options.groupInstanceId }),
        });
        if ('pending' in answer) {
          await this.clock.sleep(answer.retryAfterMs);
          continue;
        }
        return decodeAssignment(answer.assignment).partitions;
      } catch (error) {
        this.noteRefusal(error);
        this.throwIfFatal();
        if (isFunctionError(error, 'RebalanceInProgressError')) {
          this.rejoinNeeded = false;
          return null;
        }
        if (isFunctionError(error, 'UnknownMemberIdError') || isFunctionError(error, 'IllegalGenerationError')) return null;
        throw error;
      }
    }
  }

  /** The leader's part: every member's subscription through the chosen assignor. */
  private async assign(joined: Exclude<GroupsResponses['JoinGroup'], { pending: true }>, hooks: MembershipHooks) {
    const name = joined.protocolName as AssignorName;
    if (!this.options.assignors.includes(name)) throw new ClientError(`the group chose assignor "${joined.protocolName}", which this member does not offer`);
    const members: MemberSubscription[] = joined.members.map(({ memberId, metadata }) => {
      const subscription = decodeSubscription(metadata);
      const generation = Number(subscription.userData ?? '-1');
      return { memberId, topics: subscription.topics, ownedPartitions: subscription.ownedPartitions, generation: Number.isInteger(generation) ? generation : -1 };
    });
    const counts = await hooks.partitionCounts([...new Set(members.flatMap((m) => m.topics))]);
    const plan = assignPartitions(name, members, counts);
    return [...plan].map(([memberId, partitions]) => ({ memberId, assignment: encodeAssignment({ partitions }) }));
  }

  private startHeartbeats(): void {
    if (this.heartbeating) return;
    this.heartbeating = true;
    let stopped = false;
    let wake: () => void = () => undefined;
    const stoppedSignal = new Promise<void>((resolve) => (wake = resolve));
    this.stopHeartbeats = () => {
      stopped = true;
      this.heartbeating = false;
      wake();
    };
    void (async () => {
      while (!stopped) {
        await Promise.race([this.clock.sleep(this.options.heartbeatIntervalMs), stoppedSignal]);
        if (stopped) return;
        await this.heartbeatOnce();
      }
    })();
  }

  /** One tick of the heartbeat timer: a heartbeat when the member is in a generation (or waiting for its assignment in one), and the client-side timeouts. */
  async heartbeatOnce(): Promise<void> {
    const now = this.clock.now();
    if (!(this.active || this.syncing) || this.fatal) return;
    if (now - this.lastPollAt > this.options.rebalanceTimeoutMs && this.lastPollAt > 0) {
      // Kafka's max.poll.interval.ms: a member that stopped polling leaves, so its partitions move on.
      const memberId = this.memberId;
      this.markLost(true);
      if (!this.isStatic) await this.callOnce('LeaveGroup', { memberId }).catch(() => undefined);
      return;
    }
    const generationId = this.generationId;
    try {
      await this.callOnce('Heartbeat', {
        memberId: this.memberId,
        generationId,
        ...(this.options.groupInstanceId === undefined ? {} : { groupInstanceId: this.options.groupInstanceId }),
      });
      if (generationId === this.generationId) this.lastHeartbeatOkAt = this.clock.now();
    } catch (error) {
      if (generationId !== this.generationId || !(this.active || this.syncing)) return;
      if (isFunctionError(error, 'RebalanceInProgressError')) this.lastHeartbeatOkAt = this.clock.now();
      this.noteRefusal(error);
    }
    if (this.active && this.clock.now() - this.lastHeartbeatOkAt >= this.options.sessionTimeoutMs) {
      // No heartbeat landed for a whole session: the coordinator has removed this member by now.
      this.markLost(!this.isStatic);
    }
  }

  /** Stops the heartbeats and, for a dynamic member, leaves the group (a static one keeps its place for a session). */
  async close(): Promise<void> {
    this.stopHeartbeats();
    const memberId = this.memberId;
    const wasMember = memberId !== '' && this.generationId >= 0;
    this.active = false;
    this.generationId = -1;
    if (wasMember && !this.isStatic) {
      try {
        await this.call('LeaveGroup', { memberId });
      } catch (error) {
        // Already gone (expired, fenced): nothing to leave.
        if (!(error instanceof RemoteFunctionError) || ERROR_CATALOGUE[error.errorType as ErrorName] === undefined) throw error;
      }
    }
    this.memberId = this.isStatic ? this.memberId : '';
  }
}
