/**
 * The in-memory "tables" every memory adapter shares, as the DynamoDB adapters
 * share the metadata table (the log checks epochs and moves LEOs in it).
 *
 * Every adapter method first yields to the event loop and then checks and writes
 * synchronously: concurrent callers interleave between operations, like separate
 * Lambda invocations, while each conditional write stays atomic, like DynamoDB's.
 */
import type {
  BrokerCredential,
  BrokerHeartbeat,
  BrokerId,
  LogRecord,
  PartitionMetadata,
  ReplicaState,
  TopicConfig,
} from '../../domain/model.js';
import type { CommittedOffset, Group } from '../../domain/group-model.js';
import { generationsOf, segmentsOf } from '../../domain/generations.js';
import { MAX_ITEMS_PER_TRANSACTION } from '../topic-creation-steps.js';

/**
 * Where every store operation lets other callers run before it checks and writes
 * atomically. Tests keep the default; the simulation passes its scheduler, which
 * decides who runs next (and may make the operation fail, as a crashed Lambda would).
 */
export type YieldPoint = (operation: string) => Promise<void>;

export class MemoryTables {
  /**
   * `maxTransactionItems`: the members one transaction may hold (DynamoDB's 100 by
   * default). The simulation scales it down so its small topics are written in several
   * steps, as large ones are.
   */
  constructor(
    readonly yieldPoint: YieldPoint = yieldToOtherCallers,
    readonly maxTransactionItems = MAX_ITEMS_PER_TRANSACTION,
  ) {}

  readonly heartbeats = new Map<BrokerId, BrokerHeartbeat>();
  readonly topics = new Map<string, TopicConfig>();
  /** Topics whose creation has begun and not finished (stored in `topics`, read as absent). */
  readonly unfinishedTopics = new Set<string>();
  readonly partitions = new Map<string, PartitionMetadata>();
  /** Earlier versions of each partition item, oldest first: what an eventually consistent read may still see. */
  readonly partitionHistory = new Map<string, PartitionMetadata[]>();
  /**
   * How many versions back an eventually consistent read of a partition item sees (0: the
   * latest; beyond the versions kept: the oldest kept). Tests and the simulation set it.
   */
  staleness: (key: string) => number = () => 0;
  readonly replicaStates = new Map<string, ReplicaState>();
  readonly brokerCredentials = new Map<BrokerId, BrokerCredential>();
  /** The last producer id InitProducerId handed out (0: none yet). */
  lastProducerId = 0;
  /** Consumer groups' items, by group id (GroupStore). */
  readonly groups = new Map<string, Group>();
  /** Each group's committed offsets, by `topic#partition`. */
  readonly groupOffsets = new Map<string, Map<string, CommittedOffset>>();
  /** The batch items of each generation of each replica's copy of a partition's log, by base offset (the log table's items). */
  readonly logItems = new Map<string, Map<number, StoredBatch>>();

  /** Every write of a partition item goes here, so eventually consistent reads have its earlier versions. */
  writePartition(key: string, partition: PartitionMetadata): void {
    const before = this.partitions.get(key);
    if (before) this.partitionHistory.set(key, [...(this.partitionHistory.get(key) ?? []), before].slice(-STALE_VERSIONS_KEPT));
    this.partitions.set(key, partition);
  }

  /** The partition item as an eventually consistent read sees it (see `staleness`). */
  eventualPartition(key: string): PartitionMetadata | undefined {
    const latest = this.partitions.get(key);
    if (!latest) return undefined;
    const versions = [...(this.partitionHistory.get(key) ?? []), latest];
    return versions[Math.max(0, versions.length - 1 - this.staleness(key))];
  }

  generationItems(topic: string, partition: number, replica: BrokerId, generation: number): Map<number, StoredBatch> {
    const key = `${replicaKey(topic, partition, replica)}#${generation}`;
    const items = this.logItems.get(key) ?? new Map<number, StoredBatch>();
    this.logItems.set(key, items);
    return items;
  }

  /**
   * A replica's live log, by offset: each generation's records from where it starts to
   * where the next one does, below the log end (domain/generations.ts). What reads see.
   */
  committedLog(topic: string, partition: number, replica: BrokerId): Map<number, LogRecord> {
    const log = new Map<number, LogRecord>();
    const state = this.replicaStates.get(replicaKey(topic, partition, replica));
    if (!state) return log;
    for (const segment of segmentsOf(generationsOf(state), 0, state.logEndOffset)) {
      for (const item of this.generationItems(topic, partition, replica, segment.generation).values()) {
        for (const record of item.records) {
          if (record.offset >= segment.from && record.offset < segment.to) log.set(record.offset, record);
        }
      }
    }
    return log;
  }
}

/** One batch item as stored: its records and when its writer wrote it (which tells an abandoned one). */
export interface StoredBatch {
  records: LogRecord[];
  writtenAt: number;
}

/** Versions of a partition item an eventually consistent read may go back to (DynamoDB's replicas lag by about a second). */
const STALE_VERSIONS_KEPT = 3;

export const partitionKey = (topic: string, partition: number): string => `${topic}#${partition}`;

export const replicaKey = (topic: string, partition: number, brokerId: BrokerId): string =>
  `${topic}#${partition}#${brokerId}`;

/**
 * Callers get copies, never the stored objects: mutating a result must not change the "table".
 * Items are plain objects, arrays and primitives, copied here directly; anything else goes to
 * structuredClone, which copies such items several times slower (the simulation copies every
 * item it reads, and spent a third of its time in structuredClone).
 */
export const copyOf = <T>(value: T): T => copyValue(value) as T;

function copyValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyValue);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return structuredClone(value);
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) copy[key] = copyValue(field);
  return copy;
}

export const yieldToOtherCallers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
