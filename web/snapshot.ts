/**
 * What the console server pushes to the page, once a refresh (≤ 1 s). Kept free of Node and
 * SDK types: the page's TypeScript (DOM only) imports it too.
 */

import type { ConsumerGroupView } from '../client/consumer-group-view.js';
import type { LeadershipEvent, PartitionView } from '../protocol/leadership.js';

/** A partition as describe reports it. */
export type PartitionRow = PartitionView;

export interface TopicRow {
  topic: string;
  partitionCount: number;
  replicationFactor: number;
  minInsyncReplicas?: number;
  /** Kafka's compression.type. */
  compressionType?: string;
  /** Where its record bytes live: replicated (each replica's log) or diskless (S3). */
  storage?: string;
  partitions: PartitionRow[];
  /** How fast its high watermarks moved over the last 10 s (records/s), once the console has seen that long. */
  committedRecordsPerSecond?: number;
}

/** A leadership event as published on the FIFO queue (client/leadership-events.ts). */
export type LeadershipEventView = LeadershipEvent;

export interface FailoverTiming {
  /** What the clock starts from: the old leader's last accepted heartbeat, or the shutdown request. */
  from: 'last heartbeat' | 'shutdown request' | 'unknown';
  fromAt?: number;
  promotedAt: number;
  firstReadAt?: number;
  /** Set when no read was served by the new leader in time (or the read failed). */
  firstReadError?: string;
}

export interface TimelineEntry {
  id: string;
  kind: 'event' | 'action';
  at: number;
  /** For actions: what was done and what came of it. */
  text?: string;
  ok?: boolean;
  event?: LeadershipEventView;
  failover?: FailoverTiming;
}

export interface BrokerRow {
  brokerId: string;
  /** The lease as the describe function reports it; absent once deregistered, or expired and deleted. */
  lease?: { incarnation: number; lastHeartbeatAt: number; deadlineMs: number; alive: boolean; shuttingDown?: boolean };
  /** The console's own simulated process for this broker, if it has one. */
  simulated?: { status: 'running' | 'paused' | 'dead' | 'stopped'; incarnation?: number };
}

/** A consumer group as the groups function describes it, with each partition's owner, committed offset, log end and lag. */
export type GroupRow = ConsumerGroupView;

/**
 * A change of a group's generation (or its first sight, or its end) as the console saw it by
 * polling DescribeGroups: a rebalance that completed between two polls shows as one step.
 */
export interface GroupTimelineEntry {
  id: string;
  /** When the console saw it (the poll's time). */
  at: number;
  groupId: string;
  generationId: number;
  /** The generation it replaced; absent the first time the console saw the group. */
  previousGenerationId?: number;
  state: GroupRow['state'];
  protocolName: string;
  leader: string | null;
  /** Each member with what it holds: "orders(1,2)". */
  members: Array<{ memberId: string; clientId: string; partitions: string }>;
}

export interface ConsoleSnapshot {
  serverNow: number;
  endpoint: string;
  sessionTimeoutMs: number;
  cloud: { ok: boolean; error?: string; lastOkAt?: number; checkedAt?: number };
  brokers: BrokerRow[];
  topics: TopicRow[];
  timeline: TimelineEntry[];
  groups: GroupRow[];
  /** Why the groups could not be read at the last poll (the rest of the page is unaffected). */
  groupsError?: string;
  /** Newest first. */
  groupTimeline: GroupTimelineEntry[];
}

/** The planner's answer for one of the running cluster's topics (GET /api/plan). */
export interface TopicPlanAnswer {
  topic: string;
  replicationFactor: number;
  minInsyncReplicas: number;
  brokers: number;
  recordsPerSecond: number;
  /** Whether the rate was the one the console observed or the one entered. */
  rateSource: 'observed' | 'entered';
  /** The plan as the CLI prints it. */
  lines: string[];
}
