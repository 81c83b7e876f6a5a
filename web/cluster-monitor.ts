import type { SQSClient } from '@aws-sdk/client-sqs';
import type { BrokerSimulator } from '../client/broker-simulator.js';
import { type DescribeResponse, type LeadershipClient, RemoteFunctionError } from '../client/lambda-client.js';
import { MAX_PARTITIONS_PER_FETCH } from '../client/consumer.js';
import { formatAssignment, highWatermarks, type ConsumerGroupView } from '../client/consumer-group-view.js';
import { groupViews, listConsumerGroups } from '../client/consumer-groups.js';
import { drainLeadershipEvents, type LeadershipEventMessage } from '../client/leadership-events.js';
import { pollUntil } from '../client/poll.js';
import { CommitRateObserver } from './produce-rate.js';
import type { BrokerRow, ConsoleSnapshot, GroupTimelineEntry, TimelineEntry, TopicRow } from './snapshot.js';

/** How long a failover's first read is looked for before the entry says "not served". */
const firstReadTimeoutMs = 30_000;
const firstReadIntervalMs = 50;
/** How long before a killed leader's lease lapses its partitions start being read. */
const probeLeadMs = 300;
const timelineLimit = 300;
const groupTimelineLimit = 200;
/** One attempt per poll: a group call that fails is shown, and the next poll tries again. */
const groupCallTimeoutMs = 1000;

export interface ClusterMonitorOptions {
  client: LeadershipClient;
  sqs: SQSClient;
  queueUrl: string;
  /** The console's own simulator first, then any it adopted (the seed demo's brokers). */
  simulators: BrokerSimulator[];
  endpoint: string;
  sessionTimeoutMs: number;
  /** How often describe is called and the leadership-event queue drained (≤ 1 s). */
  pollIntervalMs?: number;
  /** How often the consumer groups are read (ListGroups, DescribeGroups, an OffsetFetch per group); default 1 s. */
  groupsPollIntervalMs?: number;
}

/**
 * The console's picture of the cluster, built only from what the functions answer
 * (describe) and what they publish (the leadership-event queue), refreshed on a timer.
 * It also keeps the timeline and times each failover: last heartbeat → promotion (the
 * event's own time) → the first read the new leader served to the console's consumer.
 */
export class ClusterMonitor {
  private description: DescribeResponse = { topics: [], brokers: [] };
  private cloud: ConsoleSnapshot['cloud'] = { ok: false, error: 'Not checked yet' };
  private readonly timeline: TimelineEntry[] = [];
  private readonly seenEvents = new Set<string>();
  /** Last heartbeat of each broker the console saw, so a failover can be timed from it. */
  private readonly lastHeartbeat = new Map<string, number>();
  private readonly shutdownRequests = new Map<string, number>();
  /** Brokers the console stopped gracefully: their simulated process is gone for good. */
  private readonly stopped = new Set<string>();
  private readonly listeners = new Set<() => void>();
  /** Reads started when the console killed a leader, by topic-partition: they see the first read the new leader serves. */
  private readonly readProbes = new Map<string, Promise<{ leader: string; at: number } | null | undefined>>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private actionCount = 0;
  private refreshing?: Promise<void>;
  private readonly commitRates = new CommitRateObserver();
  private groups: ConsumerGroupView[] = [];
  private groupsError?: string;
  private groupsReadAt = 0;
  private readonly groupTimeline: GroupTimelineEntry[] = [];
  /** Each group's latest timeline entry, which a later poll of the same generation completes (its assignments, its state). */
  private readonly lastGroupEntry = new Map<string, GroupTimelineEntry>();
  private groupEntryCount = 0;

  constructor(private readonly options: ClusterMonitorOptions) {}

