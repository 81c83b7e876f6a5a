/**
 * Store wrappers of the simulation: one that records every leader append
 * against the metadata table at the moment it committed (checker kinds 4/5),
 * and a test-only log without fencing, to prove the checker notices.
 */
import {
  MemoryPartitionLog,
  type MemoryTables,
} from '../../functions/adapters/memory/index.js';
import { StaleEpochError } from '../../functions/domain/errors.js';
import type { BrokerId, LogRecord } from '../../functions/domain/model.js';
import type { LeaderAppend, PartitionLog } from '../../functions/ports/index.js';

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
  constructor(
    private readonly memTables: MemoryTables,
    private readonly memClock: { now(): number },
  ) {
    super(memTables, memClock);
  }

  override async appendAsLeader(append: LeaderAppend): Promise<LogRecord[]> {
    await this.memTables.yieldPoint('log.appendAsLeader');
    const { topic, partition, leader, leaderEpoch, startOffset } = append;
    const state = this.memTables.replicaStates.get(`${topic}#${partition}#${leader}`);
    if (!state || state.logEndOffset !== startOffset) {
      throw new StaleEpochError(`Append to ${topic}-${partition} at offset ${startOffset} lost.`);
    }
    const records: LogRecord[] = append.records.map((record, i) => ({
      topic,
      partition,
      replica: leader,
      offset: startOffset + i,
      leaderEpoch,
      key: record.key,
      value: record.value,
      appendedAt: append.appendedAt,
      copy: 'leader',
    }));
    const log = this.memTables.replicaLog(topic, partition, leader);
    for (const record of records) log.set(record.offset, structuredClone(record));
    state.logEndOffset += records.length;
    state.updatedAt = this.memClock.now();
    this.leaderAppends.push(...records.map((r) => structuredClone(r)));
    return records.map((r) => structuredClone(r));
  }
}
