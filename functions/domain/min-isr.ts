/**
 * min.insync.replicas where a decision needs it: the ELR of an ISR change, and whether
 * the HW may advance (KIP-966).
 */
import type { Deps } from '../ports/index.js';
import type { PartitionMetadata } from './model.js';

/** A topic's min.insync.replicas, read at most once per trigger (a topic's settings do not change). */
export type MinIsrOf = (topic: string) => Promise<number>;

export function minIsrReader(deps: Deps, known: ReadonlyMap<string, number> = new Map()): MinIsrOf {
  const reads = new Map<string, Promise<number>>();
  return (topic) => {
    const stored = known.get(topic);
    if (stored !== undefined) return Promise.resolve(stored);
    let read = reads.get(topic);
    if (!read) {
      // A topic that is gone has no partition left to protect: nothing is below min ISR.
      read = deps.metadata.getTopic(topic).then((config) => config?.minInsyncReplicas ?? 1);
      reads.set(topic, read);
    }
    return read;
  };
}

/**
 * KIP-966: the HW advances only while the ISR is at min.insync.replicas or above, so every
 * replica that left it below that (the ELR) still holds every committed record. With
 * acks=1 the leader still appends and answers, but its records become readable only once
 * the ISR is back at min.insync.replicas. Reads the topic only when the ISR is short of the
 * replica set (min.insync.replicas is at most the replication factor).
 */
export async function highWatermarkMayAdvance(deps: Deps, partition: PartitionMetadata, minIsrOf?: MinIsrOf): Promise<boolean> {
  if (!deps.settings.eligibleLeaderReplicasEnabled || partition.isr.length >= partition.replicas.length) return true;
  return partition.isr.length >= (await (minIsrOf ?? minIsrReader(deps))(partition.topic));
}
