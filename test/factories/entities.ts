/**
 * Entity factories: a valid default for every field, overridden per test, so a
 * test states only what it is about.
 */
import type {
  BrokerHeartbeat,
  LogRecord,
  PartitionChange,
  PartitionMetadata,
  ReplicaState,
  TopicConfig,
} from '../../functions/domain/model.js';

export const T0 = Date.UTC(2026, 0, 1);

export function aHeartbeat(overrides: Partial<BrokerHeartbeat> = {}): BrokerHeartbeat {
  const lastHeartbeatAt = overrides.lastHeartbeatAt ?? T0;
  const deadlineMs = overrides.deadlineMs ?? lastHeartbeatAt + 9_000;
  return {
    brokerId: 'A',
    incarnation: 1,
    lastHeartbeatAt,
    deadlineMs,
    expiresAt: Math.ceil(deadlineMs / 1000),
    ...overrides,
  };
}

/** A lease renewed at `lastHeartbeatAt` for `sessionMs` (Kafka's 9 s by default), as leaseFor writes it. */
export const leaseOf = (brokerId: string, incarnation: number, lastHeartbeatAt: number, sessionMs = 9_000): BrokerHeartbeat => ({
  brokerId,
  incarnation,
  lastHeartbeatAt,
  deadlineMs: lastHeartbeatAt + sessionMs,
  expiresAt: Math.ceil((lastHeartbeatAt + sessionMs) / 1000),
});

export function aChange(overrides: Partial<PartitionChange> = {}): PartitionChange {
  return {
    reason: 'CREATED',
    previousLeader: null,
    causeBrokerId: null,
    causeIncarnation: null,
    unclean: false,
    at: T0,
    ...overrides,
  };
}

/** orders-1 on [A, B, C], led by A, fully in sync. */
export function aPartition(overrides: Partial<PartitionMetadata> = {}): PartitionMetadata {
  const replicas = overrides.replicas ?? ['A', 'B', 'C'];
  return {
    topic: 'orders',
    partition: 1,
    replicas,
    leader: replicas[0] ?? null,
    leaderEpoch: 0,
    isr: [...replicas],
    elr: [],
    lastKnownElr: [],
    state: 'ONLINE',
    highWatermark: 0,
    version: 0,
    lastChange: aChange(),
    ...overrides,
  };
}

export function aLogRecord(overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    topic: 'orders',
    partition: 1,
    replica: 'A',
    offset: 0,
    leaderEpoch: 0,
    key: null,
    value: 'v0',
    appendedAt: T0,
    copy: 'leader',
    ...overrides,
  };
}

/** A liveness test from a list of live brokers. */
export const aliveOnly =
  (...alive: string[]) =>
  (brokerId: string): boolean =>
    alive.includes(brokerId);

/**
 * What MetadataStore.createTopic takes for a topic of `partitions` partitions (numbered
 * from 1), each on `replicas`, led by replicas[0] at epoch 0, all in sync, empty logs.
 */
export function aTopicFixture(
  topic: string,
  partitions: number,
  replicas: string[],
  { at = T0, overrides = {} }: { at?: number; overrides?: Partial<PartitionMetadata> } = {},
): { config: TopicConfig; partitions: PartitionMetadata[]; replicas: ReplicaState[] } {
  const config: TopicConfig = {
    topic,
    partitions,
    replicationFactor: replicas.length,
    minInsyncReplicas: 1,
    uncleanLeaderElection: false,
    compressionType: 'producer',
    storage: 'replicated',
    createdAt: at,
  };
  const partitionItems = Array.from({ length: partitions }, (_, i) =>
    aPartition({ topic, partition: i + 1, replicas, lastChange: aChange({ at }), ...overrides }),
  );
  const replicaStates: ReplicaState[] = partitionItems.flatMap((p) =>
    replicas.map((brokerId) => ({ topic, partition: p.partition, brokerId, logEndOffset: 0, matchedEpoch: 0, updatedAt: at })),
  );
  return { config, partitions: partitionItems, replicas: replicaStates };
}
