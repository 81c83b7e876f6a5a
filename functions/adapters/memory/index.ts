/**
 * In-memory implementations of every port, for unit tests and chaos runs:
 * same conditions and named errors as the DynamoDB/SQS adapters, a clock that
 * moves only when told, and the two table streams as drainable queues.
 */
import { defaultSettings } from '../../../protocol/settings.js';
import type { GroupDeps, LeadershipSettings } from '../../ports/index.js';
import { MemoryBrokerIdentityReader } from './broker-identity-reader.js';
import { MemoryBrokerRegistry } from './broker-registry.js';
import { ManualClock } from './clock.js';
import { MemoryEventPublisher } from './event-publisher.js';
import { MemoryGroupStore } from './group-store.js';
import { MemoryMetadataStore } from './metadata-store.js';
import { MemoryObjectStore } from './object-store.js';
import { MemoryPartitionLog } from './partition-log.js';
import { MemoryTables, type YieldPoint } from './tables.js';

export { MemoryBrokerIdentityReader } from './broker-identity-reader.js';
export { MemoryBrokerRegistry, type HeartbeatStreamRecord } from './broker-registry.js';
export { ManualClock } from './clock.js';
export { MemoryEventPublisher, deduplicationId } from './event-publisher.js';
export { MemoryGroupStore } from './group-store.js';
export { MemoryMetadataStore } from './metadata-store.js';
export { MemoryObjectStore } from './object-store.js';
export { MemoryPartitionLog } from './partition-log.js';
export { MemoryTables, type YieldPoint } from './tables.js';

/** The deployed defaults, but acks=all waits as long as Kafka's request.timeout.ms (30 s). */
export const DEFAULT_MEMORY_SETTINGS: LeadershipSettings = defaultSettings({ produceAckTimeoutMs: 30_000 });

export interface MemoryDepsOptions {
  /** Epoch ms the clock starts at. */
  startAt?: number;
  settings?: Partial<LeadershipSettings>;
  /**
   * Runs inside every deps.sleep, after the clock moved on: what "meanwhile"
   * means in a test, e.g. let the replicator process the log stream while
   * produce waits for acks.
   */
  whileSleeping?: (ms: number) => Promise<void> | void;
  /** Runs before every store operation; the simulation's scheduler goes here. */
  yieldPoint?: YieldPoint;
  /** The members one store transaction may hold (MemoryTables); DynamoDB's 100 unless given. */
  maxTransactionItems?: number;
}

/** A full Deps whose parts keep their memory types, so tests can reach the clock, the streams and the counters. */
export interface MemoryDeps extends GroupDeps {
  /** What every store reads and writes: for checks that must see the state between two operations. */
  tables: MemoryTables;
  clock: ManualClock;
  brokers: MemoryBrokerRegistry;
  metadata: MemoryMetadataStore;
  log: MemoryPartitionLog;
  events: MemoryEventPublisher;
  objects: MemoryObjectStore;
  groups: MemoryGroupStore;
}

const DEFAULT_START = Date.UTC(2026, 0, 1);

export function createMemoryDeps(options: MemoryDepsOptions = {}): MemoryDeps {
  const tables = new MemoryTables(options.yieldPoint, options.maxTransactionItems);
  const clock = new ManualClock(options.startAt ?? DEFAULT_START);
  const brokers = new MemoryBrokerRegistry(tables);
  const metadata = new MemoryMetadataStore(tables);
  const objects = new MemoryObjectStore(clock, tables.yieldPoint);
  return {
    tables,
    clock,
    brokers,
    metadata,
    identity: new MemoryBrokerIdentityReader(brokers, metadata),
    log: new MemoryPartitionLog(tables, clock, objects),
    objects,
    groups: new MemoryGroupStore(tables),
    events: new MemoryEventPublisher(clock, options.yieldPoint),
    settings: { ...DEFAULT_MEMORY_SETTINGS, ...options.settings },
    sleep: async (ms) => {
      clock.advance(ms);
      await options.whileSleeping?.(ms);
    },
  };
}
