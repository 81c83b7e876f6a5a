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
  readonly replicaStates = new Map<string, ReplicaState>();
  readonly brokerCredentials = new Map<BrokerId, BrokerCredential>();
  /** The last producer id InitProducerId handed out (0: none yet). */
  lastProducerId = 0;
  /** One map per replica's copy of a partition's log, by offset. */
  readonly logs = new Map<string, Map<number, LogRecord>>();

  replicaLog(topic: string, partition: number, replica: BrokerId): Map<number, LogRecord> {
    const key = replicaKey(topic, partition, replica);
    const log = this.logs.get(key) ?? new Map<number, LogRecord>();
    this.logs.set(key, log);
    return log;
  }
}

export const partitionKey = (topic: string, partition: number): string => `${topic}#${partition}`;

export const replicaKey = (topic: string, partition: number, brokerId: BrokerId): string =>
  `${topic}#${partition}#${brokerId}`;

/** Callers get copies, never the stored objects: mutating a result must not change the "table". */
export const copyOf = <T>(value: T): T => structuredClone(value);

export const yieldToOtherCallers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