  start(): void {
    this.running = true;
    const loop = async () => {
      await this.refresh();
      if (this.running) this.timer = setTimeout(() => void loop(), this.options.pollIntervalMs ?? 500);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.refreshing;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One describe and one drain of the event queue; failures become the page's banner, never a crash. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const checkedAt = Date.now();
    // Side by side: the queue is on another service, and a failover's event should not wait for a slow describe.
    const [described, drained] = await Promise.allSettled([
      this.options.client.describe(),
      drainLeadershipEvents(this.options.sqs, this.options.queueUrl),
    ]);
    if (described.status === 'fulfilled') {
      this.description = described.value;
      this.commitRates.observe(checkedAt, described.value.topics);
      for (const broker of this.description.brokers) {
        this.lastHeartbeat.set(broker.brokerId, Math.max(broker.lastHeartbeatAt, this.lastHeartbeat.get(broker.brokerId) ?? 0));
      }
    }
    if (drained.status === 'fulfilled') for (const event of drained.value) this.addEvent(event);
    this.cloud =
      described.status === 'rejected'
        ? { ok: false, error: this.explain('the describe function', described.reason), lastOkAt: this.cloud.lastOkAt, checkedAt }
        : drained.status === 'rejected'
          ? { ok: false, error: this.explain('the leadership-event queue', drained.reason), lastOkAt: this.cloud.lastOkAt, checkedAt }
          : { ok: true, lastOkAt: Date.now(), checkedAt };
    this.emit();
    // After the leadership picture is out: a slow groups function must not delay a failover on the page.
    if (described.status === 'fulfilled' && checkedAt - this.groupsReadAt >= (this.options.groupsPollIntervalMs ?? 1000)) {
      await this.refreshGroups(checkedAt);
      this.emit();
    }
  }

  snapshot(): ConsoleSnapshot {
    // A broker whose first heartbeat was refused never existed for the cluster: not shown.
    const simulated = new Map(
      this.options.simulators.flatMap((simulator) => simulator.list()).filter((broker) => broker.incarnation !== undefined).map((broker) => [broker.id, broker]),
    );
    const ids = new Set([...this.description.brokers.map((broker) => broker.brokerId), ...simulated.keys()]);
    const brokers: BrokerRow[] = [...ids].sort().map((brokerId) => {
      const lease = this.description.brokers.find((broker) => broker.brokerId === brokerId);
      const sim = simulated.get(brokerId);
      return {
        brokerId,
        ...(lease ? { lease: { incarnation: lease.incarnation, lastHeartbeatAt: lease.lastHeartbeatAt, deadlineMs: lease.deadlineMs, alive: lease.alive, shuttingDown: (lease as { shuttingDown?: boolean }).shuttingDown } } : {}),
        ...(sim ? { simulated: { status: this.stopped.has(brokerId) ? 'stopped' : sim.status, incarnation: sim.incarnation } } : {}),
      };
    });
    return {
      serverNow: Date.now(),
      endpoint: this.options.endpoint,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      cloud: this.cloud,
      brokers,
      topics: this.topics(),
      timeline: this.timeline,
      groups: this.groups,
      ...(this.groupsError === undefined ? {} : { groupsError: this.groupsError }),
      groupTimeline: this.groupTimeline,
    };
  }

  /** Every group with its owners and lag, against the log ends of the describe just made; a failure keeps the last picture and says why. */
  private async refreshGroups(at: number): Promise<void> {
    this.groupsReadAt = at;
    try {
      const listed = await listConsumerGroups(this.options.client, undefined, { timeoutMs: groupCallTimeoutMs });
      const views = await groupViews(
        this.options.client,
        listed.map((group) => group.groupId),
        highWatermarks(this.description.topics),
        { timeoutMs: groupCallTimeoutMs },
      );
      this.groups = views.filter((view) => view.state !== 'Dead');
      this.groupsError = undefined;
      this.noteGenerations(this.groups, at);
    } catch (error) {
      this.groupsError = this.explain('the groups function', error);
    }
  }

  /**
   * The rebalance timeline: an entry when a group is first seen, when its generation changes,
   * and when it is gone. A generation first seen completing (its assignments not out yet) is
   * completed by the poll that sees it Stable.
   */
  private noteGenerations(views: ConsumerGroupView[], at: number): void {
    const entryOf = (view: ConsumerGroupView, previous?: GroupTimelineEntry): GroupTimelineEntry => ({
      id: `group-${++this.groupEntryCount}`,
      at,
      groupId: view.groupId,
      generationId: view.generationId,
      ...(previous ? { previousGenerationId: previous.generationId } : {}),
      state: view.state,
      protocolName: view.protocolName,
      leader: view.leader,
      members: view.members.map((member) => ({ memberId: member.memberId, clientId: member.clientId, partitions: formatAssignment(member.partitions) })),
    });
    for (const view of views) {
      const last = this.lastGroupEntry.get(view.groupId);
      if (last && last.generationId === view.generationId) {
        // The generation's assignments arrived (SyncGroup): the entry shows them. A rebalance
        // that starts within a generation (Stable or Empty to PreparingRebalance) leaves it be: the next generation gets its own.
        if (last.state === 'CompletingRebalance' && view.state === 'Stable') {
          const { id, at: seenAt, previousGenerationId } = last;
          Object.assign(last, entryOf(view), { id, at: seenAt }, previousGenerationId === undefined ? {} : { previousGenerationId });
        }
        continue;
      }
      const entry = entryOf(view, last);
      this.lastGroupEntry.set(view.groupId, entry);
      this.groupTimeline.unshift(entry);
    }
    const present = new Set(views.map((view) => view.groupId));
    for (const [groupId, last] of this.lastGroupEntry) {
      if (present.has(groupId)) continue;
      this.lastGroupEntry.delete(groupId);
      this.groupTimeline.unshift({ ...last, id: `group-${++this.groupEntryCount}`, at, previousGenerationId: last.generationId, state: 'Dead', leader: null, members: [] });
    }
    if (this.groupTimeline.length > groupTimelineLimit) this.groupTimeline.length = groupTimelineLimit;
  }

  /** The topics as last described, each with the rate its high watermarks moved. */
  topics(): TopicRow[] {
    return this.description.topics.map((topic) => {
      const rate = this.commitRates.recordsPerSecond(topic.topic);
      return rate === undefined ? topic : { ...topic, committedRecordsPerSecond: rate };
    });
  }

  /** Brokers whose lease was alive at the last describe. */
  liveBrokerCount(): number {
    return this.description.brokers.filter((broker) => broker.alive).length;
  }

  /** Records something the console did (or failed to do) on the timeline. */
  recordAction(text: string, ok: boolean, at = Date.now()): void {
    this.timeline.push({ id: `action-${++this.actionCount}`, kind: 'action', at, text, ok });
    this.timeline.sort((a, b) => b.at - a.at);
    this.trim();
    this.emit();
  }

  /** The judge's own time of the last heartbeat (the lease it set, less the session timeout), not the simulator's receipt. */
  noteKilled(brokerId: string, leaseDeadlineMs: number): void {
    this.lastHeartbeat.set(brokerId, leaseDeadlineMs - this.options.sessionTimeoutMs);
    // No other leader can serve before the lease lapses; reading earlier would only load the data plane the failover needs.
    this.probeReadsAwayFrom(brokerId, leaseDeadlineMs - probeLeadMs);
  }

  noteShutdownRequested(brokerId: string): void {
    this.shutdownRequests.set(brokerId, Date.now());
    this.probeReadsAwayFrom(brokerId);
  }

  /**
   * Reads every partition the broker leads until another leader serves it. Reading from the
   * kill or shutdown request on, rather than from when the event is drained, times the
   * first read to within one read. Each round is one fetch of the partitions not yet served
   * elsewhere (Kafka's Fetch, up to 1,000 a call), not a consume call per partition.
   */
  private probeReadsAwayFrom(brokerId: string, notBefore = 0): void {
    type Served = { leader: string; at: number } | undefined;
    const pending = new Map<string, { topic: string; partition: number; settle: (served: Served) => void }>();
    for (const partition of this.description.topics.flatMap((topic) => topic.partitions)) {
      if (partition.Leader !== brokerId) continue;
      const key = `${partition.Topic}-${partition.Partition}`;
      let settle: (served: Served) => void = () => undefined;
      const probe = new Promise<Served>((resolve) => (settle = resolve));
      pending.set(key, { topic: partition.Topic, partition: partition.Partition, settle });
      this.readProbes.set(key, probe);
      void probe.finally(() => setTimeout(() => this.readProbes.get(key) === probe && this.readProbes.delete(key), 60_000).unref());
    }
    if (pending.size === 0) return;
    const readAway = async (): Promise<true | null | undefined> => {
      // A stopped console stops reading (null ends the poll).
      if (!this.running) return null;
      if (Date.now() < notBefore) return undefined;
      const asked = [...pending.entries()].slice(0, MAX_PARTITIONS_PER_FETCH);
      const answer = await this.options.client.fetch({ partitions: asked.map(([, p]) => ({ topic: p.topic, partition: p.partition, offset: 0, maxRecords: 1 })) });
      const at = Date.now();
      answer.partitions.forEach((read, index) => {
        // A refused partition (no leader yet, a move under way) is asked again next round.
        if ('errorType' in read || read.leader === brokerId) return;
        const [key, p] = asked[index];
        p.settle({ leader: read.leader, at });
        pending.delete(key);
      });
      return pending.size === 0 ? true : undefined;
    };
    void pollUntil(readAway, {
      timeoutMs: this.options.sessionTimeoutMs + firstReadTimeoutMs,
      intervalMs: firstReadIntervalMs,
      description: `reads of ${brokerId}'s partitions served by other leaders`,
    })
      .catch(() => undefined)
      // Those never served elsewhere (timed out, or the console stopped) end unanswered.
      .finally(() => pending.forEach((p) => p.settle(undefined)));
  }

  noteStopped(brokerId: string, stopped: boolean): void {
    if (stopped) this.stopped.add(brokerId);
    else this.stopped.delete(brokerId);
  }

  /** What the page shows for a failed call: which function, its error type and message, or that the cloud is unreachable. */
  explain(what: string, error: unknown): string {
    if (error instanceof RemoteFunctionError) return `${what} refused: ${error.errorType}: ${error.message.replace(`${error.functionName}: ${error.errorType}: `, '')}`;
    const err = error as { name?: string; message?: string; code?: string; cause?: { code?: string } };
    const code = err.code ?? err.cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || /ECONNREFUSED|socket hang up|fetch failed/i.test(err.message ?? '')) {
      return `The cloud at ${this.options.endpoint} is unreachable (${code ?? err.message}): is \`npm start\` running? Retrying.`;
    }
    return `${what} failed: ${err.name ?? 'Error'}: ${err.message ?? String(error)}`;
  }

  private addEvent(message: LeadershipEventMessage): void {
    const { messageGroupId: _, ...event } = message;
    const version = (event as { version?: number }).version;
    // FIFO delivery is at least once: a redelivered event must not show twice.
    const id = `${event.topic}-${event.partition}-${version ?? `${event.leaderEpoch}-${event.reason}-${event.at}`}`;
    if (this.seenEvents.has(id)) return;
    this.seenEvents.add(id);
    const entry: TimelineEntry = { id, kind: 'event', at: event.at, event };
    if (event.newLeader !== null && event.previousLeader !== null && event.newLeader !== event.previousLeader) {
      const shutdownAt = event.reason === 'CONTROLLED_SHUTDOWN' ? this.shutdownRequests.get(event.previousLeader) : undefined;
      const lastHeartbeatAt = this.lastHeartbeat.get(event.previousLeader);
      entry.failover =
        shutdownAt !== undefined
          ? { from: 'shutdown request', fromAt: shutdownAt, promotedAt: event.at }
          : lastHeartbeatAt !== undefined && event.reason !== 'CONTROLLED_SHUTDOWN' && event.reason !== 'PREFERRED_LEADER'
            ? { from: 'last heartbeat', fromAt: lastHeartbeatAt, promotedAt: event.at }
            : { from: 'unknown', promotedAt: event.at };
      void this.timeFirstRead(entry, event.topic, event.partition, event.newLeader);
    }
    // Newest first; events may arrive a poll late, so keep the list ordered by time.
    this.timeline.push(entry);
    this.timeline.sort((a, b) => b.at - a.at);
    this.trim();
  }

  /** The console's consumer reads the partition until the new leader serves it: the failover's last leg. */
  private async timeFirstRead(entry: TimelineEntry, topic: string, partition: number, newLeader: string): Promise<void> {
    const failover = entry.failover!;
    const probed = await this.readProbes.get(`${topic}-${partition}`);
    if (probed?.leader === newLeader) {
      failover.firstReadAt = probed.at;
      this.emit();
      return;
    }
    try {
      const readAt = await pollUntil(
        async () => {
          if (!this.running) return null;
          const read = await this.options.client.consume({ topic, partition, offset: 0, maxRecords: 1 });
          return read.leader === newLeader ? Date.now() : undefined;
        },
        { timeoutMs: firstReadTimeoutMs, intervalMs: firstReadIntervalMs, description: `a read of ${topic}-${partition} served by ${newLeader}` },
      );
      if (readAt !== null) failover.firstReadAt = readAt;
    } catch (error) {
      failover.firstReadError = (error as Error).message;
    }
    this.emit();
  }

  private trim(): void {
    if (this.timeline.length > timelineLimit) this.timeline.length = timelineLimit;
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
